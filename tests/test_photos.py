"""Photo clips: camera moves over real photographs, the offline stand-in for real footage."""

from __future__ import annotations

import numpy as np
import pytest

from cosmos_lite.data.photos import TEST_PHOTOS, TRAIN_PHOTOS, export_photo_clips, load_photo, photo_clip


def test_photo_clip_is_a_moving_camera_over_a_real_photo():
    photos = [load_photo("astronaut")]
    a = photo_clip(photos, np.random.default_rng(0), 17, (32, 48))
    b = photo_clip(photos, np.random.default_rng(0), 17, (32, 48))
    assert a.dtype == np.uint8 and a.shape == (17, 32, 48, 3)
    assert np.array_equal(a, b)  # seeded
    change = np.abs(np.diff(a.astype(int), axis=0)).mean(axis=(1, 2, 3))
    assert change.max() > 0.5  # the camera moves
    assert a.std() > 10  # a picture, not a flat colour


def test_train_and_test_photos_are_disjoint_and_load():
    assert not set(TRAIN_PHOTOS) & set(TEST_PHOTOS)
    for name in TEST_PHOTOS + ("camera",):  # a grey photo comes back as RGB
        img = load_photo(name)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    with pytest.raises(ValueError, match="unknown photo"):
        load_photo("nope")


def test_export_is_resumable_and_uses_only_its_split(tmp_path):
    from cosmos_lite.data.io import read_video

    paths = export_photo_clips(tmp_path, 2, 9, (32, 48), split="test")
    first = [p.read_bytes() for p in paths]
    again = export_photo_clips(tmp_path, 3, 9, (32, 48), split="test")
    assert [p.read_bytes() for p in again[:2]] == first and len(again) == 3
    frames, fps = read_video(again[2])
    assert frames.shape == (9, 32, 48, 3) and fps == 10.0
    with pytest.raises(ValueError, match="split"):
        export_photo_clips(tmp_path, 1, 9, (32, 48), split="val")
