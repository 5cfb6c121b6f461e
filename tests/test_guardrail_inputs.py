"""Input guard: every malformed conditioning input gets a precise message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cosmos_lite.guardrail import InputError, InputLimits, check_inputs, validate_inputs


def ok_video() -> np.ndarray:
    return np.zeros((5, 64, 96, 3), np.uint8)


def ok_actions(t: int = 33) -> np.ndarray:
    return np.zeros((t, 2), np.float32)


def test_valid_inputs_pass() -> None:
    assert check_inputs(ok_video(), ok_actions(), expected_frames=33) == []
    assert check_inputs(torch.zeros(2, 3, 5, 64, 96), torch.zeros(2, 33, 2), expected_frames=33) == []
    validate_inputs(None, None)


@pytest.mark.parametrize("video,actions,message", [
    (np.zeros((5, 64, 96), np.uint8), None, "video: uint8 frames must be [T, H, W, 3], got shape [5, 64, 96]"),
    (np.zeros((5, 64, 96, 3), np.float32), None, "video: float frames must be [B, 3, T, H, W]"),
    (np.zeros((5, 64, 96, 3), np.int32), None, "video: dtype int32 not supported"),
    ([[1, 2]], None, "video: expected a numpy array or torch tensor, got list"),
    (torch.full((1, 3, 5, 64, 96), 2.0), None,
     "video: values outside [-1, 1] (min 2, max 2) at frames [0, 1, 2, 3, 4]"),
    (np.zeros((5, 8, 96, 3), np.uint8), None, "video: frame size 8x96 is below the minimum 16 pixels"),
    (np.zeros((5, 64, 5000, 3), np.uint8), None, "video: frame size 64x5000 exceeds the limit 2160x3840"),
    (np.zeros((40, 64, 96, 3), np.uint8), None, "video: 40 conditioning frames but the model generates 33"),
    (None, ok_actions(20), "actions: 20 frames but the model expects one action per generated frame (33)"),
    (None, np.zeros((33, 3), np.float32), "actions: 3 channels per frame, expected 2"),
    (None, np.zeros((33,), np.float32), "actions: expected shape [T, A] or [B, T, A], got [33]"),
    (None, np.zeros((33, 2), np.int64), "actions: dtype int64 not supported; actions must be float"),
])
def test_each_bad_input_is_named(video, actions, message: str) -> None:
    problems = check_inputs(video, actions, expected_frames=33)
    assert any(message in p for p in problems), problems


def test_nan_video_frames_are_located() -> None:
    video = torch.zeros(1, 3, 6, 32, 32)
    video[0, 1, 2, 5, 5] = float("nan")
    video[0, 0, 4, 0, 0] = float("inf")
    assert check_inputs(video) == ["video: 2 non-finite values (NaN/inf) at frames [2, 4]"]


def test_nan_actions_are_counted_and_located() -> None:
    actions = ok_actions()
    actions[4, 0] = np.nan
    actions[5, :] = np.inf
    assert check_inputs(None, actions, expected_frames=33) == [
        "actions: 3 non-finite values (NaN/inf) at frames [4, 5]"]


def test_action_ranges_name_the_channel_and_frames() -> None:
    actions = ok_actions()
    actions[3, 0] = -15.0
    actions[7, 0] = 9.0
    actions[10, 1] = 2.5
    problems = check_inputs(None, torch.from_numpy(actions), expected_frames=33)
    assert problems == [
        "actions: longitudinal acceleration out of range [-10, 6] m/s^2: 2 values at frames [3, 7] (min -15, max 9)",
        "actions: steering out of range [-1, 1]: 1 values at frames [10] (min 2.5, max 2.5)",
    ]


def test_limits_are_configurable() -> None:
    actions = ok_actions()
    actions[3, 0] = -15.0
    assert check_inputs(None, actions, limits=InputLimits(accel_range=(-20.0, 8.0))) == []
    with pytest.raises(ValueError, match="accel_range"):
        InputLimits(accel_range=(5.0, -5.0))


def test_validate_raises_with_all_problems() -> None:
    actions = ok_actions(10)
    actions[0, 0] = np.nan
    with pytest.raises(InputError) as info:
        validate_inputs(np.zeros((5, 8, 8, 3), np.uint8), actions, expected_frames=33)
    assert len(info.value.problems) == 3
    assert "actions: 1 non-finite values (NaN/inf) at frames [0]" in str(info.value)


def test_batch_mismatch() -> None:
    problems = check_inputs(torch.zeros(2, 3, 5, 32, 32), torch.zeros(3, 33, 2), expected_frames=33)
    assert problems == ["actions: batch 3 does not match video batch 2"]
