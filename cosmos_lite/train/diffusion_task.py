"""Diffusion world-model training: latent streams and the engine task.

Each sample is a clean continuous latent ``[C, 1 + k, h, w]`` of a clip, its
caption and its per-video-frame actions. A step draws the number of condition
latent frames (0 = text-to-world), drops caption and actions for guidance, and
takes the EDM loss on the generated frames (:func:`video2world_loss`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functools import partial

import numpy as np
import torch
from torch import nn
from torch.utils.data import IterableDataset

from cosmos_lite.data.shards import TokenShards
from cosmos_lite.data.streams import EncodedSceneStream, ShardStream, scene_clip
from cosmos_lite.generators.conditioning import TextEncoder, pool_actions
from cosmos_lite.generators.diffusion import (
    PRESETS,
    Conditioning,
    DiT,
    video2world_loss,
)
from cosmos_lite.tokenizer import VideoTokenizer

from .config import DiffusionRunConfig
from .engine import StepOutput

VAL_SIGMAS = (0.1, 0.5, 2.0, 8.0)


def load_continuous_tokenizer(name_or_dir: str) -> VideoTokenizer:
    tok = VideoTokenizer.from_pretrained(name_or_dir)
    if tok.config.mode != "continuous":
        raise ValueError(f"{name_or_dir}: the diffusion model needs a continuous tokenizer, this one is "
                         f"{tok.config.mode!r}")
    return tok.eval()


def initial_generator(world_model: str, kind: str, tokenizer: VideoTokenizer, tokenizer_name: str):
    """The first ``kind`` generator of ``world_model`` ("bundled" or a directory), checked to have been
    trained on ``tokenizer``'s encoder (the latents or ids it learned); ``--init-from`` of both
    world-model trainings."""
    from cosmos_lite.world import WorldModel

    wm = WorldModel.from_pretrained(None if world_model == "bundled" else world_model, guardrail=None)
    names = [s.name for s in wm.config.generators if s.kind == kind]
    if not names:
        raise ValueError(f"--init-from {world_model}: no {kind} generator in it")
    gen, tok = wm.generator(names[0]), wm.tokenizers[names[0]]
    a, b = tokenizer.encoder.state_dict(), tok.encoder.state_dict()
    if tokenizer.config != tok.config or any(not torch.equal(a[k].float(), b[k].float()) for k in a):
        raise ValueError(f"--init-from {world_model}: its {kind} generator was trained on another tokenizer's "
                         f"encoding than {tokenizer_name!r}")
    return gen


def initial_dit(world_model: str, run: DiffusionRunConfig) -> DiT:
    """The diffusion DiT of ``world_model``, checked to fit ``run``: same preset and the tokenizer the
    run trains on."""
    dit = initial_generator(world_model, "diffusion", load_continuous_tokenizer(run.data.tokenizer),
                            run.data.tokenizer).dit
    if dit.config != PRESETS[run.preset]:
        raise ValueError(f"--init-from {world_model}: its DiT is not the {run.preset!r} preset; pass --preset to match")
    return dit


def scene_sample(seed: int, split: str, frames: int, size: tuple[int, int], fps: float) -> dict[str, Any]:
    """Frames (uint8 [T, H, W, 3]), caption and actions (float32 [T, 2]) of one scene."""
    clip = scene_clip(seed, split, frames, size, fps)
    return {"frames": clip.frames, "caption": clip.caption, "actions": np.asarray(clip.actions, np.float32)}


@torch.no_grad()
def encode_frames(tokenizer: VideoTokenizer, frames: np.ndarray) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> normalised latent [C, 1 + k, h, w]."""
    from cosmos_lite.data.codec import frames_to_video

    return tokenizer.encode(frames_to_video(frames))[0].float()


def check_shards_match(root: str | Path, tokenizer: str, frames: int, size: tuple[int, int]) -> None:
    """The latents in ``root`` must come from ``tokenizer`` at this clip length and size, or the DiT
    would learn one latent space and be decoded with another."""
    from cosmos_lite.data.tokenize import tokenizer_dir, weights_sha256

    job = TokenShards(root).job
    if weights_sha256(tokenizer_dir(tokenizer)) != job["tokenizer"]["sha256"]:
        raise ValueError(f"{root} was tokenized with {job['tokenizer']['source']}, not with --tokenizer {tokenizer} "
                         "(weights sha256 differ)")
    opts = job["options"]
    # longer clips are fine: their first `frames` frames are a clip of their own (causal tokenizer)
    if opts["clip_frames"] < frames or tuple(opts["size"]) != tuple(size):
        raise ValueError(f"{root} holds {opts['clip_frames']}-frame clips at {opts['size'][0]}x{opts['size'][1]}; "
                         f"this run expects {frames} frames (at most that) at {size[0]}x{size[1]} (--frames / --size)")


class DiffusionTask:
    """The engine task of ``cosmos-lite train diffusion``."""

    find_unused_parameters = False

    def __init__(self, run: DiffusionRunConfig):
        if run.preset not in PRESETS:
            raise ValueError(f"unknown DiT preset {run.preset!r}; choose one of {', '.join(PRESETS)}")
        src = run.data.source
        if src != "scenes" and not Path(src).is_dir():
            raise FileNotFoundError(f"{src}: no such tokenize output directory (or use 'scenes')")
        self.run = run
        self.tokenizer = load_continuous_tokenizer(run.data.tokenizer)
        tc = self.tokenizer.config
        if (run.data.frames - 1) % tc.temporal_compression:
            raise ValueError(f"frames must be 1 + k*{tc.temporal_compression}, got {run.data.frames}")
        if any(v % tc.spatial_compression for v in run.data.size):
            raise ValueError(f"size {run.data.size} is not a multiple of {tc.spatial_compression}")
        if PRESETS[run.preset].latent_channels != tc.latent_dim:
            raise ValueError(f"DiT preset {run.preset!r} takes {PRESETS[run.preset].latent_channels} latent "
                             f"channels, the tokenizer gives {tc.latent_dim}")
        if src != "scenes":
            check_shards_match(src, run.data.tokenizer, run.data.frames, run.data.size)
        self.text = TextEncoder(run.data.text_encoder)
        if self.text.dim != PRESETS[run.preset].text_dim:
            raise ValueError(f"the text encoder gives {self.text.dim}-wide embeddings, DiT preset {run.preset!r} "
                             f"takes {PRESETS[run.preset].text_dim}")
        self.start = None if run.init_from is None else initial_dit(run.init_from, run)
        self._val: list[dict[str, Any]] | None = None

    def build_modules(self) -> dict[str, nn.Module]:
        model = DiT(PRESETS[self.run.preset])
        if self.start is not None:
            model.load_state_dict(self.start.state_dict(), strict=True)
        return {"model": model}

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        return {"model": base_lr}

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        d, seed = self.run.data, self.run.train.seed
        if d.source == "scenes":
            return EncodedSceneStream(partial(load_continuous_tokenizer, d.tokenizer), encode_frames, "latents", d.frames, d.size, d.fps, seed,
                                      start, batch_size, rank, world_size)
        return ShardStream(d.source, "latents", seed, start, batch_size, rank, world_size, frames=d.frames)

    def conditioning(self, captions: list[str], actions: torch.Tensor, device: torch.device,
                     keep_text: torch.Tensor | None = None, keep_actions: torch.Tensor | None = None) -> Conditioning:
        """Text embeddings and pooled actions of a batch; ``keep_*`` [B] bool drop entries for guidance."""
        if keep_text is not None:
            captions = [c if k else "" for c, k in zip(captions, keep_text.tolist())]
        text, mask = self.text.encode(list(captions))
        pooled = None
        if actions.shape[-1] > 0:  # clips without actions give [B, T, 0]
            pooled = pool_actions(actions.float(), self.tokenizer.config.temporal_compression).to(device)
        elif keep_actions is not None:
            keep_actions = None
        return Conditioning(text.to(device), mask.to(device), pooled,
                            None if keep_actions is None or pooled is None else keep_actions.to(device))

    def training_step(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        lc = self.run.loss
        x0 = batch["latents"].float() * self.run.data.latent_scale
        B, _, T = x0.shape[:3]
        dev = x0.device
        num_cond = torch.randint(1, min(lc.max_cond_latents, T - 1) + 1, (B,))
        num_cond[torch.rand(B) < lc.p_text_to_world] = 0
        keep_text = torch.rand(B) >= lc.text_dropout
        keep_actions = torch.rand(B) >= lc.action_dropout
        cond = self.conditioning(batch["caption"], batch["actions"], dev, keep_text, keep_actions)
        loss, logs = video2world_loss(modules["model"], x0, num_cond.to(dev), cond, p_mean=lc.p_mean,
                                      p_std=lc.p_std, sigma_cond_range=(lc.sigma_cond_min, lc.sigma_cond_max))
        return StepOutput(loss=loss, logs=logs)

    # -- validation: EDM loss at fixed noise levels on fixed val scenes ---------------------------

    def val_samples(self) -> list[dict[str, Any]]:
        if self._val is None:
            d = self.run.data
            self._val = []
            for i in range(d.val_clips):
                s = scene_sample(i, "val", d.frames, d.size, d.fps)
                self._val.append({"latents": encode_frames(self.tokenizer, s["frames"]), "caption": s["caption"],
                                  "actions": torch.from_numpy(s["actions"])})
        return self._val

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        was_training = model.training
        model.eval()
        vals = self.val_samples()
        x0 = torch.stack([v["latents"] for v in vals]).to(device) * self.run.data.latent_scale
        cond = self.conditioning([v["caption"] for v in vals], torch.stack([v["actions"] for v in vals]), device)
        out: dict[str, float] = {}
        for sigma in VAL_SIGMAS:
            g = torch.Generator(device=device).manual_seed(0)
            # p_std -> 0 pins sigma; one clean condition latent frame (first frame given)
            loss, _ = video2world_loss(model, x0, torch.ones(len(vals), dtype=torch.long, device=device), cond,
                                       p_mean=float(np.log(sigma)), p_std=1e-6, sigma_cond_range=(0.01, 0.01),
                                       generator=g)
            out[f"loss@{sigma:g}"] = float(loss)
        out["val_loss"] = float(np.mean(list(out.values())))
        model.train(was_training)
        return out

    def export(self, model: nn.Module, out_dir: Path) -> None:
        export_world_model(model, self.tokenizer, self.run, out_dir)


def world_model_of(model: DiT, tokenizer: VideoTokenizer, run: DiffusionRunConfig, guardrail=None,
                   tokenizer_source: str | None = None):
    """The :class:`WorldModel` a run's DiT makes, with one generator called "diffusion"."""
    from cosmos_lite.generators.diffusion import (
        DiffusionGenerator,
        DiffusionGeneratorConfig,
    )
    from cosmos_lite.world import GeneratorSpec, WorldConfig, WorldModel

    d = run.data
    t = tokenizer.config.temporal_compression
    spec = GeneratorSpec(name="diffusion", kind="diffusion", tokenizer="diffusion/tokenizer", size=tuple(d.size),
                         fps=d.fps, frames=d.frames, action_dim=model.config.action_dim)
    gen = DiffusionGenerator(model, DiffusionGeneratorConfig(latent_scale=d.latent_scale,
                                                             chunk_latents=1 + (d.frames - 1) // t))
    sources = {} if tokenizer_source is None else {"diffusion": tokenizer_source}
    return WorldModel(WorldConfig(generators=(spec,), text_encoder=d.text_encoder), {"diffusion": gen},
                      {"diffusion": tokenizer}, guardrail, tokenizer_sources=sources)


def export_world_model(model: DiT, tokenizer: VideoTokenizer, run: DiffusionRunConfig, out_dir: Path) -> Path:
    """A self-contained world-model directory (``WorldModel.save_pretrained``), its tokenizer copied in."""
    return world_model_of(model, tokenizer, run).save_pretrained(out_dir)
