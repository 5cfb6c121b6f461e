"""A negative-prompt list pasted into the prompt is split off into the negative prompt, by the guard and by the
world model alike, so the guard checks it the way the model reads it (as what the clip must not show)."""

from __future__ import annotations

import numpy as np
import pytest

from cosmos_lite.guardrail import GuardrailRunner, PromptGuard
from cosmos_lite.guardrail.prompt_guard import join_negatives, split_negative


@pytest.mark.parametrize("prompt, expect", [
    ("night, rain, a deer crosses --neg gore, blurry", ("night, rain, a deer crosses", "gore, blurry")),
    ("Prompt: a cyclist swerves. Negative: blood, gore", ("Prompt: a cyclist swerves.", "blood, gore")),
    ("a truck ahead. NEGATIVE PROMPT = gory red tint", ("a truck ahead.", "gory red tint")),
    ("a cyclist ahead --no mangled, overexposed", ("a cyclist ahead", "mangled, overexposed")),
    ("a car crash; exclude: screaming faces", ("a car crash", "screaming faces")),
    ('{"prompt": "a deer", "negative_prompt": "gore"}', ('{"prompt": "a deer', "gore")),
    ("a truck --neg gore --no blood", ("a truck", "gore, blood")),  # later markers separate items
    ("a negative camber bend, no lights", ("a negative camber bend, no lights", "")),  # no marker, no list
])
def test_split_negative(prompt: str, expect: tuple[str, str]) -> None:
    assert split_negative(prompt) == expect


def test_join_negatives() -> None:
    assert join_negatives("blurry", None, " ", "gore") == "blurry, gore" and join_negatives(None, "") == ""


@pytest.fixture(scope="module")
def guard() -> PromptGuard:
    return PromptGuard()


def test_a_pasted_list_gets_the_negative_check_and_the_rest_the_full_one(guard: PromptGuard) -> None:
    prompt = "a truck jack-knifes ahead in dense fog --neg gory red tint, mangled wheels, bleeding colours"
    assert not guard.check(prompt).blocked  # the list names what must not be shown
    assert guard.check("a truck jack-knifes ahead in dense fog, gory red tint, mangled wheels").blocked  # no marker
    # the light check still refuses its hard terms, and the prompt before the list keeps the full check
    assert guard.check("a truck in fog --neg blurry, sieg heil").blocked
    assert guard.check("the driver rams the crowd on purpose --neg blurry, low quality").blocked


def test_the_runner_moves_the_list_to_the_negative_prompt(guard: PromptGuard) -> None:
    runner = GuardrailRunner()
    runner.prompt_guard = guard
    report = runner.check_request("a deer crosses at night --neg gore, roadkill", negative_prompt="blurry")
    assert report.allowed
    assert not runner.check_request("a deer crosses --neg blurry", negative_prompt="sieg heil").allowed
    assert not runner.check_request("a deer crosses --neg sieg heil", negative_prompt="blurry").allowed


def test_world_model_conditions_on_the_list_as_negative(tmp_path) -> None:
    from conftest import tiny_world
    from cosmos_lite.generators.diffusion import DiffusionSettings

    wm = tiny_world((32, 48), frames=9)
    r = wm.check({"prompt": "fog, a deer --neg gore, blurry",
                  "settings": DiffusionSettings(steps=1, negative_prompt="text overlay")})
    assert r.prompt == "fog, a deer" and r.settings.negative_prompt == "text overlay, gore, blurry"
    with pytest.raises(ValueError, match="only a negative-prompt list"):
        wm.check({"prompt": "negative: gore, blurry"})
    # the split changes the clip: the same request written with the list as negative prompt gives the same frames
    s = DiffusionSettings(steps=1)
    a = wm.generate("fog, a deer --neg rain", num_frames=5, seed=0, settings=s, progress=False).frames
    b = wm.generate("fog, a deer", num_frames=5, seed=0, settings=DiffusionSettings(steps=1, negative_prompt="rain"),
                    progress=False).frames
    c = wm.generate("fog, a deer, rain", num_frames=5, seed=0, settings=s, progress=False).frames
    assert np.array_equal(a, b) and not np.array_equal(a, c)
