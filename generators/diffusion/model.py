"""A video diffusion transformer over continuous tokenizer latents (Cosmos-Predict1's DiT, small).

Read top-down: config, helpers (RoPE, timestep embedding), blocks, the model, presets.

The network only predicts: it maps an already-scaled noisy latent (``c_in * x``),
a per-latent-frame noise level (``c_noise``), a condition mask, text token
embeddings and per-latent-frame actions to the raw output ``F``. EDM
preconditioning, the loss and the samplers live in ``edm.py`` and
``sampling.py``.

Shapes: ``B`` batch, ``C`` latent channels, ``T`` latent frames, ``H x W``
latent size, ``N = T * (H/ph) * (W/pw)`` tokens, ``D`` model width, ``L`` text
tokens, ``A`` action dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from cosmos_lite.pretrained import Pretrained

# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class DiTConfig:
    latent_channels: int = 16  # C of the continuous tokenizer
    patch_size: tuple[int, int, int] = (1, 2, 2)  # (t, h, w)
    dim: int = 256
    depth: int = 8
    num_heads: int = 4
    mlp_ratio: float = 4.0
    adaln_lora_dim: int = 64
    text_dim: int = 384  # all-MiniLM-L6-v2
    action_dim: int = 2  # ego (acceleration, curvature); 0 = no action input
    # Typical magnitude of each action component (m/s^2, 1/m): actions are divided by it so that
    # curvatures of ~1e-3 reach the embedding MLP at unit scale.
    action_scale: tuple[float, ...] = (3.0, 0.002)
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        if len(self.patch_size) != 3 or any(int(p) < 1 for p in self.patch_size):
            raise ValueError(f"patch_size must be three positive ints (t, h, w), got {self.patch_size}")
        object.__setattr__(self, "patch_size", tuple(int(p) for p in self.patch_size))
        for name in ("latent_channels", "dim", "depth", "num_heads", "adaln_lora_dim", "text_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.action_dim < 0:
            raise ValueError(f"action_dim must be >= 0, got {self.action_dim}")
        if self.dim % self.num_heads:
            raise ValueError(f"dim {self.dim} is not divisible by num_heads {self.num_heads}")
        if self.head_dim % 2 or self.head_dim < 8:
            raise ValueError(f"head_dim (dim / num_heads) must be even and >= 8 for 3D RoPE, got {self.head_dim}")
        object.__setattr__(self, "action_scale", tuple(float(a) for a in self.action_scale))
        if len(self.action_scale) != self.action_dim or any(a <= 0 for a in self.action_scale):
            raise ValueError(f"action_scale needs {self.action_dim} positive values (one per action component), "
                             f"got {self.action_scale}")
        if self.mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be > 0, got {self.mlp_ratio}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    @property
    def rope_dims(self) -> tuple[int, int, int]:
        """Head-dim split over (t, h, w) as in Cosmos: h and w get equal even shares, t the rest."""
        d_hw = 2 * (self.head_dim // 6)
        return self.head_dim - 2 * d_hw, d_hw, d_hw

    @classmethod
    def from_dict(cls, d: dict) -> "DiTConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown DiTConfig fields: {', '.join(unknown)}")
        d = dict(d)
        for k in ("patch_size", "action_scale"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


# ----------------------------------------------------------------------------- helpers


def rope_frequencies(cfg: DiTConfig, t: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """Unit rotations ``[N, head_dim / 2]`` (complex64) for a t x h x w token grid, t-major order."""
    parts = []
    for n, d in zip((t, h, w), cfg.rope_dims):
        inv = 1.0 / cfg.rope_theta ** (torch.arange(0, d, 2, device=device, dtype=torch.float64) / d)
        parts.append(torch.outer(torch.arange(n, device=device, dtype=torch.float64), inv))  # [n, d/2]
    ft, fh, fw = parts
    # [t, h, w, head_dim/2] -> [N, head_dim/2]
    ang = torch.cat([ft[:, None, None].expand(t, h, w, -1), fh[None, :, None].expand(t, h, w, -1),
                     fw[None, None, :].expand(t, h, w, -1)], dim=-1).reshape(t * h * w, -1)
    return torch.polar(torch.ones_like(ang), ang).to(torch.complex64)


def apply_rope(x: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive pairs of ``x [B, heads, N, head_dim]`` by ``rot [N, head_dim/2]``: one
    complex multiply (several times faster on CPU than the split-and-stack real form); float32 math."""
    xc = torch.view_as_complex(x.float().unflatten(-1, (-1, 2)))  # [B, heads, N, head_dim/2]
    return torch.view_as_real(xc * rot).flatten(-2).type_as(x)


def timestep_embedding(c_noise: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of ``c_noise`` (any shape ``[...]``) -> ``[..., dim]``.

    EDM's c_noise = log(sigma) / 4 lies in about [-2, 1.5]; scaling by 1000 spreads it over the
    frequency range the way DDPM timesteps do."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=c_noise.device, dtype=torch.float32) / half)
    ang = 1000.0 * c_noise.float()[..., None] * freqs
    return torch.cat([ang.cos(), ang.sin()], dim=-1)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """AdaLN per latent frame: ``x [B, T, S, D]``, ``shift/scale [B, T, D]``."""
    return x * (1 + scale[:, :, None]) + shift[:, :, None]


# ----------------------------------------------------------------------------- blocks


class Attention(nn.Module):
    """Multi-head attention with QK RMSNorm; self-attention gets 3D RoPE, cross-attention a key mask."""

    def __init__(self, dim: int, num_heads: int, context_dim: int | None = None):
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim or dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim or dim, dim, bias=False)
        self.norm_q = nn.RMSNorm(head_dim, eps=1e-6)
        self.norm_k = nn.RMSNorm(head_dim, eps=1e-6)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, rope: torch.Tensor | None = None,
                key_mask: torch.Tensor | None = None) -> torch.Tensor:
        ctx = x if context is None else context
        # [B, N, D] -> [B, heads, N, head_dim]; the norm runs before the transpose, on contiguous rows
        q = self.norm_q(self.to_q(x).unflatten(-1, (self.num_heads, -1))).transpose(1, 2)
        k = self.norm_k(self.to_k(ctx).unflatten(-1, (self.num_heads, -1))).transpose(1, 2)
        v = self.to_v(ctx).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
        if rope is not None:
            q, k = apply_rope(q, rope), apply_rope(k, rope)
        mask = None if key_mask is None else key_mask[:, None, None, :]  # [B, 1, 1, L]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.to_out(out.transpose(1, 2).flatten(2))  # [B, N, D]


class AdaLNLoRA(nn.Module):
    """shift/scale/gate for one sub-layer: a rank-r projection of the noise embedding plus the
    model-wide full-rank term (Cosmos-Predict1's AdaLN-LoRA: most of the 9*D*D AdaLN weights
    per block are replaced by D*r + r*3D)."""

    def __init__(self, dim: int, rank: int):
        super().__init__()
        self.down = nn.Linear(dim, rank, bias=False)
        self.up = nn.Linear(rank, 3 * dim, bias=False)
        nn.init.zeros_(self.up.weight)

    def forward(self, emb: torch.Tensor, lora_base: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (self.up(self.down(F.silu(emb))) + lora_base).chunk(3, dim=-1)  # 3 x [B, T, D]


class DiTBlock(nn.Module):
    """self-attention (3D RoPE) -> cross-attention to text -> MLP, each AdaLN-modulated and gated."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        d = cfg.dim
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(d, cfg.num_heads)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.cross = Attention(d, cfg.num_heads, context_dim=cfg.text_dim)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        hidden = int(d * cfg.mlp_ratio)
        # exact GELU: PyTorch's CPU tanh-GELU kernel is ~4x slower (benchmarks/dit_speed.py profile)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))
        self.mod_attn = AdaLNLoRA(d, cfg.adaln_lora_dim)
        self.mod_cross = AdaLNLoRA(d, cfg.adaln_lora_dim)
        self.mod_mlp = AdaLNLoRA(d, cfg.adaln_lora_dim)

    def forward(self, x: torch.Tensor, emb: torch.Tensor, lora_base: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor | None, rope: torch.Tensor) -> torch.Tensor:
        B, T, S, D = x.shape
        for norm, mod, run in ((self.norm1, self.mod_attn, lambda h: self.attn(h, rope=rope)),
                               (self.norm2, self.mod_cross, lambda h: self.cross(h, text, key_mask=text_mask)),
                               (self.norm3, self.mod_mlp, self.mlp)):
            shift, scale, gate = mod(emb, lora_base)
            h = modulate(norm(x), shift, scale).reshape(B, T * S, D)  # [B, T, S, D] -> [B, N, D]
            x = x + gate[:, :, None] * run(h).reshape(B, T, S, D)
        return x


# ----------------------------------------------------------------------------- model


class DiT(Pretrained, nn.Module):
    """Video DiT: patchify -> blocks -> AdaLN final layer -> unpatchify.

    ``forward(x, c_noise, cond_mask, text, text_mask, actions)``:

    - ``x [B, C, T, H, W]``: the noisy latent already multiplied by ``c_in`` (per frame),
    - ``c_noise [B, T]``: EDM's noise conditioning per latent frame (condition frames carry their
      own, small, augmentation sigma),
    - ``cond_mask [B, T]``: 1 for condition (given) latent frames, fed as an extra input channel,
    - ``text [B, L, text_dim]`` and ``text_mask [B, L]`` (True = real token),
    - ``actions [B, T, A]`` per latent frame (pooled; see ``generators.conditioning.pool_actions``)
      or None; ``action_mask [B]`` drops them per sample (classifier-free guidance),

    returns the raw prediction ``F [B, C, T, H, W]``.
    """

    config_class = DiTConfig

    def __init__(self, config: DiTConfig):
        if not isinstance(config, DiTConfig):
            raise TypeError(f"DiT takes a DiTConfig, got {type(config).__name__}")
        super().__init__()
        self.config = config
        from ..conditioning import ActionEmbedding

        d, (pt, ph, pw) = config.dim, config.patch_size
        # +1 input channel: the condition mask (Cosmos-Predict1 Video2World)
        self.patch_embed = nn.Linear((config.latent_channels + 1) * pt * ph * pw, d)
        self.t_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.t_norm = nn.RMSNorm(d, eps=1e-6)
        self.adaln_lora = nn.Linear(d, 3 * d)  # the shared full-rank part of every AdaLN-LoRA
        self.action_embed = ActionEmbedding(config.action_dim, d) if config.action_dim else None
        self.blocks = nn.ModuleList(DiTBlock(config) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_mod = nn.Linear(d, 2 * d)
        self.final = nn.Linear(d, config.latent_channels * pt * ph * pw)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear) and m.weight.requires_grad:
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # Start as the identity in the residual stream and with a zero output (DiT's adaLN-Zero).
        for blk in self.blocks:
            for mod in (blk.mod_attn, blk.mod_cross, blk.mod_mlp):
                nn.init.zeros_(mod.up.weight)
        nn.init.zeros_(self.adaln_lora.weight)
        nn.init.zeros_(self.adaln_lora.bias)
        nn.init.zeros_(self.final_mod.weight)
        nn.init.zeros_(self.final_mod.bias)
        nn.init.zeros_(self.final.weight)
        nn.init.zeros_(self.final.bias)
        if self.action_embed is not None:
            self.action_embed.reset_parameters()

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, cond_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor | None = None, actions: torch.Tensor | None = None,
                action_mask: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.config
        B, C, T, H, W = x.shape
        pt, ph, pw = cfg.patch_size
        if C != cfg.latent_channels:
            raise ValueError(f"expected {cfg.latent_channels} latent channels, got {C} (x shape {tuple(x.shape)})")
        if T % pt or H % ph or W % pw:
            raise ValueError(f"latent size {T}x{H}x{W} is not divisible by the patch size {cfg.patch_size}")
        if c_noise.shape != (B, T) or cond_mask.shape != (B, T):
            raise ValueError(f"c_noise and cond_mask must be [B, T] = [{B}, {T}], got "
                             f"{tuple(c_noise.shape)} and {tuple(cond_mask.shape)}")
        t, h, w = T // pt, H // ph, W // pw

        mask = cond_mask.to(x.dtype)[:, None, :, None, None].expand(B, 1, T, H, W)
        x = torch.cat([x, mask], dim=1)
        # [B, C+1, t*pt, h*ph, w*pw] -> [B, t, h*w, (C+1)*pt*ph*pw]
        x = x.reshape(B, C + 1, t, pt, h, ph, w, pw).permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(B, t, h * w, -1)
        x = self.patch_embed(x)  # [B, t, S, D]

        # one noise level (and action) per token frame: average over the pt latent frames it spans
        c_noise_t = c_noise.float().reshape(B, t, pt).mean(-1)  # [B, t]
        emb = self.t_embed(timestep_embedding(c_noise_t, cfg.dim))  # [B, t, D]
        if self.action_embed is not None and actions is not None:
            if actions.shape[:2] != (B, T) or actions.shape[2] != cfg.action_dim:
                raise ValueError(f"actions must be [B, T, A] = [{B}, {T}, {cfg.action_dim}] per latent frame, "
                                 f"got {tuple(actions.shape)}")
            scale = actions.new_tensor(cfg.action_scale)
            a = self.action_embed((actions / scale).reshape(B, t, pt, -1).mean(2))  # [B, T, A] -> [B, t, D]
            if action_mask is not None:
                a = a * action_mask.to(a.dtype)[:, None, None]
            emb = emb + a
        emb = self.t_norm(emb)
        lora_base = self.adaln_lora(F.silu(emb))  # [B, t, 3D]

        rope = rope_frequencies(cfg, t, h, w, x.device)
        for blk in self.blocks:
            x = blk(x, emb, lora_base, text, text_mask, rope)

        shift, scale = self.final_mod(F.silu(emb)).chunk(2, dim=-1)
        x = self.final(modulate(self.final_norm(x), shift, scale))  # [B, t, S, C*pt*ph*pw]
        # [B, t, h*w, C*pt*ph*pw] -> [B, C, T, H, W]
        x = x.reshape(B, t, h, w, C, pt, ph, pw).permute(0, 4, 1, 5, 2, 6, 3, 7)
        return x.reshape(B, C, T, H, W)


# ----------------------------------------------------------------------------- presets

PRESETS: dict[str, DiTConfig] = {
    # Tests: a few thousand parameters' worth of compute.
    "test": DiTConfig(dim=64, depth=2, num_heads=2, adaln_lora_dim=16),
    # The bundled default (4.6M parameters): the CPU recipe trains it in about an hour at 64x96.
    "small": DiTConfig(dim=192, depth=6, num_heads=3, adaln_lora_dim=48),
    # The GPU recipe's model (10.6M parameters), for 128x192.
    "base": DiTConfig(dim=256, depth=8, num_heads=4, adaln_lora_dim=64),
    # Cosmos-Predict1 shapes (T5-XXL text width 1024), for benchmarks and scaling.
    "cosmos-7b": DiTConfig(dim=4096, depth=28, num_heads=32, adaln_lora_dim=256, text_dim=1024),
    "cosmos-14b": DiTConfig(dim=5120, depth=36, num_heads=40, adaln_lora_dim=256, text_dim=1024),
}
