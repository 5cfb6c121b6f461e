"""The diffusion world generator: the DiT behind the generator protocol.

A generator directory holds the DiT (``config.json`` + ``model.safetensors``) and
``generator.json`` (:class:`DiffusionGeneratorConfig`: how the DiT was trained to see
latents). :class:`DiffusionSettings` are the sampling knobs a caller may change.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, ClassVar

import torch

from cosmos_lite.pretrained import write_json

from ..conditioning import Conditioning
from ..protocol import GeneratorInput
from .model import DiT
from .sampling import SamplerSettings, Solver, rollout

GENERATOR_FILE = "generator.json"


@dataclass(frozen=True)
class DiffusionSettings:
    """Sampling knobs: sampler steps, classifier-free guidance weight, EDM solver, negative prompt."""

    steps: int = 24
    guidance: float = 3.0
    solver: Solver = "dpm"
    negative_prompt: str = ""

    def __post_init__(self) -> None:
        self.sampler()  # validates steps, guidance and solver
        if not isinstance(self.negative_prompt, str):
            raise ValueError(f"negative_prompt must be a str, got {type(self.negative_prompt).__name__}")

    def sampler(self) -> SamplerSettings:
        return SamplerSettings(steps=self.steps, guidance=self.guidance, solver=self.solver)


@dataclass(frozen=True)
class DiffusionGeneratorConfig:
    """How the DiT sees latents (fixed by training, saved as ``generator.json``)."""

    latent_scale: float = 0.5  # the DiT works on tokenizer latent * latent_scale (data std ~ sigma_data)
    chunk_latents: int = 9  # latent frames of a training clip: the rollout chunk
    context_latents: int = 2  # latent frames carried from one rollout chunk into the next

    def __post_init__(self) -> None:
        if not self.latent_scale > 0:
            raise ValueError(f"latent_scale must be > 0, got {self.latent_scale}")
        if not 1 <= self.context_latents < self.chunk_latents:
            raise ValueError(f"need 1 <= context_latents < chunk_latents, got {self.context_latents}, "
                             f"{self.chunk_latents}")

    @classmethod
    def from_dict(cls, d: dict) -> "DiffusionGeneratorConfig":
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown {GENERATOR_FILE} fields: {', '.join(unknown)}")
        return cls(**d)


class DiffusionGenerator:
    """EDM sampling of a :class:`DiT` over continuous latents, with guidance and long rollouts."""

    kind: ClassVar[str] = "diffusion"
    latents: ClassVar[str] = "continuous"
    settings_class: ClassVar[type] = DiffusionSettings

    def __init__(self, dit: DiT, config: DiffusionGeneratorConfig):
        if not isinstance(dit, DiT):
            raise TypeError(f"dit must be a DiT, got {type(dit).__name__}")
        self.dit, self.config = dit.eval(), config

    @property
    def text_dim(self) -> int:
        return self.dit.config.text_dim

    @property
    def action_dim(self) -> int:
        return self.dit.config.action_dim

    @property
    def latent_channels(self) -> int:
        return self.dit.config.latent_channels

    def max_context_frames(self, temporal_compression: int) -> int:
        return 1 + (self.config.context_latents - 1) * temporal_compression

    def _chunks(self, num_latent_frames: int) -> int:
        chunk, ctx = self.config.chunk_latents, self.config.context_latents
        return 1 + max(0, -(-(num_latent_frames - chunk) // (chunk - ctx)))

    def work(self, batch: GeneratorInput, settings: DiffusionSettings) -> int:
        return self._chunks(batch.num_latent_frames) * settings.steps

    @torch.no_grad()
    def sample(self, batch: GeneratorInput, settings: DiffusionSettings, generators: list[torch.Generator],
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        scale = self.config.latent_scale
        B = batch.batch_size
        ctx = None if batch.context is None else batch.context.float() * scale
        cond = Conditioning(batch.text, batch.text_mask, batch.actions, None)
        # the unconditional branch keeps the actions' shape but drops them (action_mask False)
        drop = None if batch.actions is None else torch.zeros(B, dtype=torch.bool)
        uncond = Conditioning(batch.negative_text, batch.negative_mask, batch.actions, drop)
        lat = rollout(self.dit, ctx, batch.num_latent_frames, self.config.chunk_latents, self.config.context_latents,
                      cond, uncond, settings.sampler(), tuple(batch.latent_shape),
                      generators[0] if B == 1 else generators, callback=callback)
        return lat / scale

    # ------------------------------------------------------------------ persistence

    def save_pretrained(self, directory: str | Path, dtype: torch.dtype | None = None) -> Path:
        d = Path(directory)
        self.dit.save_pretrained(d, dtype=dtype)
        write_json(d / GENERATOR_FILE, dataclasses.asdict(self.config))
        return d

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "DiffusionGenerator":
        d = Path(directory)
        path = d / GENERATOR_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{d}: missing {GENERATOR_FILE} (expected a diffusion generator directory)")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls(DiT.from_pretrained(d), DiffusionGeneratorConfig.from_dict(raw))
