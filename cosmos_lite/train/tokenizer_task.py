"""Tokenizer training: losses, the optional 3D patch discriminator, and the engine task.

Loss = l1 * |x - x^| + ssim * (1 - MS-SSIM(x, x^)) + temporal * |dx/dt - dx^/dt|
(+ adv * hinge generator loss + hinge discriminator loss once the adversarial
stage starts). FSQ needs no auxiliary (commitment / entropy) losses: its grid
is fixed and the straight-through round passes gradients to the encoder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.utils.data import IterableDataset

from cosmos_lite.data.streams import (
    SceneStream,
    VideoFolder,
    VideoFolderStream,
    scene_clips,
)
from cosmos_lite.eval.metrics import (
    code_histogram,
    codebook_perplexity,
    codebook_usage,
    ms_ssim,
    psnr,
    ssim,
)
from cosmos_lite.tokenizer import PRESETS, TokenizerConfig, VideoTokenizer

from .config import TokenizerRunConfig
from .engine import StepOutput

# --------------------------------------------------------------------------- losses


def temporal_difference_l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L1 between consecutive-frame differences of [B, C, T, H, W] videos (0 for one frame)."""
    if x.shape[2] < 2:
        return x.new_zeros(())
    return ((x[:, :, 1:] - x[:, :, :-1]) - (y[:, :, 1:] - y[:, :, :-1])).abs().mean()


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean())


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()


def reconstruction_loss(x: torch.Tensor, recon: torch.Tensor, l1_w: float, ssim_w: float,
                        temporal_w: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted reconstruction loss in float32 and its parts (for the log)."""
    x, recon = x.float(), recon.float()
    l1 = (recon - x).abs().mean()
    total = l1_w * l1
    logs = {"l1": float(l1.detach())}
    if ssim_w > 0:
        s = 1.0 - ms_ssim(recon, x).mean()
        total = total + ssim_w * s
        logs["ssim_loss"] = float(s.detach())
    if temporal_w > 0:
        td = temporal_difference_l1(x, recon)
        total = total + temporal_w * td
        logs["temporal"] = float(td.detach())
    return total, logs


class PatchDiscriminator3D(nn.Module):
    """Spatiotemporal PatchGAN: a logit per (t, h, w) patch of a [B, 3, T, H, W] clip."""

    def __init__(self, channels: int = 32):
        super().__init__()
        c = channels

        def block(cin: int, cout: int, stride: tuple[int, int, int]) -> list[nn.Module]:
            return [nn.Conv3d(cin, cout, (3, 4, 4), stride, (1, 1, 1)), nn.GroupNorm(8, cout), nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            nn.Conv3d(3, c, (3, 4, 4), (1, 2, 2), (1, 1, 1)), nn.LeakyReLU(0.2),
            *block(c, 2 * c, (2, 2, 2)),
            *block(2 * c, 4 * c, (1, 2, 2)),
            nn.Conv3d(4 * c, 1, 3, 1, 1),
        )

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.net(video)


# --------------------------------------------------------------------------- task


def check_clip_shape(cfg: TokenizerConfig, frames: int, size: tuple[int, int]) -> None:
    t, s = cfg.temporal_compression, cfg.spatial_compression
    if (frames - 1) % t:
        raise ValueError(f"frames must be 1 + k*{t} for this tokenizer (e.g. {1 + t}, {1 + 4 * t}, {1 + 8 * t}), got {frames}")
    if size[0] % s or size[1] % s:
        raise ValueError(f"size must be a multiple of {s} in H and W for this tokenizer, got {size[0]}x{size[1]}")


def tokenizer_config(preset: str) -> TokenizerConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown tokenizer preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]


class TokenizerTask:
    """Trains a :class:`VideoTokenizer` (continuous or FSQ) under the engine."""

    def __init__(self, run: TokenizerRunConfig):
        self.run = run
        self.base: VideoTokenizer | None = None  # --finetune-decoder: frozen encoder and latent stats
        self.start: VideoTokenizer | None = None  # --init-from: starting weights, all trained
        self.seed_weights: dict[str, torch.Tensor] | None = None  # --warm-start: matching tensors
        if run.finetune_decoder:
            # continuous or FSQ: a frozen encoder gives the same latents / token ids, so the models
            # trained on them keep working with the retrained decoder
            self.base = VideoTokenizer.from_pretrained(run.finetune_decoder)
            self.cfg = self.base.config
        elif run.init_from:
            self.start = VideoTokenizer.from_pretrained(run.init_from)
            self.cfg = self.start.config
        else:
            self.cfg = tokenizer_config(run.preset)
            if run.warm_start:
                self.seed_weights = VideoTokenizer.from_pretrained(run.warm_start).state_dict()
        data = run.data
        check_clip_shape(self.cfg, data.frames, data.size)
        self.adversarial = run.loss.adv_start_step is not None
        self.find_unused_parameters = self.adversarial
        self.folder = None
        if data.source != "scenes":
            self.folder = VideoFolder(data.source, data.frames, data.size, fps=data.fps if data.resample_fps else None,
                                      hflip=data.hflip, crop_scale=data.crop_scale)
        if data.val_source != "scenes" and not Path(data.val_source).is_dir():
            raise FileNotFoundError(f"{data.val_source}: validation folder not found")
        self._val: list[torch.Tensor] | None = None
        self._stats: list[torch.Tensor] | None = None

    # -- engine protocol ------------------------------------------------------------------

    def build_modules(self) -> dict[str, nn.Module]:
        model = VideoTokenizer(self.cfg)
        if self.start is not None:
            model.load_state_dict({k: v.float() for k, v in self.start.state_dict().items()}, strict=True)
        if self.seed_weights is not None:
            fresh = warm_start(model, self.seed_weights)
            print(f"warm start from {self.run.warm_start}: {len(model.state_dict()) - len(fresh)} tensors copied, "
                  f"{len(fresh)} fresh ({', '.join(fresh) or 'none'})", flush=True)
        if self.base is not None:
            model.load_state_dict(self.base.state_dict(), strict=True)
            model.encoder.requires_grad_(False)  # no grads: AdamW skips it, autograd records nothing
        mods: dict[str, nn.Module] = {"model": model}
        if self.adversarial:
            mods["disc"] = PatchDiscriminator3D(self.run.loss.disc_channels)
        return mods

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        return {"model": base_lr, "disc": self.run.loss.disc_lr}

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        d, seed = self.run.data, self.run.train.seed
        if self.folder is None:
            return SceneStream(d.frames, d.size, d.fps, seed, start, batch_size, rank, world_size,
                               split="train", hflip=d.hflip)
        return VideoFolderStream(self.folder, seed, start, batch_size, rank, world_size)

    def training_step(self, modules: dict[str, nn.Module], batch: torch.Tensor, step: int) -> StepOutput:
        lc = self.run.loss
        recon, _ = modules["model"](batch)
        rec, logs = reconstruction_loss(batch, recon, lc.l1, lc.ssim, lc.temporal)
        logs["rec"] = float(rec.detach())
        loss = rec
        if self.adversarial and step >= lc.adv_start_step:
            disc = modules["disc"]
            raw = getattr(disc, "module", disc)  # DDP wrapper -> module
            # Generator term through a detached copy of the discriminator's weights, so the
            # generator loss moves only the tokenizer and one backward serves both players.
            frozen = {k: v.detach() for k, v in list(raw.named_parameters()) + list(raw.named_buffers())}
            g_adv = hinge_g_loss(functional_call(raw, frozen, (recon,)).float())
            d_loss = hinge_d_loss(disc(batch).float(), disc(recon.detach()).float())
            loss = loss + lc.adv * g_adv + d_loss
            logs.update(g_adv=float(g_adv.detach()), d_loss=float(d_loss.detach()))
        return StepOutput(loss=loss, logs=logs)

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        return evaluate_reconstruction(model, self.val_clips(), device)

    def export(self, model: nn.Module, out_dir: Path) -> None:
        # a decoder fine-tune keeps the base's latent statistics: re-measuring them would move the
        # normalised latent space (by rounding, if nothing else) under the models trained on it
        measure = self.cfg.mode == "continuous" and self.base is None
        export_tokenizer(model, out_dir, self.stats_clips() if measure else [])

    # -- data for validation and latent statistics ----------------------------------------

    def val_clips(self) -> list[torch.Tensor]:
        if self._val is None:
            d = self.run.data
            if d.val_source == "scenes":
                self._val = scene_clips("val", d.val_clips, d.frames, d.size, d.fps)
            else:
                folder = VideoFolder(d.val_source, d.frames, d.size, fps=d.fps if d.resample_fps else None)
                self._val = [folder[i] for i in range(min(d.val_clips, len(folder)))]
        return self._val

    def stats_clips(self) -> list[torch.Tensor]:
        """The first ``stats_clips`` training samples (fixed, so exports are reproducible)."""
        if self._stats is None:
            stream = self.train_stream(0, 1, 0, 1)
            self._stats = [stream.sample(i) for i in range(self.run.data.stats_clips)]
        return self._stats


@torch.no_grad()
def evaluate_reconstruction(model: VideoTokenizer, clips: list[torch.Tensor], device: torch.device,
                            batch_size: int = 2) -> dict[str, float]:
    """Mean PSNR / SSIM / L1 over ``clips``; FSQ also codebook usage and perplexity."""
    was_training = model.training
    model.eval()
    ps, ss, l1s = [], [], []
    hist = None
    for i in range(0, len(clips), batch_size):
        x = torch.stack(clips[i:i + batch_size]).to(device)
        recon, z = model(x)
        recon = recon.float().clamp(-1, 1)
        ps.append(psnr(recon, x))
        ss.append(ssim(recon, x))
        l1s.append((recon - x).abs().flatten(1).mean(1))
        if model.config.mode == "discrete":
            counts = code_histogram(model.codes_to_indices(z.float()), model.config.vocab_size)
            hist = counts if hist is None else hist + counts
    model.train(was_training)
    out = {"psnr": float(torch.cat(ps).mean()), "ssim": float(torch.cat(ss).mean()),
           "l1": float(torch.cat(l1s).mean())}
    if hist is not None:
        out.update(codebook_usage=codebook_usage(hist), perplexity=codebook_perplexity(hist),
                   tokens=int(hist.sum()))
    return out


@torch.no_grad()
def warm_start(model: nn.Module, source: dict[str, torch.Tensor]) -> list[str]:
    """Copy every tensor of ``source`` whose name and shape match into ``model``; returns the
    names of the model's tensors that kept their fresh initialisation."""
    own = model.state_dict()
    copied = {k: v.to(own[k].dtype) for k, v in source.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(copied, strict=False)
    return [k for k in own if k not in copied]


def latent_stats(model: VideoTokenizer, clips: list[torch.Tensor]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of the raw (un-normalised) continuous latent over ``clips``."""
    device = next(model.parameters()).device
    zs = []
    for clip in clips:
        z = model.encode(clip.unsqueeze(0).to(device)).float()
        z = z * model.z_std.float() + model.z_mean.float()  # undo whatever stats the model has now
        zs.append(z.transpose(0, 1).reshape(z.shape[1], -1))
    allz = torch.cat(zs, dim=1)
    std = allz.std(dim=1).clamp_min(1e-6)
    return tuple(allz.mean(dim=1).tolist()), tuple(std.tolist())


def export_tokenizer(model: VideoTokenizer, out_dir: Path, stats_clips: list[torch.Tensor]) -> Path:
    """``save_pretrained`` the model; continuous models get latent_mean / latent_std measured on ``stats_clips``."""
    cfg = model.config
    if cfg.mode == "continuous" and stats_clips:
        was_training = model.training
        model.eval()
        mean, std = latent_stats(model, stats_clips)
        model.train(was_training)
        fresh = VideoTokenizer(dataclasses.replace(cfg, latent_mean=mean, latent_std=std))
        fresh.load_state_dict(model.state_dict(), strict=True)
        model = fresh
    return model.save_pretrained(out_dir)
