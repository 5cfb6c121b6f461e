"""Prompt guard: normalise, blocklist with a driving-safety allowlist, semantic check, learned classifiers."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .blocklist import BlocklistHit, compiled_blocklist
from .normalize import normalize
from .policy import Policy, default_policy
from .semantic import SemanticChecker, SemanticScore
from .text_encoder import Encoded, MiniLMEmbedder, TextEmbedder

if TYPE_CHECKING:  # torch is imported only when the classifier is first used
    from .prompt_classifier import ClassifierScore, PromptClassifier
    from .tuned_classifier import TunedTopClassifier

# A negative-prompt list pasted into the prompt ("... --neg gore, deformed", "Negative prompt: lifeless faces",
# "--no blood", "avoid: corpses"). Everything after the first marker is the list: it is split off into the negative
# prompt, both here (what the guard checks) and in WorldModel (what the model is conditioned on), so the guard checks
# the list the way the model reads it: as what the clip must not show (the light check).
_INLINE_NEGATIVE = re.compile(r"(?:^|(?<=[\s.;,(\[{\"']))"
                              r"(?:--\s?(?:neg(?:ative)?|no)\b|(?:neg(?:ative)?s?(?:[\s_]+prompts?)?|avoid|exclude)[\"']?\s*[:=])",
                              re.IGNORECASE)


def split_negative(prompt: str) -> tuple[str, str]:
    """``prompt`` without its pasted negative-prompt list, and that list ("" when it has none).

    "night, rain, a deer crosses --neg gore, blurry" -> ("night, rain, a deer crosses", "gore, blurry"). Markers
    after the first one are list separators.
    """
    m = _INLINE_NEGATIVE.search(prompt)
    if m is None:
        return prompt, ""
    items = (part.strip(" \t\n,;:=\"'{}[]()") for part in _INLINE_NEGATIVE.split(prompt[m.end():]))
    return prompt[: m.start()].rstrip(" \t\n,;:{[(\"'"), ", ".join(p for p in items if p)


def join_negatives(*parts: str | None) -> str:
    """Negative prompts joined into one list ("" when all are empty)."""
    return ", ".join(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class PromptVerdict:
    blocked: bool
    categories: tuple[str, ...]
    reasons: tuple[str, ...]


class _RecentEmbeddings:
    """The encoder with a small cache: the semantic stage and both classifiers read the same encoder pass.

    With an encoder that has ``encode`` (MiniLM), one pass per reading gives the pooled embedding
    (semantic stage, MLP head) and the hidden states the fine-tuned top layers read.
    """

    def __init__(self, encoder: TextEmbedder, size: int = 32) -> None:
        self._encoder = encoder
        self._size = size
        self._cache: OrderedDict[str, tuple[np.ndarray, Encoded | None]] = OrderedDict()

    def _get(self, text: str) -> tuple[np.ndarray, Encoded | None]:
        if text not in self._cache:
            encode = getattr(self._encoder, "encode", None)
            enc = encode([text]) if encode is not None else None
            pooled = enc.pooled if enc is not None else self._encoder.embed([text])
            self._cache[text] = (np.asarray(pooled, dtype=np.float32), enc)
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(text)
        return self._cache[text]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:  # prototype batches: embedded once, not worth caching
            return self._encoder.embed(texts)
        return self._get(texts[0])[0]

    def encoded(self, text: str) -> Encoded:
        enc = self._get(text)[1]
        if enc is None:
            raise TypeError(f"{type(self._encoder).__name__} gives no hidden states: the fine-tuned classifier "
                            "needs the MiniLM encoder")
        return enc


class PromptGuard:
    """Decides whether a text prompt may be served.

    The three stages are exposed separately so the runner can report (and a
    user can disable) each one; ``check`` runs them all and blocks when any
    says unsafe. The encoder is only touched by the semantic stage and the
    classifier, so a blocklist-only guard never loads it.

    ``classifier`` is a :class:`~.prompt_classifier.PromptClassifier`, a
    directory or bundled name for ``PromptClassifier.from_pretrained`` (None:
    the bundled ``prompt-classifier``), loaded on first use. It reads the
    encoder's embeddings, so it must have been trained on the same encoder.

    ``tuned`` is the fine-tuned top-layer classifier
    (:class:`~.tuned_classifier.TunedTopClassifier`, a directory, ``True`` for
    the bundled ``prompt-tuned-top``, ``False`` for none; None: the bundled one
    when ``classifier`` is the bundled one too). It reads the MiniLM hidden
    states of the same encoder pass (the encoder must have ``encode``); its
    score and the classifier's are combined per reading by :func:`combine`.
    """

    def __init__(self, policy: Policy | None = None, encoder: TextEmbedder | None = None,
                 classifier: PromptClassifier | str | Path | None = None,
                 tuned: TunedTopClassifier | str | Path | bool | None = None) -> None:
        self.policy = policy if policy is not None else default_policy()
        self._blocklist = compiled_blocklist(self.policy)
        self._encoder = _RecentEmbeddings(encoder if encoder is not None else MiniLMEmbedder())
        self._semantic = SemanticChecker(self.policy, self._encoder)
        self._classifier_source = classifier
        self._classifier: PromptClassifier | None = None
        # None: the bundled fine-tuned model when the classifier is the bundled one too (a custom
        # classifier comes with its own encoder, which the tuned layers cannot read); False: none
        self._tuned_source = (classifier is None) if tuned is None else tuned
        self._tuned: TunedTopClassifier | None = None

    def check_blocklist(self, prompt: str) -> PromptVerdict:
        _require_str(prompt, "prompt")
        too_long = self._length(prompt, "prompt")
        if too_long is not None:
            return too_long
        return _verdict(self._blocklist.find(normalize(prompt)), "prompt")

    def check_negative_prompt(self, negative_prompt: str) -> PromptVerdict:
        """The lighter check for a negative prompt: the hard terms only.

        A negative prompt lists what must NOT be shown ("bleeding, lifeless,
        deformed, blurry", "nudity, gore"), so its violence, gore or sexual
        words steer the model away from that content; checking it like a
        prompt would refuse exactly the users who try to stay safe. Its words
        also have no syntax to read intent from: "children, nudity" is two
        separate exclusions, not a request, so the co-occurrence rules and the
        semantic check (which would find a list of unsafe concepts close to
        the unsafe prototypes by design) do not apply either. What still
        applies is what no request may contain however it is phrased: the
        words, phrases and patterns of the policy's ``negative_prompt``
        categories (slurs and extremist slogans, sexual-content-of-minors
        terms), matched on the same normalised variants as a prompt, so
        obfuscation does not get them through. A negative prompt can still
        pull the other way ("clothes" as a negative pushes towards nudity);
        words cannot tell that apart, which is why the output classifier hook
        exists.
        """
        _require_str(negative_prompt, "negative_prompt")
        too_long = self._length(negative_prompt, "negative_prompt")
        if too_long is not None:
            return too_long
        return _verdict(self._blocklist.find_terms(normalize(negative_prompt)), "negative_prompt")

    def check_semantic(self, prompt: str) -> PromptVerdict:
        """Block a category only when every reading of the prompt is close to it.

        The readings are the normalised prompt and, when the allowlist finds a
        driving sense in it, the same text with those spans blanked. "A car
        shoots past" reads as a shooting until "shoots past" is blanked; "the
        driver guns the engine and ..." blanked to "the driver ... and" reads
        as nothing in particular, which the encoder may still place near an
        unsafe prototype. Blanking only removes benign-sense spans, so unsafe
        content is in both readings and still blocks.
        """
        _require_str(prompt, "prompt")
        readings = [t for t in self._readings(prompt[: self.policy.max_prompt_chars]) if t.strip()]
        if not readings:
            return PromptVerdict(False, (), ())
        per_reading = [{s.category: s for s in self._semantic.score(t) if s.blocked} for t in readings]
        blocked = [s for name, s in per_reading[-1].items() if all(name in r for r in per_reading)]
        return PromptVerdict(bool(blocked), tuple(s.category for s in blocked),
                             tuple(_describe_semantic(s) for s in blocked))

    def scores(self, prompt: str) -> list[SemanticScore]:
        """Semantic scores of the prompt with driving senses blanked, for calibrating thresholds."""
        return self._semantic.score(self._readings(prompt)[-1])

    def _readings(self, prompt: str) -> list[str]:
        text = self._blocklist.respell(normalize(prompt).for_embedding)
        masked = self._blocklist.mask_allowed(text)
        return [text] if masked == text else [text, masked]

    def _length(self, text: str, what: str) -> PromptVerdict | None:
        limit = self.policy.max_prompt_chars
        if len(text) <= limit:
            return None
        return PromptVerdict(True, ("length",), (f"{what}: {len(text)} characters, limit is {limit}",))

    @property
    def classifier(self) -> PromptClassifier:
        """The learned classifier, loaded on first use; raises ``PromptClassifierError`` if it cannot be."""
        if self._classifier is None:
            from .prompt_classifier import PromptClassifier

            self._classifier = _load_classifier(PromptClassifier, self._classifier_source, "prompt classifier")
        return self._classifier

    @property
    def tuned(self) -> TunedTopClassifier | None:
        """The fine-tuned top-layer classifier (None: not used), loaded on first use; raises if it cannot be."""
        if self._tuned is None and self._tuned_source is not False:
            from .tuned_classifier import TunedTopClassifier

            source = None if self._tuned_source is True else self._tuned_source
            self._tuned = _load_classifier(TunedTopClassifier, source, "tuned prompt classifier")
        return self._tuned

    def check_classifier(self, prompt: str) -> PromptVerdict:
        """The learned heads on each reading (``classifier_readings``); raises if a classifier is unusable.

        Per reading: the MLP + n-gram classifier's score on the pooled embedding and, with a tuned
        model, its score on the hidden states entering the top layer, combined by :func:`combine`;
        the prompt blocks only if its least unsafe reading does.
        """
        _require_str(prompt, "prompt")
        from .prompt_classifier import classifier_readings, least_unsafe

        # the semantic stage's readings (plain, and with driving senses blanked): their embeddings are cached
        readings = classifier_readings(prompt[: self.policy.max_prompt_chars], self._blocklist.mask_allowed,
                                       self._blocklist.respell)
        if not readings:
            # no letters or digits ("", "...", "!!") or only driving-sense phrases: nothing for the head
            # to read, and it was never trained on such strings, so its score there means nothing; the
            # rules still ran
            return PromptVerdict(False, (), ())
        classifier = self.classifier  # loaded before the encoder runs: a broken file fails fast
        tuned = self.tuned
        scores = []
        for r in readings:
            head = classifier.score(self._encoder.embed([r]), [r])[0]
            if tuned is not None:
                enc = self._encoder.encoded(r)
                top = tuned.score(enc.hidden_states[tuned.config.input_layer], enc.mask, [r])[0]
                head = combine(head, top)
            scores.append(head)
        score = least_unsafe(scores)
        assert score is not None
        if not score.blocked:
            return PromptVerdict(False, (), ())
        what = "learned classifiers say" if tuned is not None else "learned classifier says"
        reason = f"prompt: {what} unsafe ({score.category}, score {score.unsafe:.2f} >= {score.threshold:.2f})"
        return PromptVerdict(True, (score.category,), (reason,))

    def check(self, prompt: str) -> PromptVerdict:
        """Blocklist first (cheap), then the semantic stage, then the classifiers; any block stops.

        Fails closed: if a classifier cannot be loaded or run, the prompt is blocked. A pasted
        negative-prompt list ("--neg gore", see :func:`split_negative`) gets the negative prompt's check.
        """
        _require_str(prompt, "prompt")
        prompt, inline = split_negative(prompt)
        verdict = self.check_blocklist(prompt)
        if not verdict.blocked:
            verdict = self.check_semantic(prompt)
        if not verdict.blocked:
            try:
                verdict = self.check_classifier(prompt)
            except Exception as exc:  # noqa: BLE001 - fail closed, with the reason in the verdict
                reason = f"prompt: classifier failed, blocking: {type(exc).__name__}: {exc}"
                return PromptVerdict(True, ("classifier_error",), (reason,))
        if not verdict.blocked and inline:
            verdict = self.check_negative_prompt(inline)
        return verdict


def combine(head: ClassifierScore, top: ClassifierScore) -> ClassifierScore:
    """One reading's verdict from the MLP + n-gram head and the fine-tuned top layers.

    Each score is divided by its own calibrated threshold and the two are averaged: the reading
    blocks when the mean reaches 1. Each threshold passes every calibration scene prompt, so the
    mean does too. On the development suites this beat either model alone and "either blocks"
    (more false blocks) and "both block" (fewer unsafe caught). Reported in probability units:
    the mean of the two thresholds and the relative mean scaled to it.
    """
    from .prompt_classifier import ClassifierScore

    scale = (head.threshold + top.threshold) / 2
    relative = (head.unsafe / head.threshold + top.unsafe / top.threshold) / 2
    category = head.category if head.unsafe / head.threshold >= top.unsafe / top.threshold else top.category
    return ClassifierScore(relative * scale, category, scale)


def _require_str(text: object, what: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected str, got {type(text).__name__}")


def _verdict(hits: list[BlocklistHit], what: str) -> PromptVerdict:
    return PromptVerdict(bool(hits), tuple(h.category for h in hits),
                         tuple(f"{what}: blocked term {h.matched.strip()!r} ({h.category}, {h.rule})" for h in hits))


def _describe_semantic(score: SemanticScore) -> str:
    return (f"prompt: close to unsafe concept '{score.category}' "
            f"(similarity {score.similarity:.2f} >= {score.threshold:.2f}, "
            f"nearest safe {score.safe_similarity:.2f})")


def _load_classifier(cls, source, what: str):
    """``source`` itself when it is a loaded ``cls``, else ``cls.from_pretrained(source)`` (None: the
    bundled weights); any load failure becomes one ``PromptClassifierError``, which the guard blocks on."""
    from .prompt_classifier import PromptClassifierError

    if isinstance(source, cls):
        return source
    try:
        return cls.from_pretrained(source)
    except Exception as exc:
        raise PromptClassifierError(f"{what} {source or 'bundled'} cannot be loaded: "
                                    f"{type(exc).__name__}: {exc}") from exc

