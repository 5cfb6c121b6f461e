"""Integrity checks on a generated clip: blank, saturated, frozen, flicker, jumps.

All statistics are computed on a subsampled luma copy of the clip in a few
vectorised numpy passes; the thresholds are in 8-bit grey levels, except the
frame-plus-noise test for frozen clips, which is relative to the clip itself.

Frozen has two forms. Repeated frames are identical up to rounding, whatever
the lighting. A clip of one frame plus per-frame noise never repeats a frame
exactly, but it never goes anywhere either, and what changes from frame to
frame is noise: (1) its first half and its second half look alike once the
noise is averaged away, where moving video drifts, the halves differing by
far more than frame-to-frame change alone would explain; (2) the change is
spatially white, where the change of moving video has structure (edges and
textures sliding by). Both are ratios in the clip's own units, so a dark,
low-contrast night clip, whose every change is small in grey levels, is judged
like a bright one. Requiring both keeps rain and snow (noise-like change, but
the scene drifts) and a dark road scrolling by (little drift, but structured
change) apart from a frozen frame.
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
    # Consecutive frames closer than this (mean absolute luma difference) are
    # repeats: identical but for about one pixel in a hundred off by one grey
    # level. Tiny, because dark video is slow in grey levels: the bundled world
    # model's "night, fog" clips change by a median 0.03 per frame.
    frozen_diff: float = 0.01
    # The clip is frozen when at least this share of transitions are repeats.
    frozen_fraction: float = 0.9
    # Frame-plus-noise test (see the module docstring), on frames block-averaged
    # over frozen_pool x frozen_pool after the stride. Frozen when the drift
    # ratio is below frozen_drift and the whiteness below frozen_white. A frame
    # plus independent noise stays under 1.3 and 1.05; on true simulator clips
    # (benchmarks/guardrail_suite.py) the lowest drift was 1.74 (clear night,
    # whiteness 1.96) and whiteness went down to 1.03 (snow, drift 3.6).
    frozen_pool: int = 4
    frozen_drift: float = 2.0
    frozen_white: float = 1.4
    # The frame-plus-noise test needs this many frames to average over.
    frozen_min_frames: int = 8
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


def _block_mean(luma: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k blocks (k capped by the frame size; a ragged edge is dropped)."""
    t, h, w = luma.shape
    k = max(1, min(k, h, w))
    h, w = h // k * k, w // k * k
    return luma[:, :h, :w].reshape(t, h // k, k, w // k, k).mean(axis=(2, 4))


def drift_ratio(luma: np.ndarray, pool: int) -> float:
    """How far the clip moves, in units of its own frame-to-frame change.

    With P the block-averaged frames, c the median RMS change between
    consecutive frames and D the RMS difference between the mean frames of
    the two halves (T frames): if the frames are one image plus independent
    noise, D = c * sqrt(2 / T), so D / (c * sqrt(2 / T)) is about 1; video
    that moves accumulates change and scores well above. Identical frames
    (c = 0) score 0 unless the halves differ.
    """
    p = _block_mean(luma, pool)
    t = len(p)
    step = float(np.median(np.sqrt((np.diff(p, axis=0) ** 2).mean(axis=(1, 2)))))
    half = t // 2
    between = float(np.sqrt(((p[:half].mean(axis=0) - p[t - half:].mean(axis=0)) ** 2).mean()))
    if step == 0.0:
        return 0.0 if between == 0.0 else float("inf")
    # Noise of std s: step = sqrt(2) s, halves' means differ by s * sqrt(2 / half) = step / sqrt(half).
    return between * float(np.sqrt(half)) / step


def whiteness(luma: np.ndarray, pool: int) -> float:
    """How noise-like frame-to-frame change is: 1 for independent per-pixel noise, more with structure.

    Block-averaging over k x k pixels divides the RMS of white noise by k but
    keeps most of a structured change (an edge or a texture sliding by), so
    k * RMS(block-averaged change) / RMS(change) is about 1 for noise and up to
    k for smooth change. Identical frames have no change and score 1.
    """
    d = np.diff(luma, axis=0)
    pooled = _block_mean(d, pool)
    k = d.shape[1] // pooled.shape[1]  # the block size actually used
    full = float((d[:, : pooled.shape[1] * k, : pooled.shape[2] * k] ** 2).mean())
    if full == 0.0:
        return 1.0
    return k * float(np.sqrt((pooled ** 2).mean() / full))


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
        elif t >= config.frozen_min_frames:
            drift = drift_ratio(luma, config.frozen_pool)
            white = whiteness(luma, config.frozen_pool)
            if drift < config.frozen_drift and white < config.frozen_white:
                problems.append(f"frames: frozen clip, one frame plus noise: the halves differ {drift:.2f}x what "
                                f"frame-to-frame change explains (< {config.frozen_drift:g}) and the change is "
                                f"noise-like (whiteness {white:.2f} < {config.frozen_white:g})")
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
