"""Find faces and licence plates with OpenCV's bundled Haar cascades and blur them.

Detection is the expensive part (a full cascade scan per frame), so it runs on
every ``detect_every``-th frame (and the last one) in a small thread pool
(OpenCV releases the GIL); tracking then fills and holds boxes across the
frames in between. The profile cascade knows one direction only and is the
slowest scan, so by default the two directions alternate between sampled
frames. ``detect_every=1, profile_both_ways=True`` scans everything in every
frame for maximum recall, at about a quarter of the speed.
"""

from __future__ import annotations

import queue
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .tracking import Box, merge_overlapping, track_and_fill

FACE = "face"
PLATE = "plate"

_CASCADES = {
    FACE: ("haarcascade_frontalface_default.xml",),
    "profile": ("haarcascade_profileface.xml",),
    PLATE: ("haarcascade_russian_plate_number.xml", "haarcascade_license_plate_rus_16stages.xml"),
}


@dataclass(frozen=True)
class PrivacyConfig:
    detect_every: int = 4
    # Scan both profile directions in every sampled frame instead of alternating.
    profile_both_ways: bool = False
    # Missed detection samples a track may bridge, and frames a box is held
    # beyond the first and last sighting (on top of the detection stride).
    max_gap: int = 2
    hold: int = 1
    scale_factor: float = 1.2
    face_neighbors: int = 4
    plate_neighbors: int = 3
    # Boxes grow by this fraction on each side before blurring (hair, motion).
    margin: float = 0.2
    # Pixelation cells across the blurred box; fewer means coarser.
    cells: int = 6
    workers: int = 2

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"PrivacyConfig.detect_every: must be >= 1, got {self.detect_every}")
        if self.scale_factor <= 1.0:
            raise ValueError(f"PrivacyConfig.scale_factor: must be > 1, got {self.scale_factor}")


@dataclass(frozen=True)
class Detection:
    kind: str  # FACE or PLATE
    box: Box


class Detector(Protocol):
    """Finds faces and plates in one RGB uint8 frame [H, W, 3].

    ``index`` is the frame's position in the clip; a detector may use it to
    spread work over frames (the Haar detector alternates profile directions).
    """

    def __call__(self, frame: np.ndarray, index: int) -> list[Detection]: ...


class _CascadePool:
    """Loaded cascade sets, reused across calls and threads.

    CascadeClassifier is not documented as thread-safe, so each worker borrows
    a whole set; loading one costs tens of milliseconds, so sets are kept.
    """

    def __init__(self) -> None:
        self._free: queue.SimpleQueue[dict[str, list[Any]]] = queue.SimpleQueue()

    def get(self) -> dict[str, list[Any]]:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return self._load()

    def put(self, cascades: dict[str, list[Any]]) -> None:
        self._free.put(cascades)

    @staticmethod
    def _load() -> dict[str, list[Any]]:
        import cv2

        cascades: dict[str, list[Any]] = {}
        for kind, files in _CASCADES.items():
            cascades[kind] = []
            for name in files:
                c = cv2.CascadeClassifier(cv2.data.haarcascades + name)
                if c.empty():
                    raise RuntimeError(f"OpenCV cascade {name} not found in {cv2.data.haarcascades} "
                                       f"(opencv-python-headless 4.x ships them)")
                cascades[kind].append(c)
        return cascades


_CASCADE_POOL = _CascadePool()


class HaarDetector:
    """Frontal and profile faces (both directions) and plates, with OpenCV cascades."""

    def __init__(self, config: PrivacyConfig = PrivacyConfig(),
                 kinds: Collection[str] = (FACE, PLATE)) -> None:
        self.config = config
        self.kinds = frozenset(kinds)

    def __call__(self, frame: np.ndarray, index: int = 0) -> list[Detection]:
        import cv2

        cfg = self.config
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        cascades = _CASCADE_POOL.get()
        found: list[Detection] = []

        def run(kind: str, image: np.ndarray, neighbors: int, mirrored: bool = False) -> None:
            w = image.shape[1]
            for c in cascades[kind]:
                for x, y, bw, bh in c.detectMultiScale(image, cfg.scale_factor, neighbors):
                    x0 = w - x - bw if mirrored else x
                    found.append(Detection(FACE if kind == "profile" else kind,
                                           (float(x0), float(y), float(x0 + bw), float(y + bh))))

        try:
            if FACE in self.kinds:
                run(FACE, gray, cfg.face_neighbors)
                # The profile cascade only knows one direction; mirror for the other.
                sample = index // cfg.detect_every
                if cfg.profile_both_ways or sample % 2 == 0:
                    run("profile", gray, cfg.face_neighbors)
                if cfg.profile_both_ways or sample % 2 == 1:
                    run("profile", np.ascontiguousarray(gray[:, ::-1]), cfg.face_neighbors, mirrored=True)
            if PLATE in self.kinds:
                run(PLATE, gray, cfg.plate_neighbors)
        finally:
            _CASCADE_POOL.put(cascades)
        return found


@dataclass(frozen=True)
class PrivacyResult:
    frames: np.ndarray
    tracks: dict[str, int]          # distinct objects per kind
    frames_blurred: dict[str, int]  # frames with at least one box per kind


def _pixelate(frames: np.ndarray, t: int, box: Box, margin: float, cells: int) -> None:
    import cv2

    h, w = frames.shape[1:3]
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    xa, ya = max(0, int(x0 - mx)), max(0, int(y0 - my))
    xb, yb = min(w, int(np.ceil(x1 + mx))), min(h, int(np.ceil(y1 + my)))
    if xb - xa < 2 or yb - ya < 2:
        return
    roi = frames[t, ya:yb, xa:xb]
    cw = max(1, min(cells, xb - xa))
    ch = max(1, min(cells, yb - ya))
    # Averaging into a few cells destroys identity; the blur hides the cell
    # edges so the result does not look like a new face-like pattern.
    small = cv2.resize(roi, (cw, ch), interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (xb - xa, yb - ya), interpolation=cv2.INTER_LINEAR)
    k = max(3, ((min(xb - xa, yb - ya) // 4) | 1))
    frames[t, ya:yb, xa:xb] = cv2.GaussianBlur(big, (k, k), 0)


def blur_private(frames: np.ndarray, config: PrivacyConfig = PrivacyConfig(),
                 detector: Detector | None = None,
                 kinds: Collection[str] = (FACE, PLATE)) -> PrivacyResult:
    """Blur the given kinds of objects in uint8 [T, H, W, 3]; returns a new array."""
    kinds = [k for k in (FACE, PLATE) if k in kinds]
    detector = detector if detector is not None else HaarDetector(config, kinds)
    t = len(frames)
    if not kinds or t == 0:
        return PrivacyResult(frames, {k: 0 for k in kinds}, {k: 0 for k in kinds})
    sampled = sorted(set(range(0, t, config.detect_every)) | {t - 1})
    if config.workers > 1 and len(sampled) > 1:
        # cv2's first import is not thread-safe (a racing thread can see the module before
        # cv2.data exists): finish it here, before the pool's threads load cascades.
        import cv2  # noqa: F401

        with ThreadPoolExecutor(config.workers) as pool:
            results = list(pool.map(lambda i: detector(frames[i], i), sampled))
    else:
        results = [detector(frames[i], i) for i in sampled]
    out = frames.copy()
    tracks: dict[str, int] = {}
    blurred: dict[str, int] = {}
    hold = config.hold + config.detect_every - 1
    for kind in kinds:
        dets = {f: merge_overlapping([d.box for d in r if d.kind == kind]) for f, r in zip(sampled, results)}
        per_frame, tracks[kind] = track_and_fill(dets, t, config.max_gap, hold)
        blurred[kind] = sum(1 for boxes in per_frame if boxes)
        for i, boxes in enumerate(per_frame):
            for box in boxes:
                _pixelate(out, i, box, config.margin, config.cells)
    return PrivacyResult(out, tracks, blurred)
