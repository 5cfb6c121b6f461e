"""Exponential moving average of a model's weights (the weights that get exported)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from .schedule import ema_decay_at


class EMA:
    """Keeps a float32 shadow copy of ``model``: ``ema = d * ema + (1 - d) * param``.

    Buffers (non-trainable state) are copied as they are. ``decay`` is the
    target; the effective decay at step ``n`` is :func:`ema_decay_at`.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).float().eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> float:
        """Blend ``model``'s current weights in after optimizer step ``step`` (1-based); returns the decay used."""
        d = ema_decay_at(step, self.decay)
        src = dict(model.named_parameters())
        for name, p in self.model.named_parameters():
            p.lerp_(src[name].detach().float(), 1.0 - d)
        src_b = dict(model.named_buffers())
        for name, b in self.model.named_buffers():
            b.copy_(src_b[name])
        return d

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state, strict=True)
