"""Link per-frame detections into tracks and fill the frames in between.

Detectors miss objects now and then, and for speed the privacy guard only
runs them on every few frames. Because the whole clip is available, tracks can
be filled in both directions: boxes are interpolated between the frames where
a track was seen, and held for a few frames before its first and after its
last sighting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass
class Track:
    frames: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def merge_overlapping(boxes: list[Box], overlap: float = 0.5) -> list[Box]:
    """Union boxes that mostly overlap (one face seen by the frontal and profile cascades)."""
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        for i, m in enumerate(merged):
            ix = max(0.0, min(m[2], box[2]) - max(m[0], box[0]))
            iy = max(0.0, min(m[3], box[3]) - max(m[1], box[1]))
            smaller = min((m[2] - m[0]) * (m[3] - m[1]), (box[2] - box[0]) * (box[3] - box[1]))
            if smaller > 0 and ix * iy / smaller >= overlap:
                merged[i] = (min(m[0], box[0]), min(m[1], box[1]), max(m[2], box[2]), max(m[3], box[3]))
                break
        else:
            merged.append(box)
    return merged


def _same_object(a: Box, b: Box) -> bool:
    if iou(a, b) >= 0.1:
        return True
    # Fast motion between sampled frames: centres within one box size.
    size = max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1])
    ca = ((a[0] + a[2]) / 2, (a[1] + a[3]) / 2)
    cb = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    return float(np.hypot(ca[0] - cb[0], ca[1] - cb[1])) <= size


def link(detections: dict[int, list[Box]], max_gap: int) -> list[Track]:
    """Greedy tracking over the sampled frames (keys), bridging up to ``max_gap`` missed samples."""
    samples = sorted(detections)
    tracks: list[Track] = []
    last_seen: list[int] = []  # sample position of each track's latest box
    for pos, frame in enumerate(samples):
        free = [i for i, seen in enumerate(last_seen) if pos - seen <= max_gap + 1]
        for box in sorted(detections[frame], key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
            best, best_iou = None, -1.0
            for i in free:
                prev = tracks[i].boxes[-1]
                if _same_object(prev, box) and iou(prev, box) > best_iou:
                    best, best_iou = i, iou(prev, box)
            if best is None:
                tracks.append(Track([frame], [box]))
                last_seen.append(pos)
            else:
                tracks[best].frames.append(frame)
                tracks[best].boxes.append(box)
                last_seen[best] = pos
                free.remove(best)
    return tracks


def fill(tracks: list[Track], num_frames: int, hold: int) -> list[list[Box]]:
    """Boxes per frame: interpolated inside each track, held ``hold`` frames beyond its ends."""
    per_frame: list[list[Box]] = [[] for _ in range(num_frames)]
    for track in tracks:
        frames = np.asarray(track.frames)
        boxes = np.asarray(track.boxes, dtype=np.float64)
        lo, hi = max(0, frames[0] - hold), min(num_frames - 1, frames[-1] + hold)
        ts = np.arange(lo, hi + 1)
        # np.interp holds the end values outside the observed range.
        coords = np.stack([np.interp(ts, frames, boxes[:, k]) for k in range(4)], axis=1)
        for t, b in zip(ts.tolist(), coords.tolist()):
            per_frame[t].append((b[0], b[1], b[2], b[3]))
    return per_frame


def track_and_fill(detections: dict[int, list[Box]], num_frames: int,
                   max_gap: int = 1, hold: int = 1) -> tuple[list[list[Box]], int]:
    """Per-frame boxes and the number of distinct tracks."""
    tracks = link(detections, max_gap)
    return fill(tracks, num_frames, hold), len(tracks)
