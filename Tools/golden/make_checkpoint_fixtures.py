#!/usr/bin/env python3
"""Writes the checkpoint fixtures of Tests/Fixtures/checkpoints/: files made by torch.save (zip and
legacy layouts, a Lightning-style .ckpt), by safetensors.torch.save_file, two hostile pickles, and
checkpoints.json with the expected values. Run with the pinned environment (requirements.txt).
"""
import collections
import io
import json
import os
import pickle
import zipfile

import torch
from safetensors.torch import save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "checkpoints")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(7)


def values(t):
    return {"shape": list(t.shape), "values": [float(v) for v in t.detach().float().reshape(-1).tolist()]}


big = torch.randn(6, 5)
state = {
    "weight": torch.randn(3, 4),
    "half": torch.randn(5).half(),
    "bf16": torch.randn(2, 3).bfloat16(),
    "double": torch.randn(2).double(),
    "long": torch.tensor([1, -2, 3, 40000000000]),
    "flag": torch.tensor([True, False, True]),
    "transposed": torch.randn(3, 4).t(),        # non-contiguous
    "view": big[2:4, 1:4],                       # offset and strides into a larger storage
    "param": torch.nn.Parameter(torch.randn(2, 2)),
    "nested": {"list": [1, 2.5, "text"], "tuple": (True, None), "deep": {"bias": torch.randn(3)}},
    "ordered": collections.OrderedDict([("b", torch.randn(2)), ("a", torch.randn(1))]),
    "scalar": torch.tensor(3.5),
}
torch.save(state, os.path.join(OUT, "state_zip.pth"))
torch.save(state, os.path.join(OUT, "state_legacy.pth"), _use_new_zipfile_serialization=False)

expected = {}
for key, value in state.items():
    if isinstance(value, torch.Tensor):
        expected[key] = values(value)
expected["nested.deep.bias"] = values(state["nested"]["deep"]["bias"])
expected["ordered.b"] = values(state["ordered"]["b"])
expected["ordered.a"] = values(state["ordered"]["a"])

lightning_state = collections.OrderedDict([("model.conv.weight", torch.randn(4, 3, 3, 3)), ("model.conv.bias", torch.randn(4))])
torch.save({"epoch": 3, "global_step": 100, "state_dict": lightning_state, "lr_schedulers": []},
           os.path.join(OUT, "lightning.ckpt"))
lightning = {k: values(v) for k, v in lightning_state.items()}

# Hostile pickles: calling os.system must be refused, never run.
payload = b"cos\nsystem\n(S'touch /tmp/diffsr-pwned'\ntR."
with open(os.path.join(OUT, "hostile.pkl"), "wb") as f:
    f.write(payload)
with zipfile.ZipFile(os.path.join(OUT, "hostile.pth"), "w", compression=zipfile.ZIP_STORED) as z:
    z.writestr("hostile/data.pkl", pickle.dumps(0, protocol=2)[:-1].replace(b"K\x00", b"") + payload)
    z.writestr("hostile/version", "3\n")
# A pickle that builds an arbitrary class instance (builtins.eval via REDUCE).
with zipfile.ZipFile(os.path.join(OUT, "eval.pth"), "w", compression=zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print('hi')\x85R.")

sf = {"f32": torch.randn(2, 3), "f16": torch.randn(4).half(), "bf16": torch.randn(3, 1).bfloat16(), "empty": torch.zeros(0, 3)}
save_file(sf, os.path.join(OUT, "reference.safetensors"), metadata={"format": "pt", "note": "fixture"})
safetensors_expected = {k: values(v) for k, v in sf.items()}
safetensors_expected["f16"]["dtype"] = "F16"

with open(os.path.join(OUT, "checkpoints.json"), "w") as f:
    json.dump({"generator": "Tools/golden/make_checkpoint_fixtures.py", "torch": torch.__version__,
               "state": expected, "lightning": lightning, "safetensors": safetensors_expected}, f)
print(sorted(os.listdir(OUT)))
