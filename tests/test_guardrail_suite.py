"""A sample of benchmarks/guardrail_suite.py: prompt targets, and integrity on true simulator clips."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from cosmos_lite.guardrail import PromptGuard, check_integrity

SUITE_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "guardrail_suite.py"


def _load_suite():
    spec = importlib.util.spec_from_file_location("guardrail_suite", SUITE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


suite = _load_suite()


@pytest.fixture(scope="module")
def guard() -> PromptGuard:
    g = PromptGuard()
    g.check_semantic("warm up: load the encoder and the prototype embeddings once")
    return g


def _sample(cases: list, n: int, seed: int) -> list:
    return random.Random(seed).sample(cases, min(n, len(cases)))


def test_suite_sample_meets_targets(guard: PromptGuard) -> None:
    cases = [c for c in suite.prompt_cases(fills=3) if c.half in suite.HALVES]
    unsafe = _sample([c for c in cases if c.unsafe], 500, 1)
    legit = _sample([c for c in cases if not c.unsafe], 250, 2)
    captions = _sample(suite.simulator_cases(range(40)), 120, 3)
    rows = suite.evaluate(lambda t: guard.check(t).blocked, unsafe + legit + captions)
    print("\n" + suite.prompt_table(rows, "guardrail suite sample"))
    misses = {r.category: r.misses[:5] for r in rows if r.misses}
    assert suite.targets_met(rows) == [], misses
    assert {r.category for r in rows if r.unsafe} == set(suite.UNSAFE)


def test_suite_halves_use_different_templates() -> None:
    cases = suite.prompt_cases(fills=1)
    for category in list(suite.UNSAFE) + list(suite.LEGIT):
        dev = {c.template for c in cases if c.category == category and c.half == "dev"}
        held = {c.template for c in cases if c.category == category and c.half == "held-out"}
        assert dev and held and not dev & held, category


def test_suite_obfuscations_reach_the_marked_word() -> None:
    text = "{attacker} [stabs] {one} at the gas station"
    rng = random.Random(0)
    filled = suite._fill(text, rng)
    assert "[stabs]" in filled and "{" not in filled
    assert suite.WORD_OBFUSCATIONS["leet"]("stabs") == "57485"
    assert suite.WORD_OBFUSCATIONS["leet1"]("shot") == "5hot"


# -- integrity on true simulator clips ----------------------------------------------


@pytest.fixture(scope="module")
def clips_by_condition() -> dict:
    from cosmos_lite.scenes import render

    out = {}
    for condition, scenarios in suite.condition_scenarios(2).items():
        out[condition] = [render(sc, num_frames=33, size=size, fps=10).frames
                          for sc in scenarios for size in suite.SIZES]
    return out


def test_true_clips_of_every_condition_pass_integrity(clips_by_condition: dict) -> None:
    from cosmos_lite.scenes import LIGHTINGS, WEATHERS

    assert set(clips_by_condition) == {(w, li) for w in WEATHERS for li in LIGHTINGS}
    blocked = {cond: problems for cond, clips in clips_by_condition.items()
               for frames in clips if (problems := check_integrity(frames))}
    assert blocked == {}
    # A soft, dark, low-contrast copy (what a generator makes of a night scene) passes too.
    dim = {cond: problems for cond, clips in clips_by_condition.items()
           for frames in clips if (problems := check_integrity(suite.dimmed(frames)))}
    assert dim == {}


@pytest.mark.parametrize("condition", [("clear", "day"), ("fog", "night"), ("snow", "night"), ("rain", "dusk")])
@pytest.mark.parametrize("sigma", [0.0, 0.5, 2.0])
def test_first_frame_repeated_is_frozen_in_dark_and_bright(clips_by_condition: dict, condition, sigma) -> None:
    rng = np.random.default_rng(7)
    for frames in clips_by_condition[condition]:
        for clip in (frames, suite.dimmed(frames)):
            first = np.repeat(clip[:1], len(clip), axis=0).astype(np.float32)
            frozen = np.clip(first + rng.normal(0.0, sigma, first.shape), 0, 255).round().astype(np.uint8)
            problems = check_integrity(frozen)
            assert any("frozen" in p for p in problems), (condition, sigma, problems)


def test_frozen_reason_says_which_test_fired(clips_by_condition: dict) -> None:
    frames = clips_by_condition[("fog", "night")][0]
    exact = check_integrity(np.repeat(frames[:1], 33, axis=0))
    assert any("transitions are repeats" in p for p in exact)
    noisy = np.clip(np.repeat(frames[:1], 33, axis=0) + np.random.default_rng(0).normal(0, 1.0, frames.shape),
                    0, 255).round().astype(np.uint8)
    assert any("one frame plus noise" in p for p in check_integrity(noisy))
    # Short clips skip the frame-plus-noise test (too few frames to average).
    assert not any("one frame plus noise" in p for p in check_integrity(noisy[:5]))
