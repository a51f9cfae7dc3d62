#!/usr/bin/env python3
"""Writes Tests/Fixtures/random.json: torch.manual_seed(s) followed by torch.randn / torch.rand
on CPU (float32), stored as exact bit patterns, for the torch-compatible generator's tests.
Run with the pinned environment (requirements.txt)."""
import json
import os

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
cases = []
for seed, shape, kind in [(0, [5], "randn"), (1, [3], "randn"), (42, [16], "randn"), (42, [17], "randn"),
                          (7, [100], "randn"), (123456789, [1000], "randn"), (2**40 + 3, [2, 3, 8, 8], "randn"),
                          (42, [7], "rand"), (9, [1000], "rand"), (5, [1, 3, 4, 5], "randn_then_rand")]:
    torch.manual_seed(seed)
    if kind == "randn_then_rand":
        a = torch.randn(shape)
        b = torch.rand(shape)
        values = torch.cat([a.reshape(-1), b.reshape(-1)])
    else:
        values = (torch.randn if kind == "randn" else torch.rand)(shape).reshape(-1)
    bits = values.view(torch.int32).tolist()
    cases.append({"seed": seed, "shape": shape, "kind": kind, "bits": [b & 0xFFFFFFFF for b in bits]})
path = os.path.join(ROOT, "Tests", "Fixtures", "random.json")
with open(path, "w") as f:
    json.dump({"generator": "Tools/golden/make_random_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
print(path, os.path.getsize(path))
