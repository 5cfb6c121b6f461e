"""Input guard: validate conditioning frames and actions before any compute.

Every problem is reported as ``"<argument>: <what is wrong>"`` so a caller can
fix the request without reading tensors by hand. The checks only read the
arrays; nothing is converted or copied beyond what a reduction needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class InputLimits:
    """Bounds for conditioning inputs. Action columns are (accel, steering, extra...)."""

    max_frames: int = 1024
    min_size: int = 16
    max_height: int = 2160
    max_width: int = 3840
    max_batch: int = 64
    # Ego longitudinal acceleration in m/s^2: hard braking reaches about -10,
    # strong acceleration about +6.
    accel_range: tuple[float, float] = (-10.0, 6.0)
    # Steering as curvature (1/m) or road-wheel angle (rad): both stay well inside +-1.
    steering_range: tuple[float, float] = (-1.0, 1.0)
    # None accepts any number of action channels (only the first two are range-checked).
    action_dim: int | None = 2
    # Tolerance for float frames slightly outside [-1, 1] after resampling.
    range_tolerance: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("accel_range", "steering_range"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"InputLimits.{name}: low {lo} must be below high {hi}")


class InputError(ValueError):
    """Raised by ``validate_inputs`` with every problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _as_numpy(x: Any) -> np.ndarray:
    if _is_torch(x):
        return x.detach().cpu().float().numpy() if x.is_floating_point() else x.detach().cpu().numpy()
    return np.asarray(x)


def _frame_list(mask_per_frame: np.ndarray, limit: int = 10) -> str:
    idx = np.flatnonzero(mask_per_frame).tolist()
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"{idx[:limit]}{more}"


def check_frames(frames: Any, limits: InputLimits = InputLimits(),
                 expected_frames: int | None = None, name: str = "video") -> list[str]:
    """Problems with conditioning frames: uint8 [T,H,W,3] or float [B,3,T,H,W] in [-1, 1]."""
    if frames is None:
        return []
    if not (_is_torch(frames) or isinstance(frames, np.ndarray)):
        return [f"{name}: expected a numpy array or torch tensor, got {type(frames).__name__}"]
    shape = tuple(frames.shape)
    dtype = str(frames.dtype).replace("torch.", "")
    problems: list[str] = []
    if dtype == "uint8":
        if len(shape) != 4 or shape[-1] != 3:
            return [f"{name}: uint8 frames must be [T, H, W, 3], got shape {list(shape)}"]
        t, h, w = shape[0], shape[1], shape[2]
    elif dtype in ("float16", "bfloat16", "float32", "float64"):
        if len(shape) == 4 and shape[0] == 3:
            shape = (1,) + shape
        if len(shape) != 5 or shape[1] != 3:
            return [f"{name}: float frames must be [B, 3, T, H, W] in [-1, 1], got shape {list(frames.shape)}"]
        b, t, h, w = shape[0], shape[2], shape[3], shape[4]
        if b > limits.max_batch:
            problems.append(f"{name}: batch {b} exceeds the limit {limits.max_batch}")
        arr = _as_numpy(frames).reshape(shape)
        finite = np.isfinite(arr)
        if not finite.all():
            bad = ~finite.all(axis=(0, 1, 3, 4))
            problems.append(f"{name}: {int((~finite).sum())} non-finite values (NaN/inf) "
                            f"at frames {_frame_list(bad)}")
        vals = arr[finite]
        tol = limits.range_tolerance
        if vals.size and (vals.min() < -1 - tol or vals.max() > 1 + tol):
            out = ((arr < -1 - tol) | (arr > 1 + tol)).any(axis=(0, 1, 3, 4))
            problems.append(f"{name}: values outside [-1, 1] (min {vals.min():.3g}, max {vals.max():.3g}) "
                            f"at frames {_frame_list(out)}; float frames must be scaled to [-1, 1]")
    else:
        return [f"{name}: dtype {dtype} not supported; use uint8 [T, H, W, 3] or float [B, 3, T, H, W] in [-1, 1]"]
    if t < 1:
        problems.append(f"{name}: no frames (T = 0)")
    if t > limits.max_frames:
        problems.append(f"{name}: {t} frames exceeds the limit {limits.max_frames}")
    if expected_frames is not None and t >= expected_frames:
        problems.append(f"{name}: {t} conditioning frames but the model generates {expected_frames}; "
                        f"condition on fewer frames than it generates")
    if min(h, w) < limits.min_size:
        problems.append(f"{name}: frame size {h}x{w} is below the minimum {limits.min_size} pixels")
    if h > limits.max_height or w > limits.max_width:
        problems.append(f"{name}: frame size {h}x{w} exceeds the limit {limits.max_height}x{limits.max_width}")
    return problems


def check_actions(actions: Any, limits: InputLimits = InputLimits(),
                  expected_frames: int | None = None, name: str = "actions") -> list[str]:
    """Problems with ego actions: float [T, A] or [B, T, A], one row per video frame."""
    if actions is None:
        return []
    if not (_is_torch(actions) or isinstance(actions, np.ndarray)):
        return [f"{name}: expected a numpy array or torch tensor, got {type(actions).__name__}"]
    arr = _as_numpy(actions)
    if not np.issubdtype(arr.dtype, np.floating):
        return [f"{name}: dtype {arr.dtype} not supported; actions must be float"]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        return [f"{name}: expected shape [T, A] or [B, T, A], got {list(arr.shape)}"]
    b, t, a = arr.shape
    problems: list[str] = []
    if limits.action_dim is not None and a != limits.action_dim:
        problems.append(f"{name}: {a} channels per frame, expected {limits.action_dim} "
                        f"(longitudinal acceleration, steering)")
    if b > limits.max_batch:
        problems.append(f"{name}: batch {b} exceeds the limit {limits.max_batch}")
    if t > limits.max_frames:
        problems.append(f"{name}: {t} frames exceeds the limit {limits.max_frames}")
    if expected_frames is not None and t != expected_frames:
        problems.append(f"{name}: {t} frames but the model expects one action per generated frame "
                        f"({expected_frames})")
    finite = np.isfinite(arr)
    if not finite.all():
        problems.append(f"{name}: {int((~finite).sum())} non-finite values (NaN/inf) "
                        f"at frames {_frame_list(~finite.all(axis=(0, 2)))}")
    checks = (("longitudinal acceleration", limits.accel_range, "m/s^2"), ("steering", limits.steering_range, ""))
    for col, (label, (lo, hi), unit) in enumerate(checks[:a]):
        vals = arr[..., col]
        bad = np.isfinite(vals) & ((vals < lo) | (vals > hi))
        if bad.any():
            v = vals[bad]
            problems.append(f"{name}: {label} out of range [{lo:g}, {hi:g}]{' ' + unit if unit else ''}: "
                            f"{int(bad.sum())} values at frames {_frame_list(bad.any(axis=0))} "
                            f"(min {v.min():.3g}, max {v.max():.3g})")
    return problems


def check_inputs(video: Any = None, actions: Any = None, expected_frames: int | None = None,
                 limits: InputLimits = InputLimits()) -> list[str]:
    """All problems with a request's conditioning, including batch agreement."""
    problems = check_frames(video, limits, expected_frames) + check_actions(actions, limits, expected_frames)
    if video is not None and actions is not None and not problems:
        vb = video.shape[0] if str(video.dtype).replace("torch.", "") != "uint8" and video.ndim == 5 else 1
        ab = actions.shape[0] if actions.ndim == 3 else 1
        if vb != ab and 1 not in (vb, ab):
            problems.append(f"actions: batch {ab} does not match video batch {vb}")
    return problems


def validate_inputs(video: Any = None, actions: Any = None, expected_frames: int | None = None,
                    limits: InputLimits = InputLimits()) -> None:
    """Raise ``InputError`` listing every problem; return silently when the inputs are fine."""
    problems = check_inputs(video, actions, expected_frames, limits)
    if problems:
        raise InputError(problems)
