"""Causal spatiotemporal video tokenizer (after NVIDIA's Cosmos Tokenizer).

Read top-down: config -> helpers (Haar patchify, FSQ) -> blocks (causal convs,
per-frame norm, residual blocks, hybrid down/upsampling, attention) -> encoder
and decoder -> the ``VideoTokenizer`` model -> presets.

Causality is structural: every temporal operator only looks backwards (left
padding by replicating frame 0, pairwise temporal pooling after a replicated
first frame, tril-masked temporal attention over a bounded window), and
normalisation is per frame. So latents of frames ``[0, t)`` never depend on
later frames, and a video can be processed chunk by chunk with a small
per-module cache (``cache`` below) giving exactly the full-pass result.

Shapes: video ``[B, 3, T, H, W]`` in [-1, 1] with ``T = 1 + k * t``;
latent ``[B, C, 1 + k, H / s, W / s]``; token ids ``[B, 1 + k, H / s, W / s]``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from cosmos_lite.pretrained import Pretrained

Mode = Literal["continuous", "discrete"]
# Trained default weights ship inside the package, one directory per preset name.
BUNDLED_DIR = Path(__file__).resolve().parent / "weights"
# Per-module tensors carried from one chunk of a stream to the next.
Cache = dict

# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class TokenizerConfig:
    mode: Mode = "continuous"
    temporal_compression: int = 4  # t: 1 + k*t frames -> 1 + k latent frames (1 = image tokenizer)
    spatial_compression: int = 8  # s: H x W -> H/s x W/s
    patch_size: int = 4  # Haar wavelet patch; takes the first log2(p) of the compression
    base_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 4)
    num_res_blocks: int = 2
    latent_channels: int = 16  # continuous mode
    fsq_levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # discrete mode; vocab = prod(levels)
    attn_window: int = 8  # latent frames the causal temporal attention looks back over (incl. itself)
    # Per-channel statistics of the raw continuous latent, so that encode() returns ~N(0, 1) latents.
    latent_mean: tuple[float, ...] | None = None
    latent_std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        def pow2(name: str, v: int) -> None:
            if not isinstance(v, int) or v < 1 or v & (v - 1):
                raise ValueError(f"{name} must be a power of two >= 1, got {v!r}")

        if self.mode not in ("continuous", "discrete"):
            raise ValueError(f"mode must be 'continuous' or 'discrete', got {self.mode!r}")
        pow2("temporal_compression", self.temporal_compression)
        pow2("spatial_compression", self.spatial_compression)
        pow2("patch_size", self.patch_size)
        if self.patch_size > self.spatial_compression:
            raise ValueError(f"patch_size {self.patch_size} exceeds spatial_compression {self.spatial_compression}")
        if not self.channel_mult or any(m < 1 for m in self.channel_mult):
            raise ValueError(f"channel_mult must be a non-empty tuple of positive ints, got {self.channel_mult!r}")
        downs = max(self.spatial_downsamples, self.temporal_downsamples)
        if len(self.channel_mult) - 1 < downs:
            raise ValueError(
                f"channel_mult {self.channel_mult} gives {len(self.channel_mult) - 1} downsampling stages, "
                f"but {self.temporal_compression}x{self.spatial_compression}x{self.spatial_compression} with "
                f"patch {self.patch_size} needs {downs}"
            )
        if self.base_channels < 8 or self.num_res_blocks < 1 or self.attn_window < 1:
            raise ValueError("base_channels must be >= 8, num_res_blocks >= 1 and attn_window >= 1")
        if self.mode == "continuous" and self.latent_channels < 1:
            raise ValueError(f"latent_channels must be >= 1, got {self.latent_channels}")
        if self.mode == "discrete":
            if not self.fsq_levels or any(not isinstance(L, int) or L < 2 for L in self.fsq_levels):
                raise ValueError(f"fsq_levels must be integers >= 2, got {self.fsq_levels!r}")
            if self.vocab_size > 2**31 - 1:
                raise ValueError(f"prod(fsq_levels) = {self.vocab_size} does not fit int32 token ids")
        for name in ("latent_mean", "latent_std"):
            stats = getattr(self, name)
            if stats is not None and len(stats) != self.latent_dim:
                raise ValueError(f"{name} needs {self.latent_dim} values, got {len(stats)}")
        if self.latent_std is not None and any(not v > 0 for v in self.latent_std):
            raise ValueError("latent_std values must be positive")

    # Derived sizes, never stored.
    @property
    def patch_t(self) -> int:
        return min(self.patch_size, self.temporal_compression)

    @property
    def spatial_downsamples(self) -> int:
        return int(math.log2(self.spatial_compression // self.patch_size))

    @property
    def temporal_downsamples(self) -> int:
        return int(math.log2(self.temporal_compression // self.patch_t))

    @property
    def latent_dim(self) -> int:
        return self.latent_channels if self.mode == "continuous" else len(self.fsq_levels)

    @property
    def vocab_size(self) -> int:
        return math.prod(self.fsq_levels)

    @classmethod
    def from_dict(cls, d: dict) -> "TokenizerConfig":
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if not k.startswith("_")}  # diffusers bookkeeping keys
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TokenizerConfig fields: {unknown}")
        tuples = {"channel_mult", "fsq_levels", "latent_mean", "latent_std"}
        return cls(**{k: tuple(v) if k in tuples and v is not None else v for k, v in d.items()})


# --------------------------------------------------------------------------- helpers


def _hadamard(p: int) -> torch.Tensor:
    """Orthonormal p x p Haar wavelet-packet matrix (log2 p levels on every band)."""
    h = torch.ones(1, 1)
    h2 = torch.tensor([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2.0)
    for _ in range(int(math.log2(p))):
        h = torch.kron(h, h2)
    return h


def haar_patchify(video: torch.Tensor, pt: int, ps: int) -> torch.Tensor:
    """[B, 3, 1 + k*pt, H, W] -> [B, 3*pt*ps*ps, 1 + k, H/ps, W/ps].

    Frame 0 is replicated pt - 1 times first so that it forms a group of its
    own: latent frame 0 then sees frame 0 only (the image case).
    """
    b, c, t, h, w = video.shape
    if pt > 1:
        video = torch.cat([video[:, :, :1].expand(-1, -1, pt - 1, -1, -1), video], dim=2)
    return _haar_blocks(video, pt, ps)


def _haar_blocks(video: torch.Tensor, pt: int, ps: int) -> torch.Tensor:
    b, c, t, h, w = video.shape
    mt, ms = _hadamard(pt).to(video), _hadamard(ps).to(video)
    x = video.reshape(b, c, t // pt, pt, h // ps, ps, w // ps, ps)  # [B, C, T', pt, H', ps, W', ps]
    x = torch.einsum("bctahuwv,ia,ju,kv->bcijkthw", x, mt, ms, ms)  # [B, C, pt, ps, ps, T', H', W']
    # Rescale so the low band is the block mean (as Cosmos does): inputs and the
    # decoder's targets stay in [-1, 1] instead of growing with the patch volume.
    x = x / math.sqrt(pt * ps * ps)
    return x.reshape(b, c * pt * ps * ps, t // pt, h // ps, w // ps)


def haar_unpatchify(x: torch.Tensor, pt: int, ps: int, drop_first: bool) -> torch.Tensor:
    """Inverse of :func:`haar_patchify`; ``drop_first`` folds the replicated copies of frame 0 into one."""
    b, cp, t, h, w = x.shape
    c = cp // (pt * ps * ps)
    mt, ms = _hadamard(pt).to(x), _hadamard(ps).to(x)
    x = x.reshape(b, c, pt, ps, ps, t, h, w)  # [B, C, pt, ps, ps, T', H', W']
    x = torch.einsum("bcijkthw,ia,ju,kv->bctahuwv", x, mt, ms, ms) * math.sqrt(pt * ps * ps)
    video = x.reshape(b, c, t * pt, h * ps, w * ps)
    if drop_first and pt > 1:
        # Frame 0 is the mean of its group (the temporal low band alone). Taking one
        # slot and dropping the rest would leave pt - 1 unsupervised outputs, which
        # training exploits as a degenerate, time-invariant solution.
        video = torch.cat([video[:, :, :pt].mean(dim=2, keepdim=True), video[:, :, pt:]], dim=2)
    return video


def fsq_quantize(z: torch.Tensor, levels: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Finite scalar quantisation (Mentzer et al. 2023), channels on dim 1.

    Returns (codes in [-1, 1] with a straight-through gradient, int64 indices
    with the channel dim removed). Always float32: bf16 cannot represent the
    bounded values finely enough to round to the right level.
    """
    with torch.autocast(device_type=z.device.type, enabled=False):
        z = z.float()
        shape = (1, -1) + (1,) * (z.dim() - 2)
        L = torch.tensor(levels, device=z.device, dtype=torch.float32).view(shape)
        half_l = (L - 1) * (1 + 1e-3) / 2
        offset = torch.where(L % 2 == 0, 0.5, 0.0)  # even levels: a grid with no zero
        shift = torch.atanh(offset / half_l)
        bounded = torch.tanh(z + shift) * half_l - offset
        q = bounded + (bounded.round() - bounded).detach()  # straight-through round
        half_width = torch.div(L, 2, rounding_mode="floor")
        codes = q / half_width
        digits = (q.detach().round() + half_width).long()
        basis = torch.tensor(_fsq_basis(levels), device=z.device).view(shape)
        indices = (digits * basis).sum(dim=1)
    return codes, indices


def _fsq_basis(levels: tuple[int, ...]) -> list[int]:
    return [math.prod(levels[:i]) for i in range(len(levels))]


def fsq_indices_to_codes(indices: torch.Tensor, levels: tuple[int, ...]) -> torch.Tensor:
    """int ids [B, ...] -> codes [B, D, ...] in [-1, 1]; the exact inverse of the index map."""
    shape = (1, -1) + (1,) * (indices.dim() - 1)
    L = torch.tensor(levels, device=indices.device).view(shape)
    basis = torch.tensor(_fsq_basis(levels), device=indices.device).view(shape)
    digits = (indices.long().unsqueeze(1) // basis) % L
    half_width = L // 2
    return (digits - half_width).float() / half_width.float()


# --------------------------------------------------------------------------- blocks


class CausalConv3d(nn.Module):
    """Conv over (t, h, w) that is causal in time: left pad by kt - 1 frames.

    The padding is the previous chunk's last frames when streaming, else copies
    of frame 0 (so a still image looks like a static video, not a fade-in).
    """

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int, int], stride: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        kt, kh, kw = kernel
        self.kt = kt
        self.conv = nn.Conv3d(cin, cout, kernel, stride=stride, padding=(0, kh // 2, kw // 2))

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        if self.kt == 1:
            return _frame_conv2d(x, self.conv)
        past = cache.get(self) if cache is not None else None
        if past is None:
            past = x[:, :, :1].expand(-1, -1, self.kt - 1, -1, -1)
        x = torch.cat([past, x], dim=2)
        if cache is not None:
            cache[self] = x[:, :, -(self.kt - 1) :].clone()  # clone: do not pin the whole chunk
        return self.conv(x)


def _frame_conv2d(x: torch.Tensor, conv: nn.Conv3d) -> torch.Tensor:
    """A (1 x kh x kw) Conv3d run as Conv2d over the frames: same math, ~2.5x faster on CPU."""
    b, c, t, h, w = x.shape
    frames = x.transpose(1, 2).reshape(b * t, c, h, w)  # [B*T, C, H, W]
    y = F.conv2d(frames, conv.weight[:, :, 0], conv.bias, stride=conv.stride[1:], padding=conv.padding[1:])
    return y.view(b, t, *y.shape[1:]).transpose(1, 2)  # [B, C', T, H', W']


class FactorizedConv(nn.Module):
    """(1 x k x k) spatial conv, then causal (k x 1 x 1) temporal conv."""

    def __init__(self, cin: int, cout: int, k: int = 3):
        super().__init__()
        self.spatial = CausalConv3d(cin, cout, (1, k, k))
        self.temporal = CausalConv3d(cout, cout, (k, 1, 1))
        # Start as the identity in time (current-frame tap = I): the network begins
        # as a per-frame autoencoder and learns temporal mixing, instead of starting
        # from a random blend of frames that washes temporal detail out.
        with torch.no_grad():
            self.temporal.conv.weight.zero_()
            self.temporal.conv.weight[:, :, -1, 0, 0] = torch.eye(cout)
            self.temporal.conv.bias.zero_()

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        return self.temporal(self.spatial(x, cache), cache)


class FrameNorm(nn.Module):
    """GroupNorm(1) applied to each frame on its own: statistics over (C, H, W).

    Any statistic pooled across frames would let the future leak into the past.
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=(1, 3, 4), keepdim=True, correction=0)  # [B, 1, T, 1, 1]
        x = (x - mean) * torch.rsqrt(var + self.eps)
        return x * self.weight.view(1, -1, 1, 1, 1) + self.bias.view(1, -1, 1, 1, 1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1 = FrameNorm(cin)
        self.conv1 = FactorizedConv(cin, cout)
        self.norm2 = FrameNorm(cout)
        self.conv2 = FactorizedConv(cout, cout)
        self.skip = nn.Conv3d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)), cache)
        h = self.conv2(F.silu(self.norm2(h)), cache)
        return self.skip(x) + h


def _mean_pool(x: torch.Tensor, spatial: bool) -> torch.Tensor:
    """2x average pool over (H, W) or over T; a reshape-mean works in every dtype (avg_pool3d lacks CPU bf16)."""
    b, c, t, h, w = x.shape
    if spatial:
        return x.reshape(b, c, t, h // 2, 2, w // 2, 2).mean(dim=(4, 6))  # [B, C, T, H/2, W/2]
    return x.reshape(b, c, t // 2, 2, h, w).mean(dim=3)  # [B, C, T/2, H, W]


class Downsample(nn.Module):
    """Hybrid downsampling: learned strided conv + parameter-free average pool, summed.

    Temporal: frame 0 is paired with a copy of itself, then frames (1, 2),
    (3, 4), ... are merged, so output frame j sees input frames <= 2j.
    """

    def __init__(self, channels: int, spatial: bool, temporal: bool):
        super().__init__()
        self.spatial, self.temporal = spatial, temporal
        if spatial:
            self.conv_s = nn.Conv3d(channels, channels, (1, 3, 3), stride=(1, 2, 2))
        if temporal:
            self.conv_t = nn.Conv3d(channels, channels, (2, 1, 1), stride=(2, 1, 1))

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        if self.spatial:
            x = _frame_conv2d(F.pad(x, (0, 1, 0, 1)), self.conv_s) + _mean_pool(x, spatial=True)
        if self.temporal:
            first = cache is None or self not in cache
            if cache is not None:
                cache[self] = True
            if first:
                x = torch.cat([x[:, :, :1], x], dim=2)  # [B, C, 2 + 2k, H, W]
            if x.shape[2] % 2:
                raise ValueError("temporal downsampling needs chunks aligned to the temporal compression")
            x = self.conv_t(x) + _mean_pool(x, spatial=False)
        return x


class Upsample(nn.Module):
    """Hybrid upsampling: nearest-neighbour repeat plus a learned conv residual.

    Temporal: each latent frame becomes two frames, except frame 0 of the
    stream which stays one (the mirror of :class:`Downsample`).
    """

    def __init__(self, channels: int, spatial: bool, temporal: bool):
        super().__init__()
        self.spatial, self.temporal = spatial, temporal
        if spatial:
            self.conv_s = nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1))
        if temporal:
            self.conv_t = CausalConv3d(channels, channels, (3, 1, 1))

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        if self.temporal:
            first = cache is None or self not in cache
            if cache is not None:
                cache[self] = True
            x = x.repeat_interleave(2, dim=2)  # [B, C, 2n, H, W]
            if first:
                x = x[:, :, 1:]  # [B, C, 1 + 2k, H, W]
            x = x + self.conv_t(x, cache)
        if self.spatial:
            x = F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")
            x = x + _frame_conv2d(x, self.conv_s)
        return x


def _num_heads(channels: int) -> int:
    return channels // 64 if channels % 64 == 0 else 1


class SpatialAttention(nn.Module):
    """Self-attention among the pixels of each frame."""

    def __init__(self, channels: int):
        super().__init__()
        self.heads = _num_heads(channels)
        self.norm = FrameNorm(channels)
        self.qkv = nn.Conv3d(channels, 3 * channels, 1)
        self.proj = nn.Conv3d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        qkv = self.qkv(self.norm(x))  # [B, 3C, T, H, W]
        qkv = qkv.reshape(b, 3, self.heads, c // self.heads, t, h * w)  # [B, 3, heads, d, T, HW]
        q, k, v = qkv.permute(1, 0, 4, 2, 5, 3).reshape(3, b * t, self.heads, h * w, c // self.heads).unbind(0)
        o = F.scaled_dot_product_attention(q, k, v)  # [B*T, heads, HW, d]
        o = o.reshape(b, t, self.heads, h, w, c // self.heads).permute(0, 2, 5, 1, 3, 4).reshape(b, c, t, h, w)
        return x + self.proj(o)


class CausalTemporalAttention(nn.Module):
    """Self-attention along time at each pixel, causal and over a bounded window.

    Frame i attends to frames max(0, i - window + 1) .. i. Streaming keeps the
    keys and values of the last window - 1 frames, so a chunked pass equals a
    full pass and memory stays flat however long the video.
    """

    def __init__(self, channels: int, window: int):
        super().__init__()
        self.heads = _num_heads(channels)
        self.window = window
        self.norm = FrameNorm(channels)
        self.qkv = nn.Conv3d(channels, 3 * channels, 1)
        self.proj = nn.Conv3d(channels, channels, 1)

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        b, c, t, h, w = x.shape
        d = c // self.heads
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, d, t, h * w)  # [B, 3, heads, d, T, HW]
        q, k, v = qkv.permute(1, 0, 5, 2, 4, 3).reshape(3, b * h * w, self.heads, t, d).unbind(0)
        past = cache.get(self) if cache is not None else None
        n_past = 0
        if past is not None:
            n_past = past[0].shape[2]
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # [BHW, heads, P+T, d]
        if cache is not None and self.window > 1:
            keep = self.window - 1
            cache[self] = (k[:, :, -keep:].clone(), v[:, :, -keep:].clone())
        qi = torch.arange(t, device=x.device).view(-1, 1) + n_past  # absolute query positions
        kj = torch.arange(n_past + t, device=x.device).view(1, -1)
        mask = (kj <= qi) & (qi - kj < self.window)  # [T, P+T]
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [BHW, heads, T, d]
        o = o.reshape(b, h, w, self.heads, t, d).permute(0, 3, 5, 4, 1, 2).reshape(b, c, t, h, w)
        return x + self.proj(o)


class MidBlock(nn.Module):
    def __init__(self, channels: int, window: int):
        super().__init__()
        self.res1 = ResBlock(channels, channels)
        self.attn_s = SpatialAttention(channels)
        self.attn_t = CausalTemporalAttention(channels, window)
        self.res2 = ResBlock(channels, channels)

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        x = self.res1(x, cache)
        x = self.attn_t(self.attn_s(x), cache)
        return self.res2(x, cache)


# --------------------------------------------------------------------------- encoder / decoder


def _stage_schedule(cfg: TokenizerConfig) -> list[tuple[bool, bool]]:
    """(spatial, temporal) resampling after each stage but the last."""
    n = len(cfg.channel_mult) - 1
    return [(i < cfg.spatial_downsamples, i < cfg.temporal_downsamples) for i in range(n)]


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        widths = [cfg.base_channels * m for m in cfg.channel_mult]
        cin = 3 * cfg.patch_t * cfg.patch_size**2
        self.conv_in = FactorizedConv(cin, widths[0])
        self.stages = nn.ModuleList()
        ch = widths[0]
        schedule = _stage_schedule(cfg)
        for i, width in enumerate(widths):
            blocks = nn.ModuleList()
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(ch, width))
                ch = width
            stage = nn.Module()
            stage.blocks = blocks
            spatial, temporal = schedule[i] if i < len(schedule) else (False, False)
            stage.down = Downsample(ch, spatial, temporal) if (spatial or temporal) else None
            self.stages.append(stage)
        self.mid = MidBlock(ch, cfg.attn_window)
        self.norm_out = FrameNorm(ch)
        self.conv_out = FactorizedConv(ch, cfg.latent_dim)

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        h = self.conv_in(x, cache)
        for stage in self.stages:
            for block in stage.blocks:
                h = block(h, cache)
            if stage.down is not None:
                h = stage.down(h, cache)
        h = self.mid(h, cache)
        return self.conv_out(F.silu(self.norm_out(h)), cache)


class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        widths = [cfg.base_channels * m for m in cfg.channel_mult]
        ch = widths[-1]
        self.conv_in = FactorizedConv(cfg.latent_dim, ch)
        self.mid = MidBlock(ch, cfg.attn_window)
        schedule = _stage_schedule(cfg)
        self.stages = nn.ModuleList()
        for i in reversed(range(len(widths))):
            blocks = nn.ModuleList()
            for _ in range(cfg.num_res_blocks + 1):
                blocks.append(ResBlock(ch, widths[i]))
                ch = widths[i]
            stage = nn.Module()
            stage.blocks = blocks
            spatial, temporal = schedule[i - 1] if i > 0 else (False, False)
            stage.up = Upsample(ch, spatial, temporal) if (spatial or temporal) else None
            self.stages.append(stage)
        self.norm_out = FrameNorm(ch)
        self.conv_out = FactorizedConv(ch, 3 * cfg.patch_t * cfg.patch_size**2)
        # Start from a grey reconstruction: the inverse Haar scales outputs up by
        # sqrt(patch volume), so a default-initialised head would start far off.
        nn.init.zeros_(self.conv_out.spatial.conv.weight)
        nn.init.zeros_(self.conv_out.spatial.conv.bias)

    def forward(self, z: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        h = self.mid(self.conv_in(z, cache), cache)
        for stage in self.stages:
            for block in stage.blocks:
                h = block(h, cache)
            if stage.up is not None:
                h = stage.up(h, cache)
        return self.conv_out(F.silu(self.norm_out(h)), cache)


# --------------------------------------------------------------------------- model


class VideoTokenizer(Pretrained, nn.Module):
    """Causal video autoencoder; continuous latents or FSQ token ids.

    ``encode`` / ``decode`` are the user API: they pad frame counts to
    ``1 + k*t`` and sizes to multiples of ``s`` (replicating the last frame,
    row and column) and, given ``num_frames`` / ``size``, crop back. Long
    videos stream through :class:`StreamEncoder` / :class:`StreamDecoder`
    (``chunk_frames``); large frames can be tiled (``tile_size``).
    ``forward`` is the training pass (straight-through FSQ, no padding).
    """

    config_class = TokenizerConfig
    bundled_dir = BUNDLED_DIR  # from_pretrained("default-cv") loads the copy shipped in the package

    def __init__(self, config: TokenizerConfig):
        super().__init__()
        if not isinstance(config, TokenizerConfig):
            raise TypeError(f"config must be a TokenizerConfig, got {type(config).__name__}")
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        mean = torch.tensor(config.latent_mean or [0.0] * config.latent_dim)
        std = torch.tensor(config.latent_std or [1.0] * config.latent_dim)
        # Derived from the config, so not part of the weights file.
        self.register_buffer("z_mean", mean.view(1, -1, 1, 1, 1), persistent=False)
        self.register_buffer("z_std", std.view(1, -1, 1, 1, 1), persistent=False)

    # -- network passes on aligned inputs ------------------------------------------------

    def _encode_aligned(self, video: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        """Video chunk -> normalised latent (continuous) or FSQ codes (discrete)."""
        cfg = self.config
        first = cache is None or "started" not in cache
        x = haar_patchify(video, cfg.patch_t, cfg.patch_size) if first else _haar_blocks(video, cfg.patch_t, cfg.patch_size)
        if cache is not None:
            cache["started"] = True
        z = self.encoder(x, cache)
        if cfg.mode == "discrete":
            return fsq_quantize(z, cfg.fsq_levels)[0]
        return (z - self.z_mean.to(z.dtype)) / self.z_std.to(z.dtype)

    def _decode_aligned(self, z: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        cfg = self.config
        if cfg.mode == "continuous":
            z = z * self.z_std.to(z.dtype) + self.z_mean.to(z.dtype)
        first = cache is None or "started" not in cache
        if cache is not None:
            cache["started"] = True
        x = self.decoder(z, cache)
        return haar_unpatchify(x, cfg.patch_t, cfg.patch_size, drop_first=first)

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass on a ``[B, 3, 1 + k*t, H, W]`` clip: (reconstruction, latent or codes)."""
        self._check_video(video, aligned=True)
        z = self._encode_aligned(video, None)
        return self._decode_aligned(z, None), z

    # -- user API ------------------------------------------------------------------------

    def encode(
        self,
        video: torch.Tensor,
        *,
        chunk_frames: int | None = None,
        tile_size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """``[B, 3, T, H, W]`` in [-1, 1] -> latent ``[B, C, 1 + k, h, w]`` or ids ``[B, 1 + k, h, w]``.

        ``chunk_frames`` streams the video through the causal caches (same
        result as one pass, bounded memory); ``tile_size`` = (th, tw) pixels
        encodes overlapping tiles and blends them.
        """
        self._check_video(video, aligned=False)
        stream = StreamEncoder(self, tile_size=tile_size)
        if chunk_frames is not None and chunk_frames < 1:
            raise ValueError(f"chunk_frames must be positive, got {chunk_frames}")
        step = chunk_frames or video.shape[2]
        outs = [stream.push(video[:, :, i : i + step]) for i in range(0, video.shape[2], step)]
        outs.append(stream.flush())
        return torch.cat([o for o in outs if o is not None], dim=2 if self.config.mode == "continuous" else 1)

    def decode(
        self,
        latent: torch.Tensor,
        *,
        num_frames: int | None = None,
        size: tuple[int, int] | None = None,
        chunk_frames: int | None = None,
        tile_size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """Latent or ids -> video ``[B, 3, T, H, W]`` in [-1, 1], cropped to ``num_frames`` / ``size``."""
        stream = StreamDecoder(self, tile_size=tile_size)
        t_axis = 2 if self.config.mode == "continuous" else 1
        if chunk_frames is not None and chunk_frames < 1:
            raise ValueError(f"chunk_frames must be positive, got {chunk_frames}")
        step = chunk_frames or latent.shape[t_axis]
        outs = [stream.push(latent.narrow(t_axis, i, min(step, latent.shape[t_axis] - i)))
                for i in range(0, latent.shape[t_axis], step)]
        video = torch.cat(outs, dim=2)
        return _crop(video, num_frames, size)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """Token ids ``[B, T, h, w]`` -> FSQ codes ``[B, D, T, h, w]``."""
        self._require_discrete()
        if indices.dtype.is_floating_point:
            raise TypeError(f"token ids must be an integer tensor, got {indices.dtype}")
        indices = indices.long()  # shards store uint16 / int32
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.config.vocab_size}), got [{int(indices.min())}, {int(indices.max())}]")
        return fsq_indices_to_codes(indices, self.config.fsq_levels)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """FSQ codes ``[B, D, T, h, w]`` (on the grid) -> token ids ``[B, T, h, w]``."""
        self._require_discrete()
        L = torch.tensor(self.config.fsq_levels, device=codes.device).view(1, -1, *([1] * (codes.dim() - 2)))
        half = L // 2
        digits = (codes.float() * half).round().long() + half
        basis = torch.tensor(_fsq_basis(self.config.fsq_levels), device=codes.device).view(L.shape)
        return (digits * basis).sum(dim=1)

    # -- checks ------------------------------------------------------------------------

    def _require_discrete(self) -> None:
        if self.config.mode != "discrete":
            raise ValueError("token ids exist only for a discrete (FSQ) tokenizer; this one is continuous")

    def _check_video(self, video: torch.Tensor, aligned: bool) -> None:
        if not isinstance(video, torch.Tensor):
            raise TypeError(f"video must be a torch.Tensor [B, 3, T, H, W], got {type(video).__name__}")
        if video.dim() != 5 or video.shape[1] != 3:
            raise ValueError(f"video must have shape [B, 3, T, H, W], got {list(video.shape)}")
        if not video.dtype.is_floating_point:
            raise ValueError(f"video must be float in [-1, 1], got {video.dtype} (convert uint8 frames first)")
        if 0 in video.shape:
            raise ValueError(f"video is empty: shape {list(video.shape)}")
        if not aligned:  # user input: catch the usual mistakes before they become garbage latents
            if not torch.isfinite(video).all():
                raise ValueError("video contains NaN or inf values")
            lo, hi = float(video.min()), float(video.max())
            if lo < -1.001 or hi > 1.001:
                raise ValueError(f"video values must be in [-1, 1], got [{lo:g}, {hi:g}] (0..255 pixels need x / 127.5 - 1)")
        if aligned:
            t, s = self.config.temporal_compression, self.config.spatial_compression
            T, H, W = video.shape[2:]
            if (T - 1) % t or H % s or W % s:
                raise ValueError(
                    f"training clips need T = 1 + k*{t} frames and H, W multiples of {s}; got T={T}, H={H}, W={W}"
                )

    # -- persistence -------------------------------------------------------------------


def _crop(video: torch.Tensor, num_frames: int | None, size: tuple[int, int] | None) -> torch.Tensor:
    if num_frames is not None:
        if num_frames > video.shape[2]:
            raise ValueError(f"num_frames {num_frames} exceeds the {video.shape[2]} decoded frames")
        video = video[:, :, :num_frames]
    if size is not None:
        h, w = size
        if h > video.shape[3] or w > video.shape[4]:
            raise ValueError(f"size {tuple(size)} exceeds the decoded {tuple(video.shape[3:])}")
        video = video[..., :h, :w]
    return video


# --------------------------------------------------------------------------- streaming + tiling


def _tiles(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` covering ``length`` with at least ``overlap``."""
    if tile >= length:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride)) + [length - tile]
    return sorted(set(starts))


def _ramp(n: int, overlap: int, left: bool, right: bool, device) -> torch.Tensor:
    """1-D blend weights: linear ramps over the overlaps that have a neighbour."""
    w = torch.ones(n, device=device)
    if overlap > 0:
        r = (torch.arange(overlap, device=device) + 1) / (overlap + 1)
        if left:
            w[:overlap] = r
        if right:
            w[-overlap:] = r.flip(0)
    return w


class _Tiler:
    """Runs a per-tile function over overlapping spatial tiles and blends the results.

    ``scale`` is output size / input size (1/s to encode, s to decode). Each
    tile keeps its own causal cache, so tiling composes with streaming.
    """

    def __init__(self, tile_in: tuple[int, int] | None, align: int, scale: float):
        self.tile_in, self.align, self.scale = tile_in, align, scale
        self.caches: dict[tuple[int, int], Cache] = {}

    def __call__(self, x: torch.Tensor, fn) -> torch.Tensor:
        H, W = x.shape[-2:]
        if self.tile_in is None or (self.tile_in[0] >= H and self.tile_in[1] >= W):
            return fn(x, self.caches.setdefault((0, 0), {}))
        th, tw = (max(self.align, (min(t, n) // self.align) * self.align) for t, n in zip(self.tile_in, (H, W)))
        oh, ow = ((t // 4) // self.align * self.align for t in (th, tw))  # 25% overlap, aligned
        ys, xs = _tiles(H, th, oh), _tiles(W, tw, ow)
        out = weight = None
        for y in ys:
            for x0 in xs:
                part = fn(x[..., y : y + th, x0 : x0 + tw], self.caches.setdefault((y, x0), {}))
                sy, sx = round(y * self.scale), round(x0 * self.scale)
                ph, pw = part.shape[-2:]
                wy = _ramp(ph, round(oh * self.scale), y > 0, y + th < H, x.device)
                wx = _ramp(pw, round(ow * self.scale), x0 > 0, x0 + tw < W, x.device)
                w2 = (wy[:, None] * wx[None, :]).to(part.dtype)
                if out is None:
                    shape = part.shape[:-2] + (round(H * self.scale), round(W * self.scale))
                    out = part.new_zeros(shape)
                    weight = part.new_zeros(shape[-2:])
                out[..., sy : sy + ph, sx : sx + pw] += part * w2
                weight[sy : sy + ph, sx : sx + pw] += w2
        return out / weight


class StreamEncoder:
    """Encode a video pushed in chunks of any length; equals one full pass.

    Frames are buffered until they form whole groups (``1 + m*t`` for the first
    chunk, ``m*t`` after); :meth:`flush` pads the tail by repeating the last
    frame, as the one-shot :meth:`VideoTokenizer.encode` does.
    """

    def __init__(self, model: VideoTokenizer, tile_size: tuple[int, int] | None = None):
        self.model = model
        cfg = model.config
        self.t, self.s = cfg.temporal_compression, cfg.spatial_compression
        self.tiler = _Tiler(tile_size, align=self.s, scale=1.0 / self.s)
        self.pending: torch.Tensor | None = None
        self.started = False
        self.hw: tuple[int, int] | None = None

    def push(self, video: torch.Tensor) -> torch.Tensor | None:
        self.model._check_video(video, aligned=False)
        if self.hw is None:
            self.hw = tuple(video.shape[-2:])
        elif tuple(video.shape[-2:]) != self.hw:
            raise ValueError(f"chunk size {tuple(video.shape[-2:])} differs from the stream's {self.hw}")
        buf = video if self.pending is None else torch.cat([self.pending, video], dim=2)
        head = 1 if not self.started else 0
        usable = head + (buf.shape[2] - head) // self.t * self.t
        self.pending = buf[:, :, usable:] if usable < buf.shape[2] else None
        return self._run(buf[:, :, :usable]) if usable > 0 else None

    def flush(self) -> torch.Tensor | None:
        if self.pending is None:
            return None
        buf, self.pending = self.pending, None
        head = 1 if not self.started else 0
        short = (-(buf.shape[2] - head)) % self.t
        buf = torch.cat([buf, buf[:, :, -1:].expand(-1, -1, short, -1, -1)], dim=2)
        return self._run(buf)

    def _run(self, video: torch.Tensor) -> torch.Tensor:
        self.started = True
        H, W = video.shape[-2:]
        # Replicate-pad to a multiple of s: the padded border is cropped off after decoding.
        if H % self.s or W % self.s:
            video = F.pad(video, (0, (-W) % self.s, 0, (-H) % self.s, 0, 0), mode="replicate")
        z = self.tiler(video, self.model._encode_aligned)
        if self.model.config.mode == "discrete":
            return self.model.codes_to_indices(z)
        return z


class StreamDecoder:
    """Decode latents (or ids) pushed in chunks of any number of latent frames."""

    def __init__(self, model: VideoTokenizer, tile_size: tuple[int, int] | None = None):
        self.model = model
        s = model.config.spatial_compression
        latent_tile = None if tile_size is None else (max(1, tile_size[0] // s), max(1, tile_size[1] // s))
        self.tiler = _Tiler(latent_tile, align=1, scale=float(s))

    def fork(self) -> "StreamDecoder":
        """A copy that continues from here independently (the caches' tensors are replaced, never
        written in place, so copying the dicts is enough)."""
        other = copy.copy(self)
        other.tiler = copy.copy(self.tiler)
        other.tiler.caches = {k: dict(v) for k, v in self.tiler.caches.items()}
        return other

    def push(self, latent: torch.Tensor) -> torch.Tensor:
        cfg = self.model.config
        if cfg.mode == "discrete":
            if latent.dim() != 4:
                raise ValueError(f"token ids must have shape [B, T, h, w], got {list(latent.shape)}")
            z = self.model.indices_to_codes(latent)
        else:
            if latent.dim() != 5 or latent.shape[1] != cfg.latent_channels:
                raise ValueError(
                    f"latent must have shape [B, {cfg.latent_channels}, T, h, w], got {list(latent.shape)}"
                )
            if not torch.isfinite(latent).all():
                raise ValueError("latent contains NaN or inf")
            z = latent
        z = z.to(next(self.model.parameters()).dtype)
        return self.tiler(z, self.model._decode_aligned).clamp(-1, 1)


# --------------------------------------------------------------------------- presets


def _cosmos(mode: Mode, t: int, s: int) -> TokenizerConfig:
    # Cosmos-Tokenizer widths: 128 base channels, multipliers (2, 4, 4), 2 res blocks per stage.
    return TokenizerConfig(mode=mode, temporal_compression=t, spatial_compression=s, patch_size=4,
                           base_channels=128, channel_mult=(2, 4, 4), num_res_blocks=2)


PRESETS: dict[str, TokenizerConfig] = {
    **{f"CV{t}x{s}x{s}": _cosmos("continuous", t, s) for t, s in ((4, 8), (8, 8), (8, 16))},
    **{f"DV{t}x{s}x{s}": _cosmos("discrete", t, s) for t, s in ((4, 8), (8, 8), (8, 16))},
    **{f"CI{s}x{s}": _cosmos("continuous", 1, s) for s in (8, 16)},
    **{f"DI{s}x{s}": _cosmos("discrete", 1, s) for s in (8, 16)},
    # The project's bundled defaults: sized to train on one GPU in minutes or a CPU in hours.
    "default-cv": TokenizerConfig(mode="continuous", base_channels=64, channel_mult=(1, 2, 2), num_res_blocks=1),
    "default-dv": TokenizerConfig(mode="discrete", base_channels=64, channel_mult=(1, 2, 2), num_res_blocks=1),
    # Tests and quick CPU experiments.
    "tiny-cv": TokenizerConfig(mode="continuous", base_channels=32, channel_mult=(1, 2), num_res_blocks=1,
                               latent_channels=16, attn_window=4),
    "tiny-dv": TokenizerConfig(mode="discrete", base_channels=32, channel_mult=(1, 2), num_res_blocks=1,
                               fsq_levels=(8, 8, 8, 5, 5, 5), attn_window=4),
}
