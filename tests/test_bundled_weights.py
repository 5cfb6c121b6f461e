"""The weights that ship in the package: they load offline, strictly, and do their job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cosmos_lite.data.codec import frames_to_video, video_to_frames
from cosmos_lite.scenes import Scenario, render
from cosmos_lite.tokenizer import VideoTokenizer
from cosmos_lite.generators.autoregressive import ARSettings
from cosmos_lite.generators.diffusion import DiffusionSettings
from cosmos_lite.world import WorldModel, bundled_world_model_dir

PIN = Path(__file__).parent / "data" / "bundled_pin.npz"


pytestmark = pytest.mark.usefixtures("one_thread")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


@pytest.mark.parametrize("name, shape", [("default-cv", (1, 16, 5, 8, 12)), ("default-dv", (1, 5, 8, 12))])
def test_bundled_tokenizers_reconstruct_a_held_out_scene(name, shape):
    tok = VideoTokenizer.from_pretrained(name)
    clip = render(Scenario.sample(2, split="test", duration=17 / 10 + 1e-6), 17, (64, 96), 10.0)
    with torch.no_grad():
        z = tok.encode(frames_to_video(clip.frames))  # latents, or token ids (discrete)
        recon = video_to_frames(tok.decode(z, num_frames=17))
    assert z.shape == shape and z.is_floating_point() == (tok.config.mode == "continuous")
    assert psnr(recon, clip.frames) > 18.0


@pytest.mark.parametrize("name, settings", [("diffusion", DiffusionSettings(steps=4)),
                                            ("autoregressive", ARSettings(decode_steps=4))])
def test_bundled_world_model_generates_offline(name, settings):
    assert (bundled_world_model_dir() / "world.json").is_file()
    wm = WorldModel.from_pretrained(guardrail=None)
    assert wm.generators == ("diffusion", "autoregressive") and wm.config.spec(None).name == "diffusion"
    spec = wm.config.spec(name)
    assert spec.tokenizer == {"diffusion": "default-cv", "autoregressive": "default-dv"}[name]
    assert spec.size == (64, 96) and spec.action_range == ((-9.0, 3.0), (-0.06, 0.06))
    clip = render(Scenario.sample(4, split="test", duration=9 / spec.fps + 1e-6), 9, spec.size, spec.fps)
    out = wm.generate(clip.caption, video=clip.frames[:5], actions=clip.actions, num_frames=9, generator=name,
                      settings=settings, progress=False)
    assert out.frames.shape == (9, 64, 96, 3)
    # a trained model continues the scene: closer to the truth than a flat grey clip
    grey = np.full_like(clip.frames, 128)
    assert psnr(out.frames[5:], clip.frames[5:]) > psnr(grey[5:], clip.frames[5:]) + 3.0


def test_bundled_world_model_gives_the_pinned_clips():
    """The clips the bundled model gives, recorded when it was bundled: bit-identical on the
    AVX512 box that recorded them, within rounding on other CPUs. (The generator seam was proven
    behaviour-neutral the same way: commit 2188e7b passed this test with clips recorded by the
    pre-seam code, a7b4da2, on the weights of that time.)"""
    pin = np.load(PIN)
    wm = WorldModel.from_pretrained(guardrail=None)
    # recorded at guidance 3, the default of that time: the pin is of the weights, not the defaults
    t2w = wm.generate("dusk, fog, a cyclist swerves", num_frames=33, seed=0, settings=DiffusionSettings(guidance=3.0),
                      progress=False).frames
    v2w = wm.generate("night, rain", num_frames=17, seed=3, settings=DiffusionSettings(steps=8, guidance=3.0), video=pin["video"],
                      actions=pin["actions"], progress=False).frames
    for got, want in ((t2w[::4], pin["t2w"]), (v2w[::4], pin["v2w"])):
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.mean() < 0.05 and diff.max() <= 8, (diff.mean(), diff.max())


def test_generate_with_the_bundled_autoregressive_generator_from_the_cli(tmp_path):
    """The issue's acceptance command, offline, guardrail on."""
    from cosmos_lite.cli import main
    from cosmos_lite.data.io import probe_video

    out = tmp_path / "ar.mp4"
    assert main(["generate", "--generator", "autoregressive", "--prompt", "night, heavy rain, a pedestrian steps out",
                 "--frames", "9", "--decode-steps", "2", "-o", str(out), "--no-progress"]) == 0
    assert probe_video(out).num_frames == 9
