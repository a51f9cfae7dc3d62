#!/usr/bin/env python3
"""Writes the SR3 U-Net fixtures (Tests/Fixtures/sr3/): a small U-Net built by the reference code
itself, its weights saved by torch.save the way the reference saves `*_gen.pth` (prefix
`denoise_fn.` plus schedule buffers), an input, noise levels and the output.

The reference is Janspiry/Image-Super-Resolution-via-Iterative-Refinement at commit 01d27a7; its
`model/sr3_modules/unet.py` is imported from a checkout given on the command line (nothing of it is
committed here):
    python Tools/golden/make_sr3_fixtures.py --reference /path/to/Image-Super-Resolution-via-Iterative-Refinement
"""
import argparse
import importlib.util
import json
import os

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "sr3")

CONFIG = {"in_channel": 6, "out_channel": 3, "inner_channel": 8, "norm_groups": 4, "channel_multiplier": [1, 2, 2],
          "attn_res": [8], "res_blocks": 1, "dropout": 0.1, "image_size": 16}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="checkout of the reference SR3 repository")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("sr3_unet", os.path.join(args.reference, "model", "sr3_modules", "unet.py"))
    unet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(unet)
    torch.manual_seed(11)
    c = CONFIG
    model = unet.UNet(in_channel=c["in_channel"], out_channel=c["out_channel"], inner_channel=c["inner_channel"],
                      norm_groups=c["norm_groups"], channel_mults=c["channel_multiplier"], attn_res=c["attn_res"],
                      res_blocks=c["res_blocks"], dropout=c["dropout"], image_size=c["image_size"]).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    os.makedirs(OUT, exist_ok=True)
    state = {"denoise_fn." + k: v for k, v in model.state_dict().items()}
    state["betas"] = torch.linspace(1e-6, 1e-2, 10)
    state["alphas_cumprod"] = torch.cumprod(1 - state["betas"], 0)
    torch.save(state, os.path.join(OUT, "tiny_gen.pth"))
    x = torch.randn(2, 6, 16, 16)
    noise_level = torch.tensor([[0.3], [0.8]])
    with torch.no_grad():
        out = model(x, noise_level)
    nhwc = lambda t: t.permute(0, 2, 3, 1).contiguous().reshape(-1).tolist()
    with open(os.path.join(OUT, "tiny.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_sr3_fixtures.py", "torch": torch.__version__, "reference": "01d27a7",
                   "config": c, "keys": sorted(state.keys()), "parameter_count": sum(p.numel() for p in model.parameters()),
                   "input": {"shape": [2, 16, 16, 6], "values": nhwc(x)}, "noise_level": [0.3, 0.8],
                   "output": {"shape": [2, 16, 16, 3], "values": nhwc(out)}}, f)
    # Beta schedules of the reference's make_beta_schedule.
    spec = importlib.util.spec_from_file_location("sr3_diffusion", os.path.join(args.reference, "model", "sr3_modules", "diffusion.py"))
    diffusion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(diffusion)
    schedules = {}
    for kind in ["linear", "quad", "warmup10", "warmup50", "const", "jsd", "cosine"]:
        betas = diffusion.make_beta_schedule(kind, 50, linear_start=1e-4, linear_end=2e-2)
        schedules[kind] = [float(b) for b in (betas.tolist() if hasattr(betas, "tolist") else betas)]
    # The reference's full sampling loop on the tiny model, from a seeded torch generator.
    gaussian = diffusion.GaussianDiffusion(model, image_size=16, channels=3, loss_type="l1", conditional=True)
    gaussian.set_new_noise_schedule({"schedule": "linear", "n_timestep": 8, "linear_start": 1e-4, "linear_end": 0.2}, "cpu")
    condition = torch.randn(1, 3, 16, 16).clamp(-1, 1)
    torch.manual_seed(1234)
    with torch.no_grad():
        sample = gaussian.super_resolution(condition)
    with open(os.path.join(OUT, "sampling.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_sr3_fixtures.py", "reference": "01d27a7", "schedules": schedules,
                   "loop": {"schedule": {"schedule": "linear", "n_timestep": 8, "linear_start": 1e-4, "linear_end": 0.2},
                            "seed": 1234, "condition": {"shape": [1, 16, 16, 3], "values": nhwc(condition)},
                            "sample": {"shape": [1, 16, 16, 3], "values": nhwc(sample.reshape(1, 3, 16, 16))}}}, f)
    print(sorted(os.listdir(OUT)), sum(p.numel() for p in model.parameters()), "parameters")


if __name__ == "__main__":
    main()
