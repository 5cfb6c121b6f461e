"""Semantic check: nearest unsafe-concept prototype versus nearest safe one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .policy import Policy
from .text_encoder import TextEmbedder


@dataclass(frozen=True)
class SemanticScore:
    category: str
    similarity: float
    safe_similarity: float
    threshold: float
    blocked: bool


class SemanticChecker:
    """Compares a prompt embedding with per-category prototype embeddings.

    A prompt is blocked for a category when its cosine similarity to the
    nearest prototype of that category reaches the category threshold and
    beats the nearest safe prototype by the policy margin. The safe side is
    what lets "a truck hits a cyclist at night" through while "a man stabs a
    cyclist" is close to the violence prototypes.
    """

    def __init__(self, policy: Policy, encoder: TextEmbedder) -> None:
        self._policy = policy
        self._encoder = encoder
        self._prototypes: list[tuple[str, float, np.ndarray]] | None = None
        self._safe: np.ndarray | None = None

    def _ensure_prototypes(self) -> None:
        # Computed once, on first use, in a single batch.
        if self._prototypes is not None:
            return
        cats = [c for c in self._policy.categories if c.prototypes]
        texts = [p for c in cats for p in c.prototypes] + list(self._policy.safe_prototypes)
        if not texts:
            self._prototypes, self._safe = [], np.zeros((0, 1), np.float32)
            return
        emb = np.asarray(self._encoder.embed(texts), dtype=np.float32)
        protos, i = [], 0
        for cat in cats:
            protos.append((cat.name, cat.threshold, emb[i:i + len(cat.prototypes)]))
            i += len(cat.prototypes)
        self._prototypes, self._safe = protos, emb[i:]

    def score(self, text: str) -> list[SemanticScore]:
        """One score per category that has prototypes, most similar first."""
        self._ensure_prototypes()
        assert self._prototypes is not None and self._safe is not None
        if not self._prototypes:
            return []
        vec = np.asarray(self._encoder.embed([text]), dtype=np.float32)[0]
        safe = float((self._safe @ vec).max()) if len(self._safe) else -1.0
        margin = self._policy.semantic_margin
        scores = []
        for name, threshold, protos in self._prototypes:
            sim = float((protos @ vec).max())
            scores.append(SemanticScore(name, sim, safe, threshold,
                                        blocked=sim >= threshold and sim - safe >= margin))
        return sorted(scores, key=lambda s: s.similarity, reverse=True)
