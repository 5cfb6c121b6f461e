"""Sampling: classifier-free guidance, diffusers' EDM schedulers, Video2World and long rollouts.

The schedulers (``EDMEulerScheduler``, ``EDMDPMSolverMultistepScheduler``) own
the step rule; the denoised estimate comes from :func:`guided_denoise` (per-frame
preconditioning, condition frames held at their clean values, guidance) and is
handed to the scheduler as the raw output that its own preconditioning maps
back to that estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Literal

import torch

from ..conditioning import Conditioning, stack_branches
from .edm import SIGMA_DATA, denoise, edm_scalings

Solver = Literal["euler", "dpm"]
MAX_STEPS = 1000
MAX_GUIDANCE = 20.0
Generators = torch.Generator | list[torch.Generator] | None  # one for the batch, or one per sample


def randn(shape: tuple[int, ...], generator: Generators, device: torch.device | str) -> torch.Tensor:
    """Standard normal noise; with a list of generators sample b draws from ``generator[b]`` alone,
    so a request gives the same noise whatever batch it is sampled in."""
    if isinstance(generator, (list, tuple)):
        if len(generator) != shape[0]:
            raise ValueError(f"{len(generator)} generators for a batch of {shape[0]}")
        return torch.stack([torch.randn(shape[1:], generator=g, device=device) for g in generator])
    return torch.randn(shape, generator=generator, device=device)


@dataclass(frozen=True)
class SamplerSettings:
    """Knobs of one sampling run. ``sigma_cond`` is the augmentation noise put on the condition
    frames; long rollouts raise it by ``sigma_cond_growth`` per chunk against drift."""

    steps: int = 24
    guidance: float = 1.5  # DiffusionSettings' default (measured there)
    solver: Solver = "dpm"
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    sigma_cond: float = 0.01
    sigma_cond_growth: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {self.steps!r}")
        if isinstance(self.guidance, bool) or not isinstance(self.guidance, (int, float)) \
                or not 1 <= self.guidance <= MAX_GUIDANCE:
            # 1 = the conditional prediction alone (no guidance); below 1 it leans towards the
            # unconditional one; beyond ~20 the estimate leaves the data range: stripes, not a stronger prompt
            raise ValueError(f"guidance must be a number in [1, {MAX_GUIDANCE:g}] (1 = no guidance), "
                             f"got {self.guidance!r}")
        if self.solver not in ("euler", "dpm"):
            raise ValueError(f"solver must be 'euler' or 'dpm', got {self.solver!r}")
        if not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min}, {self.sigma_max}")
        if self.sigma_cond <= 0 or self.sigma_cond_growth < 0:
            raise ValueError("sigma_cond must be > 0 and sigma_cond_growth >= 0")


def mark_input_scaled(scheduler) -> None:
    """Tell a diffusers EDM scheduler that the model input was already scaled.

    ``denoise`` applies c_in per frame (condition frames have their own sigma), so the
    scheduler's ``scale_model_input``, which scales every frame by one sigma, is never called;
    diffusers warns on every step unless this private flag is set. diffusers is pinned to the
    tested range and ``tests/test_diffusion.py`` fails if the flag stops silencing it.
    """
    scheduler.is_scale_input_called = True


def make_scheduler(settings: SamplerSettings):
    from diffusers import EDMDPMSolverMultistepScheduler, EDMEulerScheduler

    common = dict(sigma_min=settings.sigma_min, sigma_max=settings.sigma_max, sigma_data=SIGMA_DATA,
                  sigma_schedule="karras", prediction_type="epsilon")
    if settings.solver == "euler":
        return EDMEulerScheduler(**common)
    return EDMDPMSolverMultistepScheduler(**common, solver_order=2, algorithm_type="dpmsolver++")


def guided_denoise(model: torch.nn.Module, x: torch.Tensor, sigma: torch.Tensor, cond_mask: torch.Tensor,
                   cond: Conditioning, uncond: Conditioning | None, guidance: float) -> torch.Tensor:
    """Classifier-free guidance on the denoised estimate: ``D_u + w (D_c - D_u)``.

    ``guidance == 1`` (or no ``uncond``) is the conditional prediction alone; otherwise both
    branches run as one batch."""
    if uncond is None or guidance == 1.0:
        return denoise(model, x, sigma, cond_mask, cond)
    d = denoise(model, x.repeat(2, 1, 1, 1, 1), sigma.repeat(2, 1), cond_mask.repeat(2, 1), stack_branches(cond, uncond))
    d_c, d_u = d.chunk(2)
    return d_u + guidance * (d_c - d_u)


@torch.no_grad()
def sample(model: torch.nn.Module, shape: tuple[int, int, int, int, int], cond: Conditioning,
           uncond: Conditioning | None, settings: SamplerSettings, cond_latents: torch.Tensor | None = None,
           generator: Generators = None, sigma_cond: float | None = None,
           callback: Callable[[int], None] | None = None) -> torch.Tensor:
    """Generate latents ``[B, C, T, H, W]``.

    ``cond_latents [B, C, k, H, W]`` are the first k latent frames (Video2World; k = 0 or None is
    text-to-world). They are returned unchanged; the network sees them with ``sigma_cond`` noise.
    ``generator`` (one, or one per sample) seeds the initial noise and the condition noise
    (deterministic on CPU)."""
    B, C, T, H, W = shape
    dev = next(model.parameters()).device
    k = 0 if cond_latents is None else cond_latents.shape[2]
    if cond_latents is not None and (cond_latents.shape[:2] != (B, C) or cond_latents.shape[3:] != (H, W) or k > T):
        raise ValueError(f"condition latents {tuple(cond_latents.shape)} do not fit the output shape {shape}")
    if k == T:
        return cond_latents.clone()
    cond_mask = torch.zeros(B, T, dtype=torch.bool, device=dev)
    cond_mask[:, :k] = True
    s_cond = torch.full((B,), settings.sigma_cond if sigma_cond is None else sigma_cond, device=dev)

    sched = make_scheduler(settings)
    sched.set_timesteps(settings.steps, device=dev)
    mark_input_scaled(sched)
    sigmas = sched.sigmas.to(dev)
    x = randn(shape, generator, dev) * sigmas[0]
    x_cond = None
    if k:
        eps_cond = randn((B, C, k, H, W), generator, dev)
        x_cond = cond_latents.float() + s_cond[:, None, None, None, None] * eps_cond
    for i, t in enumerate(sched.timesteps):
        sigma = sigmas[i]
        if x_cond is not None:
            x[:, :, :k] = x_cond
        sigma_bt = torch.where(cond_mask, s_cond[:, None], sigma)  # [B, T]
        d = guided_denoise(model, x, sigma_bt, cond_mask, cond, uncond, settings.guidance)
        # hand the scheduler the raw output whose EDM preconditioning at `sigma` gives `d`
        c_skip, c_out, _, _ = edm_scalings(sigma, SIGMA_DATA)
        x = sched.step((d - c_skip * x) / c_out, t, x, return_dict=False)[0]
        if callback is not None:
            callback(i)
    if k:
        x[:, :, :k] = cond_latents
    return x


@torch.no_grad()
def rollout_chunk(model: torch.nn.Module, done: torch.Tensor | None, start: int, index: int, target: int, chunk: int,
                  cond: Conditioning, uncond: Conditioning | None, settings: SamplerSettings,
                  latent_shape: tuple[int, int, int], generator: Generators = None,
                  callback: Callable[[int], None] | None = None) -> torch.Tensor:
    """One chunk of a rollout: latent frames ``start .. min(start + chunk, target)``, conditioned on
    ``done[:, :, start:]`` (the context carried over; None or empty at the very start) with
    ``sigma_cond + index * sigma_cond_growth`` condition noise. Returns ``done`` extended.

    ``cond.actions`` (and ``uncond.actions``), when given, cover at least ``target`` latent
    frames; the chunk sees its window. :func:`rollout` is this in a loop, and a closed-loop
    session that calls it chunk by chunk with the same generator gets the same latents."""
    C, H, W = latent_shape
    B = cond.text.shape[0]
    n = min(chunk, target - start)
    have = 0 if done is None else done.shape[2]

    def window(c: Conditioning | None) -> Conditioning | None:
        return None if c is None or c.actions is None else replace(c, actions=c.actions[:, start:start + n])

    ctx = None if done is None or have == 0 else done[:, :, start:have]
    s_cond = settings.sigma_cond + index * settings.sigma_cond_growth
    x = sample(model, (B, C, n, H, W), window(cond) or cond, window(uncond) or uncond, settings, ctx, generator,
               s_cond, callback)
    return x if done is None else torch.cat([done[:, :, :start], x], dim=2)


@torch.no_grad()
def rollout(model: torch.nn.Module, cond_latents: torch.Tensor | None, num_latent_frames: int, chunk: int,
            context: int, cond: Conditioning, uncond: Conditioning | None, settings: SamplerSettings,
            latent_shape: tuple[int, int, int], generator: Generators = None,
            callback: Callable[[int], None] | None = None) -> torch.Tensor:
    """Any-length generation: chunk after chunk of ``chunk`` latent frames, each conditioned on the
    last ``context`` latent frames so far (the given ``cond_latents`` for the first chunk), with
    ``sigma_cond + i * sigma_cond_growth`` condition noise for chunk i.

    ``cond.actions`` (and ``uncond.actions``), when given, cover all ``num_latent_frames``; each
    chunk sees its window. Returns ``[B, C, num_latent_frames, H, W]``."""
    k0 = 0 if cond_latents is None else cond_latents.shape[2]
    if not 1 <= context < chunk:
        raise ValueError(f"need 1 <= context < chunk, got context={context}, chunk={chunk}")
    if num_latent_frames < max(k0, 1):
        raise ValueError(f"num_latent_frames {num_latent_frames} is shorter than the {k0} condition frames")
    if k0 > chunk:
        raise ValueError(f"{k0} condition latent frames do not fit a chunk of {chunk}")
    for c in (cond, uncond):
        if c is not None and c.actions is not None and c.actions.shape[1] != num_latent_frames:
            raise ValueError(f"actions cover {c.actions.shape[1]} latent frames, the rollout {num_latent_frames}")

    done = cond_latents
    start, i = 0, 0  # `start`: latent index of the current chunk's first frame
    while done is None or done.shape[2] < num_latent_frames:
        done = rollout_chunk(model, done, start, i, num_latent_frames, chunk, cond, uncond, settings, latent_shape,
                             generator, callback)
        start, i = done.shape[2] - context, i + 1
    return done
