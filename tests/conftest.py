"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run a test single-threaded, then restore. Tiny models gain nothing from 2 threads, and
    OpenMP spin-waits on a shared CPU slow them ~10x. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def tiny_world(size=(32, 48), frames=9, guardrail=None, action_range=((-8.0, 4.0), (-0.1, 0.1))):
    """An untrained tiny diffusion world model whose zero-initialised layers get small weights,
    so every input changes the output (``frames`` = its rollout chunk in video frames)."""
    from cosmos_lite.generators.diffusion import PRESETS, DiffusionGenerator, DiffusionGeneratorConfig, DiT
    from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
    from cosmos_lite.tokenizer import VideoTokenizer
    from cosmos_lite.world import GeneratorSpec, WorldConfig, WorldModel

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    tok, dit = VideoTokenizer(TOK_PRESETS["tiny-cv"]), DiT(PRESETS["test"])
    with torch.no_grad():
        for p in [*tok.parameters(), *dit.parameters()]:
            if p.abs().sum() == 0:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    spec = GeneratorSpec(name="diffusion", kind="diffusion", tokenizer="diffusion/tokenizer", size=size, fps=10.0,
                         frames=frames, action_range=action_range)
    t = tok.config.temporal_compression
    gen = DiffusionGenerator(dit, DiffusionGeneratorConfig(chunk_latents=1 + (frames - 1) // t))
    return WorldModel(WorldConfig(generators=(spec,)), {"diffusion": gen}, {"diffusion": tok}, guardrail)
