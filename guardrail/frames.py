"""Bring generated video into the edge layout, uint8 [T, H, W, 3]."""

from __future__ import annotations

from typing import Any

import numpy as np


def _to_numpy(x: Any) -> np.ndarray:
    if type(x).__module__.split(".")[0] == "torch":
        x = x.detach().cpu()
        return (x.float() if x.is_floating_point() else x).numpy()
    return np.asarray(x)


def to_uint8_frames(frames: Any) -> tuple[np.ndarray, int]:
    """Return (uint8 [T, H, W, 3], number of non-finite values that were replaced).

    Accepts uint8 [T, H, W, 3] (numpy or torch) or float in the model layout
    [1, 3, T, H, W] / [3, T, H, W] with values in [-1, 1]. Non-finite values
    are counted (the integrity check blocks on them) and replaced with 0 so
    that the remaining checks can still run.
    """
    arr = _to_numpy(frames)
    if arr.dtype == np.uint8:
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise ValueError(f"frames: uint8 video must be [T, H, W, 3], got shape {list(arr.shape)}")
        return np.ascontiguousarray(arr), 0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"frames: dtype {arr.dtype} not supported; use uint8 [T, H, W, 3] "
                         f"or float [1, 3, T, H, W] in [-1, 1]")
    if arr.ndim == 5:
        if arr.shape[0] != 1:
            raise ValueError(f"frames: batch of {arr.shape[0]} clips; check one clip at a time")
        arr = arr[0]
    if arr.ndim != 4 or arr.shape[0] != 3:
        raise ValueError(f"frames: float video must be [1, 3, T, H, W] or [3, T, H, W] in [-1, 1], "
                         f"got shape {list(_to_numpy(frames).shape)}")
    finite = np.isfinite(arr)
    bad = int(arr.size - np.count_nonzero(finite))
    if bad:
        arr = np.where(finite, arr, 0.0)
    out = np.clip((arr.astype(np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out.transpose(1, 2, 3, 0)), bad
