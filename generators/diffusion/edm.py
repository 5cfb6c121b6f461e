"""EDM (Karras et al. 2022) preconditioning and training loss, as small pure functions.

``D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma))``

Sigma is per latent frame (``[B, T]``): Video2World's condition frames carry a
small augmentation sigma while the generated frames carry the diffusion sigma
(Cosmos-Predict1). The network ``F`` is :class:`~.model.DiT`; nothing here has
parameters.
"""

from __future__ import annotations

import torch

from ..conditioning import Conditioning

SIGMA_DATA = 0.5


def edm_scalings(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(c_skip, c_out, c_in, c_noise)`` for any-shaped ``sigma`` (EDM Table 1)."""
    s2, d2 = sigma**2, sigma_data**2
    c_skip = d2 / (s2 + d2)
    c_out = sigma * sigma_data / (s2 + d2).sqrt()
    c_in = 1.0 / (s2 + d2).sqrt()
    c_noise = sigma.log() / 4
    return c_skip, c_out, c_in, c_noise


def edm_loss_weight(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA) -> torch.Tensor:
    """lambda(sigma) = 1 / c_out^2: makes the loss of every noise level start at unit scale."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def sample_training_sigma(n: int, p_mean: float, p_std: float, device: torch.device | str = "cpu",
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """log-normal sigma: ``ln sigma ~ N(p_mean, p_std^2)``, shape ``[n]``."""
    z = torch.randn(n, generator=generator, device=device)
    return (p_mean + p_std * z).exp()


def denoise(model: torch.nn.Module, x: torch.Tensor, sigma: torch.Tensor, cond_mask: torch.Tensor,
            cond: Conditioning, sigma_data: float = SIGMA_DATA) -> torch.Tensor:
    """The preconditioned denoiser ``D(x; sigma)``: ``x [B, C, T, H, W]``, ``sigma [B, T]``,
    ``cond_mask [B, T]`` (True = condition frame) -> the estimate of the clean latent."""
    s = sigma.float()[:, None, :, None, None]  # [B, T] -> [B, 1, T, 1, 1]
    c_skip, c_out, c_in, c_noise = edm_scalings(s, sigma_data)
    out = model(c_in * x, c_noise[:, 0, :, 0, 0], cond_mask, cond.text, cond.text_mask, cond.actions, cond.action_mask)
    return c_skip * x + c_out * out.float()


def frame_sigmas(sigma: torch.Tensor, sigma_cond: torch.Tensor, cond_mask: torch.Tensor) -> torch.Tensor:
    """Per-frame sigma ``[B, T]``: ``sigma_cond [B]`` on condition frames, ``sigma [B]`` elsewhere."""
    return torch.where(cond_mask, sigma_cond[:, None], sigma[:, None]).float()


def video2world_loss(model: torch.nn.Module, x0: torch.Tensor, num_cond: torch.Tensor, cond: Conditioning, *,
                     p_mean: float, p_std: float, sigma_cond_range: tuple[float, float],
                     sigma_data: float = SIGMA_DATA, generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, dict[str, float]]:
    """EDM loss on the generated frames of clean latents ``x0 [B, C, T, H, W]``.

    The first ``num_cond[b]`` latent frames of sample b are the condition: they get
    log-uniform augmentation noise from ``sigma_cond_range`` (so the model learns to
    trust clean first frames and to doubt its own earlier output in long rollouts),
    and they carry no loss. ``num_cond = 0`` is text-to-world. The training values of
    ``p_mean``, ``p_std`` and ``sigma_cond_range`` live in ``DiffusionLossConfig`` alone."""
    B, _, T = x0.shape[:3]
    dev = x0.device
    cond_mask = torch.arange(T, device=dev)[None, :] < num_cond[:, None].to(dev)  # [B, T]
    sigma = sample_training_sigma(B, p_mean, p_std, dev, generator)
    lo, hi = (torch.tensor(v).log() for v in sigma_cond_range)
    u = torch.rand(B, generator=generator, device=dev)
    sigma_cond = (lo + (hi - lo) * u).exp()
    sigma_bt = frame_sigmas(sigma, sigma_cond, cond_mask)  # [B, T]
    noise = torch.randn(x0.shape, generator=generator, device=dev, dtype=torch.float32)
    x_noisy = x0.float() + sigma_bt[:, None, :, None, None] * noise
    d = denoise(model, x_noisy, sigma_bt, cond_mask, cond, sigma_data)
    per_frame = ((d - x0.float()) ** 2).mean(dim=(1, 3, 4)) * edm_loss_weight(sigma_bt, sigma_data)  # [B, T]
    gen = (~cond_mask).float()
    loss = (per_frame * gen).sum() / gen.sum().clamp(min=1.0)
    return loss, {"sigma_mean": float(sigma.mean())}
