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
        if len(prompt) > self.policy.max_prompt_chars:
            return PromptVerdict(True, ("length",), (
                f"prompt: {len(prompt)} characters, limit is {self.policy.max_prompt_chars}",))
        hits = self._blocklist.find(normalize(prompt))
        return PromptVerdict(bool(hits), tuple(h.category for h in hits),
                             tuple(_describe(h) for h in hits))

    def check_semantic(self, prompt: str) -> PromptVerdict:
        text = normalize(prompt[: self.policy.max_prompt_chars]).for_embedding
        if not text.strip():
            return PromptVerdict(False, (), ())
        blocked = [s for s in self._semantic.score(text) if s.blocked]
        return PromptVerdict(bool(blocked), tuple(s.category for s in blocked),
                             tuple(_describe_semantic(s) for s in blocked))

    def scores(self, prompt: str) -> list[SemanticScore]:
        """Raw semantic scores, for calibrating thresholds on your own data."""
        return self._semantic.score(normalize(prompt).for_embedding)

    def check(self, prompt: str) -> PromptVerdict:
        """Blocklist first (cheap); the semantic stage only if the blocklist passes."""
        verdict = self.check_blocklist(prompt)
        return verdict if verdict.blocked else self.check_semantic(prompt)


def _describe(hit: BlocklistHit) -> str:
    return f"prompt: blocked term {hit.matched.strip()!r} ({hit.category}, {hit.rule})"


def _describe_semantic(score: SemanticScore) -> str:
    return (f"prompt: close to unsafe concept '{score.category}' "
            f"(similarity {score.similarity:.2f} >= {score.threshold:.2f}, "
            f"nearest safe {score.safe_similarity:.2f})")
