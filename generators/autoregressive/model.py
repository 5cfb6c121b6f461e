"""An autoregressive transformer over FSQ token ids (Cosmos-Predict1's AR world model, small).

Read top-down: config, helpers (slots, visibility, the KV cache), blocks, the model, presets.

A latent frame t of ``h x w`` token ids becomes ``S + 1`` *slots*: a frame token (a learned
start-of-frame embedding, plus the frame's action with ``action_input="token"``), then the
``S = h * w`` ids in raster order. Across frames attention is causal: a slot of frame t sees
the slots of frames < t. Within a frame (``within_frame``):

- ``"bidirectional"`` (MaskGIT, Chang et al. 2022; Genie): the slots of a frame see each other,
  unknown ids are a learned [MASK] (id ``vocab_size``) and the logits at a slot predict that
  slot, so a frame is decoded in a few parallel steps. Training shows the network every frame
  twice: *clean* (what later frames attend to, as the KV cache holds it at inference) and as a
  *query* with a random subset masked, which sees the clean frames before it and itself only,
  exactly what a decoding step sees.
- ``"causal"`` (raster, next-token): slot i sees slots <= i and predicts slot i + 1 (the frame
  token predicts the first id); :meth:`ARTransformer.forward` returns these logits aligned with
  the ids they predict, so both modes share one output layout and one parallel decoder.

Ids enter as the sum of one embedding per FSQ digit (id = sum(digit_d * prod(levels[:d])))
instead of a ``vocab x D`` table, and leave through one head per FSQ digit (``head="factorized"``:
sum(levels) logits, e.g. 39 for (8, 8, 8, 5, 5, 5)) or one ``vocab``-way head (``"joint"``): a
64 000-way softmax alone outweighs a few-M-parameter model (benchmarks/ar_speed.py).

The network only predicts; losses are in ``loss.py``, decoding in ``sampling.py``.

Shapes: ``B`` batch, ``T`` latent frames, ``h x w`` ids per frame, ``S = h * w``, ``N`` slots,
``C`` cached slots, ``D`` width, ``L`` text tokens, ``A`` action width, ``V'`` logits per slot
(sum(levels) factorized, prod(levels) joint), ``Q`` = len(levels).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields
from functools import partial
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cosmos_lite.pretrained import Pretrained

from ..conditioning import ActionEmbedding
from ..diffusion.model import DiTConfig, apply_rope, rope_frequencies, timestep_embedding

Head = Literal["factorized", "joint"]
WithinFrame = Literal["bidirectional", "causal"]
ActionInput = Literal["token", "add"]
MAX_JOINT_VOCAB = 65_536  # a joint head beyond this is a softmax bigger than any model here

# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ARConfig:
    fsq_levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # the discrete tokenizer's; vocab = prod(levels)
    head: Head = "factorized"  # one softmax per FSQ digit, or one over the whole vocabulary
    within_frame: WithinFrame = "bidirectional"  # MaskGIT parallel decoding, or raster next-token
    dim: int = 256
    depth: int = 6
    num_heads: int = 4
    mlp_ratio: float = 8 / 3  # SwiGLU hidden = dim * ratio, rounded up to 64 (Llama: 3 matrices ~ 4x GELU)
    text_dim: int = 384  # all-MiniLM-L6-v2
    action_dim: int = 2  # ego (acceleration, curvature) per latent frame; 0 = no action input
    # Typical magnitude of each action component (m/s^2, 1/m), as in DiTConfig.
    action_scale: tuple[float, ...] = (3.0, 0.002)
    # "token": the action rides on the frame token (IRIS, Genie prepend it); "add": it is added
    # to every id embedding of its frame.
    action_input: ActionInput = "token"
    rope_theta: float = 10000.0
    # A fixed sin-cos embedding of (row, col) added to every id slot (MAE-style). RoPE alone is
    # relative: in an all-[MASK] frame every slot has the same input and only its offset to the
    # frame token tells it apart. Measured on the one-clip overfit of tests/test_autoregressive.py
    # (batch 8, 150 steps, 2 clips): 17-33% of a text-to-world clip decoded right without it, 100% with it.
    absolute_pos: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "fsq_levels", tuple(self.fsq_levels))
        if not self.fsq_levels or any(not isinstance(v, int) or isinstance(v, bool) or v < 2
                                      for v in self.fsq_levels):
            raise ValueError(f"fsq_levels must be integers >= 2 (the tokenizer's FSQ levels), got {self.fsq_levels!r}")
        if self.head not in ("factorized", "joint"):
            raise ValueError(f"head must be 'factorized' or 'joint', got {self.head!r}")
        if self.head == "joint" and self.vocab_size > MAX_JOINT_VOCAB:
            raise ValueError(f"a joint head over {self.vocab_size} ids (fsq_levels {self.fsq_levels}) exceeds "
                             f"{MAX_JOINT_VOCAB}; use head='factorized'")
        if self.within_frame not in ("bidirectional", "causal"):
            raise ValueError(f"within_frame must be 'bidirectional' or 'causal', got {self.within_frame!r}")
        if self.action_input not in ("token", "add"):
            raise ValueError(f"action_input must be 'token' or 'add', got {self.action_input!r}")
        for name in ("dim", "depth", "num_heads", "text_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.action_dim < 0:
            raise ValueError(f"action_dim must be >= 0, got {self.action_dim}")
        if self.dim % self.num_heads:
            raise ValueError(f"dim {self.dim} is not divisible by num_heads {self.num_heads}")
        if self.absolute_pos and self.dim % 4:
            raise ValueError(f"absolute_pos splits dim into sin-cos halves for row and column: dim must be a "
                             f"multiple of 4, got {self.dim}")
        if self.head_dim % 2 or self.head_dim < 8:
            raise ValueError(f"head_dim (dim / num_heads) must be even and >= 8 for 3D RoPE, got {self.head_dim}")
        object.__setattr__(self, "action_scale", tuple(float(a) for a in self.action_scale))
        if len(self.action_scale) != self.action_dim or any(a <= 0 for a in self.action_scale):
            raise ValueError(f"action_scale needs {self.action_dim} positive values (one per action component), "
                             f"got {self.action_scale}")
        if self.mlp_ratio <= 0 or self.rope_theta <= 0:
            raise ValueError("mlp_ratio and rope_theta must be > 0")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    # The DiT's head-dim split over (t, h, w) (Cosmos): the RoPE helpers read it from the config.
    rope_dims = DiTConfig.rope_dims

    @property
    def vocab_size(self) -> int:
        return math.prod(self.fsq_levels)

    @property
    def mask_id(self) -> int:
        """The [MASK] id: one past the last real id."""
        return self.vocab_size

    @property
    def num_logits(self) -> int:
        """V': logits per slot."""
        return sum(self.fsq_levels) if self.head == "factorized" else self.vocab_size

    @property
    def mlp_hidden(self) -> int:
        return 64 * math.ceil(self.dim * self.mlp_ratio / 64)

    @classmethod
    def from_dict(cls, d: dict) -> "ARConfig":
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown ARConfig fields: {', '.join(unknown)}")
        d = dict(d)
        for k in ("fsq_levels", "action_scale"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


# ----------------------------------------------------------------------------- helpers


def fsq_basis(levels: tuple[int, ...]) -> list[int]:
    """Place value of each FSQ digit: id = sum(digit_d * basis_d) (the tokenizer's index map)."""
    return [math.prod(levels[:d]) for d in range(len(levels))]


def visibility(frame: torch.Tensor, slot: torch.Tensor, query: torch.Tensor, causal: bool) -> torch.Tensor | None:
    """Which new slots see which: ``[N, N]`` bool (True = may attend), or None when all see all.

    A clean slot sees clean slots of earlier frames and of its own frame (all of them, or the
    ones up to itself when ``causal``); a query slot sees clean slots of earlier frames and the
    query slots of its own frame (same rule within the frame); nothing sees a query slot of
    another frame, and no clean slot sees a query. Cached slots are clean and earlier: always seen.
    """
    fq, fk = frame[:, None], frame[None, :]
    within = (slot[None, :] <= slot[:, None]) if causal else torch.ones_like(fq == fk)
    same = (fq == fk) & within
    clean_k = ~query[None, :]
    see_clean = clean_k & ((fk < fq) | (same & ~query[:, None]))
    see_query = ~clean_k & query[:, None] & same
    mask = see_clean | see_query
    return None if bool(mask.all()) else mask


class KVCache:
    """Self-attention keys / values of committed slots per layer, and the text keys / values.

    Slots are appended in stream order into buffers that grow by doubling; ``frames[i]`` is the
    latent frame of cached slot i, so a sliding window drops whole frames from the front
    (:meth:`keep_from`). RoPE scores depend on relative positions only, so the kept keys stay
    valid when older frames go. A cache belongs to one batch and one text (set on first use).
    """

    def __init__(self, depth: int):
        self.depth = depth
        self.keys: list[torch.Tensor | None] = [None] * depth  # [B, heads, capacity, head_dim]
        self.values: list[torch.Tensor | None] = [None] * depth
        self.frames = torch.zeros(0, dtype=torch.long)  # [C]
        self.text: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # per layer [B, heads, L, head_dim]

    def __len__(self) -> int:
        return int(self.frames.numel())

    def attend(self, i: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer i's keys / values ``[B, heads, C + n, head_dim]``: the cached slots, then this call's
        ``k, v [B, heads, n, head_dim]``, written in place after them (no copy of the cache). Only
        the slots that :meth:`commit` then counts stay; the rest (queries) are overwritten later."""
        n, old = k.shape[2], len(self)
        buf = self.keys[i]
        if buf is None or buf.shape[0] != k.shape[0] or buf.shape[2] < old + n:
            cap = max(64, 2 ** math.ceil(math.log2(old + n)))
            new_k, new_v = k.new_empty(k.shape[0], k.shape[1], cap, k.shape[3]), v.new_empty(
                v.shape[0], v.shape[1], cap, v.shape[3])
            if buf is not None and old:
                new_k[:, :, :old], new_v[:, :, :old] = self.keys[i][:, :, :old], self.values[i][:, :, :old]
            self.keys[i], self.values[i] = new_k, new_v
        self.keys[i][:, :, old:old + n] = k
        self.values[i][:, :, old:old + n] = v
        return self.keys[i][:, :, :old + n], self.values[i][:, :, :old + n]

    def commit(self, frames: torch.Tensor) -> None:
        """Keep the first ``len(frames)`` slots of the last call (``frames``: their latent frames)."""
        self.frames = torch.cat([self.frames, frames.to(self.frames.device)])

    def keep_from(self, frame: int) -> None:
        """Drop every cached slot of frames < ``frame`` (the sliding window)."""
        keep = int((self.frames >= frame).sum())
        drop = len(self) - keep
        if drop <= 0:
            return
        for i in range(self.depth):
            if self.keys[i] is not None:
                # clone: the source and destination ranges of the shift overlap
                self.keys[i][:, :, :keep] = self.keys[i][:, :, drop:drop + keep].clone()
                self.values[i][:, :, :keep] = self.values[i][:, :, drop:drop + keep].clone()
        self.frames = self.frames[drop:]


# ----------------------------------------------------------------------------- blocks


class SelfAttention(nn.Module):
    """Multi-head self-attention with QK RMSNorm, 3D RoPE and an optional KV cache.

    (The DiT's ``Attention`` has neither a cache nor a slot mask, hence this one.)"""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.norm_q = nn.RMSNorm(dim // num_heads, eps=1e-6)
        self.norm_k = nn.RMSNorm(dim // num_heads, eps=1e-6)
        self.out = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, rope: torch.Tensor, mask: torch.Tensor | None,
                cache: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None
                ) -> torch.Tensor:
        """``cache(k, v)`` (e.g. :meth:`KVCache.attend`) puts the cached keys / values before this call's."""
        q, k, v = self.qkv(x).unflatten(-1, (3, self.num_heads, -1)).unbind(2)  # [B, N, D] -> 3 x [B, N, heads, hd]
        q = apply_rope(self.norm_q(q).transpose(1, 2), rope)  # [B, heads, N, hd]
        k = apply_rope(self.norm_k(k).transpose(1, 2), rope)
        v = v.transpose(1, 2)
        if cache is not None:
            k, v = cache(k, v)  # [B, heads, C + N, hd]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(out.transpose(1, 2).flatten(2))


class CrossAttention(nn.Module):
    """Attention from the slots to the text tokens (QK RMSNorm, key mask); the text keys and
    values are computed once per rollout (:meth:`text_kv`) and kept in the KV cache."""

    def __init__(self, dim: int, num_heads: int, text_dim: int):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(text_dim, 2 * dim, bias=False)
        self.norm_q = nn.RMSNorm(dim // num_heads, eps=1e-6)
        self.norm_k = nn.RMSNorm(dim // num_heads, eps=1e-6)
        self.out = nn.Linear(dim, dim, bias=False)

    def text_kv(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(text).unflatten(-1, (2, self.num_heads, -1)).unbind(2)  # [B, L, 2D] -> 2 x [B, L, heads, hd]
        return self.norm_k(k).transpose(1, 2), v.transpose(1, 2)  # [B, heads, L, hd]

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], key_mask: torch.Tensor | None):
        q = self.norm_q(self.q(x).unflatten(-1, (self.num_heads, -1))).transpose(1, 2)  # [B, heads, N, hd]
        mask = None if key_mask is None else key_mask[:, None, None, :]  # [B, 1, 1, L]
        out = F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask=mask)
        return self.out(out.transpose(1, 2).flatten(2))


class SwiGLU(nn.Module):
    """``W2 (silu(W1 x) * W3 x)`` (Shazeer 2020, Llama), W1 and W3 in one matmul."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w13 = nn.Linear(dim, 2 * hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.w13(x).chunk(2, dim=-1)
        return self.w2(F.silu(a) * b)


class Block(nn.Module):
    """Pre-norm self-attention -> cross-attention to text -> SwiGLU MLP (Llama + a text branch)."""

    def __init__(self, cfg: ARConfig):
        super().__init__()
        d = cfg.dim
        self.norm1, self.attn = nn.RMSNorm(d, eps=1e-6), SelfAttention(d, cfg.num_heads)
        self.norm2, self.cross = nn.RMSNorm(d, eps=1e-6), CrossAttention(d, cfg.num_heads, cfg.text_dim)
        self.norm3, self.mlp = nn.RMSNorm(d, eps=1e-6), SwiGLU(d, cfg.mlp_hidden)

    def forward(self, x, rope, mask, cache, text_kv, text_mask):
        x = x + self.attn(self.norm1(x), rope, mask, cache)
        x = x + self.cross(self.norm2(x), text_kv, text_mask)
        return x + self.mlp(self.norm3(x))


# ----------------------------------------------------------------------------- model


class ARTransformer(Pretrained, nn.Module):
    """Decoder over FSQ token ids of a latent video, conditioned on text and per-frame actions.

    ``forward(ids, text, text_mask, actions, action_mask, queries=None, start_frame=0, cache=None)``:

    - ``ids [B, Tc, h, w]``: known (clean) frames, absolute latent frames ``start_frame ..``;
      with a ``cache`` they are appended to it (the cache must hold the frames before them),
    - ``queries [B, Tq, h, w]``: frames to predict, [MASK] (``config.mask_id``) where unknown;
      they are the ``Tq <= Tc + 1`` frames that end one frame after the clean ones, and each sees
      the clean frames before it only (training passes ``Tc = T - 1`` clean frames and ``Tq = T``
      queries; a decoding step passes the frame just finished as ``ids`` and the next as query),
    - ``text [B, L, text_dim]`` / ``text_mask [B, L]`` (True = real token),
    - ``actions [B, n, A]`` per latent frame for the frames of this call (``n = Tc``, plus one
      with queries), already pooled (``generators.conditioning.pool_actions``); ``action_mask
      [B]`` drops them per sample (classifier-free guidance),

    returns logits ``[B, T, h, w, V']`` of the queries (or, without queries, of the clean frames in
    a causal model; None for a bidirectional one), each aligned with the id it predicts.
    """

    config_class = ARConfig

    def __init__(self, config: ARConfig):
        if not isinstance(config, ARConfig):
            raise TypeError(f"ARTransformer takes an ARConfig, got {type(config).__name__}")
        super().__init__()
        self.config = config
        d, levels = config.dim, config.fsq_levels
        self.digit_embed = nn.Embedding(sum(levels), d)  # one table per FSQ digit, stacked
        self.mask_embed = nn.Parameter(torch.zeros(d))
        self.frame_embed = nn.Parameter(torch.zeros(d))
        self.action_embed = ActionEmbedding(config.action_dim, d) if config.action_dim else None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm = nn.RMSNorm(d, eps=1e-6)
        self.head = nn.Linear(d, config.num_logits, bias=False)
        self.register_buffer("basis", torch.tensor(fsq_basis(levels)), persistent=False)
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        # where each digit's table starts in digit_embed: 0, L_0, L_0 + L_1, ...
        self.register_buffer("digit_offset", torch.tensor(list(itertools.accumulate((0, *levels[:-1])))),
                             persistent=False)
        self._rope_table: dict[tuple, torch.Tensor] = {}
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
        for blk in self.blocks:  # GPT-2: residual outputs scaled by 1/sqrt(2 * depth) keep the stream's scale
            for lin in (blk.attn.out, blk.cross.out, blk.mlp.w2):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * self.config.depth))
        nn.init.normal_(self.digit_embed.weight, std=0.02)
        nn.init.normal_(self.mask_embed, std=0.02)
        nn.init.normal_(self.frame_embed, std=0.02)
        if self.action_embed is not None:
            self.action_embed.reset_parameters()  # zero last layer: untrained actions change nothing

    def new_cache(self) -> KVCache:
        return KVCache(self.config.depth)

    # -- inputs ---------------------------------------------------------------------------

    def _check_text(self, text: torch.Tensor, text_mask: torch.Tensor | None) -> int:
        if text.ndim != 3 or text.shape[-1] != self.config.text_dim:
            raise ValueError(f"text must be [B, L, {self.config.text_dim}] token embeddings, got {tuple(text.shape)}")
        if text_mask is not None and text_mask.shape != text.shape[:2]:
            raise ValueError(f"text_mask must be [B, L] = {list(text.shape[:2])}, got {tuple(text_mask.shape)}")
        return int(text.shape[0])

    def _check_ids(self, ids: torch.Tensor, name: str, B: int, allow_mask: bool) -> None:
        if not isinstance(ids, torch.Tensor) or ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer tensor of token ids, got "
                            f"{getattr(ids, 'dtype', type(ids).__name__)}")
        if ids.ndim != 4 or ids.shape[0] != B:
            raise ValueError(f"{name} must be [B, T, h, w] with B = {B}, got {tuple(ids.shape)}")
        top = self.config.mask_id if allow_mask else self.config.vocab_size - 1
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) > top):
            raise ValueError(f"{name} must lie in [0, {top}] (vocab {self.config.vocab_size} of fsq_levels "
                             f"{self.config.fsq_levels}{', [MASK] = ' + str(top) if allow_mask else ''}), got "
                             f"[{int(ids.min())}, {int(ids.max())}]: a tokenizer with other FSQ levels?")

    def _check_actions(self, actions: torch.Tensor | None, B: int, n: int) -> None:
        if actions is None:
            return
        A = self.config.action_dim
        if A == 0:
            raise ValueError("this model takes no actions (action_dim 0)")
        if actions.ndim != 3 or actions.shape != (B, n, A):
            raise ValueError(f"actions must be [B, n, A] = [{B}, {n}, {A}] per latent frame of this call, "
                             f"got {tuple(actions.shape)}")

    # -- the slot stream ------------------------------------------------------------------

    def frame_slots(self, ids: torch.Tensor) -> torch.Tensor:
        """``[B, T, h, w]`` ids -> ``[B, T * (S + 1)]`` slots, a frame token (id -1) before each frame."""
        B, T = ids.shape[:2]
        flat = ids.reshape(B, T, -1)  # [B, T, h, w] -> [B, T, S]
        return torch.cat([flat.new_full((B, T, 1), -1), flat], 2).reshape(B, -1)  # [B, T, S+1] -> [B, N]

    def _embed(self, slots: torch.Tensor, frame_rel: torch.Tensor, slot: torch.Tensor, hw: tuple[int, int],
               actions: torch.Tensor | None, action_mask: torch.Tensor | None) -> torch.Tensor:
        cfg = self.config
        is_frame, is_mask = slots < 0, slots == cfg.mask_id
        real = torch.where(is_frame | is_mask, 0, slots)
        digits = (real[..., None] // self.basis) % self.levels  # [B, N] -> [B, N, Q]
        x = self.digit_embed(digits + self.digit_offset).sum(-2)  # [B, N, Q, D] -> [B, N, D]
        x = torch.where(is_mask[..., None], self.mask_embed.to(x.dtype), x)
        if cfg.absolute_pos:
            row, col = (slot - 1).clamp(min=0) // hw[1], (slot - 1).clamp(min=0) % hw[1]
            # timestep_embedding multiplies by 1000 (for EDM's c_noise); integer positions need no spread
            pos = torch.cat([timestep_embedding(row / 1000, cfg.dim // 2),
                             timestep_embedding(col / 1000, cfg.dim - cfg.dim // 2)], -1)  # [N, D]
            x = x + pos.to(x.dtype)
        x = torch.where(is_frame[..., None], self.frame_embed.to(x.dtype), x)
        if actions is not None and self.action_embed is not None:
            a = self.action_embed(actions / actions.new_tensor(cfg.action_scale))  # [B, n, D]
            if action_mask is not None:
                a = a * action_mask.to(a.dtype)[:, None, None]
            where = is_frame if cfg.action_input == "token" else ~is_frame
            x = x + a[:, frame_rel] * where[..., None].to(a.dtype)  # [B, n, D] -> [B, N, D]
        return x

    def _rope(self, frame: torch.Tensor, slot: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
        """Rotations ``[N, head_dim / 2]``: a grid slot at (frame, row, col); a frame token at (frame, 0, 0).

        From one table over frames ``[0, capacity)`` per geometry, grown by doubling, so a long
        rollout computes it O(log T) times."""
        h, w = hw
        need = int(frame.max()) + 1
        key = (h, w, frame.device)
        table = self._rope_table.get(key)
        if table is None or table.shape[0] < need * h * w:
            cap = 2 ** math.ceil(math.log2(max(need, 16)))
            table = rope_frequencies(self.config, cap, h, w, frame.device)  # [cap * S, hd/2]
            self._rope_table[key] = table
        return table[frame * (h * w) + (slot - 1).clamp(min=0)]

    def _run(self, slots: torch.Tensor, frame: torch.Tensor, slot: torch.Tensor, query: torch.Tensor,
             n_write: int, hw: tuple[int, int], text: torch.Tensor, text_mask: torch.Tensor | None,
             actions: torch.Tensor | None, action_mask: torch.Tensor | None, action_start: int,
             cache: KVCache | None) -> torch.Tensor:
        """Hidden states ``[B, N, D]`` of the slots; the first ``n_write`` stay in ``cache``."""
        x = self._embed(slots, frame - action_start, slot, hw, actions, action_mask)
        rope = self._rope(frame, slot, hw)
        mask = visibility(frame, slot, query, self.config.within_frame == "causal")
        C = 0 if cache is None else len(cache)
        if mask is not None and C:
            mask = torch.cat([mask.new_ones(mask.shape[0], C), mask], 1)  # [N, C + N]: cached slots are seen
        if cache is not None and cache.text is not None:
            if cache.text[0][0].shape[0] != x.shape[0]:
                raise ValueError(f"the KV cache holds a batch of {cache.text[0][0].shape[0]}, this call {x.shape[0]}")
            text_kv = cache.text
        else:
            text_kv = [blk.cross.text_kv(text) for blk in self.blocks]
            if cache is not None:
                cache.text = text_kv
        for i, blk in enumerate(self.blocks):
            x = blk(x, rope, mask, None if cache is None else partial(cache.attend, i), text_kv[i], text_mask)
        if cache is not None:
            cache.commit(frame[:n_write])
        return self.norm(x)

    # -- entry points ---------------------------------------------------------------------

    def forward(self, ids: torch.Tensor | None, text: torch.Tensor, text_mask: torch.Tensor | None = None,
                actions: torch.Tensor | None = None, action_mask: torch.Tensor | None = None, *,
                queries: torch.Tensor | None = None, start_frame: int = 0,
                cache: KVCache | None = None) -> torch.Tensor | None:
        B = self._check_text(text, text_mask)
        if ids is None and queries is None:
            raise ValueError("forward needs ids, queries or both")
        if ids is not None:
            self._check_ids(ids, "ids", B, allow_mask=False)
        Tc = 0 if ids is None else int(ids.shape[1])
        if queries is not None:
            self._check_ids(queries, "queries", B, allow_mask=True)
            if ids is not None and ids.shape[2:] != queries.shape[2:]:
                raise ValueError(f"ids and queries differ in frame size: {tuple(ids.shape[2:])} vs "
                                 f"{tuple(queries.shape[2:])}")
            if queries.shape[1] > Tc + 1:
                raise ValueError(f"{queries.shape[1]} query frames need the {queries.shape[1] - 1} clean frames "
                                 f"before them; got {Tc}")
        if not isinstance(start_frame, int) or start_frame < 0:
            raise ValueError(f"start_frame must be an int >= 0, got {start_frame!r}")
        if cache is not None and len(cache) and ids is not None and int(cache.frames[-1]) >= start_frame:
            raise ValueError(f"the KV cache already holds frame {int(cache.frames[-1])}; these ids start at "
                             f"{start_frame}")
        hw = tuple((ids if ids is not None else queries).shape[2:])
        S = hw[0] * hw[1]
        self._check_actions(actions, B, Tc + (queries is not None))
        dev = text.device

        parts, frames, qflags = [], [], []
        if ids is not None:
            parts.append(self.frame_slots(ids))
            frames.append(torch.arange(start_frame, start_frame + Tc, device=dev).repeat_interleave(S + 1))
            qflags.append(torch.zeros(Tc * (S + 1), dtype=torch.bool, device=dev))
        Tq = 0
        if queries is not None:
            Tq = int(queries.shape[1])
            q0 = start_frame + Tc - Tq + 1
            parts.append(self.frame_slots(queries))
            frames.append(torch.arange(q0, q0 + Tq, device=dev).repeat_interleave(S + 1))
            qflags.append(torch.ones(Tq * (S + 1), dtype=torch.bool, device=dev))
        slots = torch.cat(parts, 1).to(dev)
        frame, query = torch.cat(frames), torch.cat(qflags)
        slot = torch.arange(S + 1, device=dev).repeat(Tc + Tq)
        n_clean = Tc * (S + 1)
        hidden = self._run(slots, frame, slot, query, n_clean if cache is not None else 0, hw, text, text_mask,
                           actions, action_mask, start_frame, cache)
        if queries is None and self.config.within_frame == "bidirectional":
            return None
        out = hidden[:, n_clean:] if queries is not None else hidden
        T = Tq if queries is not None else Tc
        out = out.reshape(B, T, S + 1, -1)  # [B, N, D] -> [B, T, S+1, D]
        # bidirectional: slot i predicts itself; causal: slot i predicts slot i + 1
        out = out[:, :, 1:] if self.config.within_frame == "bidirectional" else out[:, :, :-1]
        return self.head(out).reshape(B, T, *hw, -1)  # [B, T, S, V'] -> [B, T, h, w, V']

    def forward_slots(self, slots: torch.Tensor, start: int, latent_shape: tuple[int, int], text: torch.Tensor,
                      text_mask: torch.Tensor | None = None, actions: torch.Tensor | None = None,
                      action_mask: torch.Tensor | None = None, cache: KVCache | None = None) -> torch.Tensor:
        """Raster decoding (causal models): ``slots [B, n]`` (ids, -1 for a frame token) at stream
        positions ``start ..`` (position = frame * (S + 1) + slot), appended to ``cache``; returns
        the next-slot logits ``[B, n, V']``. ``actions [B, m, A]`` cover the frames the slots span."""
        if self.config.within_frame != "causal":
            raise ValueError("forward_slots is raster decoding: it needs a within_frame='causal' model")
        B = self._check_text(text, text_mask)
        h, w = latent_shape
        S1 = h * w + 1
        n = int(slots.shape[1])
        pos = torch.arange(start, start + n, device=text.device)
        frame, slot = pos // S1, pos % S1
        if slots.ndim != 2 or slots.shape[0] != B:
            raise ValueError(f"slots must be [B, n] with B = {B}, got {tuple(slots.shape)}")
        if bool(((slot == 0) != (slots < 0)).any()):
            raise ValueError("slots must hold a frame token (-1) exactly at each frame start (position % (S+1) == 0)")
        if int(slots.max()) >= self.config.vocab_size or int(slots.min()) < -1:
            raise ValueError(f"slots must hold ids in [0, {self.config.vocab_size}) or -1, got "
                             f"[{int(slots.min())}, {int(slots.max())}]")
        f0 = int(frame[0])
        self._check_actions(actions, B, int(frame[-1]) - f0 + 1)
        hidden = self._run(slots, frame, slot, torch.zeros(n, dtype=torch.bool, device=text.device),
                           n if cache is not None else 0, (h, w), text, text_mask, actions, action_mask, f0, cache)
        return self.head(hidden)


# ----------------------------------------------------------------------------- presets

PRESETS: dict[str, ARConfig] = {
    # Tests: a fraction of a million parameters.
    "test": ARConfig(dim=64, depth=2, num_heads=2),
    # CPU (a few M parameters): faster than real time at 8 x 12 ids per latent frame.
    "small": ARConfig(dim=256, depth=6, num_heads=4),
    # GPU recipe size.
    "base": ARConfig(dim=384, depth=8, num_heads=6),
}
