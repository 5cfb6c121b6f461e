"""Video I/O on PyAV: uint8 ``[T, H, W, 3]`` frames in and out.

Frames are indexed on a constant-rate time grid: output frame ``i`` shows the
source frame on screen at time ``(start + i) / rate``, where ``rate`` is the
requested ``fps`` or the stream's average rate. For constant-rate files that is
exactly every decoded frame; variable-rate files come out resampled to a
constant rate, which is what a model that assumes a fixed frame interval needs.

Reading a range seeks to the keyframe before ``start`` instead of decoding the
whole file, and :func:`iter_video` yields chunks from one decode pass so long
videos can be streamed with bounded memory.

Raw clips (``.npz``: ``frames`` uint8 ``[T, H, W, 3]`` + ``fps``, uncompressed) read and
write through the same functions without PyAV: machines without FFmpeg (the one-shot GPU
run, ``cosmos_lite.train.oneshot``) export, tokenize and train on them; they are bit-exact
and cost ~1 MB per second of 128x192 video at 10 fps.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Literal

import numpy as np

ResizeMode = Literal["crop", "pad", "stretch"]
RAW_SUFFIX = ".npz"  # a raw clip (see the module docstring)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", RAW_SUFFIX)


class VideoError(ValueError):
    """A video file that cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int
    height: int
    fps: float  # average frame rate
    num_frames: int  # on the constant-rate grid at ``fps``
    duration: float  # seconds
    codec: str
    pix_fmt: str


# --------------------------------------------------------------------------- helpers


def _open(path: str | os.PathLike):
    import av

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise VideoError(f"{p}: is a directory, not a video file")
    if p.stat().st_size == 0:
        raise VideoError(f"{p}: empty file (0 bytes)")
    try:
        container = av.open(str(p))
    except av.error.FFmpegError as err:
        raise VideoError(
            f"{p}: not a readable video (corrupt, truncated or not a video container: {err.strerror or err})"
        ) from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{p}: no video stream (streams: {[s.type for s in container.streams]})")
    return container


def _stream_rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return 25.0  # what FFmpeg assumes when a file says nothing


def _stream_duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _count_frames(container, stream) -> int:
    """Exact count when the container does not store one: demux packets only."""
    n = stream.frames
    if n and n > 0:
        return int(n)
    count = sum(1 for pkt in container.demux(stream) if pkt.size > 0)
    container.seek(0)
    return count


def _is_raw(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == RAW_SUFFIX


def _raw_header(path: str | os.PathLike) -> tuple[tuple[int, ...], float]:
    """(shape of ``frames``, fps) of a raw clip, reading the array header only."""
    import zipfile

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        with zipfile.ZipFile(p) as zf:
            with zf.open("frames.npy") as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
            with zf.open("fps.npy") as f:
                fps = float(np.lib.format.read_array(f))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise VideoError(f"{p}: not a raw clip (an .npz with frames and fps: {err})") from None
    if dtype != np.uint8 or len(shape) != 4 or shape[-1] != 3 or shape[0] == 0:
        raise VideoError(f"{p}: raw clip frames must be uint8 [T, H, W, 3] with T >= 1, got {dtype} {list(shape)}")
    if not (fps > 0 and math.isfinite(fps)):
        raise VideoError(f"{p}: raw clip fps must be a positive number, got {fps}")
    return tuple(int(v) for v in shape), fps


def _iter_raw(path, start: int, num_frames: int | None, chunk_frames: int, size, resize_mode: ResizeMode,
              fps: float | None) -> Iterator[np.ndarray]:
    """:func:`iter_video` of a raw clip: the same constant-rate grid rule, no decoder."""
    shape, src_rate = _raw_header(path)
    rate = fps or src_rate
    eps = 0.25 / max(rate, src_rate)
    # grid frame i shows source frame floor(i / rate * src_rate); the grid ends with the last source frame
    total = math.floor(shape[0] / src_rate * rate - eps) + 1
    if start >= total:
        raise VideoError(f"{path}: no frames decoded at or after frame {start}")
    end = total if num_frames is None else start + num_frames
    if end > total:
        raise VideoError(f"{path}: asked for frames [{start}, {end}) but the video ends after {total} frames "
                         f"at {rate:g} fps")
    with np.load(path) as z:
        frames = z["frames"]
    idx = np.minimum(np.floor(np.arange(start, end) / rate * src_rate + eps).astype(np.int64), shape[0] - 1)
    for k in range(0, len(idx), chunk_frames):
        chunk = frames[idx[k:k + chunk_frames]]
        yield resize_frames(chunk, size, resize_mode) if size is not None else chunk


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Metadata without decoding pixels."""
    if _is_raw(path):
        (t, h, w, _), fps = _raw_header(path)
        return VideoInfo(path=str(path), width=w, height=h, fps=fps, num_frames=t, duration=t / fps, codec="raw",
                         pix_fmt="rgb24")
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = _stream_rate(stream)
        duration = _stream_duration(container, stream)
        n_native = _count_frames(container, stream)
        # Constant-rate files: the decoded count. Variable-rate: frames on the grid.
        grid = round(duration * fps)
        num_frames = n_native if duration == 0 or abs(grid - n_native) <= 1 else grid
        return VideoInfo(
            path=str(path),
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            num_frames=num_frames,
            duration=duration if duration > 0 else n_native / fps,
            codec=stream.codec_context.name,
            pix_fmt=str(stream.codec_context.pix_fmt),
        )
    finally:
        container.close()


def _scaled_size(src_hw: tuple[int, int], size: tuple[int, int], mode: ResizeMode) -> tuple[int, int]:
    """The (h, w) to scale to before cropping/padding to ``size``."""
    (sh, sw), (th, tw) = src_hw, size
    if mode == "stretch":
        return th, tw
    scale = max(th / sh, tw / sw) if mode == "crop" else min(th / sh, tw / sw)
    return max(th if mode == "crop" else 1, round(sh * scale)), max(tw if mode == "crop" else 1, round(sw * scale))


def _fit(frames: np.ndarray, size: tuple[int, int], mode: ResizeMode) -> np.ndarray:
    """Center-crop or zero-pad already scaled ``[T, h, w, 3]`` frames to ``size``."""
    th, tw = size
    h, w = frames.shape[1:3]
    if mode == "crop" or (h >= th and w >= tw):
        top, left = (h - th) // 2, (w - tw) // 2
        return frames[:, top : top + th, left : left + tw]
    out = np.zeros((frames.shape[0], th, tw, 3), dtype=frames.dtype)
    top, left = (th - h) // 2, (tw - w) // 2
    out[:, top : top + h, left : left + w] = frames
    return out


def _check_size(size: tuple[int, int] | None) -> None:
    if size is None:
        return
    if len(size) != 2 or any(int(s) != s or s <= 0 for s in size):
        raise ValueError(f"size must be (height, width) with positive integers, got {size!r}")


def resize_frames(frames: np.ndarray, size: tuple[int, int], mode: ResizeMode = "crop") -> np.ndarray:
    """Resize uint8 ``[T, H, W, 3]`` frames to ``size`` = (H', W').

    ``crop`` scales to cover and center-crops, ``pad`` scales to fit and pads
    with black, ``stretch`` ignores the aspect ratio. Antialiased bilinear.
    """
    import torch
    import torch.nn.functional as F

    _check_size(size)
    _check_frames(frames)
    h, w = _scaled_size(frames.shape[1:3], size, mode)
    if (h, w) != frames.shape[1:3]:
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # [T, 3, H, W]
        x = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        frames = x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()  # [T, h, w, 3]
    return np.ascontiguousarray(_fit(frames, size, mode))


def _check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape [T, H, W, 3], got {list(frames.shape)}")
    if frames.shape[0] == 0:
        raise ValueError("frames is empty (T = 0)")


# --------------------------------------------------------------------------- reading


def iter_video(
    path: str | os.PathLike,
    *,
    start: int = 0,
    num_frames: int | None = None,
    chunk_frames: int = 32,
    size: tuple[int, int] | None = None,
    resize_mode: ResizeMode = "crop",
    fps: float | None = None,
) -> Iterator[np.ndarray]:
    """Yield uint8 ``[t, H, W, 3]`` chunks (t <= chunk_frames) from one decode pass.

    ``start``/``num_frames`` index the constant-rate grid at ``fps`` (default:
    the stream's average rate). Asking for frames past the end raises.
    """
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if num_frames is not None and num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if chunk_frames <= 0:
        raise ValueError(f"chunk_frames must be positive, got {chunk_frames}")
    if fps is not None and not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")
    _check_size(size)
    if _is_raw(path):
        yield from _iter_raw(path, start, num_frames, chunk_frames, size, resize_mode, fps)
        return
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        src_rate = _stream_rate(stream)
        rate = fps or src_rate
        t0 = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        # Slack for pts rounding, well below either frame interval.
        eps = 0.25 / max(rate, src_rate)
        target = start / rate
        if start > 0:
            container.seek(int((t0 + target) / stream.time_base), stream=stream, backward=True, any_frame=False)

        scaled = None
        want = num_frames if num_frames is not None else math.inf
        done, buf = 0, []
        held_t, held_frame, held_rgb = None, None, None  # the source frame on screen now
        decoded = 0
        frame_iter = container.decode(stream)

        def rgb_of(frame) -> np.ndarray:
            nonlocal scaled
            if size is None:
                return frame.to_ndarray(format="rgb24")
            if scaled is None:
                scaled = _scaled_size((frame.height, frame.width), size, resize_mode)
            rgb = frame.to_ndarray(format="rgb24", width=scaled[1], height=scaled[0], interpolation="AREA")
            return _fit(rgb[None], size, resize_mode)[0]

        def emit_until(t_end: float):
            # Every grid point before t_end shows the held frame (repeats fill VFR gaps).
            nonlocal done, buf, held_rgb
            while held_frame is not None and done < want and (start + done) / rate < t_end - eps:
                if held_rgb is None:
                    held_rgb = rgb_of(held_frame)
                buf.append(held_rgb)
                done += 1
                if len(buf) == chunk_frames:
                    yield np.stack(buf)
                    buf = []

        while done < want:
            try:
                frame = next(frame_iter)
            except StopIteration:
                break
            except av.error.FFmpegError as err:
                if decoded == 0:
                    raise VideoError(f"{path}: corrupt or truncated, no frame could be decoded ({err})") from None
                raise VideoError(
                    f"{path}: corrupt or truncated, decoding failed after {decoded} frames ({err})"
                ) from None
            decoded += 1
            ft = (frame.time - t0) if frame.time is not None else (decoded - 1) / src_rate
            yield from emit_until(ft)
            held_t, held_frame, held_rgb = ft, frame, None
        if held_frame is not None:
            # The last frame stays on screen for one source frame interval.
            yield from emit_until(held_t + 1.0 / src_rate)
        if buf:
            yield np.stack(buf)
        if done == 0:
            raise VideoError(f"{path}: no frames decoded" + (f" at or after frame {start}" if start else ""))
        if num_frames is None:
            # A full read that ends well before the duration the container declares
            # means the file was cut short; better to say so than to return half a clip.
            expected = round(_stream_duration(container, stream) * rate) - start
            if expected > 0 and done < expected - max(2, 0.05 * expected):
                raise VideoError(
                    f"{path}: truncated, the container declares {expected + start} frames but only "
                    f"{start + done} could be decoded"
                )
        elif done < num_frames:
            raise VideoError(
                f"{path}: asked for frames [{start}, {start + num_frames}) but the video ends after "
                f"{start + done} frames at {rate:g} fps"
            )
    finally:
        container.close()


def read_video(
    path: str | os.PathLike,
    *,
    start: int = 0,
    num_frames: int | None = None,
    size: tuple[int, int] | None = None,
    resize_mode: ResizeMode = "crop",
    fps: float | None = None,
) -> tuple[np.ndarray, float]:
    """Read frames as uint8 ``[T, H, W, 3]`` and the frame rate they are on."""
    chunks = list(
        iter_video(path, start=start, num_frames=num_frames, size=size, resize_mode=resize_mode, fps=fps,
                   chunk_frames=256)
    )
    if fps is None and _is_raw(path):
        fps = _raw_header(path)[1]
    elif fps is None:
        # Header only: probe_video would also count frames, demuxing the file a second time.
        container = _open(path)
        try:
            fps = _stream_rate(container.streams.video[0])
        finally:
            container.close()
    return np.concatenate(chunks), fps


# --------------------------------------------------------------------------- writing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class VideoWriter:
    """Write uint8 ``[t, H, W, 3]`` chunks to one video file, atomically.

    Frames go to a temp file beside ``path``, renamed into place by
    :meth:`close`; an exception inside the ``with`` block removes it, so a
    failed write never leaves a half-written video under the final name.
    Default: H.264 in yuv420p, which needs even sizes, so an odd height/width
    is padded by repeating the last row/column. ``lossless=True`` writes FFV1
    (RGB, bit-exact) and needs a ``.mkv`` or ``.avi`` path.
    """

    def __init__(self, path: str | os.PathLike, fps: float, *, lossless: bool = False, crf: int = 18):
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, got {fps}")
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if lossless and suffix not in (".mkv", ".avi"):
            raise ValueError(f"{self.path}: lossless (FFV1) video needs a .mkv or .avi file name")
        if not lossless and suffix not in (".mp4", ".mov", ".mkv", ".m4v"):
            raise ValueError(f"{self.path}: H.264 needs a .mp4, .mov, .m4v or .mkv file name")
        self.fps, self.lossless, self.crf = fps, lossless, crf
        self._container = self._stream = None
        self._tmp: Path | None = None
        self._hw: tuple[int, int] | None = None

    def _open(self, h: int, w: int) -> None:
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        # mkstemp makes the file private (0600); the finished video gets the usual umask-based mode
        os.chmod(tmp, 0o666 & ~_umask())
        self._tmp = Path(tmp)
        self._container = av.open(tmp, mode="w")
        rate = Fraction(self.fps).limit_denominator(1001)
        if self.lossless:
            self._stream = self._container.add_stream("ffv1", rate=rate)
            self._stream.pix_fmt = "bgr0"  # FFV1 RGB: bit-exact round trip
        else:
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": str(self.crf), "preset": "medium"}
        self._hw = (h, w)
        pad = (0, 0) if self.lossless else (h % 2, w % 2)
        self._stream.height, self._stream.width = h + pad[0], w + pad[1]

    def write(self, frames: np.ndarray) -> None:
        import av

        _check_frames(frames)
        if self._container is None:
            self._open(*frames.shape[1:3])
        elif frames.shape[1:3] != self._hw:
            raise ValueError(f"{self.path}: frame size {frames.shape[1:3]} differs from the first chunk's {self._hw}")
        pad_h, pad_w = self._stream.height - frames.shape[1], self._stream.width - frames.shape[2]
        if pad_h or pad_w:
            frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            self._container.mux(self._stream.encode(frame))

    def close(self) -> Path:
        if self._container is None:
            raise ValueError(f"{self.path}: no frames were written")
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._container = None
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_raw_clip(path: str | os.PathLike, frames: np.ndarray, fps: float) -> Path:
    """Write uint8 ``[T, H, W, 3]`` frames as a raw clip (``.npz``, uncompressed), atomically."""
    from cosmos_lite.pretrained import atomic_write

    _check_frames(frames)
    path = Path(path)
    if path.suffix.lower() != RAW_SUFFIX:
        raise ValueError(f"{path}: a raw clip needs a {RAW_SUFFIX} file name")
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to the temp name
            np.savez(f, frames=np.ascontiguousarray(frames), fps=np.float64(fps))

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, save)


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: float,
    *,
    lossless: bool = False,
    crf: int = 18,
) -> Path:
    """Write uint8 ``[T, H, W, 3]`` frames in one go (see :class:`VideoWriter`); a ``.npz`` path
    writes a raw clip (:func:`write_raw_clip`, exact, so ``lossless`` and ``crf`` do not apply)."""
    _check_frames(frames)
    if _is_raw(path):
        return write_raw_clip(path, frames, fps)
    writer = VideoWriter(path, fps, lossless=lossless, crf=crf)
    with writer:
        writer.write(frames)
    return writer.path
