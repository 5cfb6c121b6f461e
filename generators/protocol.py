"""The generator seam: what every world generator takes and returns.

A world generator works on the tokenizer's side of the pipeline only. It takes a
:class:`GeneratorInput` (text embeddings, optional condition latents or token ids,
optional per-latent-frame actions, the output's latent geometry), its own settings
object and one seeded ``torch.Generator`` per sample, and returns continuous latents
``[B, C, T, h, w]`` or token ids ``[B, T, h, w]`` for the tokenizer to decode.

``cosmos_lite.world.WorldModel`` does everything generators share (input checks,
guardrail before and after, tokenizer encode / decode, timings, the report), so a
new generator is one package with a class that satisfies :class:`WorldGenerator`
plus one training task; nothing in ``WorldModel`` changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Literal, Protocol, runtime_checkable

import torch

LatentKind = Literal["continuous", "discrete"]


@dataclass(frozen=True)
class GeneratorInput:
    """One batch of B requests that share a generator, its settings and the output geometry.

    - ``text [B, L, D]`` / ``text_mask [B, L]``: prompt token embeddings (True = real token);
      ``negative_text`` / ``negative_mask``: the unconditional branch of classifier-free
      guidance (the negative prompt, "" when none).
    - ``context``: the first latent frames, given (Video2World): ``[B, C, k, h, w]`` tokenizer
      latents (continuous) or ``[B, k, h, w]`` token ids (discrete); None = text-to-world.
    - ``actions [B, num_latent_frames, A]``: ego actions pooled per latent frame, or None.
    - ``num_latent_frames``: latent frames to return, context included.
    - ``latent_shape``: ``(C, h, w)`` (continuous) or ``(h, w)`` (discrete) of one latent frame.
    """

    text: torch.Tensor
    text_mask: torch.Tensor
    negative_text: torch.Tensor
    negative_mask: torch.Tensor
    context: torch.Tensor | None
    actions: torch.Tensor | None
    num_latent_frames: int
    latent_shape: tuple[int, ...]

    @property
    def batch_size(self) -> int:
        return int(self.text.shape[0])

    @property
    def context_frames(self) -> int:
        if self.context is None:
            return 0
        return int(self.context.shape[2] if self.context.ndim == 5 else self.context.shape[1])


@runtime_checkable
class WorldGenerator(Protocol):
    """What ``WorldModel`` needs of a generator.

    Class attributes: ``kind`` (the name ``world.json`` uses for the class), ``latents``
    (which tokenizer mode it works on) and ``settings_class`` (a frozen dataclass of its
    sampling knobs, constructible with no arguments; a ``negative_prompt`` field, if it has
    one, is encoded by ``WorldModel`` into ``GeneratorInput.negative_text`` and checked by
    the guardrail). Instances know their text width and action width.
    """

    kind: ClassVar[str]
    latents: ClassVar[LatentKind]
    settings_class: ClassVar[type]

    @property
    def text_dim(self) -> int: ...

    @property
    def action_dim(self) -> int: ...

    def max_context_frames(self, temporal_compression: int) -> int:
        """The most video frames of first-frame context it conditions on (1 + j * t)."""
        ...

    def work(self, batch: GeneratorInput, settings) -> int:
        """Units of work (for a progress bar) that :meth:`sample` reports through ``callback``."""
        ...

    def sample(self, batch: GeneratorInput, settings, generators: list[torch.Generator],
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        """Latents or token ids for the whole clip; ``generators[b]`` seeds sample b alone, so a
        request gives the same clip alone or in a batch."""
        ...

    def save_pretrained(self, directory: str | Path) -> Path: ...

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "WorldGenerator": ...


@runtime_checkable
class SteppableGenerator(WorldGenerator, Protocol):
    """A generator that can also roll out step by step (closed loop: a policy acts, the world
    answers), carrying its own state (diffusion: latent context; autoregressive: KV cache).

    ``start(batch, settings, generators)`` gives the state after ``batch.context``;
    ``extend(state, num_latent_frames, actions, callback)`` rolls it on to ``num_latent_frames``
    latent frames with ``actions`` (pooled per latent frame, covering them all, or None) and
    returns every latent frame so far. ``sample`` must equal ``start`` + one ``extend``, and
    extending ``step_latents`` frames at a time must equal it too.
    """

    @property
    def step_latents(self) -> int: ...

    def start(self, batch: GeneratorInput, settings, generators: list[torch.Generator]): ...

    def extend(self, state, num_latent_frames: int, actions: torch.Tensor | None = None,
               callback: Callable[[int], None] | None = None) -> torch.Tensor: ...


def check_settings(generator: WorldGenerator, settings) -> object:
    """``settings`` (None = defaults) as the generator's settings object, or a clear error."""
    cls = generator.settings_class
    if settings is None:
        return cls()
    if not isinstance(settings, cls):
        raise TypeError(f"the {generator.kind} generator takes {cls.__name__} settings, got {type(settings).__name__}")
    return settings
