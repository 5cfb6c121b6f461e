"""Training losses of the autoregressive world model, as small pure functions.

- :func:`training_mask`: MaskGIT's masking (Chang et al. 2022): per frame a ratio
  ``cos(pi/2 * u)``, ``u ~ U(0, 1)``, of the ids is masked, at least one.
- :func:`corrupt`: context-token noise against drift (the AR analogue of Oasis / DIAMOND noising
  their context): a fraction of the ids that later frames attend to become random ids, while
  the targets stay true, so the model learns to continue from imperfect (its own) frames.
- :func:`token_loss`: cross-entropy per id (summed over FSQ digits with a factorized head) plus
  the z-loss of PaLM (Chowdhery et al. 2022), ``1e-4 * log(Z)^2`` per softmax, which keeps the
  logits' normaliser near 1 (stable in bf16).
- :func:`ar_loss`: the loss of a batch of clips for either kind of model.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..conditioning import Conditioning
from .model import ARTransformer, fsq_basis


def training_mask(shape: tuple[int, int, int], device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """bool ``[B, T, S]``: True = masked; per (sample, frame) ``ceil(cos(pi/2 u) S)`` ids, at least one."""
    B, T, S = shape
    u = torch.rand(B, T, 1, generator=generator, device=device)
    count = (torch.cos(math.pi / 2 * u) * S).ceil().clamp(1, S)  # [B, T, 1]
    # the `count` smallest of S uniform scores are a uniformly random subset of that size
    rank = torch.rand(B, T, S, generator=generator, device=device).argsort(-1).argsort(-1)
    return rank < count


def corrupt(ids: torch.Tensor, fraction: float, vocab_size: int,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """``ids`` with each entry replaced by a uniformly random id with probability ``fraction``."""
    if fraction <= 0:
        return ids
    hit = torch.rand(ids.shape, generator=generator, device=ids.device) < fraction
    noise = torch.randint(0, vocab_size, ids.shape, generator=generator, device=ids.device)
    return torch.where(hit, noise, ids)


def token_loss(logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor, levels: tuple[int, ...],
               factorized: bool, z_loss: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean over ``weight`` (bool, same shape as ``targets``) of cross-entropy + z-loss.

    ``logits [..., V']`` align with ``targets [...]`` (ids). Factorized: V' = sum(levels), one
    softmax per FSQ digit, and the id's log-likelihood is the sum over its digits'."""
    logits = logits.float()[weight]  # [..., V'] -> [M, V']
    tgt = targets[weight]  # [M]
    if factorized:
        basis = torch.tensor(fsq_basis(levels), device=tgt.device)
        digits = (tgt[:, None] // basis) % torch.tensor(levels, device=tgt.device)  # [M, Q]
        groups = logits.split(list(levels), dim=-1)
        ce = sum(F.cross_entropy(g, digits[:, d], reduction="none") for d, g in enumerate(groups))
        lse = torch.stack([g.logsumexp(-1) for g in groups], -1)  # [M, Q]
        correct = torch.stack([g.argmax(-1) == digits[:, d] for d, g in enumerate(groups)], -1).all(-1)
    else:
        ce = F.cross_entropy(logits, tgt, reduction="none")
        lse = logits.logsumexp(-1, keepdim=True)
        correct = logits.argmax(-1) == tgt
    z = (lse**2).sum(-1)
    loss = ce.mean() + z_loss * z.mean()
    return loss, {"ce": float(ce.mean().detach()), "z_loss": float(z.mean().detach()),
                  "acc": float(correct.float().mean())}


def ar_loss(model: ARTransformer, ids: torch.Tensor, cond: Conditioning, *, z_loss: float, context_noise: float,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of clips ``ids [B, T, h, w]`` under ``cond`` (text, per-latent-frame actions).

    Bidirectional model: every frame is a query with a MaskGIT mask, given the clean (noised by
    ``context_noise``) frames before it; the loss is on the masked ids. Causal model: teacher-
    forced next-id prediction of every id, the inputs noised, the targets not. Frame 0 is
    predicted from text (and its action) alone, so one loss trains text-to-world and
    continuation."""
    cfg = model.config
    B, T, h, w = ids.shape
    if cfg.within_frame == "bidirectional":
        masked = training_mask((B, T, h * w), ids.device, generator).reshape(B, T, h, w)
        queries = torch.where(masked, cfg.mask_id, ids)
        clean = corrupt(ids[:, :-1], context_noise, cfg.vocab_size, generator) if T > 1 else None
        logits = model(clean, cond.text, cond.text_mask, cond.actions, cond.action_mask, queries=queries)
        weight = masked
    else:
        noisy = corrupt(ids, context_noise, cfg.vocab_size, generator)
        logits = model(noisy, cond.text, cond.text_mask, cond.actions, cond.action_mask)
        weight = torch.ones_like(ids, dtype=torch.bool)
    return token_loss(logits, ids, weight, cfg.fsq_levels, cfg.head == "factorized", z_loss)
