"""The autoregressive world generator: the AR transformer behind the generator protocol.

A generator directory holds the transformer (``config.json`` + ``model.safetensors``) and
``generator.json`` (:class:`ARGeneratorConfig`: how many latent frames it sees, fixed by
training). :class:`ARSettings` are the sampling knobs a caller may change.
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
from .model import ARTransformer
from .sampling import DecodeSettings, Rollout, steps_per_frame

GENERATOR_FILE = "generator.json"


@dataclass(frozen=True)
class ARSettings:
    """Sampling knobs: temperature (0 = greedy), top-k (0 = off), top-p (1 = off), parallel decoding
    steps per latent frame (bidirectional models; causal ones decode id by id), classifier-free
    guidance weight (1 = off: guidance doubles the cost of every step), negative prompt."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    decode_steps: int = 8
    # 1.5, not 1: on the evaluation's prompts it took failures from 1 / 12 to 0, weather shown from
    # 7 / 8 to 8 / 8 and the action signal (true minus shuffled) from 0.17 to 0.39 dB, for ~1.6x the
    # time (the unconditional pass; BENCHMARKS.md)
    guidance: float = 1.5
    negative_prompt: str = ""

    def __post_init__(self) -> None:
        self.decoder()  # validates the sampling knobs
        if not isinstance(self.negative_prompt, str):
            raise ValueError(f"negative_prompt must be a str, got {type(self.negative_prompt).__name__}")

    def decoder(self) -> DecodeSettings:
        return DecodeSettings(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p,
                              steps=self.decode_steps, guidance=self.guidance)


@dataclass(frozen=True)
class ARGeneratorConfig:
    """How many latent frames the transformer sees (fixed by training, saved as ``generator.json``)."""

    window_latents: int = 8  # latent frames a new frame attends to (training clip latents - 1)
    context_latents: int = 2  # at most this many given latent frames condition a rollout

    def __post_init__(self) -> None:
        for name in ("window_latents", "context_latents"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"{name} must be an int, got {v!r}")
        if not 1 <= self.context_latents <= self.window_latents:
            raise ValueError(f"need 1 <= context_latents <= window_latents, got {self.context_latents}, "
                             f"{self.window_latents}")

    @classmethod
    def from_dict(cls, d: dict) -> "ARGeneratorConfig":
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown {GENERATOR_FILE} fields: {', '.join(unknown)}")
        return cls(**d)


class AutoregressiveGenerator:
    """Frame-by-frame decoding of an :class:`ARTransformer` over FSQ token ids, with guidance and a
    sliding window over latent frames."""

    kind: ClassVar[str] = "autoregressive"
    latents: ClassVar[str] = "discrete"
    settings_class: ClassVar[type] = ARSettings

    def __init__(self, model: ARTransformer, config: ARGeneratorConfig):
        if not isinstance(model, ARTransformer):
            raise TypeError(f"model must be an ARTransformer, got {type(model).__name__}")
        if not isinstance(config, ARGeneratorConfig):
            raise TypeError(f"config must be an ARGeneratorConfig, got {type(config).__name__}")
        self.model, self.config = model.eval(), config

    @property
    def text_dim(self) -> int:
        return self.model.config.text_dim

    @property
    def action_dim(self) -> int:
        return self.model.config.action_dim

    @property
    def fsq_levels(self) -> tuple[int, ...]:
        """The FSQ levels of the tokenizer whose ids it models (they must match)."""
        return self.model.config.fsq_levels

    @property
    def step_latents(self) -> int:
        """Frames are decoded one by one: a closed-loop step of any length equals :meth:`sample`."""
        return 1

    def max_context_frames(self, temporal_compression: int) -> int:
        return 1 + (self.config.context_latents - 1) * temporal_compression

    def work(self, batch: GeneratorInput, settings: ARSettings) -> int:
        h, w = batch.latent_shape
        new = batch.num_latent_frames - batch.context_frames
        return max(0, new) * steps_per_frame(self.model, settings.decoder(), h * w)

    def start(self, batch: GeneratorInput, settings: ARSettings, generators: list[torch.Generator]) -> Rollout:
        """The state of a rollout that has produced only ``batch.context`` so far (its KV cache, the
        frames, the per-sample generators)."""
        if len(batch.latent_shape) != 2:
            raise ValueError(f"latent_shape must be (h, w) for token ids, got {batch.latent_shape}")
        B = batch.batch_size
        cond = Conditioning(batch.text, batch.text_mask, batch.actions, None)
        # the unconditional branch keeps the actions' shape but drops them (action_mask False), also
        # those that a closed-loop step brings later
        drop = torch.zeros(B, dtype=torch.bool, device=batch.text.device)
        uncond = Conditioning(batch.negative_text, batch.negative_mask, batch.actions, drop)
        return Rollout(self.model, batch.context, tuple(batch.latent_shape), cond, uncond, settings.decoder(),
                       generators, self.config.window_latents)

    def extend(self, state: Rollout, num_latent_frames: int, actions: torch.Tensor | None = None,
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        """Decode ``state`` on to ``num_latent_frames`` latent frames (``actions``, pooled and
        covering them, replace the state's) and return every frame's ids so far. Any split of the
        frames into steps gives the ids of one :meth:`sample` call."""
        if state.model is not self.model:
            raise ValueError("this rollout state belongs to another generator")
        return state.extend(num_latent_frames, actions, callback)

    def sample(self, batch: GeneratorInput, settings: ARSettings, generators: list[torch.Generator],
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        state = self.start(batch, settings, generators)
        if batch.num_latent_frames == batch.context_frames:
            return batch.context.long()
        return self.extend(state, batch.num_latent_frames, callback=callback)

    # ------------------------------------------------------------------ persistence

    def save_pretrained(self, directory: str | Path, dtype: torch.dtype | None = None) -> Path:
        d = Path(directory)
        self.model.save_pretrained(d, dtype=dtype)
        write_json(d / GENERATOR_FILE, dataclasses.asdict(self.config))
        return d

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "AutoregressiveGenerator":
        d = Path(directory)
        path = d / GENERATOR_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{d}: missing {GENERATOR_FILE} (expected an autoregressive generator directory)")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls(ARTransformer.from_pretrained(d), ARGeneratorConfig.from_dict(raw))
