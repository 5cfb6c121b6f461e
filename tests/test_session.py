"""Closed-loop sessions: stepping chunk by chunk equals one generate call; guardrail per step; clear errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
import pytest

from conftest import tiny_world
from cosmos_lite.generators.diffusion import DiffusionSettings
from cosmos_lite.world import GenerationBlocked

pytestmark = pytest.mark.usefixtures("one_thread")

S = DiffusionSettings(steps=2)


@pytest.fixture(scope="module")
def wm():
    return tiny_world((32, 48), frames=9)  # chunk 3 latents, context 2: a step of 4 frames is one chunk


def _inputs(n: int):
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (5, 32, 48, 3), dtype=np.uint8)
    actions = np.stack([rng.uniform(-1, 1, n), rng.uniform(-0.02, 0.02, n)], 1).astype(np.float32)
    return video, actions


def test_stepping_in_chunks_equals_one_generate_call(wm):
    video, actions = _inputs(17)
    whole = wm.generate("rain, a truck", video=video, actions=actions, num_frames=17, seed=4, settings=S,
                        progress=False).frames
    session = wm.session("rain, a truck", video=video, actions=actions[:5], seed=4, settings=S)
    assert session.step_frames == 4 and len(session.frames) == 5
    for k in range(5, 17, 4):
        out = session.step(actions[k:k + 4])
        assert out.shape == (4, 32, 48, 3)
    assert np.array_equal(session.frames, whole)


def test_text_to_world_session_equals_generate(wm):
    whole = wm.generate("fog", num_frames=13, seed=2, settings=S, progress=False).frames
    session = wm.session("fog", seed=2, settings=S)
    first = session.step(num_frames=9)  # 1 + 2 groups: latent frame 0 and one chunk
    assert first.shape[0] == 9
    session.step(num_frames=4)
    assert np.array_equal(session.frames, whole)


def test_actions_change_what_the_next_step_shows(wm):
    video, actions = _inputs(9)
    a = wm.session("rain", video=video, actions=actions[:5], seed=1, settings=S)
    b = wm.session("rain", video=video, actions=actions[:5], seed=1, settings=S)
    steer = actions[5:9].copy()
    steer[:, 1] = 0.09
    assert not np.array_equal(a.step(actions[5:9]), b.step(steer))


class Guard:
    def __init__(self, block_output_after: int):
        self.calls, self.n = [], block_output_after

    def _report(self, ok):
        return SimpleNamespace(allowed=ok, reasons=[] if ok else ["stub says no"], to_dict=lambda: {"allowed": ok})

    def check_request(self, prompt, video, actions, expected_frames, negative_prompt=None):
        self.calls.append("request")
        return self._report(True)

    def check_output(self, frames, condition_frames=None):
        self.calls.append(("output", len(frames), None if condition_frames is None else len(condition_frames)))
        return (frames, self._report(True)) if len(self.calls) <= self.n else (None, self._report(False))


def test_the_guardrail_checks_every_step_and_a_blocked_step_changes_nothing(wm):
    video, actions = _inputs(13)
    guarded = type(wm)(wm.config, {"diffusion": wm.generator()}, wm.tokenizers, Guard(block_output_after=2))
    session = guarded.session("rain", video=video, actions=actions[:5], seed=0, settings=S)
    session.step(actions[5:9])
    assert guarded.guardrail.calls == ["request", ("output", 4, 5)]  # continuity with the frames before
    with pytest.raises(GenerationBlocked, match="generated clip"):
        session.step(actions[9:13])
    assert len(session.frames) == 9 and session.latent_frames == 3


@pytest.mark.parametrize("call, message", [
    (lambda s, a: s.step(a[5:8]), "whole latent groups of 4"),
    (lambda s, a: s.step(num_frames=4), "this session is steered"),
    (lambda s, a: s.step(np.full((4, 2), np.nan, np.float32)), "NaN"),
    (lambda s, a: s.step(np.zeros((4, 3), np.float32)), r"\[T, 2\]"),
])
def test_bad_steps_are_clear_errors(wm, call, message):
    video, actions = _inputs(9)
    session = wm.session("rain", video=video, actions=actions[:5], seed=0, settings=S)
    with pytest.raises(ValueError, match=message):
        call(session, actions)
    assert len(session.frames) == 5  # nothing happened


def test_bad_session_starts_are_clear_errors(wm):
    video, actions = _inputs(9)
    with pytest.raises(ValueError, match="5 condition frames|5 frames"):
        wm.session("rain", video=video, actions=actions[:3], settings=S)
    with pytest.raises(ValueError, match="no first frames"):
        wm.session("rain", actions=actions[:1], settings=S)


@pytest.fixture(scope="module")
def ar_wm():
    from test_autoregressive import tiny_ar_world

    return tiny_ar_world()


def test_autoregressive_sessions_step_like_one_generate_call(ar_wm):
    """The AR generator carries its KV cache between steps: any split into steps gives generate's clip."""
    from cosmos_lite.generators.autoregressive import ARSettings

    size = ar_wm.config.spec(None).size
    rng = np.random.default_rng(3)
    video = rng.integers(0, 255, (5, *size, 3), dtype=np.uint8)
    actions = np.stack([rng.uniform(-1, 1, 17), rng.uniform(-0.02, 0.02, 17)], 1).astype(np.float32)
    st = ARSettings(decode_steps=2, guidance=2.0)
    whole = ar_wm.generate("rain, a truck", video=video, actions=actions, num_frames=17, seed=5, settings=st,
                           progress=False).frames
    session = ar_wm.session("rain, a truck", video=video, actions=actions[:5], seed=5, settings=st)
    assert session.step_frames == 4
    session.step(actions[5:13])  # two latent groups in one step, then one
    session.step(actions[13:17])
    assert np.array_equal(session.frames, whole)
    t2w = ar_wm.generate("fog", num_frames=9, seed=1, settings=st, progress=False).frames
    s2 = ar_wm.session("fog", seed=1, settings=st)
    s2.step(num_frames=5)
    s2.step(num_frames=4)
    assert np.array_equal(s2.frames, t2w)


def test_a_blocked_autoregressive_step_leaves_the_cache_as_it_was(ar_wm):
    """copy.copy of the AR rollout state is a real snapshot: stepping from it twice gives the same ids."""
    import copy

    from cosmos_lite.generators.autoregressive import ARSettings

    session = ar_wm.session("rain", seed=0, settings=ARSettings(decode_steps=2))
    session.step(num_frames=5)
    snap = copy.copy(session.state)
    a = session.gen.extend(session.state, 3)
    b = session.gen.extend(snap, 3)
    assert a.shape[1] == 3 and torch.equal(a[:, :2], b[:, :2])  # the history is shared, the new frame is not
    assert len(snap.frames) == 3 and len(session.state.frames) == 3
    with pytest.raises(ValueError, match="already holds 3"):
        session.gen.extend(snap, 3)
