"""Camera-like clips from still photographs: the offline stand-in for real footage.

Real video that ships offline is scarce, but scikit-image ships real photographs.
A clip here is a virtual camera moving over one photo (pan, zoom, a little roll,
exposure drift), sometimes cut to a second photo mid-clip as edited footage is.
It teaches a tokenizer real textures, colours and faces, and the continuous
motion of a camera, which the procedural driving scenes do not have.

Photos are split by name: ``TEST_PHOTOS`` never appear in training clips, so
the held-out figures are on images the model has not seen.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

# scikit-image photographs (offline, in the wheel); grey ones are used as grey RGB.
TRAIN_PHOTOS = ("astronaut", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                "camera", "brick", "grass", "gravel", "moon", "coins", "clock", "page", "text")
TEST_PHOTOS = ("coffee", "stereo_motorcycle")


def load_photo(name: str) -> np.ndarray:
    """uint8 [H, W, 3] of the scikit-image photo ``name`` (first view of stereo pairs)."""
    try:
        import skimage.data as skd
    except ImportError as err:  # pragma: no cover - scikit-image is a test / data extra
        raise ImportError("photo clips need scikit-image: pip install scikit-image") from err
    if name not in TRAIN_PHOTOS + TEST_PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose from {', '.join(TRAIN_PHOTOS + TEST_PHOTOS)}")
    img = getattr(skd, name)()
    if isinstance(img, tuple):  # stereo pairs and (image, disparity) tuples
        img = img[0]
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3]).astype(np.uint8)


def _camera_path(rng: np.random.Generator, shape: tuple[int, int], size: tuple[int, int]):
    """Start and end (centre y, centre x, scale in source px per output px, roll in rad)."""
    (H, W), (h, w) = shape, size
    max_scale = min(H / h, W / w)  # the largest window that fits
    min_scale = max(max_scale / 4.0, 0.6)
    ends = []
    for _ in range(2):
        s = float(np.exp(rng.uniform(math.log(min_scale), math.log(max_scale))))
        half_h, half_w = s * h / 2, s * w / 2
        cy = float(rng.uniform(half_h, H - half_h)) if H > 2 * half_h else H / 2
        cx = float(rng.uniform(half_w, W - half_w)) if W > 2 * half_w else W / 2
        ends.append((cy, cx, s, float(rng.normal(0.0, 0.04))))
    # keep motion camera-like: at most ~1/3 of the window per clip, so consecutive frames overlap
    (y0, x0, s0, r0), (y1, x1, s1, r1) = ends
    reach = 0.35 * s0 * max(h, w)
    d = math.hypot(y1 - y0, x1 - x0)
    if d > reach:
        y1, x1 = y0 + (y1 - y0) * reach / d, x0 + (x1 - x0) * reach / d
    s1 = float(np.clip(s1, s0 / 1.6, s0 * 1.6))
    s1 = min(s1, max_scale)
    return (y0, x0, s0, r0), (y1, x1, s1, r1)


def _render_path(img: np.ndarray, frames: int, size: tuple[int, int], start, end, rng) -> np.ndarray:
    import cv2

    h, w = size
    out = np.empty((frames, h, w, 3), np.uint8)
    gain0, gain1 = rng.uniform(0.8, 1.15, size=2)
    for t in range(frames):
        a = 0.5 - 0.5 * math.cos(math.pi * t / max(frames - 1, 1))  # ease in and out
        cy, cx, s, r = (p0 + a * (p1 - p0) for p0, p1 in zip(start, end))
        # affine map output pixel -> source pixel: rotate by r and scale by s about the centres
        cos, sin = math.cos(r) * s, math.sin(r) * s
        m = np.array([[cos, -sin, cx - cos * (w - 1) / 2 + sin * (h - 1) / 2],
                      [sin, cos, cy - sin * (w - 1) / 2 - cos * (h - 1) / 2]], np.float64)
        src = img
        if s > 1.5:  # prefilter against aliasing: shrink the source first, then warp at scale <= 1.5
            k = s / 1.5
            src = cv2.resize(img, (max(1, round(img.shape[1] / k)), max(1, round(img.shape[0] / k))),
                             interpolation=cv2.INTER_AREA)
            m = m / k
        frame = cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
        gain = gain0 + a * (gain1 - gain0)
        out[t] = np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return out


def photo_clip(photos: list[np.ndarray], rng: np.random.Generator, frames: int,
               size: tuple[int, int], p_cut: float = 0.2) -> np.ndarray:
    """uint8 [frames, H, W, 3]: a camera move over a random photo, cut to another with p = ``p_cut``."""
    img = photos[int(rng.integers(len(photos)))]
    start, end = _camera_path(rng, img.shape[:2], size)
    clip = _render_path(img, frames, size, start, end, rng)
    if len(photos) > 1 and frames > 2 and rng.random() < p_cut:
        cut = int(rng.integers(1, frames))
        img2 = photos[int(rng.integers(len(photos)))]
        s2, e2 = _camera_path(rng, img2.shape[:2], size)
        clip[cut:] = _render_path(img2, frames - cut, size, s2, e2, rng)
    if rng.random() < 0.5:
        clip = clip[:, :, ::-1]
    return np.ascontiguousarray(clip)


def export_photo_clips(out: str | Path, n: int, frames: int, size: tuple[int, int], fps: float = 10.0,
                       split: str = "train", seed: int = 0) -> list[Path]:
    """Write ``n`` lossless (FFV1) photo clips to ``out``; existing files are kept (resumable)."""
    from cosmos_lite.data.io import write_video

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    names = TRAIN_PHOTOS if split == "train" else TEST_PHOTOS
    photos = [load_photo(p) for p in names]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = out / f"photo-{split}-{i:05d}.mkv"
        if not path.exists():
            clip = photo_clip(photos, np.random.default_rng([seed, i, 0 if split == "train" else 1]), frames, size)
            write_video(path, clip, fps, lossless=True)
        paths.append(path)
    return paths
