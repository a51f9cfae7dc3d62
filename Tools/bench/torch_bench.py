#!/usr/bin/env python3
"""The PyTorch side of the engine benchmark: runs the cases of Benchmarks/cases.json in eager
PyTorch (CPU, float32, default threads, NCHW) and prints one JSON line per case, named as
diffsr-bench names them. Usage: python Tools/bench/torch_bench.py [--cases FILE] [--filter TEXT]"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def measure(fn):
    fn(); fn()
    times, start = [], time.perf_counter()
    while len(times) < 5 or (len(times) < 30 and time.perf_counter() - start < 1):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def name_of(case):
    return case["op"] + " " + " ".join(f"{k}={case[k]}" for k in sorted(k for k in case if k != "op"))


class ResidualBlock(nn.Module):
    """The SR3-style residual block with self-attention of diffsr-bench."""

    def __init__(self, c, emb):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(32, c), nn.Conv2d(c, c, 3, padding=1)
        self.noise = nn.Linear(emb, c)
        self.norm2, self.conv2 = nn.GroupNorm(32, c), nn.Conv2d(c, c, 3, padding=1)
        self.attn_norm, self.qkv, self.out = nn.GroupNorm(32, c), nn.Conv2d(c, 3 * c, 1, bias=False), nn.Conv2d(c, c, 1)

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x))) + self.noise(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h))) + x
        b, c, hh, ww = h.shape
        q, k, v = self.qkv(self.attn_norm(h)).reshape(b, 3 * c, hh * ww).chunk(3, dim=1)
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k) / c ** 0.5, dim=-1)
        o = torch.bmm(v, attn.transpose(1, 2)).reshape(b, c, hh, ww)
        return h + self.out(o)


def run(case):
    op, backward = case["op"], case.get("pass") == "backward"
    if op == "conv":
        n, h, w, c, k, r = (case[x] for x in ("n", "h", "w", "c", "k", "kernel"))
        x, wt, b = torch.randn(n, c, h, w), torch.randn(k, c, r, r), torch.randn(k)
        flops = 2.0 * n * h * w * k * c * r * r
        if backward:
            g = torch.randn(n, k, h, w)
            xg, wg, bg = (t.clone().requires_grad_(True) for t in (x, wt, b))
            def step():
                out = F.conv2d(xg, wg, bg, padding=r // 2)
                torch.autograd.grad(out, (xg, wg, bg), g)
            forward = measure(lambda: F.conv2d(x, wt, b, padding=r // 2))
            return measure(step) - forward, 2 * flops
        with torch.no_grad():
            return measure(lambda: F.conv2d(x, wt, b, padding=r // 2)), flops
    if op == "gemm":
        a, b = torch.randn(case["m"], case["k"]), torch.randn(case["k"], case["n"])
        return measure(lambda: a @ b), 2.0 * case["m"] * case["n"] * case["k"]
    if op == "groupnorm":
        n, h, w, c, groups = (case[x] for x in ("n", "h", "w", "c", "groups"))
        x, gamma, beta = torch.randn(n, c, h, w), torch.randn(c), torch.randn(c)
        silu = case.get("activation") == "silu"   # GroupNorm then SiLU, as the U-Net blocks do

        def norm(x, gamma, beta):
            y = F.group_norm(x, groups, gamma, beta)
            return F.silu(y) if silu else y
        if backward:
            g = torch.randn(n, c, h, w)
            xg, gg, bg = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
            forward = measure(lambda: norm(x, gamma, beta))
            return measure(lambda: torch.autograd.grad(norm(xg, gg, bg), (xg, gg, bg), g)) - forward, 0
        with torch.no_grad():
            return measure(lambda: norm(x, gamma, beta)), 0
    if op == "attention":
        n, tokens, c = case["n"], case["tokens"], case["c"]
        x = torch.randn(n, tokens, c)
        with torch.no_grad():
            return measure(lambda: F.scaled_dot_product_attention(x, x, x)), 4.0 * n * tokens * tokens * c
    if op == "resblock":
        n, h, w, c = (case[x] for x in ("n", "h", "w", "c"))
        block, x, e = ResidualBlock(c, 128), torch.randn(n, c, h, w), torch.randn(n, 128)
        if backward:
            def step():
                block.zero_grad(set_to_none=True)
                block(x, e).square().mean().backward()
            return measure(step), 0
        with torch.no_grad():
            return measure(lambda: block(x, e)), 0
    raise ValueError(op)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="Benchmarks/cases.json")
    parser.add_argument("--filter")
    args = parser.parse_args()
    torch.manual_seed(0)
    for case in json.load(open(args.cases))["cases"]:
        name = name_of(case)
        if args.filter and args.filter not in name:
            continue
        seconds, flops = run(case)
        if case["op"] == "resblock" and case.get("pass") == "backward":
            name += " (forward+backward)"
        print(json.dumps({"name": name, "threads": torch.get_num_threads(), "backend": f"torch {torch.__version__}",
                          "median_ms": round(seconds * 1e3, 3),
                          "gflops": round(flops / seconds / 1e9, 2) if flops else None}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
