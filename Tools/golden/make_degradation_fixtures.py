#!/usr/bin/env python3
"""Writes Tests/Fixtures/degradations.json: blur kernels from BasicSR 1.4.2's degradations.py
(imported from its sdist, see basicsr_loader.py) for fixed parameters, and the target sharpening of
Real-ESRGAN's training (BasicSR's `USMSharp` from img_process_util.py, with OpenCV's Gaussian) on a
fixed image."""
import importlib.util
import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import basicsr_loader  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def usm_case():
    """USMSharp (radius 50 → 51, σ from OpenCV's rule = 8, weight 0.5, threshold 10) on a 40×44
    image with sharp edges and smooth ramps, as HWC RGB."""
    import numpy as np
    import torch
    spec = importlib.util.spec_from_file_location(
        "img_process_util", os.path.join(basicsr_loader.sdist_root(), "basicsr", "utils", "img_process_util.py"))
    u = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(u)
    h, w = 40, 44
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    image = np.stack([0.5 + 0.4 * np.sin(x / 3.0 + c) * np.cos(y / 5.0 - c) for c in range(3)], axis=-1)
    image[10:30, 12:20, :] = 0.95           # a bright block with hard edges
    image[:, 30:, 1] *= 0.3                 # a colour step
    image = image.astype(np.float32)
    with torch.no_grad():
        out = u.USMSharp()(torch.from_numpy(image).permute(2, 0, 1)[None]).numpy()[0].transpose(1, 2, 0)
    return {"width": w, "height": h, "input": image.ravel().tolist(), "output": out.ravel().tolist()}


def main():
    root = os.path.join(basicsr_loader.sdist_root(), "basicsr", "data", "degradations.py")
    stub = types.ModuleType("torchvision.transforms.functional_tensor")
    stub.rgb_to_grayscale = None
    for name in ["torchvision", "torchvision.transforms"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["torchvision.transforms.functional_tensor"] = stub
    spec = importlib.util.spec_from_file_location("degradations", root)
    d = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(d)
    cases = []
    for k, sx, sy, theta in [(7, 1.5, 1.5, 0.0), (21, 2.8, 0.7, 0.6), (11, 0.4, 1.9, -2.5)]:
        cases.append({"kind": "gaussian_iso", "size": k, "sx": sx, "values": d.bivariate_Gaussian(k, sx, sy, theta, isotropic=True).ravel().tolist()})
        cases.append({"kind": "gaussian_aniso", "size": k, "sx": sx, "sy": sy, "theta": theta,
                      "values": d.bivariate_Gaussian(k, sx, sy, theta, isotropic=False).ravel().tolist()})
        for beta in [0.6, 3.0]:
            cases.append({"kind": "generalized_aniso", "size": k, "sx": sx, "sy": sy, "theta": theta, "beta": beta,
                          "values": d.bivariate_generalized_Gaussian(k, sx, sy, theta, beta, isotropic=False).ravel().tolist()})
            cases.append({"kind": "plateau_aniso", "size": k, "sx": sx, "sy": sy, "theta": theta, "beta": beta,
                          "values": d.bivariate_plateau(k, sx, sy, theta, beta, isotropic=False).ravel().tolist()})
    for cutoff, k, pad in [(1.2, 7, 21), (2.9, 13, 0), (0.7, 21, 0)]:
        cases.append({"kind": "sinc", "size": k, "cutoff": cutoff, "pad": pad,
                      "values": d.circular_lowpass_kernel(cutoff, k, pad_to=pad).ravel().tolist()})
    with open(os.path.join(ROOT, "Tests", "Fixtures", "degradations.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_degradation_fixtures.py", "basicsr": "1.4.2", "kernels": cases,
                   "usm": usm_case()}, f)
    print(len(cases), "kernels")


if __name__ == "__main__":
    main()
