"""Tokenizer training recipes for two budgets, at the default resolution (128x192, 33 frames).

CPU (bf16 autocast where the CPU has native bf16 and a timed matmul says it is faster than fp32;
elsewhere the engine falls back to fp32: emulated bf16 convolutions are ~100x slower, and one
Xeon with AVX512-BF16 but no AMX ran bf16 1.8x slower; see ``cpu_has_fast_bf16``)::

    OMP_NUM_THREADS=1 nohup cosmos-lite train tokenizer --recipe cpu --preset default-cv --data scenes \
        --out runs/default-cv-cpu > runs/default-cv-cpu.log 2>&1 &
    # killed or interrupted? the same command with --resume continues exactly:
    cosmos-lite train tokenizer --out runs/default-cv-cpu --resume

GPU (one H100 / H200, under 30 minutes)::

    cosmos-lite train tokenizer --recipe gpu --preset default-dv --data scenes --out runs/default-dv-gpu
    # several GPUs, no code change (each process streams its own scenes):
    accelerate launch --num_processes 8 -m cosmos_lite train tokenizer --recipe gpu ...

Scenes are rendered on the fly by the DataLoader workers (about 0.3 s per
33-frame 128x192 clip per core). If rendering cannot keep up with a fast GPU,
export once and train from the folder instead (decoding is cheaper)::

    cosmos-lite scenes export --n 4000 --frames 65 --size 128x192 --fps 10 --split train --out data/scenes-train
    cosmos-lite train tokenizer --recipe gpu --preset default-cv --data data/scenes-train --out runs/cv

Evaluate (PSNR / SSIM, PNG, rate-distortion vs H.264)::

    cosmos-lite eval tokenizer --tokenizer runs/default-cv-gpu/final --data scenes-test --n 16 --out runs/eval-cv

Measured on a shared 2-core AVX2 EPYC (fp32, OMP_NUM_THREADS=1 -- OpenMP spin-waits
made 2 threads ~10x slower on the busy box): default-cv, batch 1, 17x64x96 runs at
~1.9 s per step; 33x128x192 has 8x the voxels (~15 s per micro-batch), so the CPU
recipe's 1200 steps x 2 micro-batches is ~10 hours there, a few hours on a
dedicated many-core or AMX machine. Give threads back (unset OMP_NUM_THREADS) on an idle machine.

The bundled ``default-cv`` (``tokenizer/weights/default-cv``, fp16) is the CPU recipe shrunk to
the world model's 64x96 (27 minutes on a 2-core EPYC with AVX512-BF16, bf16 autocast, ~0.5 s
per step; 22.1 dB val PSNR at the end, still rising: it is CPU-budget-limited, not converged)::

    cosmos-lite train tokenizer --recipe cpu --preset default-cv --data scenes --out runs/tok-cv \
        --frames 17 --size 64x96 --batch-size 2 --grad-accum 1 --steps 3200 --warmup-steps 60 --lr 1e-3 \
        --val-every 400 --ckpt-every 100 --workers 1
    # then the decoder alone (encoder and latent statistics stay bit-identical; ~0.5-0.6 s per step on one
    # thread beside other jobs): 22.1 -> 23.3 dB val PSNR
    cosmos-lite train tokenizer --recipe cpu --finetune-decoder runs/tok-cv/final --data scenes --out runs/tok-dec \
        --frames 17 --size 64x96 --batch-size 2 --grad-accum 1 --steps 3000 --warmup-steps 50 --lr 5e-4 \
        --val-every 500 --ckpt-every 100 --workers 1
    python -c "import torch; from cosmos_lite.tokenizer import VideoTokenizer as V; \
        V.from_pretrained('runs/tok-dec/final').save_pretrained('tokenizer/weights/default-cv', dtype=torch.float16)"

(The shipped run fine-tuned from the fp16 bundled copy, ``--finetune-decoder default-cv``, and the
bundled DiT was trained on that copy's latents; the decoder fine-tune ran after the DiT.) Two more
decoder-only runs followed, each from the bundled copy and saved back the same way: ``--steps 6000
--lr 3e-4 --seed 5 --val-every 1000 --ckpt-every 200 --mixed-precision bf16`` (24.13 dB val at its end), then
``--steps 3000 --lr 2e-4 --seed 9`` (24.35 dB val); the bundled ``default-dv`` got one, ``--finetune-decoder
default-dv --steps 2500 --lr 3e-4 --seed 5``. Decoder-only runs keep latents and token ids fixed, so the
bundled generators need no retraining after them.

The adversarial stage is off in both recipes (``--adv-start-step N`` turns it
on); every other field can be overridden by a flag (``--steps``, ``--lr``, ...).
The GPU step count is an estimate (not measured: no GPU was available when
this was written); adjust ``--steps`` to the wall time you have: the cosine
schedule follows ``--steps``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from .config import (
    DataConfig,
    DiffusionLossConfig,
    DiffusionRunConfig,
    LatentDataConfig,
    TokenizerLossConfig,
    TokenizerRunConfig,
    TrainConfig,
)

Budget = Literal["cpu", "gpu"]

_CPU = TokenizerRunConfig(
    preset="default-cv",
    # Batch 1 x accumulation 2: the activations of a 33x128x192 clip already fill the caches.
    train=TrainConfig(steps=1200, batch_size=1, grad_accum=2, lr=8e-4, warmup_steps=60, min_lr_ratio=0.05,
                      clip_grad=1.0, ema_decay=0.999, mixed_precision="bf16", log_every=10, val_every=100,
                      ckpt_every=50, keep_checkpoints=2, num_workers=1),
    data=DataConfig(source="scenes", frames=33, size=(128, 192), fps=10.0, val_clips=4, stats_clips=8),
    loss=TokenizerLossConfig(),
)

_GPU = TokenizerRunConfig(
    preset="default-cv",
    train=TrainConfig(steps=6000, batch_size=8, grad_accum=1, lr=1e-3, warmup_steps=300, min_lr_ratio=0.05,
                      clip_grad=1.0, ema_decay=0.999, mixed_precision="bf16", log_every=25, val_every=500,
                      ckpt_every=500, keep_checkpoints=2, num_workers=12),
    data=DataConfig(source="scenes", frames=33, size=(128, 192), fps=10.0, val_clips=16, stats_clips=32),
    loss=TokenizerLossConfig(),
)

RECIPES: dict[tuple[Budget, str], TokenizerRunConfig] = {
    ("cpu", "default-cv"): _CPU,
    ("cpu", "default-dv"): replace(_CPU, preset="default-dv"),
    ("gpu", "default-cv"): _GPU,
    ("gpu", "default-dv"): replace(_GPU, preset="default-dv"),
}


def recipe(budget: Budget, preset: str = "default-cv") -> TokenizerRunConfig:
    """The recipe for ``budget`` ("cpu" / "gpu"); other presets reuse the default-cv schedule."""
    if budget not in ("cpu", "gpu"):
        raise ValueError(f"recipe must be 'cpu' or 'gpu', got {budget!r}")
    base = RECIPES.get((budget, preset))
    if base is None:
        from cosmos_lite.tokenizer import PRESETS

        if preset not in PRESETS:
            raise ValueError(f"unknown tokenizer preset {preset!r}; choose one of {', '.join(PRESETS)}")
        base = replace(RECIPES[(budget, "default-cv")], preset=preset)
    return base


# --------------------------------------------------------------------------- diffusion world model
#
# CPU: the 4.6M-parameter "small" DiT on 33x64x96 clips (9 x 8 x 12 latents, 216 tokens), from a
# tokenize directory (encoding on the fly costs more than the DiT step on a CPU). The bundled
# default was made this way, on the bundled default-cv tokenizer (2-core EPYC with AVX512-BF16,
# bf16 autocast: ~0.34 s per step alone, 54 minutes with other jobs; export 25 minutes, tokenize 3.5 minutes)::
#
#     cosmos-lite scenes export --n 1200 --frames 65 --size 64x96 --split train --lossless --out data/scenes-64
#     cosmos-lite tokenize data/scenes-64/manifest.jsonl --tokenizer default-cv --size 64x96 \
#         --clip-frames 33 --stride 32 --fps 10 --out data/latents-64
#     cosmos-lite train diffusion --recipe cpu --data data/latents-64 --out runs/dit
#     python -c "from cosmos_lite.train.bundle import bundle_world_model as b; \
#         b('runs/dit/final', 'generators/diffusion/weights/default', 'default-cv')"
#
# (`bundle_world_model` casts the DiT to fp16 and points world.json at the bundled tokenizer,
# after checking that it holds exactly the weights the DiT was trained with.)
#
# Steering (the models issue): the same data with perturbed ego actions and salient events, so the
# future depends on the actions, continuing from the bundled DiT (--init-from bundled) so CPU runs
# add up; a killed run continues with --resume::
#
#     cosmos-lite scenes export --n 1200 --frames 65 --size 64x96 --split train --lossless \
#         --behaviour mix --salient --out data/scenes-64-mix
#     cosmos-lite tokenize data/scenes-64-mix/manifest.jsonl --tokenizer default-cv --size 64x96 \
#         --clip-frames 33 --stride 32 --fps 10 --out data/latents-64-mix
#     cosmos-lite train diffusion --recipe cpu --data data/latents-64-mix --init-from bundled \
#         --steps 3000 --lr 3e-4 --warmup-steps 50 --out runs/dit-mix
#     python -c "from cosmos_lite.train.bundle import bundle_world_model as b; \
#         b('runs/dit-mix/final', 'cosmos_lite/weights/world', 'default-cv')"
#     # then world.json's action_range = the scenes' ACTION_RANGE, the range it was trained on
#
# The bundled model is this on top of the first recipe, twice (3 000 steps at lr 3e-4, then 4 000 at
# 2e-4): 8 000 + 7 000 steps, about 2 CPU hours in all (2 021 s and 1 705 s on the AVX512-BF16 box).
#
# GPU: the 10.6M "base" DiT at 128x192 (864 tokens), scenes encoded on the fly by the loader workers.

_DIFFUSION_CPU = DiffusionRunConfig(
    preset="small",
    train=TrainConfig(steps=8000, batch_size=8, grad_accum=1, lr=5e-4, warmup_steps=100, min_lr_ratio=0.1,
                      clip_grad=1.0, ema_decay=0.999, mixed_precision="bf16", log_every=20, val_every=500,
                      ckpt_every=100, keep_checkpoints=2, num_workers=0),
    data=LatentDataConfig(source="scenes", tokenizer="default-cv", frames=33, size=(64, 96), fps=10.0, val_clips=8),
    loss=DiffusionLossConfig(),
)

_DIFFUSION_GPU = DiffusionRunConfig(
    preset="base",
    train=TrainConfig(steps=20000, batch_size=64, grad_accum=1, lr=3e-4, warmup_steps=500, min_lr_ratio=0.1,
                      clip_grad=1.0, ema_decay=0.9995, mixed_precision="bf16", log_every=50, val_every=1000,
                      ckpt_every=1000, keep_checkpoints=2, num_workers=12),
    data=LatentDataConfig(source="scenes", tokenizer="default-cv", frames=33, size=(128, 192), fps=10.0,
                          val_clips=16),
    loss=DiffusionLossConfig(),
)


def diffusion_recipe(budget: Budget) -> DiffusionRunConfig:
    """The diffusion world-model recipe for ``budget`` ("cpu" / "gpu")."""
    if budget not in ("cpu", "gpu"):
        raise ValueError(f"recipe must be 'cpu' or 'gpu', got {budget!r}")
    return _DIFFUSION_CPU if budget == "cpu" else _DIFFUSION_GPU
