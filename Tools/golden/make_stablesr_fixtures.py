#!/usr/bin/env python3
"""Writes the StableSR network fixtures (Tests/Fixtures/stablesr/networks.json): the reference's own
modules at reduced width, with weights drawn from a seeded torch generator (so the fixture holds no
weights), their inputs and outputs.

The reference is IceClear/StableSR at 398ee93; `ldm/modules/...` is imported from a checkout given
on the command line (nothing of it is committed here). Its `basicsr` import (two StyleGAN2 classes
that openaimodel.py imports and never uses, and model.py's RRDB) comes from the stand-ins of
make_stablesr_e2e_fixtures.py, as the harness of shared/reference/stablesr.md §9.2 does:
    python Tools/golden/make_stablesr_fixtures.py --reference /path/to/StableSR

Weights. For each module, its state-dict tensors are filled in sorted key order from one
`torch.Generator` seeded with the case's seed: a tensor of rank >= 2 gets randn / sqrt(fan_in) with
fan_in = numel / shape[0]; a rank-1 `*.weight` (norm scales) 1 + 0.1 randn; any other rank-1 tensor
(biases) 0.1 randn. The Swift test draws the same values with its bit-exact `torch.randn`
(`TorchGenerator`), in the same order, from the parameter paths of its own modules. Zero-initialized
layers (`out_layers.3`, `proj_out`, `out.2`) are therefore non-zero, so every path matters.

Tensors are written NHWC (activations) in row-major order with their shape.
"""
import argparse
import json
import math
import os
import sys
import types

import torch

from make_stablesr_e2e_fixtures import install_stand_ins  # the stand-ins of shared/reference/stablesr.md §9.2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "stablesr")


def seeded_fill(module, seed):
    generator = torch.Generator().manual_seed(seed)
    state = module.state_dict()
    with torch.no_grad():
        for key in sorted(state):
            tensor = state[key]
            draw = torch.randn(tensor.shape, generator=generator)
            if tensor.dim() >= 2:
                value = draw * (1 / math.sqrt(tensor.numel() // tensor.shape[0]))
            elif key.endswith(".weight"):
                value = 1 + 0.1 * draw
            else:
                value = 0.1 * draw
            tensor.copy_(value)
    return {key: list(state[key].shape) for key in sorted(state)}


class Float32Values(list):
    """float32 values, written with the shortest decimal that reads back as the same float32."""


def nhwc(t):
    t = t.detach()
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    return {"shape": list(t.shape), "values": Float32Values(t.contiguous().reshape(-1).numpy())}


def to_json(value):
    if isinstance(value, Float32Values):
        return "[" + ",".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def randn(generator, *shape):
    return torch.randn(*shape, generator=generator)


def write_yaml(path, unet_config, encoder_config, ddconfig):
    """The reduced networks in the layout of the reference's configs/stableSRNew/*.yaml (model.params
    with unet_config, first_stage_config and structcond_stage_config) and of its CFW config
    (configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml), read back by the Swift YAML loader."""
    import yaml
    document = {"sf": 4, "model": {
        "base_learning_rate": 5.0e-05, "target": "ldm.models.diffusion.ddpm.LatentDiffusionSRTextWT",
        "params": {"linear_start": 0.00085, "linear_end": 0.0120, "timesteps": 1000, "channels": 4,
                   "conditioning_key": "crossattn", "scale_factor": 0.18215, "use_ema": False, "time_replace": 1000,
                   "p2_gamma": None,
                   "unet_config": {"target": "ldm.modules.diffusionmodules.openaimodel.UNetModelDualcondV2",
                                   "params": unet_config},
                   "first_stage_config": {"target": "ldm.models.autoencoder.AutoencoderKL",
                                          "params": {"embed_dim": 4, "monitor": "val/rec_loss", "ddconfig": ddconfig,
                                                     "lossconfig": {"target": "torch.nn.Identity"}}},
                   "cond_stage_config": {"target": "ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder",
                                         "params": {"freeze": True, "layer": "penultimate"}},
                   "structcond_stage_config": {"target": "ldm.modules.diffusionmodules.openaimodel.EncoderUNetModelWT",
                                               "params": encoder_config}}}}
    with open(path, "w") as f:
        f.write("# Written by Tools/golden/make_stablesr_fixtures.py: the reduced networks of networks.json\n")
        yaml.safe_dump(document, f, sort_keys=False)
    cfw = {"model": {"base_learning_rate": 5.0e-05, "target": "ldm.models.autoencoder.AutoencoderKLResi",
                     "params": {"monitor": "val/rec_loss", "embed_dim": 4, "fusion_w": 1.0, "freeze_dec": True,
                                "synthesis_data": False, "lossconfig": {"target": "torch.nn.Identity"}, "ddconfig": ddconfig}}}
    with open(path.replace(".yaml", "_cfw.yaml"), "w") as f:
        f.write("# Written by Tools/golden/make_stablesr_fixtures.py: the reduced CFW autoencoder of networks.json\n")
        yaml.safe_dump(cfw, f, sort_keys=False)


def text_context_case(reference):
    """The empty prompt's cross-attention context as FrozenOpenCLIPEmbedder computes it (layer
    'penultimate'): its own encode_with_transformer / text_transformer_forward methods, executed from
    the reference's ldm/modules/encoders/modules.py (the module itself imports clip, transformers and
    kornia), on an open_clip 2.0.2 CLIP (the version the reference pins) at reduced width: 3 layers of
    width 128, 2 heads (width / 64, as ViT-H-14's 1024 / 16), the real vocabulary and context length.
    open_clip's package __init__ (image transforms, torchvision) is bypassed by install_stand_ins."""
    import open_clip.model as clip_model
    import open_clip.tokenizer as tokenizer

    clip = clip_model.CLIP(embed_dim=32, vision_cfg=clip_model.CLIPVisionCfg(layers=1, width=64, patch_size=16, image_size=32),
                           text_cfg=clip_model.CLIPTextCfg(context_length=77, vocab_size=49408, width=128, heads=2, layers=3))
    del clip.visual
    clip.eval()
    keys = seeded_fill(clip, 41)
    with open(os.path.join(reference, "ldm", "modules", "encoders", "modules.py")) as f:
        text = f.read()
    start = text.index("class FrozenOpenCLIPEmbedder")
    methods = text[text.index("    def encode_with_transformer", start):text.index("    def encode(self, text)", start)]
    namespace = {"torch": torch, "checkpoint": torch.utils.checkpoint.checkpoint}
    exec("class Embedder:\n" + methods, namespace)
    embedder = namespace["Embedder"]()
    embedder.model = clip
    embedder.layer_idx = 1  # layer "penultimate"
    tokens = tokenizer.tokenize([""])
    context = embedder.encode_with_transformer(tokens)
    return {"seed": 41, "keys": keys, "tokens": tokens[0].tolist(), "output": nhwc(context)}


def sampling_case(reference, util):
    """The tile script's respaced schedule and the canvas sampler's Gaussian tile weights, from the
    reference's own code: make_beta_schedule (ldm util), space_timesteps and the respacing loop of
    scripts/sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py (executed from its text, iterating the
    float32 alphas_cumprod buffer as there), DDPM.register_schedule's buffer formulas (numpy on the
    float32 betas, stored as float32), and LatentDiffusionSRTextWT._gaussian_weights."""
    import numpy as np
    with open(os.path.join(reference, "scripts", "sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py")) as f:
        script = f.read()
    namespace = {}
    exec(script[script.index("def space_timesteps"):script.index("def chunk(")], namespace)
    space_timesteps = namespace["space_timesteps"]
    betas = util.make_beta_schedule("linear", 1000, linear_start=0.00085, linear_end=0.0120)
    base = torch.tensor(np.cumprod(1.0 - betas, axis=0), dtype=torch.float32)
    schedules = {}
    for steps in [1, 4, 50, 200]:
        use = set(space_timesteps(1000, [steps]))
        last = 1.0
        new_betas = []
        for i, alpha_cumprod in enumerate(base):
            if i in use:
                new_betas.append(1 - alpha_cumprod / last)
                last = alpha_cumprod
        new_betas = np.array([b.data.cpu().numpy() for b in new_betas])
        alphas = 1. - new_betas
        alphas_cumprod = np.cumprod(alphas, axis=0)
        alphas_cumprod_prev = np.append(1., alphas_cumprod[:-1])
        variance = new_betas * (1. - alphas_cumprod_prev) / (1. - alphas_cumprod)
        schedules[str(steps)] = {
            "timesteps": sorted(use),
            "alphas_cumprod": [float(v) for v in torch.tensor(alphas_cumprod, dtype=torch.float32)],
            "posterior_mean_coef1": [float(v) for v in torch.tensor(new_betas * np.sqrt(alphas_cumprod_prev) / (1. - alphas_cumprod), dtype=torch.float32)],
            "posterior_mean_coef2": [float(v) for v in torch.tensor((1. - alphas_cumprod_prev) * np.sqrt(alphas) / (1. - alphas_cumprod), dtype=torch.float32)],
            "posterior_log_variance_clipped": [float(v) for v in torch.tensor(np.log(np.maximum(variance, 1e-20)), dtype=torch.float32)],
        }
    with open(os.path.join(reference, "ldm", "models", "diffusion", "ddpm.py")) as f:
        ddpm = f.read()
    start = ddpm.index("    def _gaussian_weights")
    method = ddpm[start:ddpm.index("    @torch.no_grad()", start)]
    namespace = {"torch": torch}
    exec("class Canvas:\n" + method, namespace)
    canvas = namespace["Canvas"]()
    canvas.betas = torch.zeros(1)
    canvas.configs = types.SimpleNamespace(model=types.SimpleNamespace(params=types.SimpleNamespace(channels=1)))
    weights = {str(size): canvas._gaussian_weights(size, size, 1)[0, 0].reshape(-1).tolist() for size in [8, 64]}
    return {"base_alphas_cumprod_999": float(base[999]), "schedules": schedules, "gaussian_weights": weights}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="checkout of IceClear/StableSR")
    args = parser.parse_args()
    install_stand_ins(args.reference)
    sys.path.insert(0, args.reference)
    from ldm.modules.diffusionmodules import openaimodel, util
    from ldm.modules.attention import SpatialTransformerV2
    from ldm.modules.spade import SPADE

    torch.set_grad_enabled(False)
    inputs = torch.Generator().manual_seed(1234)
    cases = {}

    # Timestep embedding (cos first), even and odd dimensions.
    t = torch.tensor([0, 1, 17, 250, 999])
    cases["timestep_embedding"] = {
        "timesteps": t.tolist(),
        "dim32": nhwc(util.timestep_embedding(t, 32)),
        "dim7": nhwc(util.timestep_embedding(t, 7)),
    }

    # SPADE: GroupNorm(32) with its own affine, modulated by convs of the width-matched feature.
    spade = SPADE(64, 32).eval()
    x = randn(inputs, 1, 64, 6, 10)
    seg = {"10": randn(inputs, 1, 32, 6, 10), "5": randn(inputs, 1, 32, 3, 5)}
    cases["spade"] = {"seed": 11, "keys": seeded_fill(spade, 11), "input": nhwc(x),
                      "features": {k: nhwc(v) for k, v in seg.items()}, "output": nhwc(spade(x, seg))}

    # ResBlockDual 32 -> 64 (1x1 skip), embedding 128, features 32 channels.
    block = openaimodel.ResBlockDual(32, 128, 0, semb_channels=32, out_channels=64).eval()
    x = randn(inputs, 1, 32, 6, 10)
    emb = randn(inputs, 1, 128)
    cases["resblock_dual"] = {"seed": 12, "keys": seeded_fill(block, 12), "input": nhwc(x), "embedding": nhwc(emb),
                              "features": {"10": nhwc(seg["10"])}, "output": nhwc(block(x, emb, seg))}

    # Plain ResBlock with a channel count that is not a multiple of 32 (GroupNorm(C, C) after).
    block = openaimodel.ResBlock(32, 128, 0, out_channels=48).eval()
    x = randn(inputs, 1, 32, 4, 6)
    cases["resblock_plain"] = {"seed": 13, "keys": seeded_fill(block, 13), "input": nhwc(x), "embedding": nhwc(emb),
                               "output": nhwc(block(x, emb))}

    # SpatialTransformerV2 (linear projections), 4 heads of 16, context 7 x 24.
    transformer = SpatialTransformerV2(64, 4, 16, depth=1, context_dim=24, use_linear=True).eval()
    x = randn(inputs, 2, 64, 4, 6)
    context = randn(inputs, 2, 7, 24)
    cases["spatial_transformer"] = {"seed": 14, "keys": seeded_fill(transformer, 14), "input": nhwc(x),
                                    "context": nhwc(context), "output": nhwc(transformer(x, context))}

    # The encoder's legacy QKV attention block, 4 heads.
    attention = openaimodel.AttentionBlock(64, num_heads=4).eval()
    x = randn(inputs, 2, 64, 4, 6)
    cases["attention_block"] = {"seed": 15, "keys": seeded_fill(attention, 15), "input": nhwc(x),
                                "output": nhwc(attention(x))}

    # Time-aware encoder and the dual-condition U-Net at reduced width (§9.3 of the spec, smaller).
    encoder_config = {"image_size": 96, "in_channels": 4, "model_channels": 32, "out_channels": 32, "num_res_blocks": 1,
                      "attention_resolutions": [4, 2, 1], "dropout": 0, "channel_mult": [1, 1, 2], "conv_resample": True,
                      "dims": 2, "use_checkpoint": False, "use_fp16": False, "num_heads": 4, "num_head_channels": -1,
                      "use_scale_shift_norm": False, "resblock_updown": False, "use_new_attention_order": False}
    unet_config = {"image_size": 32, "in_channels": 4, "out_channels": 4, "model_channels": 32,
                   "attention_resolutions": [4, 2, 1], "num_res_blocks": 1, "channel_mult": [1, 2, 2],
                   "num_head_channels": 16, "use_spatial_transformer": True, "use_linear_in_transformer": True,
                   "transformer_depth": 1, "context_dim": 32, "use_checkpoint": False, "legacy": False,
                   "semb_channels": 32}
    encoder = openaimodel.EncoderUNetModelWT(**encoder_config).eval()
    unet = openaimodel.UNetModelDualcondV2(**unet_config).eval()
    encoder_keys = seeded_fill(encoder, 21)
    unet_keys = seeded_fill(unet, 22)
    z_lr = randn(inputs, 2, 4, 12, 16)
    x_t = randn(inputs, 2, 4, 12, 16)
    context = randn(inputs, 2, 77, 32)
    timesteps = torch.tensor([999, 17])
    features = encoder(z_lr, timesteps)
    eps = unet(x_t, timesteps, context=context, struct_cond=features)
    cases["encoder"] = {"seed": 21, "config": encoder_config, "keys": encoder_keys,
                        "parameter_count": sum(p.numel() for p in encoder.parameters()),
                        "input": nhwc(z_lr), "timesteps": timesteps.tolist(),
                        "features": {k: nhwc(v) for k, v in features.items()}}
    cases["unet"] = {"seed": 22, "config": unet_config, "keys": unet_keys,
                     "parameter_count": sum(p.numel() for p in unet.parameters()),
                     "input": nhwc(x_t), "timesteps": timesteps.tolist(), "context": nhwc(context), "output": nhwc(eps)}

    # The KL autoencoder with CFW (AutoencoderKLResi's parts: Encoder(return_fea), quant_conv,
    # post_quant_conv, Decoder_Mix) at reduced width, 4 levels, attention at 16 px besides the middle.
    from ldm.modules.diffusionmodules.model import Encoder, Decoder_Mix

    ddconfig = {"double_z": True, "z_channels": 4, "resolution": 64, "in_channels": 3, "out_ch": 3, "ch": 32,
                "ch_mult": [1, 1, 2, 2], "num_res_blocks": 1, "attn_resolutions": [16], "dropout": 0.0}
    autoencoder = torch.nn.Module()
    autoencoder.encoder = Encoder(**ddconfig)
    autoencoder.decoder = Decoder_Mix(**ddconfig)
    autoencoder.quant_conv = torch.nn.Conv2d(2 * ddconfig["z_channels"], 2 * 4, 1)
    autoencoder.post_quant_conv = torch.nn.Conv2d(4, ddconfig["z_channels"], 1)
    autoencoder.eval()
    autoencoder_keys = seeded_fill(autoencoder, 31)
    image = torch.rand(1, 3, 32, 48, generator=inputs) * 2 - 1
    h, enc_fea = autoencoder.encoder(image, return_fea=True)
    moments = autoencoder.quant_conv(h)
    mean, logvar = torch.chunk(moments, 2, dim=1)
    logvar = torch.clamp(logvar, -30.0, 20.0)
    noise = randn(inputs, *mean.shape)
    z = mean + torch.exp(0.5 * logvar) * noise
    decoded = {}
    for w in [0.0, 0.5, 1.0]:
        autoencoder.decoder.fusion_w = w
        decoded[str(w)] = nhwc(autoencoder.decoder(autoencoder.post_quant_conv(z), enc_fea))
    cases["autoencoder"] = {"seed": 31, "config": dict(ddconfig, embed_dim=4), "keys": autoencoder_keys,
                            "parameter_count": sum(p.numel() for p in autoencoder.parameters()),
                            "input": nhwc(image), "moments": nhwc(moments), "features": [nhwc(f) for f in enc_fea],
                            "noise": nhwc(noise), "latent": nhwc(z), "decoded": decoded}

    cases["text_context"] = text_context_case(args.reference)
    cases["sampling"] = sampling_case(args.reference, util)

    os.makedirs(OUT, exist_ok=True)
    write_yaml(os.path.join(OUT, "tiny.yaml"), unet_config, encoder_config, ddconfig)
    with open(os.path.join(OUT, "networks.json"), "w") as f:
        f.write(to_json({"generator": "Tools/golden/make_stablesr_fixtures.py", "torch": torch.__version__,
                         "reference": "IceClear/StableSR 398ee93", "cases": cases}))
    print("wrote", os.path.join(OUT, "networks.json"))


if __name__ == "__main__":
    main()
