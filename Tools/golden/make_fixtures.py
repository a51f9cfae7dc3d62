#!/usr/bin/env python3
"""Writes the golden fixtures of SRImage and SRMetrics into Tests/Fixtures.

Run with the pinned environment of requirements.txt (see Tools/golden/README.md):
    python Tools/golden/make_fixtures.py [--data-root .cache/data/root]
References: BasicSR 1.4.2 (imresize, rgb2ycbcr/ycbcr2rgb, calculate_psnr/ssim/niqe), Pillow
(Image.resize, JPEG/PNG codecs, ImageOps.exif_transpose), torch (F.interpolate).
"""
import argparse
import io
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import basicsr_loader  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures")


def floats(array):
    return [float("%.8g" % v) for v in np.asarray(array, dtype=np.float64).ravel()]


def ints(array):
    return [int(v) for v in np.asarray(array).ravel()]


def smooth_levels(rng, h, w, c=3):
    """A test image with edges, gradients and noise, as 8-bit levels."""
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 90 * np.sin(x / 2.3 + y / 3.1)[..., None] * np.array([1.0, 0.6, -0.8])[:c]
    base += (x > w // 2)[..., None] * 40 - 20
    base += rng.normal(0, 18, size=(h, w, c))
    return np.clip(np.round(base), 0, 255).astype(np.uint8)


def resize_fixtures(bsr, rng):
    h, w = 13, 19
    levels = smooth_levels(rng, h, w)
    image = levels.astype(np.float32) / 255
    cases = []
    for scale in [0.5, 0.25, 1 / 3, 0.7, 2, 3]:
        out = bsr.matlab.imresize(image, scale, antialiasing=True)
        cases.append({"method": "matlab-bicubic", "scale": scale, "shape": list(out.shape), "values": floats(out)})
    pil = Image.fromarray(levels, "RGB")
    filters = {"pil-bicubic": Image.Resampling.BICUBIC, "pil-bilinear": Image.Resampling.BILINEAR,
               "pil-box": Image.Resampling.BOX, "pil-lanczos": Image.Resampling.LANCZOS}
    for method, resample in filters.items():
        for size in [(9, 6), (38, 26), (25, 7), (5, 20), (19, 5)]:
            out = np.asarray(pil.resize(size, resample))
            cases.append({"method": method, "size": list(size), "shape": list(out.shape), "levels": ints(out)})
    tensor = torch.from_numpy(image.transpose(2, 0, 1)).unsqueeze(0)
    torch_modes = {"torch-bicubic": "bicubic", "torch-bilinear": "bilinear", "nearest": "nearest"}
    for method, mode in torch_modes.items():
        extra = {} if mode == "nearest" else {"align_corners": False}
        for scale in [0.5, 2, 1.5, 0.3]:
            out = F.interpolate(tensor, scale_factor=scale, mode=mode, **extra)[0].numpy().transpose(1, 2, 0)
            cases.append({"method": method, "scale": scale, "shape": list(out.shape), "values": floats(out)})
        out = F.interpolate(tensor, size=(7, 25), mode=mode, **extra)[0].numpy().transpose(1, 2, 0)
        cases.append({"method": method, "size": [25, 7], "shape": list(out.shape), "values": floats(out)})
    for size in [(9, 6), (7, 5), (25, 7), (38, 26)]:
        out = F.interpolate(tensor, size=(size[1], size[0]), mode="area")[0].numpy().transpose(1, 2, 0)
        cases.append({"method": "torch-area", "size": list(size), "shape": list(out.shape), "values": floats(out)})
    for scale in [0.5, 2]:
        out = F.interpolate(tensor, scale_factor=scale, mode="area")[0].numpy().transpose(1, 2, 0)
        cases.append({"method": "torch-area", "scale": scale, "shape": list(out.shape), "values": floats(out)})
    return {"input": {"width": w, "height": h, "levels": ints(levels)}, "cases": cases}


def color_fixtures(bsr, rng):
    rgb = rng.random((5, 10, 3)).astype(np.float32)
    ycbcr = bsr.color.rgb2ycbcr(rgb, y_only=False)
    y = bsr.color.rgb2ycbcr(rgb, y_only=True)
    back = bsr.color.ycbcr2rgb(ycbcr)
    return {"width": 10, "height": 5, "rgb": floats(rgb), "ycbcr": floats(ycbcr), "y": floats(y), "rgb_back": floats(back)}


def metric_fixtures(bsr, rng):
    images, cases = [], []
    for index in range(3):
        hr = smooth_levels(rng, 40, 48)
        sr = np.clip(hr.astype(np.float64) + rng.normal(0, 6 + 6 * index, hr.shape), 0, 255).round().astype(np.uint8)
        images.append({"sr": ints(sr), "hr": ints(hr), "width": 48, "height": 40})
        for channel in ["y", "rgb"]:
            for border in [0, 4]:
                y = channel == "y"
                # BasicSR reads images with OpenCV: BGR order.
                psnr = bsr.psnr_ssim.calculate_psnr(sr[..., ::-1].astype(np.float64), hr[..., ::-1].astype(np.float64),
                                                    crop_border=border, input_order="HWC", test_y_channel=y)
                ssim = bsr.psnr_ssim.calculate_ssim(sr[..., ::-1].astype(np.float64), hr[..., ::-1].astype(np.float64),
                                                    crop_border=border, input_order="HWC", test_y_channel=y)
                cases.append({"pair": index, "channel": channel, "crop_border": border,
                              "psnr": float(psnr), "ssim": float(ssim)})
    # SR3 consistency: MSE (0-255) between imresize(sr, 1/s) and the LR.
    sr = smooth_levels(rng, 32, 40)
    lr = smooth_levels(rng, 8, 10)
    down = bsr.matlab.imresize(sr.astype(np.float32) / 255, 0.25, antialiasing=True).astype(np.float64)
    consistency = float(np.mean((down * 255 - lr.astype(np.float64)) ** 2))
    return {"images": images, "cases": cases, "consistency": {"sr": ints(sr), "lr": ints(lr), "scale": 4, "value": consistency}}


def niqe_fixtures(bsr, data_root):
    source = os.path.join(data_root, "usr/lib/python3/dist-packages/skimage/data/chelsea.png")
    photo = np.asarray(Image.open(source).convert("RGB"))[40:232, 60:348]   # 192 x 288
    blurry = bsr.matlab.imresize(bsr.matlab.imresize(photo.astype(np.float32) / 255, 0.25), 4)
    blurry = np.clip(np.round(blurry * 255), 0, 255).astype(np.uint8)
    cases = []
    for name, image in [("niqe_photo.png", photo), ("niqe_blurry.png", blurry)]:
        Image.fromarray(image).save(os.path.join(OUT, name))
        for border in [0, 4]:
            value = bsr.niqe.calculate_niqe(image[..., ::-1].astype(np.float64), crop_border=border,
                                            input_order="HWC", convert_to="y")
            cases.append({"file": name, "crop_border": border, "niqe": float(value)})
    return cases


def codec_fixtures(rng):
    cases = {"png": [], "jpeg": []}
    rgb = smooth_levels(rng, 12, 16)
    gray = smooth_levels(rng, 12, 16, 1)[..., 0]
    pngs = {
        "png_rgb.png": Image.fromarray(rgb, "RGB"),
        "png_rgba.png": Image.fromarray(np.dstack([rgb, gray]), "RGBA"),
        "png_gray.png": Image.fromarray(gray, "L"),
        "png_gray_alpha.png": Image.fromarray(np.dstack([gray, 255 - gray]), "LA"),
        "png_1bit.png": Image.fromarray(gray > 128).convert("1"),
        "png_palette.png": Image.fromarray(rgb, "RGB").quantize(colors=16),
        "png_gray16.png": Image.fromarray(np.minimum(gray.astype(np.uint32) * 257 + 13, 65535).astype("<u2")),
    }
    for name, image in pngs.items():
        options = {"transparency": 3} if name == "png_palette.png" else {}
        image.save(os.path.join(OUT, name), **options)
        if name == "png_gray16.png":
            expected = np.asarray(image).astype(np.float64) / 65535
            expected = np.repeat(expected[..., None], 3, axis=2)
        else:
            reopened = Image.open(os.path.join(OUT, name))
            expected = np.asarray(reopened.convert("RGB")).astype(np.float64) / 255
        cases["png"].append({"file": name, "width": 16, "height": 12, "expected": floats(expected)})
    for name, options in [("jpeg_q5.jpg", {"quality": 5}), ("jpeg_q30.jpg", {"quality": 30}),
                          ("jpeg_q75.jpg", {"quality": 75}), ("jpeg_q95.jpg", {"quality": 95}),
                          ("jpeg_progressive.jpg", {"quality": 80, "progressive": True})]:
        Image.fromarray(rgb, "RGB").save(os.path.join(OUT, name), **options)
        decoded = np.asarray(Image.open(os.path.join(OUT, name)).convert("RGB"))
        cases["jpeg"].append({"file": name, "width": 16, "height": 12, "quality": options["quality"],
                              "expected": ints(decoded)})
    Image.fromarray(gray, "L").save(os.path.join(OUT, "jpeg_gray.jpg"), quality=90)
    decoded = np.asarray(Image.open(os.path.join(OUT, "jpeg_gray.jpg")).convert("RGB"))
    cases["jpeg"].append({"file": "jpeg_gray.jpg", "width": 16, "height": 12, "quality": 90, "expected": ints(decoded)})
    # EXIF orientations: a 16x8 picture stored with each orientation tag; expected = the upright view.
    oriented = smooth_levels(rng, 8, 16)
    cases["exif"] = []
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"jpeg_exif{orientation}.jpg"
        Image.fromarray(oriented, "RGB").save(os.path.join(OUT, name), quality=95, exif=exif)
        upright = ImageOps.exif_transpose(Image.open(os.path.join(OUT, name))).convert("RGB")
        array = np.asarray(upright)
        cases["exif"].append({"file": name, "orientation": orientation, "width": array.shape[1],
                              "height": array.shape[0], "expected": ints(array)})
    # JPEG encoding: Pillow's encode of a fixed image at several qualities, decoded, for comparison
    # with this project's encoder (same libjpeg quality scaling → same pixels).
    source = smooth_levels(rng, 24, 32)
    Image.fromarray(source, "RGB").save(os.path.join(OUT, "jpeg_encode_source.png"))
    cases["encode"] = []
    for quality in [1, 10, 50, 90, 100]:
        buffer = io.BytesIO()
        Image.fromarray(source, "RGB").save(buffer, format="JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        cases["encode"].append({"quality": quality, "size": len(buffer.getvalue()), "expected": ints(decoded)})
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", default=os.path.join(ROOT, ".cache", "data", "root"))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    bsr = basicsr_loader.load()
    rng = np.random.default_rng(20261127)
    fixtures = {
        "resize.json": resize_fixtures(bsr, rng),
        "color.json": color_fixtures(bsr, rng),
        "metrics.json": metric_fixtures(bsr, rng),
        "codecs.json": codec_fixtures(rng),
    }
    fixtures["niqe.json"] = {"cases": niqe_fixtures(bsr, args.data_root)}
    versions = {"numpy": np.__version__, "torch": torch.__version__, "pillow": Image.__version__, "basicsr": "1.4.2"}
    for name, content in fixtures.items():
        content = {"generator": "Tools/golden/make_fixtures.py", "versions": versions, **content}
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(content, f, separators=(",", ":"))
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
