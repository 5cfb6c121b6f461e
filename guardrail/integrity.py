"""Integrity checks on a generated clip: blank, saturated, frozen, flicker, jumps.

All statistics are computed on a subsampled luma copy of the clip in a few
vectorised numpy passes; the thresholds are in 8-bit grey levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IntegrityConfig:
    # A frame is flat when its luma standard deviation is below this.
    flat_std: float = 2.0
    # The clip is blank when at least this share of frames is flat.
    blank_fraction: float = 0.5
    # The clip is saturated when at least this share of channel values is 0 or 255.
    saturated_fraction: float = 0.8
    # Consecutive frames closer than this (mean absolute luma difference) are repeats.
    frozen_diff: float = 0.5
    # The clip is frozen when at least this share of transitions are repeats.
    frozen_fraction: float = 0.9
    # A frame zig-zags when it is this many times further from both neighbours
    # than the neighbours are from each other (smooth motion gives about 0.5).
    flicker_ratio: float = 2.0
    # ... and at least this far (grey levels) from each neighbour.
    flicker_min_diff: float = 6.0
    # Flicker when at least this share of interior frames zig-zags (and at least 2 frames).
    flicker_fraction: float = 0.1
    # A jump from the conditioning frames: difference above this many grey levels
    # and this many times the clip's median frame-to-frame difference.
    jump_diff: float = 25.0
    jump_ratio: float = 4.0
    # Frames are subsampled by this stride in each spatial direction for the stats.
    stride: int = 2


def _luma(frames: np.ndarray, stride: int) -> np.ndarray:
    small = frames[:, ::stride, ::stride].astype(np.float32)
    return small @ np.array([0.299, 0.587, 0.114], np.float32)


def _adjacent_diffs(luma: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(luma, axis=0)).mean(axis=(1, 2)) if len(luma) > 1 else np.zeros(0, np.float32)


def check_integrity(frames: np.ndarray, config: IntegrityConfig = IntegrityConfig(),
                    nonfinite: int = 0, condition_frames: np.ndarray | None = None) -> list[str]:
    """Problems with a uint8 [T, H, W, 3] clip; empty when the clip looks healthy."""
    problems: list[str] = []
    t = len(frames)
    if nonfinite:
        problems.append(f"frames: {nonfinite} non-finite values (NaN/inf) in the generated video")
    if t == 0:
        return problems + ["frames: empty clip (T = 0)"]
    luma = _luma(frames, config.stride)

    std = luma.std(axis=(1, 2))
    flat = std < config.flat_std
    if flat.mean() >= config.blank_fraction:
        problems.append(f"frames: blank clip, {int(flat.sum())}/{t} frames have no content "
                        f"(luma std < {config.flat_std:g}, mean luma {luma.mean():.0f})")
    sub = frames[:, ::config.stride, ::config.stride]
    clipped = np.count_nonzero((sub == 0) | (sub == 255)) / sub.size
    if clipped >= config.saturated_fraction:
        problems.append(f"frames: saturated clip, {clipped:.0%} of values are clipped at 0 or 255")

    d = _adjacent_diffs(luma)
    if t > 1 and not flat.all():
        repeats = d < config.frozen_diff
        if repeats.mean() >= config.frozen_fraction:
            problems.append(f"frames: frozen clip, {int(repeats.sum())}/{t - 1} transitions are repeats "
                            f"(mean change < {config.frozen_diff:g} grey levels)")
    if t > 2:
        skip = np.abs(luma[2:] - luma[:-2]).mean(axis=(1, 2))
        near = np.minimum(d[:-1], d[1:])
        zigzag = (near >= config.flicker_min_diff) & (near >= config.flicker_ratio * skip)
        n = int(zigzag.sum())
        if n >= max(2.0, config.flicker_fraction * (t - 2)):
            idx = (np.flatnonzero(zigzag) + 1).tolist()
            problems.append(f"frames: flicker, {n}/{t - 2} frames differ sharply from both neighbours "
                            f"while the neighbours agree (frames {idx[:10]}{' ...' if n > 10 else ''})")
    if condition_frames is not None and len(condition_frames):
        problems += _check_jump(frames, luma, d, condition_frames, config)
    return problems


def _check_jump(frames: np.ndarray, luma: np.ndarray, d: np.ndarray,
                condition: np.ndarray, config: IntegrityConfig) -> list[str]:
    if condition.shape[1:] != frames.shape[1:]:
        import cv2

        h, w = frames.shape[1:3]
        condition = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in condition])
    cond = _luma(condition, config.stride)
    n = len(cond)
    # Video2World clips usually start with the conditioning frames themselves;
    # then the seam to check is the first frame after them.
    if len(luma) > n and np.abs(luma[:n] - cond).mean() < 2.0:
        before, first, start = luma[n - 1], luma[n], n
    else:
        before, first, start = cond[-1], luma[0], 0
    jump = float(np.abs(first - before).mean())
    typical = float(np.median(d[start:])) if len(d[start:]) else 0.0
    if jump > config.jump_diff and jump > config.jump_ratio * typical:
        return [f"frames: jump of {jump:.0f} grey levels from the last conditioning frame to generated "
                f"frame {start} (typical frame-to-frame change {typical:.1f})"]
    return []
