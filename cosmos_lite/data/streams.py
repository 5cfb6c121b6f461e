"""Training clips: any folder of videos, or the synthetic driving scenes rendered on the fly.

Both training sources are *position-addressed streams*: sample ``n`` of a run
is a pure function of (seed, n, process rank), so a run resumes exactly by
restarting the stream at the number of samples already consumed, and
``accelerate launch`` processes see disjoint samples without a sampler.

With ``num_workers = W`` the stream hands whole batches to workers round-robin
(batch ``j`` goes to worker ``j % W``), which is exactly the order in which
``DataLoader`` collects them, so the sample order does not depend on W.

Clips are float32 ``[3, T, H, W]`` in [-1, 1] (the model contract).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from cosmos_lite.data.io import VIDEO_SUFFIXES, VideoError, probe_video, read_video

_SCENE_SPLIT_SIZE = 1_000_000_000  # Scenario.sample seeds per split (cosmos_lite.scenes.spec)


def to_model(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> float32 [3, T, H, W] in [-1, 1]."""
    from cosmos_lite.data.codec import frames_to_video

    return frames_to_video(frames)[0]


def _sample_rng(seed: int, index: int, rank: int = 0) -> np.random.Generator:
    """The generator of global sample ``index`` (``rank`` only for streams that are per-process)."""
    return np.random.default_rng([seed, index, rank])


def _report(message: str) -> None:
    print(f"cosmos-lite data: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- folders


class VideoFolder(Dataset):
    """All videos under ``root`` (recursive); clips of ``frames`` frames at ``size``.

    Files that cannot be probed, or are shorter than ``frames``, are skipped at
    construction and reported once (one line listing them). Files that fail
    later while decoding are skipped and reported once per process.
    ``dataset[i]`` is the first ``frames`` frames of file i (deterministic, for
    validation); :meth:`random_clip` draws a random window with augmentation.
    """

    def __init__(self, root: str | Path, frames: int, size: tuple[int, int], *, fps: float | None = None,
                 hflip: bool = False, crop_scale: float = 1.0, quiet: bool = False):
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such directory")
        if not root.is_dir():
            raise ValueError(f"{root}: not a directory of videos")
        self.root, self.frames, self.size, self.fps = root, frames, tuple(size), fps
        self.hflip, self.crop_scale = hflip, crop_scale
        candidates = sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                            and not p.name.startswith("."))
        self.files: list[Path] = []
        self.lengths: list[int] = []
        self.skipped: dict[str, str] = {}
        for p in candidates:
            try:
                info = probe_video(p)
            except (VideoError, OSError) as err:
                self.skipped[str(p)] = str(err)
                continue
            n = info.num_frames if fps is None else int(math.floor(info.duration * fps))
            if n < frames:
                self.skipped[str(p)] = f"{p}: {n} frames, need {frames}"
                continue
            self.files.append(p)
            self.lengths.append(n)
        if self.skipped and not quiet:
            _report(f"skipped {len(self.skipped)} of {len(candidates)} files under {root}: "
                    + "; ".join(self.skipped.values()))
        if not self.files:
            raise ValueError(f"{root}: no usable videos with >= {frames} frames (suffixes {', '.join(VIDEO_SUFFIXES)})")
        self._failed: set[str] = set()  # decode failures seen in this process

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, i: int, start: int, size: tuple[int, int]) -> np.ndarray | None:
        path = self.files[i]
        if str(path) in self._failed:
            return None
        try:
            frames, _ = read_video(path, start=start, num_frames=self.frames, size=size, resize_mode="crop", fps=self.fps)
        except (VideoError, OSError) as err:
            self._failed.add(str(path))
            _report(f"skipping unreadable video ({err})")
            return None
        return frames

    def __getitem__(self, i: int) -> torch.Tensor:
        frames = self._read(i, 0, self.size)
        if frames is None:
            raise VideoError(f"{self.files[i]}: could not be decoded")
        return to_model(frames)

    def random_clip(self, rng: np.random.Generator) -> torch.Tensor:
        """A random window of a random file, randomly cropped and flipped; bad files are skipped."""
        h, w = self.size
        big = (math.ceil(h * self.crop_scale), math.ceil(w * self.crop_scale))
        for _ in range(8 * len(self.files)):
            i = int(rng.integers(len(self.files)))
            start = int(rng.integers(self.lengths[i] - self.frames + 1))
            frames = self._read(i, start, big)
            if frames is None:
                continue
            y = int(rng.integers(big[0] - h + 1))
            x = int(rng.integers(big[1] - w + 1))
            frames = frames[:, y:y + h, x:x + w]
            if self.hflip and rng.random() < 0.5:
                frames = frames[:, :, ::-1]
            return to_model(frames)
        raise VideoError(f"{self.root}: every video failed to decode")


# --------------------------------------------------------------------------- streams


class _PositionStream(IterableDataset):
    """Samples ``start, start + 1, ...`` of this process, whole batches per worker round-robin.

    ``sample(g)`` gets a *global* index: local position p of rank r among W processes is sample
    ``(p // B) * B * W + r * B + p % B``, so W processes at batch B see, step by step, the samples
    of one process at batch B * W (same global batch, same data, whatever the process count).
    With one process g = p."""

    def __init__(self, seed: int, start: int, batch_size: int, rank: int = 0, world_size: int = 1):
        if start < 0 or batch_size < 1 or not 0 <= rank < world_size:
            raise ValueError("stream needs start >= 0, batch_size >= 1 and 0 <= rank < world_size")
        self.seed, self.start, self.batch_size = seed, start, batch_size
        self.rank, self.world_size = rank, world_size

    def sample(self, index: int) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        j = 0
        while True:
            if (j // self.batch_size) % nw == wid:
                p, B = self.start + j, self.batch_size
                yield self.sample((p // B) * B * self.world_size + self.rank * B + p % B)
            j += 1


class VideoFolderStream(_PositionStream):
    """Endless random clips from a :class:`VideoFolder`; global sample n is fixed by (seed, n)."""

    def __init__(self, folder: VideoFolder, seed: int, start: int, batch_size: int, rank: int = 0,
                 world_size: int = 1):
        super().__init__(seed, start, batch_size, rank, world_size)
        self.folder = folder

    def sample(self, index: int) -> torch.Tensor:
        return self.folder.random_clip(_sample_rng(self.seed, index))


def scene_clip(seed: int, split: str, frames: int, size: tuple[int, int], fps: float, behaviour: str = "keep",
               salient: bool = False):
    """The :class:`~cosmos_lite.scenes.SceneClip` (frames, caption, actions, agent labels) of
    ``Scenario.sample(seed, split, behaviour=, salient=)``, sampled just long enough to hold the
    clip. The one way every trainer and evaluation turns a scene seed into a clip."""
    from cosmos_lite.scenes import render

    return render(scene_scenario(seed, split, frames, fps, behaviour, salient), frames, tuple(size), fps)


def scene_scenario(seed: int, split: str, frames: int, fps: float, behaviour: str = "keep", salient: bool = False):
    """The :class:`~cosmos_lite.scenes.Scenario` :func:`scene_clip` renders (its caption without the pixels)."""
    from cosmos_lite.scenes import Scenario

    duration = max(frames / fps, 0.2) + 1e-6
    return Scenario.sample(seed, split=split, duration=duration, behaviour=behaviour, salient=salient)


def render_scene_clip(seed: int, split: str, frames: int, size: tuple[int, int], fps: float) -> np.ndarray:
    """uint8 [T, H, W, 3] of :func:`scene_clip`."""
    return scene_clip(seed, split, frames, size, fps).frames


class SceneStream(_PositionStream):
    """Synthetic driving clips rendered on the fly from the scenes ``split``.

    Global sample n renders scenario ``(seed * 7919 + n) mod 1e9`` of the split, flipped
    horizontally with p = 0.5 when ``hflip``.
    """

    def __init__(self, frames: int, size: tuple[int, int], fps: float, seed: int, start: int, batch_size: int,
                 rank: int = 0, world_size: int = 1, split: str = "train", hflip: bool = True):
        super().__init__(seed, start, batch_size, rank, world_size)
        self.frames, self.size, self.fps, self.split, self.hflip = frames, tuple(size), fps, split, hflip

    def scene_seed(self, index: int) -> int:
        return (self.seed * 7919 + index) % _SCENE_SPLIT_SIZE

    def sample(self, index: int) -> torch.Tensor:
        frames = render_scene_clip(self.scene_seed(index), self.split, self.frames, self.size, self.fps)
        if self.hflip and _sample_rng(self.seed, index).random() < 0.5:
            frames = frames[:, :, ::-1]
        return to_model(frames)


def scene_clips(split: str, n: int, frames: int, size: tuple[int, int], fps: float, first_seed: int = 0) -> list[torch.Tensor]:
    """A fixed list of ``n`` clips (seeds first_seed .. first_seed + n - 1 of ``split``): val / test sets."""
    return [to_model(render_scene_clip(first_seed + i, split, frames, size, fps)) for i in range(n)]


# --------------------------------------------------------------------------- tokenized clips

_KIND = {"latents": ("continuous latents", "continuous"), "ids": ("FSQ token ids", "discrete (FSQ)")}


def window_actions(actions: torch.Tensor, first: int, latent_frames: int, t: int) -> torch.Tensor:
    """Per-video-frame actions ``[1 + K*t, A]`` of a clip -> those of its latent frames ``first ..
    first + latent_frames - 1``, laid out as a clip of ``1 + (latent_frames - 1)*t`` frames, so that
    ``pool_actions`` gives exactly those latent frames' actions.

    Latent frame 0 of a clip stands for video frame 0 alone, latent frame j >= 1 for frames
    ``1 + (j-1)*t .. j*t``. A window that starts at latent frame ``first >= 1`` (what a sliding
    rollout's window holds) takes that group's mean as its frame-0 action, then the frames of the
    later groups. An empty ``[T, 0]`` (no actions) stays empty."""
    if first == 0:
        return actions[:1 + (latent_frames - 1) * t]
    head = actions[1 + (first - 1) * t:first * t + 1].mean(0, keepdim=True)  # [1, A]: group `first`
    return torch.cat([head, actions[first * t + 1:(first + latent_frames - 1) * t + 1]])


class ShardStream(_PositionStream):
    """Endless random clips of a ``cosmos-lite tokenize`` directory holding ``key`` ("latents" for
    the diffusion model, "ids" for the autoregressive one); global sample n is fixed by (seed, n)."""

    def __init__(self, root: str | Path, key: str, seed: int, start: int, batch_size: int, rank: int = 0,
                 world_size: int = 1, frames: int | None = None, random_start: bool = False):
        from cosmos_lite.data.shards import TokenShards

        super().__init__(seed, start, batch_size, rank, world_size)
        # frames: cut longer clips to `frames` video frames, from their start or (random_start) from a
        # random latent frame (see sample)
        if not isinstance(random_start, bool):
            raise ValueError(f"random_start must be true or false, got {random_start!r}")
        self.random_start = random_start
        self.shards = TokenShards(root)
        opts, t = self.shards.job["options"], self.shards.job["tokenizer"]["config"]["temporal_compression"]
        self.frames = opts["clip_frames"] if frames is None else frames
        if self.frames > opts["clip_frames"] or (self.frames - 1) % t:
            raise ValueError(f"{root} holds {opts['clip_frames']}-frame clips: cannot cut {self.frames}-frame clips "
                             f"from them (1 + k*{t} frames, at most {opts['clip_frames']})")
        self.latent_frames = 1 + (self.frames - 1) // t
        self.temporal_compression = t
        self.clip_latents = 1 + (opts["clip_frames"] - 1) // t
        if key not in _KIND:
            raise ValueError(f"key must be one of {sorted(_KIND)}, got {key!r}")
        self.key = key
        if self.shards.key != key:
            raise ValueError(f"{root} holds {_KIND[self.shards.key][0]}; this model trains on {_KIND[key][0]} "
                             f"(tokenize with a {_KIND[key][1]} tokenizer)")
        if len(self.shards) == 0:
            raise ValueError(f"{root} holds no clips")

    def sample(self, index: int) -> dict:
        rng = _sample_rng(self.seed, index)
        i = int(rng.integers(len(self.shards)))
        row = self.shards[i]
        # the tokenizer is causal in time: the first 1 + k latent frames of a clip are exactly the
        # encoding of its first 1 + k*t video frames, so a long clip's start is a shorter clip
        o = int(rng.integers(self.clip_latents - self.latent_frames + 1)) if self.random_start else 0
        x = row[self.key][..., o:o + self.latent_frames, :, :]  # latents [C, T, h, w] / ids [T, h, w]
        return {self.key: x.float() if self.key == "latents" else x, "caption": row["caption"],
                "actions": window_actions(row["actions"], o, self.latent_frames, self.temporal_compression)}


class EncodedSceneStream(_PositionStream):
    """Train-split scenes rendered and encoded on the fly: ``encode(load(), frames)`` under ``key``,
    with caption and actions. ``load`` runs once per worker process (the tokenizer)."""

    def __init__(self, load, encode, key: str, frames: int, size: tuple[int, int], fps: float, seed: int, start: int,
                 batch_size: int, rank: int = 0, world_size: int = 1):
        super().__init__(seed, start, batch_size, rank, world_size)
        self.load, self.encode, self.key = load, encode, key
        self.frames, self.size, self.fps = frames, tuple(size), fps
        self._tok = None

    def sample(self, index: int) -> dict:
        if self._tok is None:
            self._tok = self.load()
        seed = (self.seed * 7919 + index) % _SCENE_SPLIT_SIZE
        clip = scene_clip(seed, "train", self.frames, self.size, self.fps)
        return {self.key: self.encode(self._tok, clip.frames), "caption": clip.caption,
                "actions": torch.from_numpy(np.asarray(clip.actions, np.float32))}
