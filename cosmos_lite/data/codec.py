"""Video files <-> tokenizer latents and token ids, streamed chunk by chunk.

The edge contract (uint8 ``[T, H, W, 3]`` frames) meets the model contract
(float ``[B, 3, T, H, W]`` in [-1, 1]) here. Files are decoded and encoded in
chunks through the tokenizer's causal caches, so a video of any length is
tokenized with memory that does not grow with its length, and the result is
the same as one full pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from cosmos_lite.data.io import ResizeMode, VideoWriter, iter_video
from cosmos_lite.tokenizer import StreamDecoder, StreamEncoder, VideoTokenizer


def frames_to_images(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` -> float32 ``[N, 3, H, W]`` in [-1, 1] (frames as a batch of images)."""
    x = torch.as_tensor(np.ascontiguousarray(frames) if isinstance(frames, np.ndarray) else frames)
    if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 [N, H, W, 3], got {x.dtype} {list(x.shape)}")
    return x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def frames_to_video(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float32 ``[1, 3, T, H, W]`` in [-1, 1]; a batch ``[B, T, H, W, 3]``
    -> ``[B, 3, T, H, W]``. The one uint8 -> model conversion of the project."""
    x = torch.as_tensor(np.ascontiguousarray(frames) if isinstance(frames, np.ndarray) else frames)
    if x.dtype != torch.uint8 or x.dim() not in (4, 5) or x.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 [T, H, W, 3] or [B, T, H, W, 3], got {x.dtype} {list(x.shape)}")
    if x.dim() == 4:
        x = x.unsqueeze(0)
    return x.permute(0, 4, 1, 2, 3).float().div_(127.5).sub_(1.0)  # [B, T, H, W, 3] -> [B, 3, T, H, W]


def video_to_frames(video: torch.Tensor) -> np.ndarray:
    """float ``[1, 3, T, H, W]`` or ``[3, T, H, W]`` in [-1, 1] -> uint8 ``[T, H, W, 3]``."""
    if video.dim() == 5:
        if video.shape[0] != 1:
            raise ValueError(f"expected one video, got a batch of {video.shape[0]}")
        video = video[0]
    if video.dim() != 4 or video.shape[0] != 3:
        raise ValueError(f"video must be [3, T, H, W] or [1, 3, T, H, W], got {list(video.shape)}")
    x = ((video.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 3, 0).cpu().numpy()  # [T, H, W, 3]


def _model_device_dtype(model: VideoTokenizer) -> tuple[torch.device, torch.dtype]:
    p = next(model.parameters())
    return p.device, p.dtype


@torch.no_grad()
def encode_file(
    tokenizer: VideoTokenizer,
    path: str | os.PathLike,
    *,
    start: int = 0,
    num_frames: int | None = None,
    size: tuple[int, int] | None = None,
    resize_mode: ResizeMode = "crop",
    fps: float | None = None,
    chunk_frames: int = 16,
    tile_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Encode a video file (or a frame range of it) in chunks.

    Returns the latent ``[1, C, 1 + k, h, w]`` or ids ``[1, 1 + k, h, w]`` on
    the CPU; ``chunk_frames`` frames are decoded and encoded at a time.
    """
    device, dtype = _model_device_dtype(tokenizer)
    stream = StreamEncoder(tokenizer, tile_size=tile_size)
    outs = []
    for chunk in iter_video(path, start=start, num_frames=num_frames, chunk_frames=chunk_frames, size=size,
                            resize_mode=resize_mode, fps=fps):
        z = stream.push(frames_to_video(chunk).to(device, dtype))
        if z is not None:
            outs.append(z.cpu())
    tail = stream.flush()
    if tail is not None:
        outs.append(tail.cpu())
    t_axis = 2 if tokenizer.config.mode == "continuous" else 1
    return torch.cat(outs, dim=t_axis)


@torch.no_grad()
def decode_to_file(
    tokenizer: VideoTokenizer,
    latent: torch.Tensor,
    path: str | os.PathLike,
    fps: float,
    *,
    num_frames: int | None = None,
    size: tuple[int, int] | None = None,
    chunk_latent_frames: int = 4,
    lossless: bool = False,
) -> Path:
    """Decode one latent / id tensor (batch of 1) chunk by chunk straight into a video file.

    Memory stays flat however long the video: each chunk is written as it is decoded.
    """
    device, dtype = _model_device_dtype(tokenizer)
    t_axis = 2 if tokenizer.config.mode == "continuous" else 1
    if latent.shape[0] != 1:
        raise ValueError(f"decode_to_file writes one video; got a batch of {latent.shape[0]}")
    stream = StreamDecoder(tokenizer)
    n = latent.shape[t_axis]
    written = 0
    with VideoWriter(path, fps, lossless=lossless) as writer:
        for i in range(0, n, chunk_latent_frames):
            part = latent.narrow(t_axis, i, min(chunk_latent_frames, n - i)).to(device)
            frames = video_to_frames(stream.push(part if tokenizer.config.mode == "discrete" else part.to(dtype)))
            if num_frames is not None:
                frames = frames[: max(0, num_frames - written)]
            if size is not None:
                frames = frames[:, : size[0], : size[1]]
            if len(frames):
                writer.write(np.ascontiguousarray(frames))
                written += len(frames)
    return writer.path
