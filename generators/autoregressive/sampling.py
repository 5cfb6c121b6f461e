"""Decoding: drawing ids, classifier-free guidance, MaskGIT and raster frames, long rollouts.

Randomness: per generated frame, sample b draws one uniform per (id, FSQ digit) from its own
``torch.Generator`` and every id is drawn by inverse-CDF from its uniform. A token is thus a
pure function of its logits and its uniform, whatever the batch, the number of parallel steps
at which it is revealed, or the decoding order; this is what makes parallel decoding with one
token per step (raster order) equal to raster decoding, and a batch equal to its samples one by
one.

Decoding a frame:

- :func:`maskgit_frame` (bidirectional models; Chang et al. 2022): all ids start as [MASK]; each
  of N steps draws every masked id and keeps the most confident ones, the number still masked
  following the cosine schedule ``S cos(pi/2 (n+1)/N)``, at least one revealed per step.
- :func:`raster_frame` (causal models): one id per pass, through the KV cache.

:func:`rollout` decodes frame after frame over a sliding window of the last ``window`` latent
frames (the KV cache drops older ones; RoPE is relative, so the rest stay valid).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Literal

import torch

from ..conditioning import Conditioning, stack_branches
from .model import ARTransformer, KVCache, fsq_basis

MAX_STEPS = 1000
MAX_GUIDANCE = 20.0
MAX_TEMPERATURE = 10.0
Decode = Literal["parallel", "raster"]


@dataclass(frozen=True)
class DecodeSettings:
    """Knobs of one decoding run. ``temperature`` 0 = greedy; ``top_k`` 0 and ``top_p`` 1 = off
    (with a factorized head they apply per FSQ digit); ``steps`` = parallel steps per frame
    (at most h*w are used); ``guidance`` 1 = no classifier-free guidance."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    steps: int = 8
    guidance: float = 1.5  # ARSettings' default (measured there)

    def __post_init__(self) -> None:
        def number(v) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        if not number(self.temperature) or not 0 <= self.temperature <= MAX_TEMPERATURE:
            raise ValueError(f"temperature must be a number in [0, {MAX_TEMPERATURE:g}] (0 = greedy), "
                             f"got {self.temperature!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k must be an integer >= 0 (0 = off), got {self.top_k!r}")
        if not number(self.top_p) or not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be a number in (0, 1] (1 = off), got {self.top_p!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"decode_steps must be an integer in [1, {MAX_STEPS}], got {self.steps!r}")
        if not number(self.guidance) or not 1 <= self.guidance <= MAX_GUIDANCE:
            raise ValueError(f"guidance must be a number in [1, {MAX_GUIDANCE:g}] (1 = no guidance), "
                             f"got {self.guidance!r}")


# ----------------------------------------------------------------------------- drawing ids


def filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """``logits [..., V]`` with everything outside the top-k and the top-p nucleus (Holtzman et al.
    2020) set to -inf; the most likely entry always stays."""
    V = logits.shape[-1]
    if 0 < top_k < V:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if top_p < 1:
        sorted_l, order = logits.sort(dim=-1, descending=True)
        p = sorted_l.softmax(-1)
        outside = p.cumsum(-1) - p > top_p  # the mass before an entry already covers top_p
        logits = logits.masked_fill(outside.scatter(-1, order, outside), -math.inf)
    return logits


def draw(logits: torch.Tensor, u: torch.Tensor, settings: DecodeSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """One index per row of ``logits [..., V]`` by inverse CDF of ``u [...]`` in [0, 1) -> (index,
    log-probability under the tempered, filtered distribution; under the plain one when greedy)."""
    logits = logits.float()
    if settings.temperature == 0:
        idx = logits.argmax(-1)
        return idx, logits.log_softmax(-1).gather(-1, idx[..., None])[..., 0]
    logp = filter_logits(logits / settings.temperature, settings.top_k, settings.top_p).log_softmax(-1)
    cdf = logp.exp().cumsum(-1)
    # scale u by the total so rounding in the cumsum can never select past the last kept entry
    idx = (cdf < (u * cdf[..., -1])[..., None]).sum(-1).clamp(max=logits.shape[-1] - 1)
    return idx, logp.gather(-1, idx[..., None])[..., 0]


def draw_ids(logits: torch.Tensor, u: torch.Tensor, levels: tuple[int, ...], factorized: bool,
             settings: DecodeSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and their log-probabilities from ``logits [..., V']`` and ``u [..., Q]``: one draw per
    FSQ digit (factorized head; the digits' log-probabilities add up) or one per id (joint)."""
    if not factorized:
        return draw(logits, u[..., 0], settings)
    ids = torch.zeros(logits.shape[:-1], dtype=torch.long, device=logits.device)
    logp = torch.zeros(logits.shape[:-1], device=logits.device)
    for d, (group, base) in enumerate(zip(logits.split(list(levels), dim=-1), fsq_basis(levels))):
        digit, lp = draw(group, u[..., d], settings)
        ids, logp = ids + digit * base, logp + lp
    return ids, logp


def guide(cond: torch.Tensor, uncond: torch.Tensor, weight: float) -> torch.Tensor:
    """Classifier-free guidance on logits (Ho & Salimans 2022): ``l_u + w (l_c - l_u)``. With a
    factorized head it acts on each digit's logits, which softmax shifts do not change."""
    return uncond + weight * (cond - uncond)


# ----------------------------------------------------------------------------- one frame


def masked_counts(num_ids: int, steps: int) -> list[int]:
    """Ids still masked after each of ``min(steps, num_ids)`` steps: MaskGIT's cosine schedule,
    clamped so every step reveals at least one id (``steps == num_ids``: exactly one per step)."""
    steps = min(steps, num_ids)
    counts, prev = [], num_ids
    for n in range(steps):
        c = math.floor(num_ids * math.cos(math.pi / 2 * (n + 1) / steps))
        c = max(min(c, prev - 1), steps - 1 - n)
        counts.append(c)
        prev = c
    return counts


def maskgit_frame(predict: Callable[[int, torch.Tensor], torch.Tensor], u: torch.Tensor, mask_id: int,
                  levels: tuple[int, ...], factorized: bool, settings: DecodeSettings,
                  raster_order: bool = False) -> torch.Tensor:
    """Decode one frame of S ids in ``min(settings.steps, S)`` parallel steps -> ids ``[B, S]``.

    ``predict(step, ids [B, S] with [MASK])`` gives logits ``[B, S, V']``; ``u [B, S, Q]`` are the
    frame's uniforms. Each step reveals the most confident masked ids; ``raster_order`` reveals
    them first-to-last instead (a causal model's logits are only valid after every earlier id)."""
    B, S = u.shape[:2]
    ids = torch.full((B, S), mask_id, dtype=torch.long, device=u.device)
    masked = torch.ones(B, S, dtype=torch.bool, device=u.device)
    left = S
    for n, count in enumerate(masked_counts(S, settings.steps)):
        cand, conf = draw_ids(predict(n, ids), u, levels, factorized, settings)
        score = -torch.arange(S, device=u.device, dtype=torch.float).expand(B, S) if raster_order else conf
        score = score.masked_fill(~masked, -math.inf)
        reveal = torch.zeros_like(masked).scatter(1, score.topk(left - count, dim=1).indices, True)
        ids = torch.where(reveal, cand, ids)
        masked, left = masked & ~reveal, count
    return ids


def raster_frame(first: Callable[[], torch.Tensor], feed: Callable[[torch.Tensor], torch.Tensor], u: torch.Tensor,
                 levels: tuple[int, ...], factorized: bool, settings: DecodeSettings) -> torch.Tensor:
    """Decode one frame id by id -> ``[B, S]``: ``first()`` gives the logits ``[B, V']`` of id 0,
    ``feed(id [B])`` those of the next id."""
    S = u.shape[1]
    out, logits = [], first()
    for i in range(S):
        tok, _ = draw_ids(logits, u[:, i], levels, factorized, settings)
        out.append(tok)
        if i < S - 1:
            logits = feed(tok)
    return torch.stack(out, 1)


# ----------------------------------------------------------------------------- what the model has seen


class _FrameHistory:
    """The frames so far, as the parallel decoder shows them to the model: committed frames go into
    the KV cache with the next query pass (one pass commits frame t and takes the first step of
    frame t + 1); ``use_cache=False`` re-runs the window's frames at every pass instead (the
    benchmark's baseline). Both give the same logits while the rollout fits the window; beyond it
    the cached keys of the kept frames still carry what they saw of the dropped ones
    (Transformer-XL-like), the recomputed ones do not."""

    def __init__(self, model: ARTransformer, cond: Conditioning, window: int, use_cache: bool):
        self.model, self.cond, self.window = model, cond, window
        self.cache: KVCache | None = model.new_cache() if use_cache else None
        self.frames: list[torch.Tensor] = []  # recompute: the window's frames [B, h, w]
        self.pending: list[torch.Tensor] = []  # cached: frames not yet in the cache
        self.pending_start = 0

    def _actions(self, start: int, end: int) -> torch.Tensor | None:
        a = self.cond.actions
        return None if a is None else a[:, start:end]

    def commit(self, frame: torch.Tensor, t: int) -> None:
        if self.cache is None:
            self.frames = (self.frames + [frame])[-self.window:]
        else:
            if not self.pending:
                self.pending_start = t
            self.pending.append(frame)

    def predict(self, query: torch.Tensor, t: int) -> torch.Tensor:
        """Logits ``[B, h, w, V']`` of frame ``t`` given as ``query [B, h, w]`` with [MASK]."""
        c = self.cond
        if self.cache is None:
            ids = torch.stack(self.frames, 1) if self.frames else None
            start = t - len(self.frames)
            cache = None
        else:
            self.cache.keep_from(t - self.window)
            ids = torch.stack(self.pending, 1) if self.pending else None
            start = self.pending_start if self.pending else t
            self.pending, cache = [], self.cache
        logits = self.model(ids, c.text, c.text_mask, self._actions(start, t + 1), c.action_mask,
                            queries=query[:, None], start_frame=start, cache=cache)
        return logits[:, 0]


class _SlotHistory:
    """The slot stream as the raster decoder feeds it: through the KV cache, or (``use_cache=False``)
    re-running the window's slots at every pass (same caveat beyond the window as above)."""

    def __init__(self, model: ARTransformer, cond: Conditioning, window: int, hw: tuple[int, int], use_cache: bool):
        self.model, self.cond, self.window, self.hw = model, cond, window, hw
        self.S1 = hw[0] * hw[1] + 1
        self.cache: KVCache | None = model.new_cache() if use_cache else None
        self.fed = 0  # slots fed so far: the stream position of the next one
        self.unfed: list[torch.Tensor] = []  # known slots [B, n] not yet fed
        self.kept: torch.Tensor | None = None  # recompute: the window's slots, from position self.first
        self.first = 0

    def feed(self, slots: torch.Tensor) -> torch.Tensor:
        """Feed the unfed slots, then ``slots [B, n]``; -> logits ``[B, V']`` of the slot after them."""
        c = self.cond
        new = torch.cat([*self.unfed, slots], 1)
        self.unfed = []
        start, end = self.fed, self.fed + new.shape[1]
        self.fed = end
        last_frame = (end - 1) // self.S1
        if self.cache is not None:
            self.cache.keep_from(last_frame - self.window)
            f0 = start // self.S1
        else:
            new = new if self.kept is None else torch.cat([self.kept, new], 1)
            f0 = max(self.first // self.S1, last_frame - self.window)
            new, start = new[:, f0 * self.S1 - self.first:], f0 * self.S1  # drop the frames before the window
            self.kept, self.first = new, start
        acts = None if c.actions is None else c.actions[:, f0:last_frame + 1]
        return self.model.forward_slots(new, start, self.hw, c.text, c.text_mask, acts, c.action_mask,
                                        self.cache)[:, -1]


# ----------------------------------------------------------------------------- rollouts


def steps_per_frame(model: ARTransformer, settings: DecodeSettings, num_ids: int) -> int:
    """Model passes per generated frame: parallel steps, or one per id for a causal (raster) model."""
    return num_ids if model.config.within_frame == "causal" else min(settings.steps, num_ids)


class Rollout:
    """A decoding run that can be continued: :meth:`extend` generates up to a frame count and
    returns every frame so far; the next call goes on from there with the same KV cache and the
    same per-sample generators, so extending in steps gives the ids of one :func:`rollout` call
    (closed loop: the world model answers a policy step by step). ``copy.copy`` gives an
    independent snapshot (cache tensors cloned; the generators are shared and move on)."""

    def __init__(self, model: ARTransformer, context: torch.Tensor | None, latent_shape: tuple[int, int],
                 cond: Conditioning, uncond: Conditioning | None, settings: DecodeSettings,
                 generators: list[torch.Generator], window: int, *, decode: Decode | None = None,
                 use_cache: bool = True):
        cfg = model.config
        h, w = latent_shape
        S, B = h * w, int(cond.text.shape[0])
        k = 0 if context is None else int(context.shape[1])
        causal = cfg.within_frame == "causal"
        decode = decode or ("raster" if causal else "parallel")
        if decode not in ("parallel", "raster"):
            raise ValueError(f"decode must be 'parallel' or 'raster', got {decode!r}")
        if decode == "raster" and not causal:
            raise ValueError("raster decoding needs a within_frame='causal' model; this one is bidirectional")
        if decode == "parallel" and causal and settings.steps != S:
            raise ValueError(f"a causal model decodes in parallel one id per step: steps must be h*w = {S}, "
                             f"got {settings.steps}")
        if len(generators) != B:
            raise ValueError(f"{len(generators)} generators for a batch of {B}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        if k > window:
            raise ValueError(f"{k} context latent frames exceed the window of {window}")
        if context is not None and tuple(context.shape[2:]) != (h, w):
            raise ValueError(f"context frames are {tuple(context.shape[2:])}, the latent shape is {(h, w)}")
        self.model, self.settings, self.generators, self.decode = model, settings, generators, decode
        self.hw, self.B, self.causal = (h, w), B, causal
        self.cond, self.uncond = cond, uncond
        self.guided = uncond is not None and settings.guidance != 1.0
        self.frames: list[torch.Tensor] = [] if context is None else list(context.long().unbind(1))
        if decode == "parallel":
            self.hist: _FrameHistory | _SlotHistory = _FrameHistory(model, self._both(), window, use_cache)
            for t, f in enumerate(self.frames):
                self.hist.commit(self._twice(f), t)
        else:
            self.hist = _SlotHistory(model, self._both(), window, (h, w), use_cache)
            if context is not None:
                self.hist.unfed.append(model.frame_slots(self._twice(context.long())))

    def _both(self) -> Conditioning:
        return stack_branches(self.cond, self.uncond) if self.guided else self.cond

    def _twice(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x]) if self.guided else x

    def _mixed(self, logits: torch.Tensor) -> torch.Tensor:
        return guide(*logits.chunk(2), self.settings.guidance) if self.guided else logits

    def __copy__(self) -> "Rollout":
        new = object.__new__(Rollout)
        new.__dict__.update(self.__dict__)
        new.frames = list(self.frames)
        hist = object.__new__(type(self.hist))
        hist.__dict__.update(self.hist.__dict__)
        for name in ("frames", "pending", "unfed"):
            if isinstance(getattr(hist, name, None), list):
                setattr(hist, name, list(getattr(hist, name)))
        if self.hist.cache is not None:
            c, old = KVCache(self.hist.cache.depth), self.hist.cache
            c.keys = [None if x is None else x.clone() for x in old.keys]
            c.values = [None if x is None else x.clone() for x in old.values]
            c.frames, c.text = old.frames.clone(), old.text
            hist.cache = c
        new.hist = hist
        return new

    @torch.no_grad()
    def extend(self, num_frames: int, actions: torch.Tensor | None = None,
               callback: Callable[[int], None] | None = None) -> torch.Tensor:
        """Ids ``[B, num_frames, h, w]``: every frame so far, generated up to ``num_frames``.
        ``actions [B, >= num_frames, A]`` (pooled per latent frame) replace the conditioning's."""
        have = len(self.frames)
        if num_frames < max(have, 1) or (num_frames == have and have):
            raise ValueError(f"the rollout already holds {have} latent frames; ask for more than that")
        if actions is not None:
            self.cond = dataclasses.replace(self.cond, actions=actions)
            if self.uncond is not None:
                self.uncond = dataclasses.replace(self.uncond, actions=actions)
            self.hist.cond = self._both()
        for c in (self.cond, self.uncond):
            if c is not None and c.actions is not None and c.actions.shape[1] < num_frames:
                raise ValueError(f"actions cover {c.actions.shape[1]} latent frames, the rollout {num_frames}")
        cfg, (h, w), B = self.model.config, self.hw, self.B
        S = h * w
        calls = [0]

        def tick() -> None:
            if callback is not None:
                callback(calls[0])
            calls[0] += 1

        factorized, Q = cfg.head == "factorized", len(cfg.fsq_levels) if cfg.head == "factorized" else 1
        hist, dev = self.hist, self.cond.text.device
        frame_token = torch.full((B * (2 if self.guided else 1), 1), -1, dtype=torch.long, device=dev)
        for t in range(have, num_frames):
            u = torch.stack([torch.rand(S, Q, generator=g, device=dev) for g in self.generators])  # [B, S, Q]
            if self.decode == "parallel":
                def predict(n: int, ids: torch.Tensor) -> torch.Tensor:
                    tick()
                    logits = hist.predict(self._twice(ids).reshape(-1, h, w), t)
                    return self._mixed(logits.reshape(-1, S, cfg.num_logits))

                ids = maskgit_frame(predict, u, cfg.mask_id, cfg.fsq_levels, factorized, self.settings,
                                    raster_order=self.causal)
                hist.commit(self._twice(ids.reshape(B, h, w)), t)
            else:
                def first() -> torch.Tensor:
                    tick()
                    return self._mixed(hist.feed(frame_token))

                def feed(tok: torch.Tensor) -> torch.Tensor:
                    tick()
                    return self._mixed(hist.feed(self._twice(tok)[:, None]))

                ids = raster_frame(first, feed, u, cfg.fsq_levels, factorized, self.settings)
                hist.unfed.append(self._twice(ids[:, -1:]))  # the last id is fed with the next frame token
            self.frames.append(ids.reshape(B, h, w))
        return torch.stack(self.frames, 1)


@torch.no_grad()
def rollout(model: ARTransformer, context: torch.Tensor | None, num_frames: int, latent_shape: tuple[int, int],
            cond: Conditioning, uncond: Conditioning | None, settings: DecodeSettings,
            generators: list[torch.Generator], window: int, *, decode: Decode | None = None, use_cache: bool = True,
            callback: Callable[[int], None] | None = None) -> torch.Tensor:
    """Token ids ``[B, num_frames, h, w]``: the given ``context [B, k, h, w]`` (returned unchanged)
    followed by generated frames, each seeing the last ``window`` latent frames.

    ``cond.actions`` / ``uncond.actions`` (when given) cover all ``num_frames`` latent frames.
    ``uncond`` (negative prompt, actions dropped) is used when ``settings.guidance != 1``.
    ``generators[b]`` alone seeds sample b. ``decode``: "parallel" (MaskGIT steps) or "raster";
    None picks the model's own (parallel for bidirectional, raster for causal); a causal model
    decodes in parallel only with one id per step (``settings.steps = h * w``), in raster order.
    ``use_cache=False`` recomputes the window at every pass (the benchmark baseline: the same ids while
    the rollout fits the window, see :class:`_FrameHistory`)."""
    run = Rollout(model, context, latent_shape, cond, uncond, settings, generators, window, decode=decode,
                  use_cache=use_cache)
    k = 0 if context is None else int(context.shape[1])
    if num_frames < max(k, 1):
        raise ValueError(f"num_frames {num_frames} is shorter than the {k} context frames")
    for c in (cond, uncond):
        if c is not None and c.actions is not None and c.actions.shape[1] != num_frames:
            raise ValueError(f"actions cover {c.actions.shape[1]} latent frames, the rollout {num_frames}")
    if num_frames == k:
        return context.long()
    return run.extend(num_frames, callback=callback)
