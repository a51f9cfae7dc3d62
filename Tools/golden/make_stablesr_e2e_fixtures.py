#!/usr/bin/env python3
"""Writes the StableSR end-to-end fixture (Tests/Fixtures/stablesr/e2e/): a reduced-width StableSR
model built by the reference's own classes and saved in the layout of the released files, and the
output of the reference's tile script on a small LR image for a seed.

    python Tools/golden/make_stablesr_e2e_fixtures.py --reference /path/to/StableSR

The reference is IceClear/StableSR at 398ee93 (nothing of it is committed). Its classes run on a
CPU with stand-ins for the modules they import but never call in inference (shared/reference/
stablesr.md §9.2: Lightning, taming, torchvision's grid and transforms, matplotlib, sklearn,
BasicSR's training utilities, cv2); RRDB and the StyleGAN2 dummies as in make_stablesr_fixtures.py.

Files written:
- `sr.ckpt`: `LatentDiffusionSRTextWT.state_dict()` (U-Net + SPADE, first stage, an OpenCLIP text
  tower, the time-aware encoder, the schedule buffers) under `state_dict`, saved by torch.save as
  Lightning does, with `optimizer_states` (Adam moments for the trainable tensors), `epoch`,
  `global_step` and `lr_schedulers` beside it. The optimizer's storages are then removed from the
  archive: a reader that touches them fails, so the test proves they are skipped.
- `cfw.ckpt`: `AutoencoderKLResi.state_dict()` (encoder, Decoder_Mix with the fusion layers,
  quant convs) plus `loss.*` tensors standing in for the LPIPS/discriminator weights of the
  released file.
- `sr.yaml`, `cfw.yaml`: the two configurations in the reference's layout.
- `lr.png`: a 22×37 LR image (×4 = 88×148 px: both sides need the ×32 reflect padding → 96×160,
  latent 12×20, 2×4 latent tiles of 8 with overlap 4).
- `reference.json`: the settings and the reference output (uint8, NHWC), and the intermediate
  LR latent for diagnosis.

Weights are small so the files stay small: every tensor is a view into one of a few shared
float16 storages (torch.save writes each storage once), per kind of tensor — weights of rank ≥ 2
scaled by 1/sqrt(fan-in) (one storage per fan-in), norm scales around 1, biases around 0 — and the
token embedding (49408 rows) is one row expanded with stride 0. The reference runs on the same
values in float32.

The tile script's steps (scripts/sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py, main) are followed
one by one: seed_everything(seed); bicubic ×max(input_size/min(h, w), upscale) and clamp; reflect
padding to a multiple of 32; first-stage encoding (posterior sample) × scale_factor; the empty
prompt through the text tower; x_T = q_sample_respace(z, 999) with the training schedule; the
register_schedule respacing over space_timesteps(1000, [steps]); sample_canvas with tiles of
input_size/8 latent pixels; the CFW model's encode (features) and decode(z / scale_factor) at
dec_w; the color fix; clamp((x + 1)/2); crop; ×255 and uint8 truncation.
"""
import argparse
import io
import json
import math
import os
import sys
import types
import zipfile

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "stablesr", "e2e")

UNET = {"image_size": 32, "in_channels": 4, "out_channels": 4, "model_channels": 32, "attention_resolutions": [4, 2, 1],
        "num_res_blocks": 1, "channel_mult": [1, 2, 2], "num_head_channels": 16, "use_spatial_transformer": True,
        "use_linear_in_transformer": True, "transformer_depth": 1, "context_dim": 64, "use_checkpoint": False,
        "legacy": False, "semb_channels": 32}
ENCODER = {"image_size": 96, "in_channels": 4, "model_channels": 32, "out_channels": 32, "num_res_blocks": 1,
           "attention_resolutions": [4, 2, 1], "dropout": 0, "channel_mult": [1, 1, 2], "conv_resample": True, "dims": 2,
           "use_checkpoint": False, "use_fp16": False, "num_heads": 4, "num_head_channels": -1, "num_heads_upsample": -1,
           "use_scale_shift_norm": False, "resblock_updown": False, "use_new_attention_order": False}
DDCONFIG = {"double_z": True, "z_channels": 4, "resolution": 64, "in_channels": 3, "out_ch": 3, "ch": 32,
            "ch_mult": [1, 1, 2, 2], "num_res_blocks": 1, "attn_resolutions": [], "dropout": 0.0}
TEXT = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 1, "layers": 3}
SETTINGS = {"seed": 42, "steps": 4, "dec_w": 0.5, "upscale": 4.0, "input_size": 64, "tile_overlap": 4,
            "colorfix_type": "adain", "vqgantile_size": 1280, "vqgantile_stride": 1000}


def install_stand_ins(reference):
    def module(name, **attributes):
        m = types.ModuleType(name)
        m.__dict__.update(attributes)
        sys.modules[name] = m
        return m

    class LightningModule(torch.nn.Module):
        @property
        def device(self):
            return next(self.parameters()).device

    dummy = lambda name: type(name, (), {"__init__": lambda self, *a, **k: None})
    module("pytorch_lightning", LightningModule=LightningModule, seed_everything=lambda seed: torch.manual_seed(seed))
    module("pytorch_lightning.utilities")
    module("pytorch_lightning.utilities.distributed", rank_zero_only=lambda f: f)
    module("taming"); module("taming.modules"); module("taming.modules.vqvae")
    module("taming.modules.vqvae.quantize", VectorQuantizer2=dummy("VectorQuantizer2"))
    module("torchvision"); module("torchvision.utils", make_grid=None)
    module("torchvision.transforms", ToTensor=dummy("ToTensor"), ToPILImage=dummy("ToPILImage"))
    module("torchvision.ops"); module("torchvision.ops.misc", FrozenBatchNorm2d=type("FrozenBatchNorm2d", (torch.nn.Module,), {}))
    module("matplotlib"); module("matplotlib.pyplot")
    module("sklearn"); module("sklearn.decomposition", PCA=dummy("PCA"))
    module("cv2")
    module("basicsr")
    module("basicsr.utils", DiffJPEG=dummy("DiffJPEG"), USMSharp=dummy("USMSharp"))
    module("basicsr.utils.img_process_util", filter2D=None)
    module("basicsr.data")
    module("basicsr.data.transforms", paired_random_crop=None, triplet_random_crop=None)
    module("basicsr.data.degradations", random_add_gaussian_noise_pt=None, random_add_poisson_noise_pt=None,
           random_add_speckle_noise_pt=None, random_add_saltpepper_noise_pt=None, bivariate_Gaussian=None)
    module("basicsr.archs")
    module("basicsr.archs.stylegan2_arch", ConvLayer=dummy("ConvLayer"), EqualConv2d=dummy("EqualConv2d"))
    arch_util = module("basicsr.archs.arch_util", default_init_weights=lambda *a, **k: None, pixel_unshuffle=None,
                       make_layer=lambda block, n, **kw: torch.nn.Sequential(*[block(**kw) for _ in range(n)]))
    with open(os.path.join(reference, "basicsr", "archs", "rrdbnet_arch.py")) as f:
        text = f.read()
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "default_init_weights": arch_util.default_init_weights}
    exec(text[text.index("class ResidualDenseBlock"):text.index("@ARCH_REGISTRY.register()")], namespace)
    module("basicsr.archs.rrdbnet_arch", RRDB=namespace["RRDB"])
    # open_clip 2.0.2 without its package __init__ (image transforms need torchvision).
    import importlib.util
    spec = importlib.util.find_spec("open_clip")
    package = types.ModuleType("open_clip")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["open_clip"] = package


class TextEmbedder(torch.nn.Module):
    """The cond stage: FrozenOpenCLIPEmbedder with layer 'penultimate' on a reduced open_clip 2.0.2
    CLIP (its own encode_with_transformer / text_transformer_forward, executed from the reference's
    ldm/modules/encoders/modules.py); parameters under `model.`, as the released checkpoint has them."""
    reference = None

    def __init__(self, **kwargs):
        super().__init__()
        import open_clip.model as clip_model
        import open_clip.tokenizer as tokenizer
        self.tokenize = tokenizer.tokenize
        clip = clip_model.CLIP(embed_dim=32, vision_cfg=clip_model.CLIPVisionCfg(layers=1, width=64, patch_size=16, image_size=32),
                               text_cfg=clip_model.CLIPTextCfg(**TEXT))
        del clip.visual
        self.model = clip.eval()
        self.layer_idx = 1
        self.device = "cpu"
        with open(os.path.join(TextEmbedder.reference, "ldm", "modules", "encoders", "modules.py")) as f:
            text = f.read()
        start = text.index("class FrozenOpenCLIPEmbedder")
        methods = text[text.index("    def encode_with_transformer", start):text.index("    def encode(self, text)", start)]
        namespace = {"torch": torch, "checkpoint": torch.utils.checkpoint.checkpoint}
        exec("class Methods:\n" + methods, namespace)
        self._methods = namespace["Methods"]

    def forward(self, text):
        tokens = self.tokenize(text)
        return self._methods.encode_with_transformer(self, tokens)

    def text_transformer_forward(self, x, attn_mask=None):
        return self._methods.text_transformer_forward(self, x, attn_mask=attn_mask)


def sr_config():
    return {"model": {
        "base_learning_rate": 5.0e-05, "target": "ldm.models.diffusion.ddpm.LatentDiffusionSRTextWT",
        "params": {"linear_start": 0.00085, "linear_end": 0.0120, "num_timesteps_cond": 1, "log_every_t": 200, "timesteps": 1000,
                   "first_stage_key": "image", "cond_stage_key": "caption", "image_size": 512, "channels": 4,
                   "cond_stage_trainable": False, "conditioning_key": "crossattn", "monitor": "val/loss_simple_ema",
                   "scale_factor": 0.18215, "use_ema": False, "unfrozen_diff": False, "random_size": False, "time_replace": 1000,
                   "use_usm": True, "p2_gamma": None, "p2_k": None,
                   "unet_config": {"target": "ldm.modules.diffusionmodules.openaimodel.UNetModelDualcondV2", "params": UNET},
                   "first_stage_config": {"target": "ldm.models.autoencoder.AutoencoderKL",
                                          "params": {"embed_dim": 4, "monitor": "val/rec_loss", "ddconfig": DDCONFIG,
                                                     "lossconfig": {"target": "torch.nn.Identity"}}},
                   "cond_stage_config": {"target": "make_stablesr_e2e_fixtures.TextEmbedder",
                                         "params": {"freeze": True, "layer": "penultimate"}},
                   "structcond_stage_config": {"target": "ldm.modules.diffusionmodules.openaimodel.EncoderUNetModelWT",
                                               "params": ENCODER}}}}


def cfw_config():
    return {"model": {"base_learning_rate": 5.0e-05, "target": "ldm.models.autoencoder.AutoencoderKLResi",
                      "params": {"monitor": "val/rec_loss", "embed_dim": 4, "fusion_w": 1.0, "freeze_dec": True,
                                 "synthesis_data": False, "lossconfig": {"target": "torch.nn.Identity"}, "ddconfig": DDCONFIG}}}


class SharedWeights:
    """Assigns every tensor of a state dict a view into a few shared float16 storages, so the
    checkpoint stays small; returns the float16 views for saving (the model gets the same values)."""

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(seed)
        self.storages = {}

    def reserve(self, *modules):
        """Sizes each storage for the largest tensor that will view it (one storage per kind)."""
        self.sizes = {}
        for module in modules:
            for key, tensor in module.state_dict().items():
                if tensor.is_floating_point():
                    kind = self.kind(key, list(tensor.shape))
                    needed = tensor.shape[1] if kind[0] == "row" else tensor.numel()
                    self.sizes[kind] = max(self.sizes.get(kind, 0), needed)

    @staticmethod
    def kind(key, shape):
        if key.endswith("token_embedding.weight"):
            return ("row", round(1 / math.sqrt(shape[1]), 6), 0.0)
        if len(shape) >= 2:
            return ("weight", round(1 / math.sqrt(int(np.prod(shape)) // shape[0]), 6), 0.0)
        return ("scale", 0.1, 1.0) if key.endswith(".weight") else ("bias", 0.1, 0.0)

    def storage(self, kind, count):
        if kind not in self.storages or self.storages[kind].numel() < count:
            size = max(count, self.sizes.get(kind, 0), 256)
            self.storages[kind] = (torch.randn(size, generator=self.generator) * kind[1] + kind[2]).half()
        return self.storages[kind]

    def view(self, key, shape):
        numel = int(np.prod(shape)) if len(shape) else 1
        kind = self.kind(key, shape)
        if kind[0] == "row":
            return self.storage(kind, shape[1])[:shape[1]].view(1, shape[1]).expand(*shape)
        base = self.storage(kind, numel)
        offset = int(torch.randint(0, base.numel() - numel + 1, (1,), generator=self.generator))
        return base[offset:offset + numel].view(tuple(shape))

    def assign(self, module, skip=lambda key: False):
        saved = {}
        state = module.state_dict()
        with torch.no_grad():
            for key in sorted(state):
                if skip(key) or not state[key].is_floating_point():
                    continue
                half = self.view(key, list(state[key].shape))
                state[key].copy_(half.float())
                saved[key] = half
        return saved


def save_without(path, obj, dropped_keys):
    """torch.save, then the archive rewritten without the records of `dropped_keys` storages."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            if any(info.filename.endswith("/data/" + k) for k in dropped_keys):
                continue
            target.writestr(info, source.read(info.filename))


def storage_keys(obj):
    """The storage keys torch.save assigns to the tensors of obj (by saving it once)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        return {name.split("/data/")[1] for name in archive.namelist() if "/data/" in name}


def reference_helpers(reference):
    """space_timesteps from the tile script and the two color fixes of scripts/wavelet_color_fix.py,
    executed from the reference's text (the files import cv2, skimage, torchvision)."""
    import torch.nn.functional as F
    with open(os.path.join(reference, "scripts", "sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py")) as f:
        script = f.read()
    namespace = {}
    exec(script[script.index("def space_timesteps"):script.index("def chunk(")], namespace)
    space_timesteps = namespace["space_timesteps"]
    with open(os.path.join(reference, "scripts", "wavelet_color_fix.py")) as f:
        colorfix = f.read()
    namespace = {"torch": torch, "F": F, "Tensor": torch.Tensor}
    exec(colorfix[colorfix.index("def calc_mean_std"):], namespace)
    return space_timesteps, namespace["adaptive_instance_normalization"], namespace["wavelet_reconstruction"]


def tile_script(model, vq_model, lr, s, space_timesteps, adaptive_instance_normalization, wavelet_reconstruction):
    """main() of scripts/sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py for one image below the pixel
    tile size, n_samples 1: returns the uint8 output and the intermediates."""
    import torch.nn.functional as F
    torch.manual_seed(s["seed"])
    model.register_schedule(given_betas=None, beta_schedule="linear", timesteps=1000, linear_start=0.00085, linear_end=0.0120,
                            cosine_s=8e-3)
    model.num_timesteps = 1000
    sqrt_alphas_cumprod = model.sqrt_alphas_cumprod.clone()
    sqrt_one_minus_alphas_cumprod = model.sqrt_one_minus_alphas_cumprod.clone()
    use_timesteps = set(space_timesteps(1000, [s["steps"]]))
    last_alpha_cumprod = 1.0
    new_betas = []
    for i, alpha_cumprod in enumerate(model.alphas_cumprod):
        if i in use_timesteps:
            new_betas.append(1 - alpha_cumprod / last_alpha_cumprod)
            last_alpha_cumprod = alpha_cumprod
    new_betas = [beta.data.cpu().numpy() for beta in new_betas]
    model.register_schedule(given_betas=np.array(new_betas), timesteps=len(new_betas))
    model.num_timesteps = 1000
    model.ori_timesteps = sorted(use_timesteps)
    vq_model.decoder.fusion_w = s["dec_w"]

    im = lr.astype(np.float32) / 255.0
    cur_image = (torch.from_numpy(im[None].transpose(0, 3, 1, 2)) - 0.5) / 0.5
    size_min = min(cur_image.size(-1), cur_image.size(-2))
    upsample_scale = max(s["input_size"] / size_min, s["upscale"])
    cur_image = F.interpolate(cur_image, size=(int(cur_image.size(-2) * upsample_scale), int(cur_image.size(-1) * upsample_scale)),
                              mode="bicubic").clamp(-1, 1)
    ori_h, ori_w = cur_image.shape[2:]
    if not (ori_h % 32 == 0 and ori_w % 32 == 0):
        pad_h = ((ori_h // 32) + 1) * 32 - ori_h
        pad_w = ((ori_w // 32) + 1) * 32 - ori_w
        im_lq = F.pad(cur_image, pad=(0, pad_w, 0, pad_h), mode="reflect")
    else:
        im_lq = cur_image
    assert im_lq.shape[2] <= s["vqgantile_size"] and im_lq.shape[3] <= s["vqgantile_size"]
    init_latent = model.get_first_stage_encoding(model.encode_first_stage(im_lq))
    semantic_c = model.cond_stage_model([""])
    noise = torch.randn_like(init_latent)
    t = torch.tensor([999]).long()
    x_T = model.q_sample_respace(x_start=init_latent, t=t, sqrt_alphas_cumprod=sqrt_alphas_cumprod,
                                 sqrt_one_minus_alphas_cumprod=sqrt_one_minus_alphas_cumprod, noise=noise)
    samples, _ = model.sample_canvas(cond=semantic_c, struct_cond=init_latent, batch_size=1, timesteps=s["steps"],
                                     time_replace=s["steps"], x_T=x_T, return_intermediates=True,
                                     tile_size=int(s["input_size"] / 8), tile_overlap=s["tile_overlap"], batch_size_sample=1)
    _, enc_fea_lq = vq_model.encode(im_lq)
    x_samples = vq_model.decode(samples * 1. / model.scale_factor, enc_fea_lq)
    decoded = x_samples.clone()
    if s["colorfix_type"] == "adain":
        x_samples = adaptive_instance_normalization(x_samples, im_lq)
    elif s["colorfix_type"] == "wavelet":
        x_samples = wavelet_reconstruction(x_samples, im_lq)
    im_sr = torch.clamp((x_samples + 1.0) / 2.0, min=0.0, max=1.0)
    assert upsample_scale == s["upscale"]
    im_sr = im_sr.cpu().numpy().transpose(0, 2, 3, 1) * 255
    im_sr = im_sr[:, :ori_h, :ori_w]
    out = im_sr[0].astype(np.uint8)
    return out, {"init_latent": init_latent, "im_lq": im_lq, "x_T": x_T, "samples": samples, "decoded": decoded}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="checkout of IceClear/StableSR")
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    install_stand_ins(args.reference)
    TextEmbedder.reference = args.reference
    sys.modules["make_stablesr_e2e_fixtures"] = sys.modules[__name__]
    from omegaconf import OmegaConf
    from ldm.util import instantiate_from_config
    import torch.nn.functional as F
    torch.set_grad_enabled(False)

    space_timesteps, adaptive_instance_normalization, wavelet_reconstruction = reference_helpers(args.reference)

    config = OmegaConf.create(sr_config())
    model = instantiate_from_config(config.model).eval()
    model.configs = config
    vq_config = OmegaConf.create(cfw_config())
    vq_model = instantiate_from_config(vq_config.model).eval()

    weights = SharedWeights(2024)
    weights.reserve(model, vq_model)
    buffers = {"betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
               "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
               "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2", "logvar"}
    saved = weights.assign(model, skip=lambda key: key in buffers)
    # The CFW model's encoder, quant convs and decoder are the first stage's (frozen in training).
    cfw_saved = {}
    first_stage = {k[len("first_stage_model."):]: v for k, v in saved.items() if k.startswith("first_stage_model.")}
    vq_state = vq_model.state_dict()
    with torch.no_grad():
        for key in sorted(vq_state):
            if key in first_stage:
                vq_state[key].copy_(first_stage[key].float())
                cfw_saved[key] = first_stage[key]
    cfw_saved.update(weights.assign(vq_model, skip=lambda key: "fusion_layer" not in key))
    for key in sorted(vq_state):
        assert key in cfw_saved, key

    sr_state = {k: v for k, v in model.state_dict().items()}
    sr_state.update(saved)
    trainable = sorted(k for k in saved if k.startswith("structcond_stage_model.") or ".spade." in k)[:3]
    moment_generator = torch.Generator().manual_seed(5)
    moments = {i: {"step": torch.tensor(10.0), "exp_avg": torch.randn(sr_state[k].shape, generator=moment_generator),
                   "exp_avg_sq": torch.rand(sr_state[k].shape, generator=moment_generator)} for i, k in enumerate(trainable)}
    optimizer = [{"state": moments, "param_groups": [{"lr": 5e-5, "params": list(moments)}]}]
    os.makedirs(OUT, exist_ok=True)
    dropped = storage_keys({"state_dict": sr_state, "optimizer_states": optimizer}) - storage_keys({"state_dict": sr_state})
    assert dropped, "the optimizer states must have storages of their own"
    save_without(os.path.join(OUT, "sr.ckpt"), {"epoch": 117, "global_step": 16500, "pytorch-lightning_version": "1.4.2",
                                                 "state_dict": sr_state, "optimizer_states": optimizer, "lr_schedulers": []}, dropped)
    loss = {"loss.logvar": torch.zeros(()), "loss.discriminator.main.0.weight": weights.view("d.weight", [8, 3, 4, 4]),
            "loss.discriminator.main.0.bias": weights.view("d.bias", [8])}
    torch.save({"epoch": 11, "global_step": 1500, "state_dict": dict(cfw_saved, **loss)}, os.path.join(OUT, "cfw.ckpt"))
    with open(os.path.join(OUT, "sr.yaml"), "w") as f:
        f.write("# Written by Tools/golden/make_stablesr_e2e_fixtures.py (the layout of configs/stableSRNew/v2-finetune_text_T_512.yaml)\n")
        f.write(OmegaConf.to_yaml(config))
    with open(os.path.join(OUT, "cfw.yaml"), "w") as f:
        f.write("# Written by Tools/golden/make_stablesr_e2e_fixtures.py (the layout of configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml)\n")
        f.write(OmegaConf.to_yaml(vq_config))

    # The LR image: smooth colour ramps with texture, 22 x 37.
    h, w = 22, 37
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([128 + 90 * np.sin(xx / 5.0 + yy / 9.0), 100 + 80 * np.cos(yy / 4.0), 60 + 3 * xx + 2 * yy], axis=-1)
    rgb = np.clip(rgb + np.random.default_rng(3).normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(os.path.join(OUT, "lr.png"))

    # The tile script, step by step.
    out, run = tile_script(model, vq_model, np.array(Image.open(os.path.join(OUT, "lr.png")).convert("RGB")), SETTINGS,
                           space_timesteps, adaptive_instance_normalization, wavelet_reconstruction)
    s = SETTINGS
    init_latent, im_lq, x_T, samples, decoded = run["init_latent"], run["im_lq"], run["x_T"], run["samples"], run["decoded"]
    Image.fromarray(out).save(os.path.join(OUT, "reference.png"))
    tiles = (math.ceil((init_latent.shape[2] - s["tile_overlap"]) / (s["input_size"] // 8 - s["tile_overlap"])),
             math.ceil((init_latent.shape[3] - s["tile_overlap"]) / (s["input_size"] // 8 - s["tile_overlap"])))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"generator": "Tools/golden/make_stablesr_e2e_fixtures.py", "torch": torch.__version__,
                   "reference": "IceClear/StableSR 398ee93, scripts/sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py",
                   "settings": s, "padded_size": list(im_lq.shape[2:]), "latent_size": list(init_latent.shape[2:]),
                   "latent_tiles": list(tiles), "timesteps": model.ori_timesteps,
                   "sr_keys": len(sr_state), "cfw_keys": len(cfw_saved) + len(loss),
                   "optimizer_storages_removed": sorted(dropped),
                   "lr_latent": {"shape": list(init_latent.permute(0, 2, 3, 1).shape),
                                 "values": init_latent.permute(0, 2, 3, 1).reshape(-1).tolist()},
                   "samples": {"shape": list(samples.permute(0, 2, 3, 1).shape), "values": samples.permute(0, 2, 3, 1).reshape(-1).tolist()},
                   "x_T": {"shape": list(x_T.permute(0, 2, 3, 1).shape), "values": x_T.permute(0, 2, 3, 1).reshape(-1).tolist()},
                   "decoded": {"shape": list(decoded.permute(0, 2, 3, 1).shape), "values": decoded.permute(0, 2, 3, 1).reshape(-1).tolist()},
                   "output": {"shape": list(out.shape), "values": out.reshape(-1).tolist()}}, f)
    print("wrote", OUT, "output", out.shape, "latent", tuple(init_latent.shape), "tiles", tiles)


if __name__ == "__main__":
    main()
