"""Training data: VideoFolder (skips bad files, reports once), position-addressed streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from cosmos_lite.data.io import write_video
from cosmos_lite.data.streams import SceneStream, VideoFolder, VideoFolderStream


def _frames(t: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (1, 12, 16, 3)).astype(np.uint8)
    return np.repeat(np.repeat(np.repeat(base, t, 0), 4, 1), 4, 2)  # [t, 48, 64, 3]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "videos"
    write_video(d / "a.mp4", _frames(12, 0), fps=10)
    write_video(d / "sub" / "b.mkv", _frames(12, 1), fps=10, lossless=True)
    write_video(d / "short.mp4", _frames(3, 2), fps=10)  # too short for 9 frames
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (d / "notes.txt").write_text("not a video")
    return d


def test_video_folder_skips_bad_files_and_reports_once(folder, capsys):
    ds = VideoFolder(folder, frames=9, size=(32, 32), hflip=True)
    err = capsys.readouterr().err
    assert err.count("skipped 2 of 4 files") == 1 and "corrupt.mp4" in err and "short.mp4" in err
    assert sorted(p.name for p in ds.files) == ["a.mp4", "b.mkv"] and len(ds) == 2
    clip = ds[0]
    assert clip.shape == (3, 9, 32, 32) and clip.dtype == torch.float32
    assert -1.0 <= float(clip.min()) and float(clip.max()) <= 1.0
    rc = ds.random_clip(np.random.default_rng(0))
    assert rc.shape == (3, 9, 32, 32)


def test_video_folder_skips_a_file_that_breaks_after_probing(folder, capsys):
    ds = VideoFolder(folder, frames=9, size=(32, 32))
    capsys.readouterr()
    ds.files[0].write_bytes(b"broken now")  # passed the probe, fails at decode time
    clips = [ds.random_clip(np.random.default_rng(s)) for s in range(6)]
    assert all(c.shape == (3, 9, 32, 32) for c in clips)
    assert capsys.readouterr().err.count("skipping unreadable video") == 1


def test_video_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        VideoFolder(tmp_path / "missing", 9, (32, 32))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no usable videos"):
        VideoFolder(tmp_path / "empty", 9, (32, 32))


def test_streams_are_resumable_by_position_and_independent_of_workers(folder):
    def take(ds, n, workers=0):
        loader = DataLoader(ds, batch_size=2, num_workers=workers)
        it = iter(loader)
        return torch.cat([next(it) for _ in range(n // 2)])

    scenes = take(SceneStream(5, (32, 32), 10.0, seed=3, start=0, batch_size=2), 6)
    resumed = take(SceneStream(5, (32, 32), 10.0, seed=3, start=2, batch_size=2), 4)
    assert torch.equal(scenes[2:], resumed)
    assert not torch.equal(scenes[0], scenes[1])
    other_rank = take(SceneStream(5, (32, 32), 10.0, seed=3, start=0, batch_size=2, rank=1, world_size=2), 2)
    assert not torch.equal(other_rank[0], scenes[0])

    vf = VideoFolder(folder, 9, (32, 32), hflip=True, quiet=True)
    one = take(VideoFolderStream(vf, seed=0, start=0, batch_size=2), 4)
    two = take(VideoFolderStream(vf, seed=0, start=0, batch_size=2), 4, workers=2)
    assert torch.equal(one, two)
