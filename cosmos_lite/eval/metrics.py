"""Reconstruction and codebook metrics: small pure torch functions.

Videos are ``[B, 3, T, H, W]`` in [-1, 1] (data range 2). SSIM is computed per
frame (T folded into the batch) with an 11-tap Gaussian window (sigma 1.5) and
the usual constants; MS-SSIM uses up to 5 scales with the standard weights,
as many as the frame size allows (each scale halves H and W and the coarsest
must still hold the window), falling back to single-scale SSIM below 2 scales.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DATA_RANGE = 2.0
_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE) -> torch.Tensor:
    """Per-sample PSNR in dB over all non-batch dims; ``inf`` where x == y."""
    mse = (x.float() - y.float()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(data_range**2 / mse)


def _frames(v: torch.Tensor) -> torch.Tensor:
    """[B, C, T, H, W] -> [B*T, C, H, W]; 4-D input passes through."""
    if v.dim() == 5:
        b, c, t, h, w = v.shape
        return v.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    if v.dim() != 4:
        raise ValueError(f"expected [B, C, T, H, W] or [B, C, H, W], got {list(v.shape)}")
    return v


def _gauss(size: int, sigma: float, device, dtype) -> torch.Tensor:
    g = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(g**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_maps(x: torch.Tensor, y: torch.Tensor, data_range: float, win: int, sigma: float):
    """Per-image mean SSIM and contrast-structure terms, [N] each (valid-region filtering)."""
    # float32 even under autocast: variances are differences of nearly equal moments,
    # and bf16 turns them negative (SSIM -> inf).
    with torch.autocast(x.device.type, enabled=False):
        return _ssim_maps_fp32(x.float(), y.float(), data_range, win, sigma)


def _ssim_maps_fp32(x: torch.Tensor, y: torch.Tensor, data_range: float, win: int, sigma: float):
    c = x.shape[1]
    g = _gauss(win, sigma, x.device, x.dtype)
    wh = g.view(1, 1, win, 1).expand(c, 1, win, 1)
    ww = g.view(1, 1, 1, win).expand(c, 1, 1, win)

    def blur(z: torch.Tensor) -> torch.Tensor:  # separable Gaussian, per channel
        return F.conv2d(F.conv2d(z, wh, groups=c), ww, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return (lum * cs).flatten(1).mean(1), cs.flatten(1).mean(1)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE, win: int = 11,
         sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM per sample: ``[B]`` (videos: averaged over frames)."""
    b = x.shape[0]
    fx, fy = _frames(x.float()), _frames(y.float())
    win = min(win, fx.shape[-2], fx.shape[-1])  # tiny frames: shrink the window, never fail
    s, _ = _ssim_maps(fx, fy, data_range, win, sigma)
    return s.view(b, -1).mean(1)


def ms_ssim_scales(height: int, width: int, win: int = 11) -> int:
    """How many MS-SSIM scales (<= 5) fit a frame: the coarsest must be >= the window."""
    n = 1
    while n < len(_MS_WEIGHTS) and min(height, width) // (2**n) >= win:
        n += 1
    return n


def ms_ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE, win: int = 11,
            sigma: float = 1.5) -> torch.Tensor:
    """Mean MS-SSIM per sample ``[B]``; plain SSIM when fewer than 2 scales fit."""
    b = x.shape[0]
    fx, fy = _frames(x.float()), _frames(y.float())
    scales = ms_ssim_scales(fx.shape[-2], fx.shape[-1], win)
    if scales < 2:
        return ssim(x, y, data_range, win, sigma)
    w = torch.tensor(_MS_WEIGHTS[:scales], device=fx.device)
    w = w / w.sum()
    vals = []
    for i in range(scales):
        s, cs = _ssim_maps(fx, fy, data_range, win, sigma)
        # relu: cs can dip below 0 early in training, and a negative base ** weight is NaN.
        vals.append(F.relu(s if i == scales - 1 else cs))
        if i < scales - 1:
            fx, fy = F.avg_pool2d(fx, 2), F.avg_pool2d(fy, 2)
    stacked = torch.stack(vals, dim=1)  # [N, scales]
    per_frame = torch.prod(stacked.clamp_min(1e-8) ** w, dim=1)
    return per_frame.view(b, -1).mean(1)


def code_histogram(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Counts of each token id, ``[vocab_size]`` int64."""
    ids = ids.reshape(-1).long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"token ids must lie in [0, {vocab_size})")
    return torch.bincount(ids, minlength=vocab_size)


def codebook_usage(counts: torch.Tensor) -> float:
    """Fraction of the codebook used at least once."""
    return float((counts > 0).sum()) / counts.numel()


def codebook_perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of the empirical code distribution: the effective number of codes used."""
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts[counts > 0].double() / total
    return float(torch.exp(-(p * p.log()).sum()))


def bits_per_pixel(latent_shape: tuple[int, ...], bits_per_value: float, frames: int, height: int,
                   width: int) -> float:
    """Bits per video pixel of a latent with ``prod(latent_shape)`` values (batch excluded)."""
    return math.prod(latent_shape) * bits_per_value / (frames * height * width)
