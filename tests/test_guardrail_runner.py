"""Runner: fail-closed, explicit disabling, report contents and serialisation."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from cosmos_lite.guardrail import (
    Check, ContentVerdict, Detection, GuardrailRunner, PrivacyConfig, Verdict, default_policy,
)
from cosmos_lite.guardrail.prompt_classifier import PromptClassifier, PromptClassifierConfig


def good_clip(t: int = 24) -> np.ndarray:
    """A smooth pattern drifting right (same idea as in test_guardrail_video)."""
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    v = [128 + 60 * np.sin((x - 1.5 * i) / 7.0) * np.cos(y / 9.0) for i in range(t)]
    return np.clip(np.stack([np.stack([f, f, 255 - f], -1) for f in v]), 0, 255).astype(np.uint8)


class _FlatEncoder:
    """Stand-in for MiniLM: every text embeds the same, so the prompt is as close
    to the safe prototypes as to the unsafe ones and the semantic stage passes.
    The runner tests are about plumbing; the real encoder is tested on the suite."""

    def embed(self, texts):
        return np.ones((len(texts), 8), np.float32) / np.sqrt(8.0)


class _BoomEncoder:
    def embed(self, texts):
        raise RuntimeError("encoder exploded")


class _OneFace:
    def __call__(self, frame: np.ndarray, index: int) -> list[Detection]:
        return [Detection("face", (10.0, 10.0, 34.0, 34.0))]


def _passing_classifier() -> PromptClassifier:
    """A classifier for _FlatEncoder's 8-d vectors that passes everything (uniform 8/9 < 0.95);
    the bundled one reads MiniLM's 384-d embeddings and would fail closed here."""
    model = PromptClassifier(PromptClassifierConfig(embed_dim=8, hidden=0, threshold=0.95))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def runner(**overrides) -> GuardrailRunner:
    args = dict(encoder=_FlatEncoder(), privacy=PrivacyConfig(workers=1), prompt_classifier=_passing_classifier())
    args.update(overrides)
    return GuardrailRunner(**args)


def test_clean_request_is_allowed_and_serialises() -> None:
    report = runner().check_request(prompt="rain at night, a cyclist in the bike lane",
                                    actions=np.zeros((33, 2), np.float32), expected_frames=33)
    assert report.allowed
    d = json.loads(report.to_json())
    assert d["stage"] == "request" and d["allowed"] is True
    assert [c["name"] for c in d["checks"]] == ["prompt_blocklist", "prompt_semantic", "prompt_classifier",
                                                  "negative_prompt", "inputs"]
    assert all(c["verdict"] == "pass" for c in d["checks"])


def test_blocked_prompt_and_bad_actions_are_both_reported() -> None:
    actions = np.zeros((33, 2), np.float32)
    actions[4:6, 0] = np.nan
    report = runner().check_request(prompt="a gunman opens fire on the crowd", actions=actions, expected_frames=33)
    assert not report.allowed
    assert report.check("prompt_blocklist").verdict is Verdict.BLOCK
    assert report.check("inputs").verdict is Verdict.BLOCK
    assert "actions: 2 non-finite values (NaN/inf) at frames [4, 5]" in report.reasons


def test_negative_prompt_gets_the_hard_terms_only() -> None:
    r = runner()
    # What not to show: violence, gore and nudity words steer away from them.
    report = r.check_request(prompt="night, heavy rain, a pedestrian steps out",
                             negative_prompt="bleeding, lifeless, deformed, blurry, gore, nudity, nsfw")
    assert report.allowed, report.reasons
    assert report.check("negative_prompt").verdict is Verdict.PASS
    # A slur or a sexual-content-of-minors term is refused even as a negative, obfuscated or not.
    for bad in ("blurry, k1ke", "lowres, l o l i c o n", "child p0rn"):
        report = r.check_request(prompt="a quiet road at dusk", negative_prompt=bad)
        assert not report.allowed, bad
        assert report.check("negative_prompt").verdict is Verdict.BLOCK
        assert report.check("prompt_blocklist").verdict is Verdict.PASS
        assert any(reason.startswith("negative_prompt: blocked term") for reason in report.reasons)
    assert r.check_request(negative_prompt=3).check("negative_prompt").verdict is Verdict.BLOCK  # type: ignore[arg-type]
    assert r.check_request().check("negative_prompt").reasons == ("no negative_prompt",)


def test_negative_prompt_check_can_be_disabled() -> None:
    report = runner(disabled=("negative_prompt",)).check_request(prompt="a road", negative_prompt="kike")
    assert report.allowed and report.check("negative_prompt").verdict is Verdict.DISABLED


def test_exception_inside_a_check_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    r = runner(encoder=_BoomEncoder())
    with caplog.at_level(logging.ERROR):
        report = r.check_request(prompt="a quiet country road")
    assert not report.allowed
    result = report.check("prompt_semantic")
    assert result.verdict is Verdict.ERROR and "encoder exploded" in result.reasons[0]
    assert report.to_dict()["checks"][1]["verdict"] == "error"


def test_raising_detector_blocks_output_and_withholds_frames() -> None:
    class Boom:
        def __call__(self, frame, index):
            raise ValueError("detector broke")

    frames, report = runner(detector=Boom()).check_output(good_clip())
    assert frames is None and not report.allowed
    assert report.check("face_blur").verdict is Verdict.ERROR
    assert report.check("plate_blur").verdict is Verdict.ERROR


def test_raising_content_classifier_blocks() -> None:
    def classifier(frames):
        raise RuntimeError("model missing")

    frames, report = runner(detector=_OneFace(), content_classifier=classifier).check_output(good_clip())
    assert frames is None and report.check("content_classifier").verdict is Verdict.ERROR


def test_disabled_check_is_logged_and_recorded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cosmos_lite.guardrail.runner"):
        r = runner(disabled=("face_blur", Check.PROMPT_SEMANTIC), detector=_OneFace())
    assert any("face_blur" in rec.message and rec.levelno == logging.WARNING for rec in caplog.records)
    assert any("prompt_semantic" in rec.message for rec in caplog.records)
    frames, report = r.check_output(good_clip())
    assert report.check("face_blur").verdict is Verdict.DISABLED
    assert report.check("face_blur").reasons == ("disabled by configuration",)
    # Plates are still detected by the same detector, which only reports faces here.
    assert report.check("plate_blur").verdict is Verdict.PASS
    assert np.array_equal(frames, good_clip())  # no face blurred
    assert r.check_request(prompt="x").check("prompt_semantic").verdict is Verdict.DISABLED


def test_unknown_disabled_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown check 'face_blurr'"):
        runner(disabled=("face_blurr",))
    with pytest.raises(TypeError, match="disabled="):
        runner(disabled="face_blur")


def test_output_report_says_what_was_modified() -> None:
    frames, report = runner(detector=_OneFace()).check_output(good_clip(12))
    assert report.allowed and frames is not None
    assert report.check("face_blur").verdict is Verdict.MODIFIED
    assert report.modifications == ("1 face blurred in 12 frames",)
    assert report.check("content_classifier").verdict is Verdict.DISABLED
    assert not np.array_equal(frames[:, 10:34, 10:34], good_clip(12)[:, 10:34, 10:34])
    json.dumps(report.to_dict())


def test_broken_output_is_blocked_with_reason() -> None:
    frames, report = runner(detector=_OneFace()).check_output(np.zeros((8, 32, 32, 3), np.uint8))
    assert frames is None
    assert report.check("video_integrity").verdict is Verdict.BLOCK
    assert any("blank" in r for r in report.reasons)


def test_float_output_with_nan_is_blocked() -> None:
    x = np.zeros((1, 3, 8, 32, 32), np.float32)
    x[0, 0, 2, 0, 0] = np.inf
    frames, report = runner(detector=_OneFace()).check_output(x)
    assert frames is None
    assert any("1 non-finite values" in r for r in report.reasons)


def test_unreadable_output_is_an_error() -> None:
    frames, report = runner().check_output(np.zeros((8, 32, 32), np.uint8))
    assert frames is None and report.checks[0].verdict is Verdict.ERROR


def test_content_classifier_hook() -> None:
    def classifier(frames: np.ndarray) -> ContentVerdict:
        return ContentVerdict(safe=frames.mean() < 100, score=float(frames.mean()) / 255, reason="mean brightness")

    r = runner(detector=_OneFace(), content_classifier=classifier)
    _, report = r.check_output(good_clip())
    assert report.check("content_classifier").verdict is Verdict.BLOCK
    assert "content classifier: mean brightness" in report.reasons[0]


def test_runner_accepts_a_custom_policy() -> None:
    policy = default_policy().with_terms("house_rules", phrases=("purple elephant",))
    report = runner(policy=policy).check_request(prompt="a purple elephant crossing the highway")
    assert not report.allowed and "house_rules" in report.reasons[0]
