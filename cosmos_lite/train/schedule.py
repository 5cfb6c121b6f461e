"""Learning-rate and EMA schedules as pure functions of the optimizer step.

The engine sets ``lr = base_lr * lr_factor(step, ...)`` on every optimizer
step instead of keeping a torch scheduler object: the whole schedule state is
the step counter, so resume is exact and ``accelerate launch`` cannot step it
once per process.
"""

from __future__ import annotations

import math


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Multiplier of the base lr for optimizer step ``step`` (0-based).

    Linear warmup from 1/warmup to 1 over ``warmup_steps``, then a half cosine
    from 1 down to ``min_ratio`` at ``total_steps - 1``; constant after that.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - 1 - warmup_steps, 1)
    progress = min((step - warmup_steps) / span, 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def ema_decay_at(step: int, decay: float) -> float:
    """EMA decay after ``step`` completed optimizer steps (1-based).

    Ramped as ``min(decay, (1 + step) / (10 + step))`` so that the average
    is not dominated by the random initial weights in short runs.
    """
    return min(decay, (1.0 + step) / (10.0 + step))
