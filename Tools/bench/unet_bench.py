#!/usr/bin/env python3
"""The PyTorch side of `diffsr bench unet`: times the reference SR3 U-Net (Janspiry/Image-Super-
Resolution-via-Iterative-Refinement at 01d27a7, `model/sr3_modules/unet.py` imported from a checkout
given on the command line — nothing of it is copied here) in eager PyTorch (CPU, float32, default
threads), on the same workload, and prints one JSON line named as `diffsr bench unet` names it.

  forward  evaluation mode, no grad: net(x [B, 6, N, N], noise level [B, 1])
  train    the SR3 loss step: noise a random HR at √γ, L1 of the ε prediction, backward, AdamW

Usage: python Tools/bench/unet_bench.py --reference CHECKOUT --model-config FILE.json
           [--size 128] [--batch 1] [--mode forward|train] [--seconds 10]
"""
import argparse
import importlib.util
import json
import os
import re
import statistics
import time

import torch
import torch.nn.functional as F


def load_unet_config(path):
    text = open(path).read()
    text = re.sub(r"//[^\n]*", "", text)
    root = json.loads(text)
    if "model" in root:
        unet = dict(root["model"]["unet"])
        unet.setdefault("image_size", root["model"].get("diffusion", {}).get("image_size", 128))
    else:
        unet = dict(root["unet"])
    return unet


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--model-config", required=True)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--mode", choices=["forward", "train"], default="forward")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("sr3_unet", os.path.join(args.reference, "model", "sr3_modules", "unet.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    c = load_unet_config(args.model_config)
    torch.manual_seed(0)
    net = module.UNet(in_channel=c["in_channel"], out_channel=c["out_channel"], inner_channel=c["inner_channel"],
                      norm_groups=c.get("norm_groups", 32), channel_mults=c["channel_multiplier"], attn_res=c["attn_res"],
                      res_blocks=c["res_blocks"], dropout=c["dropout"], image_size=c.get("image_size", 128))
    b, n = args.batch, args.size
    x = torch.randn(b, c["in_channel"], n, n)
    levels = (0.2 + 0.6 * torch.rand(b)).view(b, 1)
    if args.mode == "forward":
        net.eval()

        def iteration():
            with torch.no_grad():
                net(x, levels)
    else:
        net.train()
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
        hr = torch.randn(b, c["out_channel"], n, n)
        condition = x[:, : c["in_channel"] - c["out_channel"]]

        def iteration():
            noise = torch.randn_like(hr)
            g = levels.view(b, 1, 1, 1)
            noisy = hr * g + noise * (1 - g * g).sqrt()
            loss = F.l1_loss(net(torch.cat([condition, noisy], 1), levels), noise)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    iteration(); iteration()
    times, start = [], time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < args.seconds:
        t = time.perf_counter()
        iteration()
        times.append((time.perf_counter() - t) * 1000)
    stem = os.path.splitext(os.path.basename(args.model_config))[0]
    print(json.dumps({"name": f"unet {stem} size={n} batch={b} mode={args.mode}",
                      "parameters": sum(p.numel() for p in net.parameters()), "threads": torch.get_num_threads(),
                      "backend": f"torch {torch.__version__} eager", "median_ms": round(statistics.median(times), 3),
                      "runs": len(times)}))


if __name__ == "__main__":
    main()
