"""Pure measures of generated clips against true ones: every number the world-model evaluation
reports is computed here from uint8 clips ``[T, H, W, 3]`` and arrays, so each can be tested on
clips whose answer is known (true clips, frozen clips, blurred clips, shuffled actions).
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import psnr, ssim

PSNR_CAP = 100.0  # dB; identical frames (PSNR = inf) count as this, so means and JSON stay finite


def check_cond_frames(cond_frames: int, frames: int, temporal_compression: int, max_context_frames: int) -> None:
    """``cond_frames`` must be ``1 + j * t``, below ``frames``, and at most what the generator
    conditions on (``max_context_frames``; more would be cut silently)."""
    t = temporal_compression
    if cond_frames < 1 or (cond_frames - 1) % t:
        raise ValueError(f"cond_frames must be 1 + {t}*j (1, {1 + t}, {1 + 2 * t}, ...) for temporal "
                         f"compression {t}, got {cond_frames}")
    if cond_frames >= frames:
        raise ValueError(f"cond_frames ({cond_frames}) must be below the clip length ({frames} frames)")
    if cond_frames > max_context_frames:
        raise ValueError(f"this generator conditions on at most {max_context_frames} frames, "
                         f"got cond_frames={cond_frames}")


def horizon_buckets(num_frames: int, cond_frames: int, fps: float) -> list[dict]:
    """Frames ``cond_frames .. num_frames-1`` grouped by horizon ``(k - (cond_frames-1)) / fps``
    seconds into whole-second buckets (0, 1], (1, 2], ...; empty buckets are left out.

    Returns ``[{"label": "(0,1]", "lo": 0, "hi": 1, "frames": [k, ...]}, ...]`` in order."""
    if not 1 <= cond_frames < num_frames:
        raise ValueError(f"need 1 <= cond_frames < num_frames, got {cond_frames}, {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    by: dict[int, list[int]] = {}
    for k in range(cond_frames, num_frames):
        h = (k - (cond_frames - 1)) / fps
        b = max(0, math.ceil(round(h, 9)) - 1)  # round: 3 frames at 3 fps is exactly 1 s, not 1.0000001
        by.setdefault(b, []).append(k)
    return [{"label": f"({b},{b + 1}]", "lo": b, "hi": b + 1, "frames": by[b]} for b in sorted(by)]


def repeat_last_prediction(frames: np.ndarray, cond_frames: int) -> np.ndarray:
    """The repeat-last baseline: the condition frames, then the last of them held still."""
    out = np.array(frames, copy=True)
    out[cond_frames:] = frames[cond_frames - 1]
    return out


def frame_scores(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame PSNR (dB, capped at :data:`PSNR_CAP`) and SSIM of uint8 ``[T, H, W, 3]`` clips."""
    if pred.shape != true.shape:
        raise ValueError(f"clips differ in shape: {pred.shape} vs {true.shape}")
    from cosmos_lite.data.codec import frames_to_images

    x, y = frames_to_images(pred), frames_to_images(true)
    p = psnr(x, y).clamp(max=PSNR_CAP).numpy().astype(np.float64)
    s = ssim(x, y).numpy().astype(np.float64)
    return p, s


def clip_mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error of two uint8 clips of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"clips differ in shape: {a.shape} vs {b.shape}")
    return float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float64)


def horizontal_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Horizontal translation (pixels, + = content moved right) from frame ``a`` to frame ``b``
    (uint8 [H, W, 3]), by phase correlation of the grayscale frames under a Hann window.
    Featureless frames give 0."""
    import cv2

    ga, gb = _gray(a), _gray(b)
    if ga.std() < 1e-6 or gb.std() < 1e-6:
        return 0.0
    win = cv2.createHanningWindow((ga.shape[1], ga.shape[0]), cv2.CV_64F)
    (dx, _dy), response = cv2.phaseCorrelate(ga, gb, win)
    if not (math.isfinite(dx) and response > 0):
        return 0.0
    return float(dx)


def cumulative_shift(frames: np.ndarray) -> float:
    """Horizontal shift of the content from ``frames[0]`` to ``frames[-1]``, summed over
    consecutive pairs (each a small, reliably measured step)."""
    return float(sum(horizontal_shift(frames[i], frames[i + 1]) for i in range(len(frames) - 1)))


def steering_actions(true_actions: np.ndarray, cond_frames: int, curvature: float) -> np.ndarray:
    """True actions for the condition frames' transitions, then (accel 0, ``curvature``) from
    action ``cond_frames - 1`` on (it first shows in frame ``cond_frames``)."""
    a = np.array(true_actions, dtype=np.float32, copy=True)
    a[cond_frames - 1:] = (0.0, curvature)
    return a


def _sign(x: float) -> int:
    return int(np.sign(x))


def _mean(xs) -> float | None:
    xs = list(xs)
    return float(np.mean(xs)) if xs else None


# --------------------------------------------------------------------------- sharpness


def hf_energy(frames: np.ndarray) -> np.ndarray:
    """Per-frame high-frequency energy: mean squared Laplacian of the grey frame (grey levels^2).

    Blur removes exactly this, so generated / true at the same horizon says how much of the
    true detail a generator keeps (1 = as sharp as the truth, < 1 = softer, > 1 = noisier)."""
    import cv2

    return np.array([float(np.mean(cv2.Laplacian(_gray(f), cv2.CV_64F, ksize=3) ** 2)) for f in frames])


def hf_ratio(generated: np.ndarray, true: np.ndarray) -> float:
    """Mean HF energy of ``generated`` over that of ``true`` (same frames of the same scenes)."""
    g, t = hf_energy(generated).mean(), hf_energy(true).mean()
    return float(g / t) if t > 0 else math.nan


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a [N, D]`` and ``b [M, D]``:
    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` (FID / FVD's formula), with the matrix
    square root from a symmetric eigen-decomposition (numpy only)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"need two feature sets [N>=2, D] of the same width, got {a.shape} and {b.shape}")
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # (S_a S_b)^(1/2) has the eigenvalues of (S_a^(1/2) S_b S_a^(1/2))^(1/2), which is symmetric
    w, v = np.linalg.eigh(sa)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root_a @ sb @ root_a
    tr_cross = float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())
    return float(mu @ mu + np.trace(sa) + np.trace(sb) - 2 * tr_cross)


# --------------------------------------------------------------------------- stutter


def change_by_group_position(frames: np.ndarray, temporal_compression: int) -> np.ndarray:
    """Mean absolute frame-to-frame change (grey levels) by position inside a latent group.

    Frame k >= 1 belongs to latent frame ``1 + (k - 1) // t`` at position ``(k - 1) % t``; entry p
    is the mean |frame_k - frame_{k-1}| over frames at position p. Smooth motion gives a flat
    profile; a decoder that bunches motion at a group's start gives a falling one."""
    t = temporal_compression
    f = frames.astype(np.float64)
    diff = np.abs(f[1:] - f[:-1]).mean(axis=(1, 2, 3))  # [T-1]: change into frame k = 1 .. T-1
    pos = np.arange(len(diff)) % t
    return np.array([diff[pos == p].mean() if (pos == p).any() else math.nan for p in range(t)])


def stutter_deviation(profile: np.ndarray, true_profile: np.ndarray) -> float:
    """Largest gap between two change profiles, relative to the true profile's mean (0 = the same
    rhythm; the models issue asks for <= 0.25)."""
    ref = float(np.nanmean(true_profile))
    return float(np.nanmax(np.abs(profile - true_profile)) / ref) if ref > 0 else math.nan


# --------------------------------------------------------------------------- failures

BLACK_LEVEL = 12.0  # median frame mean, grey levels: half the darkest true night clip (~25; BENCHMARKS.md)
BLANK_STD = 1.0  # spatial std in grey levels: nothing drawn at all
FROZEN_RATIO = 0.01  # median change below 1% of the clip's contrast (true clips: >= 2.7%): nothing moves
FLICKER_JUMP = 0.5  # a frame's mean brightness off its neighbours by half the contrast (true: <= 0.29)


def failure_kinds(frames: np.ndarray) -> list[str]:
    """Which of "blank", "black", "frozen", "flicker" a clip is (empty list: none).

    Thresholds are relative to the clip's own contrast where they can be, so a dark, low-contrast
    night or fog clip that moves is not "frozen" merely because its grey levels are small."""
    f = frames.astype(np.float64).mean(axis=3)  # [T, H, W] grey
    out = []
    contrast = float(np.median(f.std(axis=(1, 2))))
    if contrast < BLANK_STD:
        out.append("blank")
    if float(np.median(f.mean(axis=(1, 2)))) < BLACK_LEVEL:
        out.append("black")
    if len(f) > 1 and contrast >= BLANK_STD:
        change = np.abs(f[1:] - f[:-1]).mean(axis=(1, 2))
        if float(np.median(change)) < FROZEN_RATIO * contrast:
            out.append("frozen")
        means = f.mean(axis=(1, 2))
        if len(f) > 2:
            # a flicker is a frame brighter or darker than both neighbours, not a steady fade
            mid = means[1:-1] - 0.5 * (means[:-2] + means[2:])
            if float(np.abs(mid).max()) > FLICKER_JUMP * contrast:
                out.append("flicker")
    return out


# --------------------------------------------------------------------------- actions

STRAIGHT = 0.002  # 1/m: |curvature| below this counts as straight (a 500 m radius)


def turn_class(curvature: np.ndarray, straight: float = STRAIGHT) -> np.ndarray:
    """-1 right, 0 straight, +1 left per value."""
    c = np.asarray(curvature, np.float64)
    return np.where(np.abs(c) < straight, 0, np.sign(c)).astype(int)


def sign_accuracy(estimated: np.ndarray, commanded: np.ndarray, straight: float = STRAIGHT) -> float:
    """Share of frames whose estimated turn (left / straight / right) is the commanded one."""
    return float((turn_class(estimated, straight) == turn_class(commanded, straight)).mean())


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); nan when either side is constant."""
    def ranks(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for u in np.unique(v):  # ties share their mean rank
            m = v == u
            r[m] = r[m].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])
