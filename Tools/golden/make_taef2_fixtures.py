#!/usr/bin/env python3
"""Writes Tests/Fixtures/taef2/taef2.json: TAEF2 (madebyollin/taesd 5cccb12, the committed
Models/taef2/*.pth) run by its own PyTorch module on a small non-square image.

The module comes from `taesd.py` in the folder given on the command line (the shared weights
folder holds it; nothing of it is committed here):
    python Tools/golden/make_taef2_fixtures.py --taesd ../shared/weights/taef2

The input is a deterministic 24x40 (small: the tests run unoptimized) 8-bit image (smooth gradients plus seeded noise, written as
input.png so both sides read the same bytes). The fixture holds, NHWC row-major with shapes: the
encoder's latent, its outputs after layers 5 and 9 (the 1/2 and 1/4 features CFW fuses), and the
decoder's output for that latent. Weights are the released fp16 ones, computed in float32
(`.float()`), as the Swift port computes them.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "taef2")
WEIGHTS = os.path.join(ROOT, "Models", "taef2")


def nhwc(t):
    a = t.detach().permute(0, 2, 3, 1).contiguous().numpy().astype(np.float64)
    return {"shape": list(a.shape), "values": [float("%.7g" % v) for v in a.reshape(-1)]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taesd", required=True, help="folder holding taesd.py")
    args = parser.parse_args()
    sys.path.insert(0, args.taesd)
    import taesd  # noqa: E402

    torch.set_num_threads(1)
    model = taesd.TAESD(encoder_path=os.path.join(WEIGHTS, "taef2_encoder.pth"),
                        decoder_path=os.path.join(WEIGHTS, "taef2_decoder.pth")).float().eval()

    rng = np.random.default_rng(20261206)
    h, w = 24, 40
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([0.5 + 0.4 * np.sin(x / 7), 0.5 + 0.4 * np.cos(y / 5), (x + y) / (h + w)], axis=-1)
    pixels = np.clip(np.round((base + 0.08 * rng.standard_normal((h, w, 3))) * 255), 0, 255).astype(np.uint8)
    os.makedirs(OUT, exist_ok=True)
    Image.fromarray(pixels).save(os.path.join(OUT, "input.png"))

    image = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)[None]
    features = {}
    hooks = [model.encoder[i].register_forward_hook(lambda m, inp, out, i=i: features.__setitem__(i, out)) for i in (5, 9)]
    with torch.no_grad():
        latent = model.encoder(image)
        decoded = model.decoder(latent)
    for hook in hooks:
        hook.remove()
    fixture = {
        "torch": torch.__version__,
        "latent": nhwc(latent),
        "features": [nhwc(features[5]), nhwc(features[9])],
        "decoded": nhwc(decoded),
    }
    with open(os.path.join(OUT, "taef2.json"), "w") as f:
        json.dump(fixture, f)
    print("latent", tuple(latent.shape), "range", float(latent.min()), float(latent.max()),
          "decoded PSNR vs input", float(-10 * torch.log10(((decoded.clamp(0, 1) - image) ** 2).mean())))


if __name__ == "__main__":
    main()
