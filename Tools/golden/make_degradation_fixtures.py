#!/usr/bin/env python3
"""Writes Tests/Fixtures/degradations.json: blur kernels from BasicSR 1.4.2's degradations.py
(imported from its sdist, see basicsr_loader.py) for fixed parameters."""
import importlib.util
import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import basicsr_loader  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


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
        json.dump({"generator": "Tools/golden/make_degradation_fixtures.py", "basicsr": "1.4.2", "kernels": cases}, f)
    print(len(cases), "kernels")


if __name__ == "__main__":
    main()
