"""The guardrail runner: the one object a world model receives and calls.

    runner = GuardrailRunner()
    report = runner.check_request(prompt=..., video=..., actions=..., expected_frames=33)
    if report.allowed:
        frames = generate(...)
        safe_frames, out_report = runner.check_output(frames, condition_frames=video)

It fails closed: a check that raises is recorded as ``error`` and blocks.
Turning a check off is explicit (``disabled=``), logged at WARNING when the
runner is built, and recorded as ``disabled`` in every report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .classifier import ContentClassifier
from .frames import to_uint8_frames
from .input_guard import InputLimits, check_inputs
from .integrity import IntegrityConfig, check_integrity
from .policy import Policy
from .privacy import FACE, PLATE, Detector, PrivacyConfig, blur_private
from .prompt_guard import PromptGuard, PromptVerdict, join_negatives, split_negative
from .report import CheckResult, GuardReport, Verdict
from .text_encoder import TextEmbedder

if TYPE_CHECKING:  # torch is imported only when the classifier is first used
    from .prompt_classifier import PromptClassifier

logger = logging.getLogger(__name__)


class Check(str, Enum):
    PROMPT_BLOCKLIST = "prompt_blocklist"
    PROMPT_SEMANTIC = "prompt_semantic"
    PROMPT_CLASSIFIER = "prompt_classifier"
    NEGATIVE_PROMPT = "negative_prompt"
    INPUTS = "inputs"
    VIDEO_INTEGRITY = "video_integrity"
    FACE_BLUR = "face_blur"
    PLATE_BLUR = "plate_blur"
    CONTENT_CLASSIFIER = "content_classifier"


def _parse_disabled(disabled: Collection[Check | str]) -> frozenset[Check]:
    if isinstance(disabled, str):
        raise TypeError(f"disabled: expected a collection of check names, got the string {disabled!r}; "
                        f"write disabled=({disabled!r},)")
    out = set()
    for item in disabled:
        try:
            out.add(Check(item))
        except ValueError:
            raise ValueError(f"disabled: unknown check {item!r}; checks are "
                             f"{[c.value for c in Check]}") from None
    return frozenset(out)


class GuardrailRunner:
    """Pre-generation (request) and post-generation (output) guards with one report each."""

    def __init__(
        self,
        policy: Policy | None = None,
        limits: InputLimits = InputLimits(),
        integrity: IntegrityConfig = IntegrityConfig(),
        privacy: PrivacyConfig = PrivacyConfig(),
        disabled: Collection[Check | str] = (),
        encoder: TextEmbedder | None = None,
        detector: Detector | None = None,
        content_classifier: ContentClassifier | None = None,
        prompt_classifier: PromptClassifier | str | Path | None = None,
    ) -> None:
        self.prompt_guard = PromptGuard(policy, encoder, prompt_classifier)
        self.limits = limits
        self.integrity = integrity
        self.privacy = privacy
        self.detector = detector
        self.content_classifier = content_classifier
        self.disabled = _parse_disabled(disabled)
        for check in sorted(self.disabled, key=lambda c: c.value):
            logger.warning("guardrail check %r is DISABLED by explicit configuration", check.value)

    # -- before generation -------------------------------------------------

    def check_request(self, prompt: str | None = None, video: Any = None, actions: Any = None,
                      expected_frames: int | None = None, negative_prompt: str | None = None) -> GuardReport:
        """Prompt and conditioning checks; nothing heavy runs if the request is malformed.

        ``negative_prompt`` gets the lighter check of
        :meth:`PromptGuard.check_negative_prompt` (hard terms only), since it
        names what the clip must not show; so does a negative list pasted into
        the prompt (``split_negative``: WorldModel conditions on it as negative).
        """
        guard = self.prompt_guard
        if isinstance(prompt, str):
            prompt, inline = split_negative(prompt)
            if inline and (negative_prompt is None or isinstance(negative_prompt, str)):  # else _prompt says why
                negative_prompt = join_negatives(negative_prompt, inline)
        checks = [
            self._run(Check.PROMPT_BLOCKLIST, lambda: self._prompt(prompt, guard.check_blocklist, "prompt")),
            self._run(Check.PROMPT_SEMANTIC, lambda: self._prompt(prompt, guard.check_semantic, "prompt")),
            self._run(Check.PROMPT_CLASSIFIER, lambda: self._prompt(prompt, guard.check_classifier, "prompt")),
            self._run(Check.NEGATIVE_PROMPT, lambda: self._prompt(negative_prompt, guard.check_negative_prompt,
                                                                  "negative_prompt")),
            self._run(Check.INPUTS, lambda: _problems(check_inputs(video, actions, expected_frames, self.limits))),
        ]
        return self._report("request", checks)

    @staticmethod
    def _prompt(prompt: str | None, check: Callable[[str], PromptVerdict], what: str) -> CheckResult:
        if prompt is None:
            return CheckResult("", Verdict.PASS, (f"no {what}",))
        if not isinstance(prompt, str):
            return CheckResult("", Verdict.BLOCK, (f"{what}: expected str, got {type(prompt).__name__}",))
        verdict = check(prompt)
        return CheckResult("", Verdict.BLOCK if verdict.blocked else Verdict.PASS, verdict.reasons)

    # -- after generation ----------------------------------------------------

    def check_output(self, frames: Any, condition_frames: Any = None) -> tuple[np.ndarray | None, GuardReport]:
        """Integrity, privacy blur and the optional classifier on one generated clip.

        ``frames``: uint8 [T, H, W, 3] or float [1, 3, T, H, W] in [-1, 1].
        ``condition_frames``: the frames the clip continues from (same layouts);
        when the clip starts with them, the seam after them is checked.
        Returns (uint8 [T, H, W, 3] with faces and plates blurred, report), or
        (None, report) when the clip is blocked, so unsafe frames cannot leak.
        """
        try:
            clip, nonfinite = to_uint8_frames(frames)
            cond = None if condition_frames is None else to_uint8_frames(condition_frames)[0]
        except Exception as exc:  # unreadable output: nothing else can run
            logger.error("guardrail: cannot read generated frames: %s", exc)
            return None, GuardReport("output", (CheckResult(Check.VIDEO_INTEGRITY.value, Verdict.ERROR,
                                                            (f"{type(exc).__name__}: {exc}",)),))
        checks = [self._run(Check.VIDEO_INTEGRITY, lambda: _problems(
            check_integrity(clip, self.integrity, nonfinite, cond)))]

        safe = clip
        privacy_checks = [c for c in (Check.FACE_BLUR, Check.PLATE_BLUR) if c not in self.disabled]
        if privacy_checks:
            start = time.perf_counter()
            try:
                kinds = [kind for check, kind in ((Check.FACE_BLUR, FACE), (Check.PLATE_BLUR, PLATE))
                         if check in privacy_checks]
                result = blur_private(clip, self.privacy, self.detector, kinds)
                safe = result.frames
                for check, kind, noun in ((Check.FACE_BLUR, FACE, "face"), (Check.PLATE_BLUR, PLATE, "plate")):
                    if check in privacy_checks:
                        checks.append(_privacy_result(check, result.tracks[kind], result.frames_blurred[kind],
                                                      noun, time.perf_counter() - start))
            except Exception as exc:
                logger.exception("guardrail: privacy blur failed; blocking the clip")
                for check in privacy_checks:
                    checks.append(CheckResult(check.value, Verdict.ERROR, (f"{type(exc).__name__}: {exc}",),
                                              seconds=time.perf_counter() - start))
        for check in (Check.FACE_BLUR, Check.PLATE_BLUR):
            if check in self.disabled:
                checks.append(_disabled(check))

        checks.append(self._run(Check.CONTENT_CLASSIFIER, lambda: self._classify(safe)))
        report = self._report("output", checks)
        return (safe if report.allowed else None), report

    def _classify(self, frames: np.ndarray) -> CheckResult:
        if self.content_classifier is None:
            return CheckResult("", Verdict.DISABLED, ("no content classifier configured",))
        v = self.content_classifier(frames)
        reason = f"content classifier: {v.reason} (score {v.score:.3g})"
        return CheckResult("", Verdict.PASS if v.safe else Verdict.BLOCK, (reason,))

    # -- shared -----------------------------------------------------------

    def _run(self, check: Check, fn: Callable[[], CheckResult]) -> CheckResult:
        if check in self.disabled:
            return _disabled(check)
        start = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # fail closed: any failure inside a check blocks
            logger.exception("guardrail check %r raised; blocking", check.value)
            return CheckResult(check.value, Verdict.ERROR, (f"{type(exc).__name__}: {exc}",),
                               seconds=time.perf_counter() - start)
        return CheckResult(check.value, result.verdict, result.reasons, result.modifications,
                           time.perf_counter() - start)

    @staticmethod
    def _report(stage: str, checks: list[CheckResult]) -> GuardReport:
        report = GuardReport(stage, tuple(checks))
        if not report.allowed:
            logger.info("guardrail %s blocked: %s", stage, "; ".join(report.reasons))
        return report


def _problems(problems: list[str]) -> CheckResult:
    return CheckResult("", Verdict.BLOCK if problems else Verdict.PASS, tuple(problems))


def _disabled(check: Check) -> CheckResult:
    return CheckResult(check.value, Verdict.DISABLED, ("disabled by configuration",))


def _privacy_result(check: Check, tracks: int, frames: int, noun: str, seconds: float) -> CheckResult:
    if tracks == 0:
        return CheckResult(check.value, Verdict.PASS, (f"no {noun}s found",), seconds=seconds)
    what = f"{tracks} {noun}{'s' if tracks != 1 else ''} blurred in {frames} frame{'s' if frames != 1 else ''}"
    return CheckResult(check.value, Verdict.MODIFIED, (), (what,), seconds)
