#!/usr/bin/env python3
"""Writes Tests/Fixtures/engine.json: forward values and gradients from PyTorch for the tensor
engine's operations and layers (conv2d, group norm, group norm + SiLU, attention, linear, upsampling, an SR3-style
residual block with self-attention).

Convention: activations are exported NHWC, conv weights OHWI (the Swift engine's layouts); the
loss of every case is sum(output * probe) with a fixed random probe, and the gradients are those
of that loss. Run with the pinned environment of requirements.txt:
    python Tools/golden/make_engine_fixtures.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
torch.manual_seed(20261127)
torch.set_num_threads(1)


def nhwc(t):
    return t.permute(0, 2, 3, 1) if t.dim() == 4 else t


def ohwi(w):
    return w.permute(0, 2, 3, 1)


def flat(t):
    return [float("%.8g" % v) for v in t.detach().contiguous().reshape(-1).tolist()]


def entry(t, layout=None):
    t = t.detach()
    if layout == "nhwc":
        t = nhwc(t)
    elif layout == "ohwi":
        t = ohwi(t)
    return {"shape": list(t.shape), "values": flat(t)}


def run(inputs, fn):
    """Forward, and the gradients of sum(out * probe) for every input."""
    for t in inputs.values():
        t.requires_grad_(True)
    out = fn(**inputs)
    probe = torch.randn_like(out)
    (out * probe).sum().backward()
    return out, probe


cases = {}

# conv2d: kernel 1 and 3, stride 1 and 2.
for name, (k, s, p) in {"conv_k1_s1": (1, 1, 0), "conv_k3_s1": (3, 1, 1), "conv_k3_s2": (3, 2, 1)}.items():
    x = torch.randn(2, 5, 7, 6)
    w = torch.randn(4, 5, k, k) * 0.3
    b = torch.randn(4)
    inputs = {"x": x, "w": w, "b": b}
    out, probe = run(inputs, lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p))
    cases[name] = {"stride": s, "padding": p, "x": entry(x, "nhwc"), "w": entry(w, "ohwi"), "b": entry(b),
                   "out": entry(out, "nhwc"), "probe": entry(probe, "nhwc"),
                   "grad_x": entry(x.grad, "nhwc"), "grad_w": entry(w.grad, "ohwi"), "grad_b": entry(b.grad)}

# group norm
x = torch.randn(2, 8, 5, 4) * 2 + 1
gamma, beta = torch.randn(8), torch.randn(8)
out, probe = run({"x": x, "g": gamma, "b": beta}, lambda x, g, b: F.group_norm(x, 4, g, b, 1e-5))
cases["group_norm"] = {"groups": 4, "x": entry(x, "nhwc"), "gamma": entry(gamma), "beta": entry(beta),
                       "out": entry(out, "nhwc"), "probe": entry(probe, "nhwc"), "grad_x": entry(x.grad, "nhwc"),
                       "grad_gamma": entry(gamma.grad), "grad_beta": entry(beta.grad)}

# multi-head attention (cross), heads split from the feature axis
B, Lq, Lk, H, D, DV = 2, 5, 7, 2, 4, 3
q, k, v = torch.randn(B, Lq, H * D), torch.randn(B, Lk, H * D), torch.randn(B, Lk, H * DV)


def mha(q, k, v):
    split = lambda t, d: t.reshape(t.shape[0], t.shape[1], H, d).transpose(1, 2)
    o = F.scaled_dot_product_attention(split(q, D), split(k, D), split(v, DV))
    return o.transpose(1, 2).reshape(B, Lq, H * DV)


out, probe = run({"q": q, "k": k, "v": v}, mha)
cases["attention"] = {"heads": H, "q": entry(q), "k": entry(k), "v": entry(v), "out": entry(out), "probe": entry(probe),
                      "grad_q": entry(q.grad), "grad_k": entry(k.grad), "grad_v": entry(v.grad)}

# linear
x, w, b = torch.randn(3, 4, 6), torch.randn(5, 6), torch.randn(5)
out, probe = run({"x": x, "w": w, "b": b}, lambda x, w, b: F.linear(x, w, b))
cases["linear"] = {"x": entry(x), "w": entry(w), "b": entry(b), "out": entry(out), "probe": entry(probe),
                   "grad_x": entry(x.grad), "grad_w": entry(w.grad), "grad_b": entry(b.grad)}

# upsampling
x = torch.randn(2, 3, 4, 5)
out, probe = run({"x": x}, lambda x: F.interpolate(x, scale_factor=2, mode="nearest"))
cases["upsample_nearest"] = {"x": entry(x, "nhwc"), "out": entry(out, "nhwc"), "probe": entry(probe, "nhwc"),
                             "grad_x": entry(x.grad, "nhwc")}
x = torch.randn(2, 3, 4, 5)
out, probe = run({"x": x}, lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False))
cases["upsample_bilinear"] = {"x": entry(x, "nhwc"), "out": entry(out, "nhwc"), "probe": entry(probe, "nhwc"),
                              "grad_x": entry(x.grad, "nhwc")}


# An SR3-style residual block with self-attention (Janspiry's ResnetBlocWithAttn, written here
# from its description): GroupNorm → SiLU → conv3x3, + Linear(noise embedding) per channel,
# GroupNorm → SiLU → conv3x3, + 1x1 residual conv; then GroupNorm → qkv 1x1 → softmax(q·k/√C) → out 1x1, + residual.
class ResidualAttentionBlock(nn.Module):
    def __init__(self, dim, dim_out, emb, groups):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, dim), nn.Conv2d(dim, dim_out, 3, padding=1)
        self.noise = nn.Linear(emb, dim_out)
        self.norm2, self.conv2 = nn.GroupNorm(groups, dim_out), nn.Conv2d(dim_out, dim_out, 3, padding=1)
        self.res = nn.Conv2d(dim, dim_out, 1)
        self.attn_norm = nn.GroupNorm(groups, dim_out)
        self.qkv = nn.Conv2d(dim_out, 3 * dim_out, 1, bias=False)
        self.out = nn.Conv2d(dim_out, dim_out, 1)

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.noise(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        h = h + self.res(x)
        b, c, hh, ww = h.shape
        qkv = self.qkv(self.attn_norm(h)).view(b, 1, 3 * c, hh, ww)
        q, k, v = qkv.chunk(3, dim=2)
        attn = torch.einsum("bnchw,bncyx->bnhwyx", q, k) / (c ** 0.5)
        attn = attn.view(b, 1, hh, ww, -1).softmax(-1).view(b, 1, hh, ww, hh, ww)
        o = torch.einsum("bnhwyx,bncyx->bnchw", attn, v).reshape(b, c, hh, ww)
        return h + self.out(o)


block = ResidualAttentionBlock(8, 16, 12, 4)
for p in block.parameters():
    with torch.no_grad():
        p.add_(torch.randn_like(p) * 0.1)   # move γ/β off 1/0 so the test sees them
x, e = torch.randn(2, 8, 6, 5), torch.randn(2, 12)
x.requires_grad_(True)
out = block(x, e)
probe = torch.randn_like(out)
(out * probe).sum().backward()
params = {}
for key, p in block.named_parameters():
    layout = "ohwi" if p.dim() == 4 else None
    params[key] = {"value": entry(p, layout), "grad": entry(p.grad, layout)}
cases["residual_attention_block"] = {"x": entry(x, "nhwc"), "e": entry(e), "out": entry(out, "nhwc"),
                                     "probe": entry(probe, "nhwc"), "grad_x": entry(x.grad, "nhwc"), "parameters": params}

# Adam / AdamW: three steps from fixed parameters with fixed gradients.
for name, optimizer_type in {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.items():
    p0 = torch.randn(7)
    grads = [torch.randn(7) for _ in range(3)]
    p = p0.clone().requires_grad_(True)
    optimizer = optimizer_type([p], lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    steps = []
    for g in grads:
        p.grad = g.clone()
        optimizer.step()
        steps.append(entry(p))
    cases[name] = {"p0": entry(p0), "grads": [entry(g) for g in grads], "steps": steps}

# group norm followed by SiLU (the engine fuses the two: Tensor.groupNormalizedSiLU); 12 channels,
# so the engine's 8-lane loop and its scalar tail both run. Drawn last, so the cases above keep
# their values.
x = torch.randn(2, 12, 5, 6) * 2 + 0.5
gamma, beta = torch.randn(12), torch.randn(12)
out, probe = run({"x": x, "g": gamma, "b": beta}, lambda x, g, b: F.silu(F.group_norm(x, 3, g, b, 1e-5)))
cases["group_norm_silu"] = {"groups": 3, "x": entry(x, "nhwc"), "gamma": entry(gamma), "beta": entry(beta),
                            "out": entry(out, "nhwc"), "probe": entry(probe, "nhwc"), "grad_x": entry(x.grad, "nhwc"),
                            "grad_gamma": entry(gamma.grad), "grad_beta": entry(beta.grad)}

path = os.path.join(ROOT, "Tests", "Fixtures", "engine.json")
with open(path, "w") as f:
    json.dump({"generator": "Tools/golden/make_engine_fixtures.py", "torch": torch.__version__, "cases": cases}, f,
              separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
