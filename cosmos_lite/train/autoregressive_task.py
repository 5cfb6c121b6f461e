"""Autoregressive world-model training: token-id streams, the run config and the engine task.

Each sample is the FSQ token ids ``[1 + k, h, w]`` of a clip (from a ``cosmos-lite tokenize``
directory of a discrete tokenizer, or scenes encoded on the fly), its caption and its
per-video-frame actions. A step drops caption and actions for guidance and takes
:func:`~cosmos_lite.generators.autoregressive.ar_loss` (MaskGIT or next-token cross-entropy,
per FSQ digit with a factorized head, plus z-loss). Frame 0 is predicted from text alone, so
one loss trains text-to-world and continuation.

The CLI (``cosmos-lite train autoregressive``) builds its run config with
:func:`build_ar_run_config` and runs ``fit(ARTask(run), run.train, out, run.to_dict())``.

CPU recipe (the bundled weights; ~1 CPU hour on an AVX512-BF16/AMX box beside other jobs)::

    cosmos-lite train tokenizer --recipe cpu --preset default-dv --warm-start default-cv \
        --data data/scenes-64-mix/clips --out runs/tok-dv --frames 17 --size 64x96 --batch-size 2 \
        --grad-accum 1 --steps 3000 --warmup-steps 50 --lr 5e-4 --val-every 500 --ckpt-every 100 --workers 1
    # (bundled as tokenizer/weights/default-dv in fp16; the ids below come from that copy)
    cosmos-lite tokenize data/scenes-64-mix/manifest.jsonl --tokenizer default-dv --size 64x96 \
        --clip-frames 33 --stride 32 --fps 10 --out data/ids-64-mix
    cosmos-lite train autoregressive --recipe cpu --data data/ids-64-mix --out runs/ar
    # 33-frame shards train 17-frame clips: their first 5 latent frames are exactly those frames' ids
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from functools import partial

import torch
from torch import nn
from torch.utils.data import IterableDataset

from cosmos_lite.data.streams import EncodedSceneStream, ShardStream
from cosmos_lite.generators.autoregressive import PRESETS, ARTransformer, ar_loss
from cosmos_lite.generators.conditioning import Conditioning, TextEncoder, pool_actions
from cosmos_lite.tokenizer import VideoTokenizer

from .config import TrainConfig, _reject_unknown, _sub, _updated
from .diffusion_task import check_shards_match, initial_generator, scene_sample
from .engine import StepOutput

# --------------------------------------------------------------------------- run config


@dataclass(frozen=True)
class TokenDataConfig:
    """Training token ids: a ``cosmos-lite tokenize`` directory, or scenes encoded on the fly."""

    source: str = "scenes"  # "scenes" or a tokenize output directory of a discrete tokenizer
    tokenizer: str = "default-dv"  # discrete tokenizer: bundled name or save_pretrained directory
    text_encoder: str | None = None  # transformers encoder name or path; None = bundled all-MiniLM-L6-v2
    frames: int = 33  # clip length in video frames, 1 + k * temporal_compression (k >= 1)
    size: tuple[int, int] = (64, 96)  # (H, W) of the video the ids come from
    fps: float = 10.0
    val_clips: int = 8  # scenes val split, encoded once
    # cut each clip from a random latent frame of the longer tokenized clips, not only from their
    # start: after the first window a sliding rollout's window begins mid-clip, at a latent frame
    # that stands for a group of video frames, never the single first frame of a clip
    random_start: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.random_start, bool):
            raise ValueError(f"random_start must be true or false, got {self.random_start!r}")
        if self.random_start and self.source == "scenes":
            raise ValueError("random_start cuts windows out of longer tokenized clips: give a cosmos-lite tokenize "
                             "directory whose clips are longer than frames, not 'scenes'")
        if not isinstance(self.frames, int) or self.frames < 2:
            raise ValueError(f"frames must be an integer >= 2 (a clip of at least two latent frames), "
                             f"got {self.frames!r}")
        if len(self.size) != 2 or any(not isinstance(v, int) or v < 1 for v in self.size):
            raise ValueError(f"size must be (H, W) positive integers, got {self.size!r}")
        if not self.fps > 0 or self.val_clips < 1:
            raise ValueError("fps must be positive and val_clips >= 1")


@dataclass(frozen=True)
class ARLossConfig:
    """z-loss weight, context-token noise and guidance dropout."""

    z_loss: float = 1e-4  # PaLM's weight on log(Z)^2 per softmax
    context_noise: float = 0.05  # fraction of context ids replaced by random ids (against drift)
    text_dropout: float = 0.1  # caption -> "" (classifier-free guidance)
    action_dropout: float = 0.1  # actions dropped (classifier-free guidance)

    def __post_init__(self) -> None:
        if self.z_loss < 0:
            raise ValueError(f"z_loss must be >= 0, got {self.z_loss}")
        for name in ("context_noise", "text_dropout", "action_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class ARRunConfig:
    """Everything one autoregressive world-model training run depends on. The transformer is
    ``PRESETS[preset]`` with ``within_frame`` and ``head`` replaced and the tokenizer's FSQ levels."""

    preset: str = "small"
    within_frame: Literal["bidirectional", "causal"] = "bidirectional"
    head: Literal["factorized", "joint"] = "factorized"
    train: TrainConfig = field(default_factory=TrainConfig)
    data: TokenDataConfig = field(default_factory=TokenDataConfig)
    loss: ARLossConfig = field(default_factory=ARLossConfig)
    # A world model directory ("bundled": the package's default) whose autoregressive generator's
    # transformer starts this run, so training adds up across runs. None = random init.
    init_from: str | None = None

    def __post_init__(self) -> None:
        if self.within_frame not in ("bidirectional", "causal"):
            raise ValueError(f"within_frame must be 'bidirectional' or 'causal', got {self.within_frame!r}")
        if self.head not in ("factorized", "joint"):
            raise ValueError(f"head must be 'factorized' or 'joint', got {self.head!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "autoregressive", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ARRunConfig":
        d = dict(d)
        kind = d.pop("kind", "autoregressive")
        if kind != "autoregressive":
            raise ValueError(f"run config is for a {kind!r} run, not an autoregressive run")
        _reject_unknown(cls, d, "ARRunConfig")
        return cls(preset=d.get("preset", cls.preset), within_frame=d.get("within_frame", cls.within_frame),
                   head=d.get("head", cls.head), train=_sub(TrainConfig, d.get("train", {})),
                   data=_sub(TokenDataConfig, d.get("data", {})), loss=_sub(ARLossConfig, d.get("loss", {})),
                   init_from=d.get("init_from"))

    def with_overrides(self, train: dict[str, Any], data: dict[str, Any], loss: dict[str, Any],
                       preset: str | None = None, within_frame: str | None = None,
                       head: str | None = None, init_from: str | None = None) -> "ARRunConfig":
        """A copy with the given (already typed) fields replaced; ``None`` values are ignored."""
        return replace(self, preset=preset or self.preset, within_frame=within_frame or self.within_frame,
                       head=head or self.head, train=_updated(self.train, train), data=_updated(self.data, data),
                       loss=_updated(self.loss, loss), init_from=init_from or self.init_from)


# CPU: the "small" transformer on 17x64x96 clips of the DV4x8x8 default-dv (5 latent frames of 8 x 12
# ids). Not 33 frames: MaskGIT training feeds the T - 1 clean frames and T query frames at once
# (2T - 1 frames of 97 slots), and at T = 9 a batch-8 step took 5.7 s on one AMX core (attention
# 45% of it); at T = 5 and batch 4, 1.2 s. The bundled weights: this recipe on the DV ids of
# data/scenes-64-mix (steps 4500 -> 2800 changed at step 300 of the run).
_AR_CPU = ARRunConfig(
    preset="small",
    train=TrainConfig(steps=2800, batch_size=4, grad_accum=1, lr=5e-4, warmup_steps=100, min_lr_ratio=0.1,
                      clip_grad=1.0, ema_decay=0.999, mixed_precision="bf16", log_every=20, val_every=500,
                      ckpt_every=100, keep_checkpoints=2, num_workers=0),
    data=TokenDataConfig(source="scenes", tokenizer="default-dv", frames=17, size=(64, 96), fps=10.0, val_clips=8),
)
# GPU: the "base" transformer at 128x192 (16 x 24 ids per latent frame with a DV4x8x8 tokenizer).
_AR_GPU = ARRunConfig(
    preset="base",
    train=TrainConfig(steps=20000, batch_size=32, grad_accum=1, lr=3e-4, warmup_steps=500, min_lr_ratio=0.1,
                      clip_grad=1.0, ema_decay=0.9995, mixed_precision="bf16", log_every=50, val_every=1000,
                      ckpt_every=1000, keep_checkpoints=2, num_workers=12),
    data=TokenDataConfig(source="scenes", tokenizer="default-dv", frames=33, size=(128, 192), fps=10.0,
                         val_clips=16),
)


def ar_recipe(budget: str) -> ARRunConfig:
    """The autoregressive world-model recipe for ``budget`` ("cpu" / "gpu"). Untuned: neither has
    been run to convergence yet."""
    if budget not in ("cpu", "gpu"):
        raise ValueError(f"recipe must be 'cpu' or 'gpu', got {budget!r}")
    return _AR_CPU if budget == "cpu" else _AR_GPU


def build_ar_run_config(args: argparse.Namespace, train: dict[str, Any]) -> ARRunConfig:
    """The run config of ``cosmos-lite train autoregressive``: the recipe (or, with ``--resume``, the
    checkpoint's config) plus the flags. ``train`` holds the shared training flags
    (``cosmos_lite.cli.train._train_overrides(args)``); ``args`` carries what
    ``build_diffusion_run_config`` reads (``out, resume, init_from, recipe, preset, data, tokenizer,
    text_encoder, frames, size, fps, val_clips``) plus ``random_start``, ``within_frame``, ``head``,
    ``z_loss``, ``context_noise``, ``text_dropout`` and ``action_dropout``; None keeps the base value."""
    from .engine import resume_config

    if args.init_from and args.resume:
        raise ValueError("--init-from starts a run; --resume continues one from its checkpoint")
    if args.resume:
        base = ARRunConfig.from_dict(resume_config(args.out))
    else:
        if args.data is None:
            raise ValueError("--data is required (a cosmos-lite tokenize directory of a discrete tokenizer, or "
                             "'scenes')")
        base = ar_recipe(args.recipe)
    data = {"source": args.data, "tokenizer": args.tokenizer, "text_encoder": args.text_encoder,
            "frames": args.frames, "size": args.size, "fps": args.fps, "val_clips": args.val_clips,
            "random_start": args.random_start}
    loss = {"z_loss": args.z_loss, "context_noise": args.context_noise, "text_dropout": args.text_dropout,
            "action_dropout": args.action_dropout}
    return base.with_overrides(train, data, loss, preset=args.preset, within_frame=args.within_frame, head=args.head,
                               init_from=args.init_from)


# --------------------------------------------------------------------------- data


def load_discrete_tokenizer(name_or_dir: str) -> VideoTokenizer:
    tok = VideoTokenizer.from_pretrained(name_or_dir)
    if tok.config.mode != "discrete":
        raise ValueError(f"{name_or_dir}: the autoregressive model needs a discrete (FSQ) tokenizer, this one is "
                         f"{tok.config.mode!r}")
    return tok.eval()


@torch.no_grad()
def encode_ids(tokenizer: VideoTokenizer, frames) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> token ids int64 [1 + k, h, w]."""
    from cosmos_lite.data.codec import frames_to_video

    return tokenizer.encode(frames_to_video(frames))[0].long()


# --------------------------------------------------------------------------- the task


class ARTask:
    """The engine task of ``cosmos-lite train autoregressive``."""

    def __init__(self, run: ARRunConfig):
        if run.preset not in PRESETS:
            raise ValueError(f"unknown autoregressive preset {run.preset!r}; choose one of {', '.join(PRESETS)}")
        src = run.data.source
        if src != "scenes" and not Path(src).is_dir():
            raise FileNotFoundError(f"{src}: no such tokenize output directory (or use 'scenes')")
        self.run = run
        self.tokenizer = load_discrete_tokenizer(run.data.tokenizer)
        tc = self.tokenizer.config
        if (run.data.frames - 1) % tc.temporal_compression:
            raise ValueError(f"frames must be 1 + k*{tc.temporal_compression}, got {run.data.frames}")
        if any(v % tc.spatial_compression for v in run.data.size):
            raise ValueError(f"size {run.data.size} is not a multiple of {tc.spatial_compression}")
        if src != "scenes":
            check_shards_match(src, run.data.tokenizer, run.data.frames, run.data.size)
        # the vocabulary is the tokenizer's: its FSQ levels replace the preset's
        self.model_config = replace(PRESETS[run.preset], fsq_levels=tc.fsq_levels, within_frame=run.within_frame,
                                    head=run.head)
        self.text = TextEncoder(run.data.text_encoder)
        if self.text.dim != self.model_config.text_dim:
            raise ValueError(f"the text encoder gives {self.text.dim}-wide embeddings, preset {run.preset!r} "
                             f"takes {self.model_config.text_dim}")
        self.start = None
        if run.init_from is not None:
            self.start = initial_generator(run.init_from, "autoregressive", self.tokenizer, run.data.tokenizer).model
            if self.start.config != self.model_config:
                raise ValueError(f"--init-from {run.init_from}: its transformer is not the {run.preset!r} preset with "
                                 f"within_frame={run.within_frame!r}, head={run.head!r} and the tokenizer's FSQ levels")
        self._val: list[dict[str, Any]] | None = None

    @property
    def find_unused_parameters(self) -> bool:
        # a causal model never embeds [MASK]: that parameter gets no gradient
        return self.run.within_frame == "causal"

    def build_modules(self) -> dict[str, nn.Module]:
        model = ARTransformer(self.model_config)
        if self.start is not None:
            model.load_state_dict(self.start.state_dict(), strict=True)
        return {"model": model}

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        return {"model": base_lr}

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        d, seed = self.run.data, self.run.train.seed
        if d.source == "scenes":
            return EncodedSceneStream(partial(load_discrete_tokenizer, d.tokenizer), encode_ids, "ids", d.frames, d.size, d.fps, seed,
                                      start, batch_size, rank, world_size)
        return ShardStream(d.source, "ids", seed, start, batch_size, rank, world_size, frames=d.frames,
                           random_start=d.random_start)

    def conditioning(self, captions: list[str], actions: torch.Tensor, device: torch.device,
                     keep_text: torch.Tensor | None = None, keep_actions: torch.Tensor | None = None) -> Conditioning:
        """Text embeddings and per-latent-frame actions of a batch; ``keep_*`` [B] bool drop entries for guidance."""
        if keep_text is not None:
            captions = [c if k else "" for c, k in zip(captions, keep_text.tolist())]
        text, mask = self.text.encode(list(captions))
        pooled = None
        if actions.shape[-1] > 0:  # clips without actions give [B, T, 0]
            pooled = pool_actions(actions.float(), self.tokenizer.config.temporal_compression).to(device)
        return Conditioning(text.to(device), mask.to(device), pooled,
                            None if keep_actions is None or pooled is None else keep_actions.to(device))

    def training_step(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        lc = self.run.loss
        ids = batch["ids"].long()
        B = ids.shape[0]
        keep_text = torch.rand(B) >= lc.text_dropout
        keep_actions = torch.rand(B) >= lc.action_dropout
        cond = self.conditioning(batch["caption"], batch["actions"], ids.device, keep_text, keep_actions)
        loss, logs = ar_loss(modules["model"], ids, cond, z_loss=lc.z_loss, context_noise=lc.context_noise)
        return StepOutput(loss=loss, logs=logs)

    # -- validation: the loss on fixed val scenes with a fixed mask ---------------------------

    def val_samples(self) -> list[dict[str, Any]]:
        if self._val is None:
            d = self.run.data
            self._val = []
            for i in range(d.val_clips):
                s = scene_sample(i, "val", d.frames, d.size, d.fps)
                self._val.append({"ids": encode_ids(self.tokenizer, s["frames"]), "caption": s["caption"],
                                  "actions": torch.from_numpy(s["actions"])})
        return self._val

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        was_training = model.training
        model.eval()
        vals = self.val_samples()
        ids = torch.stack([v["ids"] for v in vals]).to(device)
        cond = self.conditioning([v["caption"] for v in vals], torch.stack([v["actions"] for v in vals]), device)
        g = torch.Generator(device=device).manual_seed(0)
        loss, logs = ar_loss(model, ids, cond, z_loss=self.run.loss.z_loss, context_noise=0.0, generator=g)
        model.train(was_training)
        return {"val_loss": float(loss), "val_ce": logs["ce"], "val_acc": logs["acc"]}

    def export(self, model: nn.Module, out_dir: Path) -> None:
        export_world_model(model, self.tokenizer, self.run, out_dir)


def world_model_of(model: ARTransformer, tokenizer: VideoTokenizer, run: ARRunConfig, guardrail=None,
                   tokenizer_source: str | None = None):
    """The :class:`WorldModel` a run's transformer makes, with one generator called "autoregressive"."""
    from cosmos_lite.generators.autoregressive import ARGeneratorConfig, AutoregressiveGenerator
    from cosmos_lite.world import GeneratorSpec, WorldConfig, WorldModel

    if tuple(model.config.fsq_levels) != tuple(tokenizer.config.fsq_levels):
        raise ValueError(f"the transformer models FSQ levels {model.config.fsq_levels}, the tokenizer has "
                         f"{tokenizer.config.fsq_levels}")
    d = run.data
    latents = 1 + (d.frames - 1) // tokenizer.config.temporal_compression
    spec = GeneratorSpec(name="autoregressive", kind="autoregressive", tokenizer="autoregressive/tokenizer",
                         size=tuple(d.size), fps=d.fps, frames=d.frames, action_dim=model.config.action_dim)
    # trained on clips of `latents` frames: the last one saw latents - 1 frames before it
    gen = AutoregressiveGenerator(model, ARGeneratorConfig(window_latents=latents - 1, context_latents=latents - 1))
    sources = {} if tokenizer_source is None else {"autoregressive": tokenizer_source}
    return WorldModel(WorldConfig(generators=(spec,), text_encoder=d.text_encoder), {"autoregressive": gen},
                      {"autoregressive": tokenizer}, guardrail, tokenizer_sources=sources)


def export_world_model(model: ARTransformer, tokenizer: VideoTokenizer, run: ARRunConfig, out_dir: Path) -> Path:
    """A self-contained world-model directory (``WorldModel.save_pretrained``), its tokenizer copied in."""
    return world_model_of(model, tokenizer, run).save_pretrained(out_dir)


__all__ = ["ARLossConfig", "ARRunConfig", "ARTask", "TokenDataConfig", "ar_recipe", "build_ar_run_config",
           "export_world_model", "world_model_of"]
