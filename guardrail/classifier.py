"""Optional content-classifier hook for generated clips (off by default).

Plug in any model (e.g. a CLIP/SigLIP safety head) by passing an object with
this call signature to ``GuardrailRunner(content_classifier=...)``. It receives
the clip after faces and plates are blurred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ContentVerdict:
    safe: bool
    score: float   # the classifier's unsafe score (its own scale, for the report)
    reason: str    # one line shown in the report, e.g. "graphic violence 0.91"


class ContentClassifier(Protocol):
    """``classifier(frames)`` with uint8 [T, H, W, 3] -> ``ContentVerdict``."""

    def __call__(self, frames: np.ndarray) -> ContentVerdict: ...
