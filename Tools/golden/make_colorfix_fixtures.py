#!/usr/bin/env python3
"""Writes Tests/Fixtures/colorfix.json: StableSR's AdaIN and wavelet color fixes (scripts/
wavelet_color_fix.py of IceClear/StableSR at 398ee93, imported from a checkout given on the command
line; its torchvision import is stubbed, only the tensor functions are used), clamped to [0, 1].
    python Tools/golden/make_colorfix_fixtures.py --reference /path/to/StableSR
"""
import argparse
import importlib.util
import json
import os
import sys
import types

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    args = parser.parse_args()
    stub = types.ModuleType("torchvision.transforms")
    stub.ToTensor = stub.ToPILImage = object
    sys.modules["torchvision"] = types.ModuleType("torchvision")
    sys.modules["torchvision.transforms"] = stub
    spec = importlib.util.spec_from_file_location("colorfix", os.path.join(args.reference, "scripts", "wavelet_color_fix.py"))
    fix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fix)
    torch.manual_seed(3)
    content = torch.rand(1, 3, 20, 24)
    style = (torch.rand(1, 3, 20, 24) * 0.5 + 0.3)
    adain = fix.adaptive_instance_normalization(content, style).clamp(0, 1)
    wavelet = fix.wavelet_reconstruction(content, style).clamp(0, 1)
    nhwc = lambda t: t.permute(0, 2, 3, 1).reshape(-1).tolist()
    with open(os.path.join(ROOT, "Tests", "Fixtures", "colorfix.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_colorfix_fixtures.py", "reference": "IceClear/StableSR 398ee93",
                   "width": 24, "height": 20, "content": nhwc(content), "style": nhwc(style),
                   "adain": nhwc(adain), "wavelet": nhwc(wavelet)}, f)


if __name__ == "__main__":
    main()
