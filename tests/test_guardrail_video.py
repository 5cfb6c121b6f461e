"""Video guards: integrity on deliberately broken clips, face blur and tracking."""

from __future__ import annotations

import numpy as np
import pytest

from cosmos_lite.guardrail import Detection, HaarDetector, IntegrityConfig, PrivacyConfig, blur_private, check_integrity
from cosmos_lite.guardrail.frames import to_uint8_frames
from cosmos_lite.guardrail.tracking import track_and_fill

T, H, W = 24, 64, 96


def good_clip(t: int = T) -> np.ndarray:
    """A smooth, textured pattern drifting to the right: healthy generated video."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    frames = []
    for i in range(t):
        u = x - 1.5 * i
        v = 128 + 60 * np.sin(u / 7.0) * np.cos(y / 9.0) + 30 * np.sin((u + y) / 13.0)
        frames.append(np.stack([v, 0.8 * v + 20, 255 - v], axis=-1))
    return np.clip(frames, 0, 255).astype(np.uint8)


def test_good_clip_passes() -> None:
    assert check_integrity(good_clip()) == []


def test_good_clip_continuing_its_condition_frames_passes() -> None:
    clip = good_clip(T + 4)
    assert check_integrity(clip[4:], condition_frames=clip[:4]) == []
    # Video2World style: the output starts with the conditioning frames themselves.
    assert check_integrity(clip, condition_frames=clip[:4]) == []


@pytest.mark.parametrize("name,make,expect", [
    ("blank", lambda: np.zeros((T, H, W, 3), np.uint8), "blank"),
    ("grey", lambda: np.full((T, H, W, 3), 128, np.uint8), "blank"),
    ("saturated", lambda: np.where(good_clip() > 128, 255, 0).astype(np.uint8), "saturated"),
    ("frozen", lambda: np.repeat(good_clip()[:1], T, axis=0), "frozen"),
    ("flicker", lambda: np.where((np.arange(T) % 2 == 0)[:, None, None, None],
                                 good_clip(), (good_clip() // 3)).astype(np.uint8), "flicker"),
    ("glitch frames", lambda: _with_glitches(good_clip()), "flicker"),
])
def test_broken_clips_are_caught(name: str, make, expect: str) -> None:
    problems = check_integrity(make())
    assert any(expect in p for p in problems), (name, problems)


def _with_glitches(clip: np.ndarray) -> np.ndarray:
    clip = clip.copy()
    rng = np.random.default_rng(0)
    for t in (5, 11, 17):
        clip[t] = rng.integers(0, 256, clip[t].shape, dtype=np.uint8)
    return clip


def test_nan_float_input_is_counted_and_blocked() -> None:
    x = good_clip().astype(np.float32).transpose(3, 0, 1, 2)[None] / 127.5 - 1.0  # [1, 3, T, H, W]
    x[0, :, 3, 10:20, 10:20] = np.nan
    frames, nonfinite = to_uint8_frames(x)
    assert frames.shape == (T, H, W, 3) and frames.dtype == np.uint8
    assert nonfinite == 3 * 10 * 10
    problems = check_integrity(frames, nonfinite=nonfinite)
    assert any("300 non-finite values" in p for p in problems)


def test_jump_from_condition_frames_is_caught() -> None:
    clip = good_clip()
    other = np.ascontiguousarray(255 - clip[:4, ::-1])
    problems = check_integrity(clip, condition_frames=other)
    assert any("jump" in p for p in problems), problems


def test_condition_frames_of_another_size_are_resized() -> None:
    import cv2

    clip = good_clip(T + 2)
    cond = np.stack([cv2.resize(f, (2 * W, 2 * H)) for f in clip[:2]])
    assert check_integrity(clip[2:], condition_frames=cond) == []


def test_thresholds_are_configurable() -> None:
    frozen = np.repeat(good_clip()[:1], T, axis=0)
    assert check_integrity(frozen, IntegrityConfig(frozen_fraction=1.01, frozen_drift=0.0)) == []


# -- privacy --------------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return skimage_data.astronaut()


def _faces(frame: np.ndarray) -> list[Detection]:
    detector = HaarDetector(PrivacyConfig(profile_both_ways=True), kinds=("face",))
    return [d for d in detector(frame, 0) if d.kind == "face"]


def test_face_on_photograph_is_found_blurred_and_gone(astronaut: np.ndarray) -> None:
    found = _faces(astronaut)
    assert found, "the Haar cascade should find the astronaut's face"
    x0, y0, x1, y1 = found[0].box
    assert 150 < (x0 + x1) / 2 < 300 and 50 < (y0 + y1) / 2 < 200  # her face, upper middle
    result = blur_private(astronaut[None], PrivacyConfig(detect_every=1, profile_both_ways=True), kinds=("face",))
    assert result.tracks["face"] == 1 and result.frames_blurred["face"] == 1
    blurred = result.frames[0]
    face = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
    # The face region lost its fine detail (pixel-to-pixel gradients); the rest is untouched.
    def detail(img: np.ndarray) -> float:
        return float(np.abs(np.diff(img.astype(np.float32), axis=1)).mean())

    assert detail(blurred[face]) < 0.3 * detail(astronaut[face])
    assert np.array_equal(blurred[300:], astronaut[300:])
    assert _faces(blurred) == []


class _ScriptedDetector:
    """Reports one face box per frame, except in frames listed as missed."""

    def __init__(self, missed: set[int]) -> None:
        self.missed = missed
        self.calls: list[int] = []

    def __call__(self, frame: np.ndarray, t: int) -> list[Detection]:
        self.calls.append(t)
        if t in self.missed:
            return []
        return [Detection("face", (20.0 + t, 10.0, 44.0 + t, 34.0))]


def test_tracking_fills_a_one_frame_detection_gap() -> None:
    frames = good_clip(9)
    detector = _ScriptedDetector(missed={4})
    cfg = PrivacyConfig(detect_every=1, hold=0, workers=1)
    result = blur_private(frames, cfg, detector, kinds=("face",))
    assert sorted(detector.calls) == list(range(9))
    assert result.tracks["face"] == 1
    assert result.frames_blurred["face"] == 9
    # Frame 4 was blurred at the box interpolated from frames 3 and 5.
    changed = np.any(result.frames[4] != frames[4], axis=-1)
    ys, xs = np.nonzero(changed)
    assert 20 + 4 <= xs.mean() <= 44 + 4 and 10 <= ys.mean() <= 34


def test_track_and_fill_interpolates_and_holds() -> None:
    dets = {0: [(0.0, 0.0, 10.0, 10.0)], 4: [(8.0, 0.0, 18.0, 10.0)], 8: []}
    per_frame, n = track_and_fill(dets, num_frames=9, max_gap=1, hold=2)
    assert n == 1
    assert per_frame[2] == [(4.0, 0.0, 14.0, 10.0)]          # interpolated
    assert per_frame[6] == [(8.0, 0.0, 18.0, 10.0)]          # held after the last sighting
    assert per_frame[7] == []


def test_separate_objects_make_separate_tracks() -> None:
    dets = {0: [(0.0, 0.0, 10.0, 10.0), (60.0, 0.0, 70.0, 10.0)], 1: [(1.0, 0.0, 11.0, 10.0), (61.0, 0.0, 71.0, 10.0)]}
    _, n = track_and_fill(dets, num_frames=2)
    assert n == 2


def test_strided_detection_covers_every_frame() -> None:
    frames = good_clip(10)
    detector = _ScriptedDetector(missed=set())
    result = blur_private(frames, PrivacyConfig(detect_every=4, workers=1), detector, kinds=("face",))
    assert sorted(detector.calls) == [0, 4, 8, 9]
    assert result.frames_blurred["face"] == 10


def test_blur_in_a_fresh_process_loads_cascades_from_worker_threads():
    """Regression: the first ``import cv2`` racing in the detector pool saw cv2 without cv2.data."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from cosmos_lite.guardrail.privacy import PrivacyConfig, blur_private\n"
        "assert 'cv2' not in sys.modules\n"
        "frames = np.random.default_rng(0).integers(0, 255, (9, 64, 96, 3), dtype=np.uint8)\n"
        "blur_private(frames, PrivacyConfig(workers=4, detect_every=1))\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
