"""Frozen run configurations: one dataclass per concern, one :class:`TokenizerRunConfig` per run.

The run config is saved as JSON next to every checkpoint (and read back on
``--resume``), so a run directory always says exactly how it was trained.
CLI flags override fields with :func:`dataclasses.replace`; no string registries.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

MixedPrecision = Literal["no", "bf16", "fp16"]


@dataclass(frozen=True)
class TrainConfig:
    """What the generic engine needs; identical for every model family."""

    steps: int = 1000  # optimizer steps (each = grad_accum micro-batches)
    batch_size: int = 4  # per process, per micro-batch
    grad_accum: int = 1
    lr: float = 3e-4
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 100
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    clip_grad: float = 1.0  # max global grad norm per module; 0 disables
    ema_decay: float = 0.999
    mixed_precision: MixedPrecision = "bf16"
    seed: int = 0
    log_every: int = 10
    val_every: int = 200  # 0 disables periodic validation (a final one still runs)
    ckpt_every: int = 200  # 0: only the final checkpoint
    keep_checkpoints: int = 2
    num_workers: int = 2  # DataLoader worker processes (0 = decode in the main process)
    progress: bool = True  # tqdm bar on the main process

    def __post_init__(self) -> None:
        positive = ("steps", "batch_size", "grad_accum", "keep_checkpoints")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("warmup_steps", "val_every", "ckpt_every", "num_workers", "seed"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
        if self.log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {self.log_every}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.clip_grad < 0 or self.weight_decay < 0:
            raise ValueError("clip_grad and weight_decay must be >= 0")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision must be 'no', 'bf16' or 'fp16', got {self.mixed_precision!r}")


@dataclass(frozen=True)
class DataConfig:
    """Where clips come from and what shape they have."""

    source: str = "scenes"  # "scenes" (rendered on the fly) or a folder of videos
    frames: int = 17  # must be 1 + k * temporal_compression
    size: tuple[int, int] = (128, 192)  # (H, W), multiples of the spatial compression
    fps: float = 10.0  # scenes render rate; folders are resampled to it when resample_fps
    resample_fps: bool = False  # folders: read on a constant grid at ``fps`` instead of the native rate
    hflip: bool = True  # random horizontal flip (p = 0.5)
    crop_scale: float = 1.0  # folders: resize to size * crop_scale, then random-crop size
    val_source: str = "scenes"  # "scenes" (the scenes val split) or a folder
    val_clips: int = 8
    stats_clips: int = 16  # training clips that measure latent_mean / latent_std (continuous)

    def __post_init__(self) -> None:
        if not isinstance(self.frames, int) or self.frames < 1:
            raise ValueError(f"frames must be a positive integer, got {self.frames!r}")
        if len(self.size) != 2 or any(not isinstance(v, int) or v < 1 for v in self.size):
            raise ValueError(f"size must be (H, W) positive integers, got {self.size!r}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if not self.crop_scale >= 1.0:
            raise ValueError(f"crop_scale must be >= 1, got {self.crop_scale}")
        if self.val_clips < 1 or self.stats_clips < 1:
            raise ValueError("val_clips and stats_clips must be >= 1")


@dataclass(frozen=True)
class TokenizerLossConfig:
    """Loss weights and the optional adversarial stage of tokenizer training."""

    l1: float = 1.0
    ssim: float = 0.2  # weight of (1 - MS-SSIM), or 1 - SSIM on frames too small for MS-SSIM
    temporal: float = 0.5  # L1 between frame differences: penalises flicker and frozen motion
    adv: float = 0.05  # generator hinge weight once the adversarial stage is on
    adv_start_step: int | None = None  # None: no discriminator at all
    disc_lr: float = 2e-4
    disc_channels: int = 32

    def __post_init__(self) -> None:
        for name in ("l1", "ssim", "temporal", "adv", "disc_lr"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.adv_start_step is not None and self.adv_start_step < 0:
            raise ValueError(f"adv_start_step must be >= 0, got {self.adv_start_step}")
        if self.disc_channels < 8:
            raise ValueError(f"disc_channels must be >= 8, got {self.disc_channels}")


@dataclass(frozen=True)
class TokenizerRunConfig:
    """Everything one tokenizer training run depends on."""

    preset: str = "default-cv"
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: TokenizerLossConfig = field(default_factory=TokenizerLossConfig)
    # A trained tokenizer (directory or bundled name; continuous or FSQ) whose decoder alone is
    # trained further: its encoder and latent statistics stay fixed, so latents and token ids do not
    # move and world models trained on them keep working with the sharper decoder. None = train all.
    finetune_decoder: str | None = None
    # A trained tokenizer (directory or bundled name) whose weights start this run; everything
    # trains and latent statistics are re-measured at export. Lets training add up across runs
    # when the run folder is gone (continue from the bundled weights). None = random init.
    init_from: str | None = None
    # A trained tokenizer whose tensors seed the *preset's* architecture wherever name and shape
    # match; the rest (e.g. the latent projections when a discrete tokenizer starts from a
    # continuous one) start fresh. Saves most of a discrete tokenizer's training. None = off.
    warm_start: str | None = None

    def __post_init__(self) -> None:
        if sum(bool(x) for x in (self.finetune_decoder, self.init_from, self.warm_start)) > 1:
            raise ValueError("finetune_decoder, init_from and warm_start each name a starting tokenizer; give one")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "tokenizer", **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TokenizerRunConfig":
        d = dict(d)
        kind = d.pop("kind", "tokenizer")
        if kind != "tokenizer":
            raise ValueError(f"run config is for a {kind!r} run, not a tokenizer run")
        _reject_unknown(cls, d, "TokenizerRunConfig")
        return cls(
            preset=d.get("preset", cls.preset),
            train=_sub(TrainConfig, d.get("train", {})),
            data=_sub(DataConfig, d.get("data", {})),
            loss=_sub(TokenizerLossConfig, d.get("loss", {})),
            finetune_decoder=d.get("finetune_decoder"),
            init_from=d.get("init_from"),
            warm_start=d.get("warm_start"),
        )

    @classmethod
    def from_json(cls, text: str) -> "TokenizerRunConfig":
        return cls.from_dict(json.loads(text))

    def with_overrides(self, train: dict[str, Any], data: dict[str, Any], loss: dict[str, Any],
                       preset: str | None = None, finetune_decoder: str | None = None,
                       init_from: str | None = None, warm_start: str | None = None) -> "TokenizerRunConfig":
        """A copy with the given (already typed) fields replaced; ``None`` values are ignored."""
        return replace(self, preset=preset or self.preset, train=_updated(self.train, train),
                       data=_updated(self.data, data), loss=_updated(self.loss, loss),
                       finetune_decoder=finetune_decoder or self.finetune_decoder,
                       init_from=init_from or self.init_from, warm_start=warm_start or self.warm_start)


def _updated(obj, changes: dict[str, Any]):
    changes = {k: v for k, v in changes.items() if v is not None}
    return replace(obj, **changes) if changes else obj


def _reject_unknown(cls, d: dict, name: str) -> None:
    unknown = sorted(set(d) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown {name} fields: {unknown}")


def _sub(cls, d: dict[str, Any]):
    _reject_unknown(cls, d, cls.__name__)
    # JSON has no tuples; every list-valued field here is a fixed-length tuple.
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def parse_size(text: str) -> tuple[int, int]:
    """``"128x192"`` -> (128, 192)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"size must look like HxW (e.g. 128x192), got {text!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {text!r}")
    return h, w


# --------------------------------------------------------------------------- diffusion world model


@dataclass(frozen=True)
class LatentDataConfig:
    """Training latents: a ``cosmos-lite tokenize`` directory, or scenes encoded on the fly."""

    source: str = "scenes"  # "scenes" or a tokenize output directory (with captions and actions)
    tokenizer: str = "default-cv"  # continuous tokenizer: bundled name or save_pretrained directory
    text_encoder: str | None = None  # transformers encoder name or path; None = bundled all-MiniLM-L6-v2
    frames: int = 33  # clip length in video frames, 1 + k * temporal_compression
    size: tuple[int, int] = (64, 96)  # (H, W) of the video the latents come from
    fps: float = 10.0
    val_clips: int = 8  # scenes val split, encoded once
    # The tokenizer normalises latents to unit std; the DiT sees latent * latent_scale so that the
    # data std matches EDM's sigma_data = 0.5 (saved in world.json for sampling).
    latent_scale: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.frames, int) or self.frames < 1:
            raise ValueError(f"frames must be a positive integer, got {self.frames!r}")
        if len(self.size) != 2 or any(not isinstance(v, int) or v < 1 for v in self.size):
            raise ValueError(f"size must be (H, W) positive integers, got {self.size!r}")
        if not self.fps > 0 or self.val_clips < 1 or not self.latent_scale > 0:
            raise ValueError("fps and latent_scale must be positive and val_clips >= 1")


@dataclass(frozen=True)
class DiffusionLossConfig:
    """EDM noise distribution, Video2World condition sampling and guidance dropout."""

    p_mean: float = -0.8  # ln(sigma) ~ N(p_mean, p_std^2)
    p_std: float = 1.4
    sigma_cond_min: float = 0.002  # condition-frame augmentation noise, log-uniform in [min, max]
    sigma_cond_max: float = 0.3
    max_cond_latents: int = 2  # condition on 1 .. max latent frames (or none, see p_text_to_world)
    p_text_to_world: float = 0.25  # probability of no condition frames
    text_dropout: float = 0.1  # caption -> "" (classifier-free guidance)
    action_dropout: float = 0.1  # actions dropped (classifier-free guidance)

    def __post_init__(self) -> None:
        if self.p_std <= 0:
            raise ValueError(f"p_std must be > 0, got {self.p_std}")
        if not 0 < self.sigma_cond_min <= self.sigma_cond_max:
            raise ValueError("need 0 < sigma_cond_min <= sigma_cond_max")
        if self.max_cond_latents < 1:
            raise ValueError(f"max_cond_latents must be >= 1, got {self.max_cond_latents}")
        for name in ("p_text_to_world", "text_dropout", "action_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class DiffusionRunConfig:
    """Everything one diffusion world-model training run depends on."""

    preset: str = "small"
    train: TrainConfig = field(default_factory=TrainConfig)
    data: LatentDataConfig = field(default_factory=LatentDataConfig)
    loss: DiffusionLossConfig = field(default_factory=DiffusionLossConfig)
    # A world model directory ("bundled": the package's default) whose diffusion generator's DiT
    # starts this run, so training adds up across runs when the run folder is gone. None = random init.
    init_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "diffusion", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DiffusionRunConfig":
        d = dict(d)
        kind = d.pop("kind", "diffusion")
        if kind != "diffusion":
            raise ValueError(f"run config is for a {kind!r} run, not a diffusion run")
        _reject_unknown(cls, d, "DiffusionRunConfig")
        return cls(preset=d.get("preset", cls.preset), train=_sub(TrainConfig, d.get("train", {})),
                   data=_sub(LatentDataConfig, d.get("data", {})), loss=_sub(DiffusionLossConfig, d.get("loss", {})),
                   init_from=d.get("init_from"))

    def with_overrides(self, train: dict[str, Any], data: dict[str, Any], loss: dict[str, Any],
                       preset: str | None = None, init_from: str | None = None) -> "DiffusionRunConfig":
        """A copy with the given (already typed) fields replaced; ``None`` values are ignored."""
        return replace(self, preset=preset or self.preset, train=_updated(self.train, train),
                       data=_updated(self.data, data), loss=_updated(self.loss, loss),
                       init_from=init_from or self.init_from)
