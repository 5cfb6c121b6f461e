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
from .sampling import SamplerSettings, Solver, rollout_chunk

GENERATOR_FILE = "generator.json"


@dataclass(frozen=True)
class DiffusionSettings:
    """Sampling knobs: sampler steps, classifier-free guidance weight, EDM solver, negative prompt."""

    steps: int = 24
    # 1.5, not 3: on the evaluation's fixed prompt set 3 darkened night clips into black or frozen
    # ones (4 of 12 failures; 2 at 1.5) and lost PSNR / SSIM at every horizon (BENCHMARKS.md)
    guidance: float = 1.5
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


@dataclass
class DiffusionRollout:
    """What a diffusion rollout carries from one step to the next: the latent frames so far (DiT
    scale), where the next chunk starts, its index (its condition noise grows with it), the text,
    the actions and the noise generator(s)."""

    latents: torch.Tensor | None
    start: int
    index: int
    text: tuple[torch.Tensor, torch.Tensor]
    negative: tuple[torch.Tensor, torch.Tensor]
    actions: torch.Tensor | None
    settings: DiffusionSettings
    generator: torch.Generator | list[torch.Generator]
    latent_hw: tuple[int, int]


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

    @property
    def step_latents(self) -> int:
        """Latent frames per closed-loop step that fall where :meth:`sample`'s chunks do."""
        return self.config.chunk_latents - self.config.context_latents

    def _chunks(self, num_latent_frames: int) -> int:
        chunk, ctx = self.config.chunk_latents, self.config.context_latents
        return 1 + max(0, -(-(num_latent_frames - chunk) // (chunk - ctx)))

    def work(self, batch: GeneratorInput, settings: DiffusionSettings) -> int:
        return self._chunks(batch.num_latent_frames) * settings.steps

    def start(self, batch: GeneratorInput, settings: DiffusionSettings,
              generators: list[torch.Generator]) -> "DiffusionRollout":
        """The state of a rollout that has produced only ``batch.context`` so far."""
        B = batch.batch_size
        ctx = None if batch.context is None else batch.context.float() * self.config.latent_scale
        return DiffusionRollout(latents=ctx, start=0, index=0, text=(batch.text, batch.text_mask),
                                negative=(batch.negative_text, batch.negative_mask), actions=batch.actions,
                                settings=settings, generator=generators[0] if B == 1 else generators,
                                latent_hw=tuple(batch.latent_shape[1:]))

    @torch.no_grad()
    def extend(self, state: "DiffusionRollout", num_latent_frames: int, actions: torch.Tensor | None = None,
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        """Roll ``state`` forward to ``num_latent_frames`` latent frames, chunk by chunk, and return
        them all (tokenizer scale). ``actions`` (pooled, covering ``num_latent_frames``) replace the
        state's. Chunk boundaries fall where :meth:`sample` puts them when each call adds
        ``chunk_latents - context_latents`` frames, so stepping equals one call."""
        if actions is not None:
            state.actions = actions
        have = 0 if state.latents is None else state.latents.shape[2]
        if num_latent_frames <= have:
            raise ValueError(f"the rollout already holds {have} latent frames; ask for more than that")
        if state.actions is not None and state.actions.shape[1] < num_latent_frames:
            raise ValueError(f"actions cover {state.actions.shape[1]} latent frames, the rollout needs "
                             f"{num_latent_frames}")
        B = state.text[0].shape[0]
        acts = None if state.actions is None else state.actions[:, :num_latent_frames]
        cond = Conditioning(*state.text, acts, None)
        # the unconditional branch keeps the actions' shape but drops them (action_mask False)
        uncond = Conditioning(*state.negative, acts, None if acts is None else torch.zeros(B, dtype=torch.bool))
        shape = (self.latent_channels, *state.latent_hw)
        while state.latents is None or state.latents.shape[2] < num_latent_frames:
            state.latents = rollout_chunk(self.dit, state.latents, state.start, state.index, num_latent_frames,
                                          self.config.chunk_latents, cond, uncond, state.settings.sampler(), shape,
                                          state.generator, callback)
            state.start, state.index = state.latents.shape[2] - self.config.context_latents, state.index + 1
        return state.latents / self.config.latent_scale

    def sample(self, batch: GeneratorInput, settings: DiffusionSettings, generators: list[torch.Generator],
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        return self.extend(self.start(batch, settings, generators), batch.num_latent_frames, callback=callback)

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
