"""Video I/O: round trips through H.264 and FFV1, range reads, resampling, resizing, errors."""

from __future__ import annotations

import numpy as np
import pytest

from cosmos_lite.data.io import VideoError, iter_video, probe_video, read_video, resize_frames, write_video


def _clip(t: int = 24, h: int = 36, w: int = 52) -> np.ndarray:
    tt = np.arange(t, dtype=np.float32)[:, None, None]
    y = np.arange(h, dtype=np.float32)[None, :, None]
    x = np.arange(w, dtype=np.float32)[None, None, :]
    shape = (t, h, w)
    r = np.broadcast_to(127 + 100 * np.sin((x + 2 * tt) / 6), shape)
    g = np.broadcast_to(127 + 100 * np.cos((y - tt) / 5), shape)
    b = np.broadcast_to(8 * tt + 20, shape)
    return np.stack([r, g, b], -1).astype(np.uint8)  # [T, H, W, 3], every frame distinct


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def test_ffv1_round_trip_is_bit_exact_at_odd_sizes(tmp_path):
    clip = _clip(12, 35, 51)
    path = write_video(tmp_path / "a.mkv", clip, fps=12, lossless=True)
    frames, fps = read_video(path)
    assert fps == 12 and np.array_equal(frames, clip)


def test_h264_round_trip_is_close_and_pads_odd_sizes(tmp_path):
    clip = _clip(12, 35, 51)
    path = write_video(tmp_path / "a.mp4", clip, fps=24)
    frames, fps = read_video(path)
    assert fps == 24 and frames.shape == (12, 36, 52, 3)  # yuv420p needs even sizes
    assert _psnr(frames[:, :35, :51], clip) > 30  # 4:2:0 chroma costs a few dB on this colourful pattern
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames, info.codec, info.pix_fmt) == (52, 36, 12, "h264", "yuv420p")


@pytest.mark.parametrize("suffix, lossless", [(".mp4", False), (".mkv", True), (".avi", True), (".mov", False)])
def test_range_read_matches_full_read(tmp_path, suffix, lossless):
    clip = _clip(40)
    path = write_video(tmp_path / f"a{suffix}", clip, fps=10, lossless=lossless)
    full, _ = read_video(path)
    part, _ = read_video(path, start=23, num_frames=9)
    assert np.array_equal(part, full[23:32])


def test_iter_video_chunks_concatenate_to_full_read(tmp_path):
    path = write_video(tmp_path / "a.mkv", _clip(30), fps=10, lossless=True)
    chunks = list(iter_video(path, chunk_frames=7))
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 2]
    assert np.array_equal(np.concatenate(chunks), read_video(path)[0])


def test_fps_resampling_drops_and_repeats_frames(tmp_path):
    clip = _clip(20)
    path = write_video(tmp_path / "a.mkv", clip, fps=10, lossless=True)
    half, fps = read_video(path, fps=5)
    assert fps == 5 and np.array_equal(half, clip[::2])
    double, _ = read_video(path, fps=20)
    assert np.array_equal(double, np.repeat(clip, 2, axis=0))
    part, _ = read_video(path, fps=20, start=5, num_frames=6)
    assert np.array_equal(part, np.repeat(clip, 2, axis=0)[5:11])


def test_variable_frame_rate_file_lands_on_a_constant_grid(tmp_path):
    import av

    clip = _clip(10)
    path = tmp_path / "vfr.mkv"
    # Frames at 0, 0.1, 0.2, then a 0.3 s gap, then 0.1 s steps: a variable-rate file.
    times = [0.0, 0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=10)
        s.pix_fmt, s.width, s.height = "bgr0", clip.shape[2], clip.shape[1]
        from fractions import Fraction

        s.codec_context.time_base = Fraction(1, 1000)
        for img, t in zip(clip, times):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = int(t * 1000), Fraction(1, 1000)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    frames, _ = read_video(path, fps=10)
    # The gap is filled by holding frame 2 on screen, as a player would.
    expected = np.stack([clip[i] for i in (0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9)])
    assert np.array_equal(frames, expected)


def test_resize_modes(tmp_path):
    clip = _clip(3, 40, 80)
    crop = resize_frames(clip, (32, 32), "crop")
    pad = resize_frames(clip, (32, 32), "pad")
    stretch = resize_frames(clip, (32, 32), "stretch")
    assert crop.shape == pad.shape == stretch.shape == (3, 32, 32, 3)
    assert (pad[:, :8] == 0).all() and (pad[:, -8:] == 0).all() and pad[:, 8:24].mean() > 20
    path = write_video(tmp_path / "a.mkv", clip, fps=5, lossless=True)
    read_crop, _ = read_video(path, size=(32, 32))
    read_pad, _ = read_video(path, size=(32, 32), resize_mode="pad")
    assert read_crop.shape == (3, 32, 32, 3) and (read_pad[:, :8] == 0).all()
    assert np.abs(read_crop.astype(int) - crop.astype(int)).mean() < 6


def test_error_cases_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4: no such file"):
        read_video(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="empty.mp4: empty file"):
        read_video(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("this is not a video")
    with pytest.raises(VideoError, match="text.mp4: not a readable video"):
        read_video(tmp_path / "text.mp4")
    with pytest.raises(VideoError, match="is a directory"):
        read_video(tmp_path)
    good = write_video(tmp_path / "good.mkv", _clip(20), fps=10, lossless=True)
    data = good.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="cut.mkv: truncated"):
        read_video(tmp_path / "cut.mkv")
    with pytest.raises(VideoError, match=r"asked for frames \[15, 25\) but the video ends after 20"):
        read_video(good, start=15, num_frames=10)
    # An audio-only file has no video stream.
    import av

    with av.open(str(tmp_path / "audio.mka"), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with pytest.raises(VideoError, match="audio.mka: no video stream"):
        read_video(tmp_path / "audio.mka")


def test_write_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "a.mp4", np.zeros((2, 8, 8, 3), np.float32), fps=10)
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        write_video(tmp_path / "a.mp4", np.zeros((8, 8, 3), np.uint8), fps=10)
    with pytest.raises(ValueError, match="fps"):
        write_video(tmp_path / "a.mp4", np.zeros((2, 8, 8, 3), np.uint8), fps=0)
    with pytest.raises(ValueError, match="needs a .mkv or .avi"):
        write_video(tmp_path / "a.mp4", np.zeros((2, 8, 8, 3), np.uint8), fps=10, lossless=True)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def test_written_video_gets_the_umask_mode_not_the_private_temp_mode(tmp_path):
    import os
    import stat

    path = write_video(tmp_path / "clip.mp4", np.zeros((3, 16, 16, 3), np.uint8), 10)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_raw_clips_read_like_ffv1_without_pyav(tmp_path):
    """Raw .npz clips: the same grid, range, resampling, chunk and resize rules as a decoded
    lossless file, and no PyAV (the one-shot GPU machine has none)."""
    import subprocess
    import sys

    clip = _clip(20)
    raw = write_video(tmp_path / "a.npz", clip, fps=10)
    mkv = write_video(tmp_path / "a.mkv", clip, fps=10, lossless=True)
    info, ref = probe_video(raw), probe_video(mkv)
    assert (info.width, info.height, info.num_frames, info.fps, info.codec) == (ref.width, ref.height, 20, 10, "raw")
    for kw in ({}, {"start": 7, "num_frames": 9}, {"fps": 5}, {"fps": 20, "start": 5, "num_frames": 6}):
        a, fa = read_video(raw, **kw)
        b, fb = read_video(mkv, **kw)
        assert fa == fb and np.array_equal(a, b), kw
    assert [len(c) for c in iter_video(raw, chunk_frames=7)] == [7, 7, 6]
    assert np.array_equal(read_video(raw, size=(18, 26))[0], resize_frames(clip, (18, 26)))
    with pytest.raises(VideoError, match=r"asked for frames \[15, 25\)"):
        read_video(raw, start=15, num_frames=10)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(VideoError, match="bad.npz: not a raw clip"):
        probe_video(tmp_path / "bad.npz")
    np.savez(tmp_path / "float.npz", frames=clip.astype(np.float32), fps=10.0)
    with pytest.raises(VideoError, match="must be uint8"):
        read_video(tmp_path / "float.npz")
    code = ("import sys\nclass B:\n def find_spec(self, n, p=None, t=None):\n  "
            "if n == 'av': raise ImportError('no av')\nsys.meta_path.insert(0, B())\n"
            f"from cosmos_lite.data.io import read_video\nassert read_video({str(raw)!r})[0].shape == (20, 36, 52, 3)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
