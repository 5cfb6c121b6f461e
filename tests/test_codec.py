"""Video files through the tokenizer: streamed encode/decode equal the in-memory path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cosmos_lite.data.codec import decode_to_file, encode_file, frames_to_video, video_to_frames
from cosmos_lite.data.io import VideoWriter, read_video, write_video
from cosmos_lite.tokenizer import PRESETS, VideoTokenizer


def _frames(t: int, h: int = 32, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (1, h, w, 3)).astype(np.int16)
    shift = np.arange(t).reshape(t, 1, 1, 1) * 3
    return np.clip(base + shift, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tok() -> VideoTokenizer:
    torch.manual_seed(0)
    model = VideoTokenizer(PRESETS["tiny-cv"]).eval()
    torch.nn.init.normal_(model.decoder.conv_out.spatial.conv.weight, std=0.05)
    return model


def test_frame_tensor_conversions_round_trip():
    frames = _frames(5)
    video = frames_to_video(frames)
    assert video.shape == (1, 3, 5, 32, 48) and video.min() >= -1 and video.max() <= 1
    assert np.array_equal(video_to_frames(video), frames)
    with pytest.raises(ValueError, match=r"uint8 \[T, H, W, 3\]"):
        frames_to_video(frames.astype(np.float32))


def test_encode_file_streams_to_the_same_latent(tmp_path, tok):
    frames = _frames(29)
    path = write_video(tmp_path / "clip.mkv", frames, fps=10, lossless=True)
    with torch.no_grad():
        expected = tok.encode(frames_to_video(frames))
    for chunk in (4, 7, 29):
        z = encode_file(tok, path, chunk_frames=chunk)
        assert z.shape == expected.shape
        assert (z - expected).abs().max() < 1e-4, chunk
    # A frame range of the file equals encoding that range.
    with torch.no_grad():
        part = tok.encode(frames_to_video(frames[8:17]))
    assert (encode_file(tok, path, start=8, num_frames=9, chunk_frames=4) - part).abs().max() < 1e-4


def test_decode_to_file_writes_the_decoded_frames(tmp_path, tok):
    frames = _frames(13)
    with torch.no_grad():
        z = tok.encode(frames_to_video(frames))
        expected = video_to_frames(tok.decode(z, num_frames=11, size=(30, 45)))
    out = decode_to_file(tok, z, tmp_path / "out.mkv", fps=10, num_frames=11, size=(30, 45),
                         chunk_latent_frames=1, lossless=True)
    got, fps = read_video(out)
    assert fps == 10 and got.shape == expected.shape
    # Chunked decoding differs from one pass only by float rounding: at most one grey level.
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_video_writer_leaves_nothing_behind_on_failure(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(tmp_path / "x.mp4", fps=10) as writer:
            writer.write(_frames(3))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="differs from the first chunk"):
        with VideoWriter(tmp_path / "y.mp4", fps=10) as writer:
            writer.write(_frames(2))
            writer.write(_frames(2, 16, 16))
    assert list(tmp_path.iterdir()) == []


def test_saved_weights_get_the_usual_file_mode(tmp_path):
    """safetensors creates 0600 files; saved models must be readable like any file (package data)."""
    import os

    from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

    VideoTokenizer(PRESETS["tiny-cv"]).save_pretrained(tmp_path / "t")
    mask = os.umask(0)
    os.umask(mask)
    for name in ("config.json", "model.safetensors"):
        assert (tmp_path / "t" / name).stat().st_mode & 0o777 == 0o666 & ~mask
