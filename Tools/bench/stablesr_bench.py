#!/usr/bin/env python3
"""The reference side of `diffsr bench stablesr`: IceClear/StableSR's own modules (398ee93) at full
width with PyTorch's default initialization, in eager PyTorch on the CPU, printing one JSON line in
the format of `diffsr bench stablesr --format json`.

--part unet: EncoderUNetModelWT + UNetModelDualcondV2 on a --latent x --latent latent (one DDPM step on
one tile of the tile script), two warm-up calls, then at least 3 timed ones (up to --seconds); median.
--part pipeline: LatentDiffusionSRTextWT (U-Net + SPADE, first stage, an OpenCLIP ViT-H text tower,
time-aware encoder) and the CFW AutoencoderKLResi built from the released configs, then the tile
script's steps (Tools/golden/make_stablesr_e2e_fixtures.tile_script) on a random --input x --input
image x4 with --steps DDPM steps (at least 2: the reference's register_schedule fails on 1), timed
once, without a warm-up run, as a user's first image. The JSON line is the last line of stdout (the
reference prints its parameter lists before it).

    python Tools/bench/stablesr_bench.py --reference /path/to/StableSR --part unet
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import make_stablesr_e2e_fixtures as harness  # noqa: E402

UNET = {"image_size": 32, "in_channels": 4, "out_channels": 4, "model_channels": 320, "attention_resolutions": [4, 2, 1],
        "num_res_blocks": 2, "channel_mult": [1, 2, 4, 4], "num_head_channels": 64, "use_spatial_transformer": True,
        "use_linear_in_transformer": True, "transformer_depth": 1, "context_dim": 1024, "use_checkpoint": False,
        "legacy": False, "semb_channels": 256}
ENCODER = {"image_size": 96, "in_channels": 4, "model_channels": 256, "out_channels": 256, "num_res_blocks": 2,
           "attention_resolutions": [4, 2, 1], "dropout": 0, "channel_mult": [1, 1, 2, 2], "conv_resample": True, "dims": 2,
           "use_checkpoint": False, "use_fp16": False, "num_heads": 4, "num_head_channels": -1, "num_heads_upsample": -1,
           "use_scale_shift_norm": False, "resblock_updown": False, "use_new_attention_order": False}
DDCONFIG = {"double_z": True, "z_channels": 4, "resolution": 512, "in_channels": 3, "out_ch": 3, "ch": 128,
            "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
TEXT = {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--part", choices=["unet", "pipeline"], default="unet")
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    sys.path.insert(0, args.reference)
    harness.install_stand_ins(args.reference)
    harness.TextEmbedder.reference = args.reference
    sys.modules["make_stablesr_e2e_fixtures"] = harness
    from ldm.modules.diffusionmodules.openaimodel import UNetModelDualcondV2, EncoderUNetModelWT
    torch.manual_seed(0)
    if args.part == "unet":
        unet, encoder = UNetModelDualcondV2(**UNET).eval(), EncoderUNetModelWT(**ENCODER).eval()
        z, x = torch.randn(1, 4, args.latent, args.latent), torch.randn(1, 4, args.latent, args.latent)
        context, t = torch.randn(1, 77, 1024), torch.tensor([999])
        call = lambda: unet(x, t, context=context, struct_cond=encoder(z, t))
        call(); call()
        times, start = [], time.time()
        while len(times) < 3 or time.time() - start < args.seconds:
            begin = time.time()
            call()
            times.append((time.time() - begin) * 1000)
        name, ms, runs = f"stablesr unet+encoder latent={args.latent}", statistics.median(times), len(times)
        parameters = sum(p.numel() for p in unet.parameters()) + sum(p.numel() for p in encoder.parameters())
    else:
        from omegaconf import OmegaConf
        from ldm.util import instantiate_from_config
        harness.UNET, harness.ENCODER, harness.DDCONFIG, harness.TEXT = UNET, ENCODER, DDCONFIG, TEXT
        config = OmegaConf.create(harness.sr_config())
        model = instantiate_from_config(config.model).eval()
        model.configs = config
        vq_model = instantiate_from_config(OmegaConf.create(harness.cfw_config()).model).eval()
        helpers = harness.reference_helpers(args.reference)
        image = (np.random.default_rng(0).random((args.input, args.input, 3)) * 255).astype(np.uint8)
        settings = {"seed": 0, "steps": args.steps, "dec_w": 0.5, "upscale": 4.0, "input_size": 512, "tile_overlap": 32,
                    "colorfix_type": "adain", "vqgantile_size": 1280, "vqgantile_stride": 1000}
        settings["steps"] = args.steps
        begin = time.time()
        harness.tile_script(model, vq_model, image, settings, *helpers)
        name, ms, runs = f"stablesr pipeline input={args.input} steps={args.steps}", (time.time() - begin) * 1000, 1
        parameters = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("cond_stage_model"))
        parameters += sum(p.numel() for n, p in vq_model.named_parameters() if "fusion_layer" in n) + \
            sum(p.numel() for n, p in model.named_parameters() if n.startswith("first_stage_model"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"name": name, "parameters": parameters, "threads": torch.get_num_threads(),
                      "backend": f"torch {torch.__version__} eager", "median_ms": round(ms, 1), "runs": runs, "peak_rss_mb": round(peak)}))


if __name__ == "__main__":
    main()
