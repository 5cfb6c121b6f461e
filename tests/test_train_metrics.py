"""Metrics, schedules and EMA: small pure functions with known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosmos_lite.train.ema import EMA
from cosmos_lite.eval.metrics import (
    bits_per_pixel,
    code_histogram,
    codebook_perplexity,
    codebook_usage,
    ms_ssim,
    ms_ssim_scales,
    psnr,
    ssim,
)
from cosmos_lite.train.schedule import ema_decay_at, lr_factor


def _video(b=2, t=3, h=48, w=64, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(b, 3, 1, h // 8, w // 8, generator=g)
    smooth = torch.nn.functional.interpolate(base, size=(t, h, w), mode="trilinear", align_corners=False)
    return (smooth * 2 - 1).clamp(-1, 1)


def test_psnr_identical_is_inf_and_known_value():
    x = _video()
    assert torch.isinf(psnr(x, x)).all()
    y = x + 0.02  # mse = 4e-4, range 2 -> 10 log10(4 / 4e-4) = 40 dB
    assert torch.allclose(psnr(x, y), torch.full((2,), 40.0), atol=1e-3)


def test_ssim_of_identical_is_one_and_falls_with_noise():
    x = _video()
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-5)
    g = torch.Generator().manual_seed(1)
    vals = [float(ssim(x, (x + s * torch.randn(x.shape, generator=g)).clamp(-1, 1)).mean()) for s in (0.02, 0.1, 0.4)]
    assert 1.0 > vals[0] > vals[1] > vals[2]


def test_ssim_matches_scikit_image():
    skm = pytest.importorskip("skimage.metrics")
    x = _video(b=1, t=1, h=40, w=40)
    y = (x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))).clamp(-1, 1)
    ref = skm.structural_similarity(x[0, :, 0].permute(1, 2, 0).numpy(), y[0, :, 0].permute(1, 2, 0).numpy(),
                                    data_range=2.0, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False)
    assert float(ssim(x, y)[0]) == pytest.approx(ref, abs=2e-3)


def test_ms_ssim_scales_and_fallback():
    assert ms_ssim_scales(16, 16) == 1  # too small: plain SSIM
    assert ms_ssim_scales(64, 96) == 3
    assert ms_ssim_scales(256, 256) == 5
    small = _video(h=16, w=16)
    noisy = (small + 0.1).clamp(-1, 1)
    assert torch.allclose(ms_ssim(small, noisy), ssim(small, noisy))
    x = _video(h=64, w=96)
    assert torch.allclose(ms_ssim(x, x), torch.ones(2), atol=1e-5)
    y = (x + 0.2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3))).clamp(-1, 1)
    v = ms_ssim(y, x)
    assert torch.isfinite(v).all() and (v < 0.99).all()


def test_ssim_stays_finite_under_bf16_autocast():
    x = _video(h=64, w=96)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        v = ms_ssim(x, (x * 0.5).clamp(-1, 1))
    assert torch.isfinite(v).all() and (v <= 1.0).all()


def test_codebook_usage_and_perplexity_on_known_ids():
    counts = code_histogram(torch.tensor([[0, 0], [1, 1]]), vocab_size=4)
    assert counts.tolist() == [2, 2, 0, 0]
    assert codebook_usage(counts) == 0.5
    assert codebook_perplexity(counts) == pytest.approx(2.0)
    uniform = code_histogram(torch.arange(8).repeat(3), 8)
    assert codebook_usage(uniform) == 1.0 and codebook_perplexity(uniform) == pytest.approx(8.0)
    one = code_histogram(torch.full((10,), 3), 8)
    assert codebook_perplexity(one) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        code_histogram(torch.tensor([8]), 8)


def test_bits_per_pixel():
    # 16 channels x 5 x 4 x 6 latent values at 16 bits for 17 x 32 x 48 pixels
    assert bits_per_pixel((16, 5, 4, 6), 16.0, 17, 32, 48) == pytest.approx(16 * 5 * 4 * 6 * 16 / (17 * 32 * 48))


def test_warmup_cosine_values():
    f = [lr_factor(s, 10, 101, 0.1) for s in range(101)]
    assert f[0] == pytest.approx(0.1) and f[4] == pytest.approx(0.5) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0)
    assert f[55] == pytest.approx(0.55)  # half-way through the cosine: (1 + 0.1) / 2
    assert f[100] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(f[10:], f[11:]))
    assert lr_factor(500, 10, 101, 0.1) == pytest.approx(0.1)  # constant past the end
    assert lr_factor(0, 0, 10, 0.0) == pytest.approx(1.0)  # no warmup
    with pytest.raises(ValueError):
        lr_factor(-1, 10, 100, 0.1)


def test_ema_follows_decay_formula_and_differs_from_raw():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    ema = EMA(model, decay=0.9)
    w0 = model.weight.detach().clone()
    for step in (1, 2, 50):
        with torch.no_grad():
            model.weight.add_(1.0)
        before = ema.model.weight.detach().clone()
        d = ema.update(model, step)
        assert d == pytest.approx(min(0.9, (1 + step) / (10 + step)))
        assert torch.allclose(ema.model.weight, d * before + (1 - d) * model.weight, atol=1e-6)
    assert not torch.allclose(ema.model.weight, model.weight)
    assert not torch.allclose(ema.model.weight, w0)
    assert ema_decay_at(10_000, 0.999) == 0.999
    assert not any(p.requires_grad for p in ema.model.parameters())
