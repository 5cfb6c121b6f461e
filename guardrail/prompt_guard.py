"""Prompt guard: normalise, blocklist with a driving-safety allowlist, semantic check."""

from __future__ import annotations

from dataclasses import dataclass

from .blocklist import BlocklistHit, compiled_blocklist
from .normalize import normalize
from .policy import Policy, default_policy
from .semantic import SemanticChecker, SemanticScore
from .text_encoder import MiniLMEmbedder, TextEmbedder


@dataclass(frozen=True)
class PromptVerdict:
    blocked: bool
    categories: tuple[str, ...]
    reasons: tuple[str, ...]


class PromptGuard:
    """Decides whether a text prompt may be served.

    The two stages are exposed separately so the runner can report (and a
    user can disable) each one; ``check`` runs both. The encoder is only
    touched by the semantic stage, so a blocklist-only guard never loads it.
    """

    def __init__(self, policy: Policy | None = None, encoder: TextEmbedder | None = None) -> None:
        self.policy = policy if policy is not None else default_policy()
        self._blocklist = compiled_blocklist(self.policy)
        self._semantic = SemanticChecker(self.policy, encoder if encoder is not None else MiniLMEmbedder())

    def check_blocklist(self, prompt: str) -> PromptVerdict:
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
        text = normalize(prompt).for_embedding
        masked = self._blocklist.mask_allowed(text)
        return [text] if masked == text else [text, masked]

    def _length(self, text: str, what: str) -> PromptVerdict | None:
        limit = self.policy.max_prompt_chars
        if len(text) <= limit:
            return None
        return PromptVerdict(True, ("length",), (f"{what}: {len(text)} characters, limit is {limit}",))

    def check(self, prompt: str) -> PromptVerdict:
        """Blocklist first (cheap); the semantic stage only if the blocklist passes."""
        verdict = self.check_blocklist(prompt)
        return verdict if verdict.blocked else self.check_semantic(prompt)


def _verdict(hits: list[BlocklistHit], what: str) -> PromptVerdict:
    return PromptVerdict(bool(hits), tuple(h.category for h in hits),
                         tuple(f"{what}: blocked term {h.matched.strip()!r} ({h.category}, {h.rule})" for h in hits))


def _describe_semantic(score: SemanticScore) -> str:
    return (f"prompt: close to unsafe concept '{score.category}' "
            f"(similarity {score.similarity:.2f} >= {score.threshold:.2f}, "
            f"nearest safe {score.safe_similarity:.2f})")
