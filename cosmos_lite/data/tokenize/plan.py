"""The plan of a tokenize job: options, probing, the fixed clip list, the job's identity.

The work list is fixed once, in ``plan.json``; clip ``c`` always lands in shard
``c // shard_size``, so every run (and every process) agrees on what each shard holds.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from cosmos_lite.data.io import ResizeMode
from cosmos_lite.data.shards import (
    ERRORS,
    IDS_KEY,
    JOB_FILE,
    LATENT_KEY,
    PLAN_FILE,
    STORAGE_DTYPES,
    ids_dtype,
)
from cosmos_lite.pretrained import atomic_write_text

from .inputs import Source

FORMAT = "cosmos-lite-tokenize/1"
ComputeDtype = Literal["float32", "bfloat16", "float16"]
StorageDtype = Literal["bfloat16", "float16", "float32"]
# Options that change how fast the job runs, not what it writes: a resumed run may change them.
RUNTIME_FIELDS = frozenset({"batch_size", "device", "workers"})
_INLINE_PROBE_MAX = 64



@dataclass(frozen=True)
class TokenizeOptions:
    """What to cut from each video and how to store it (saved in ``tokenize.json``)."""

    size: tuple[int, int]  # (H, W) of every clip; multiples of the tokenizer's spatial factor
    clip_frames: int = 17  # 1 + k*t for the tokenizer's temporal factor t
    stride: int | None = None  # frames between clip starts; None = clip_frames (no overlap)
    resize_mode: ResizeMode = "crop"  # scale + center crop, scale + pad, or stretch
    fps: float | None = None  # resample every video to this rate; None = each file's own
    shard_size: int = 256  # clips per shard
    dtype: ComputeDtype = "float32"  # model compute dtype (autocast when not float32)
    latent_dtype: StorageDtype | None = None  # continuous latents on disk; None = bfloat16
    batch_size: int = 8
    device: str | None = None  # None: the process's accelerator (accelerate) or the CPU
    workers: int = 1  # decoding processes; 0 decodes in the main process

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(int(v) for v in self.size))
        if len(self.size) != 2 or min(self.size) <= 0:
            raise ValueError(f"size must be (height, width) with positive integers, got {self.size}")
        if self.clip_frames < 1:
            raise ValueError(f"clip_frames must be >= 1, got {self.clip_frames}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {self.stride}")
        if self.resize_mode not in ("crop", "pad", "stretch"):
            raise ValueError(f"resize_mode must be crop, pad or stretch, got {self.resize_mode!r}")
        if self.fps is not None and not (self.fps > 0 and math.isfinite(self.fps)):
            raise ValueError(f"fps must be a positive number, got {self.fps}")
        for name in ("shard_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
        if self.latent_dtype is not None and self.latent_dtype not in STORAGE_DTYPES:
            raise ValueError(f"latent_dtype must be one of {sorted(STORAGE_DTYPES)}, got {self.latent_dtype!r}")

    @property
    def clip_stride(self) -> int:
        return self.stride or self.clip_frames


@dataclass(frozen=True)
class TokenizeSummary:
    out: Path
    clips: int  # clips planned for the whole job
    in_manifest: int  # clips in manifest.jsonl (planned minus those lost to decode errors); 0 until complete
    encoded: int  # clips encoded by this process in this run
    shards: int  # shards in the whole job
    shards_written: int  # by this process in this run
    shards_skipped: int  # already on disk when this process started
    errors: int  # bad input files (whole job)
    complete: bool  # every shard exists and the manifest is written
    seconds: float  # wall clock of this call
    encode_seconds: float = 0.0  # of which in the model
    wait_seconds: float = 0.0  # of which the model waited for decoded clips

    def describe(self) -> str:
        if self.shards_written == 0 and self.complete:
            return (f"{self.out}: nothing to do, all {self.shards} shards ({self.in_manifest} clips) already written; "
                    f"{self.errors} bad files in {ERRORS}")
        state = "complete" if self.complete else f"{self.shards - self.shards_skipped - self.shards_written} shards left"
        rate = self.encoded / self.seconds if self.seconds > 0 else 0.0
        return (f"{self.out}: encoded {self.encoded} clips into {self.shards_written} shards in {self.seconds:.1f}s "
                f"({rate:.2f} clips/s; model {self.encode_seconds:.1f}s, waiting for video {self.wait_seconds:.1f}s), "
                f"kept {self.shards_skipped}; {state}; {self.errors} bad files")


def _grid_frames(num_frames: int, src_fps: float, fps: float | None) -> int:
    """Frames on the target-rate grid; rounded down so a planned clip never runs past the end."""
    if fps is None:
        return num_frames
    return int(math.floor(num_frames * fps / src_fps + 1e-6))


def _source_index(i: int, src_fps: float, fps: float | None) -> int:
    """Source frame shown at target-grid frame i (io's constant-rate grid rule)."""
    if fps is None:
        return i
    return int(math.floor(i * src_fps / fps + 1e-6))


def _probe(source: Source, options: TokenizeOptions) -> dict[str, Any]:
    """A plan entry for one file, or an error entry; never raises for a bad file."""
    from cosmos_lite.data.io import probe_video

    try:
        info = probe_video(source.file)
        if info.width <= 0 or info.height <= 0:
            raise ValueError(f"{source.file}: video stream has no picture size")
        n = _grid_frames(info.num_frames, info.fps, options.fps)
        rate = options.fps or info.fps
        if n < options.clip_frames:
            raise ValueError(f"{source.file}: too short, {n} frames at {rate:g} fps but a clip needs "
                             f"{options.clip_frames}")
        actions = None
        if source.actions is not None:
            idx = [_source_index(i, info.fps, options.fps) for i in range(n)]
            if idx[-1] >= len(source.actions):
                raise ValueError(f"{source.file}: the manifest gives {len(source.actions)} action rows but the "
                                 f"video has {info.num_frames} frames")
            actions = [source.actions[j] for j in idx]
    except Exception as err:  # noqa: BLE001 - a messy dataset must not stop the job; the reason is kept
        return {"file": source.file, "stage": "probe", "reason": error_reason(err)}
    starts = list(range(0, n - options.clip_frames + 1, options.clip_stride))
    return {"file": source.file, "caption": source.caption, "actions": actions, "frames": n, "fps": rate,
            "source_fps": info.fps, "source_size": [info.height, info.width], "codec": info.codec,
            "starts": starts}


def error_reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    if not isinstance(err, (ValueError, FileNotFoundError)):
        text = f"{type(err).__name__}: {text}"
    return " ".join(text.split())  # one line, whatever the decoder printed


@dataclass(frozen=True)
class Clip:
    clip: int  # global clip number
    video: int  # index into plan["videos"]
    start: int


def enumerate_clips(plan: dict) -> list[Clip]:
    clips = []
    for v, entry in enumerate(plan["videos"]):
        clips += [Clip(len(clips) + j, v, s) for j, s in enumerate(entry["starts"])]
    return clips


# --------------------------------------------------------------------------- processes


class Processes:
    """Who am I among the processes of this job: accelerate's PartialState when launched
    with more than one, nothing at all otherwise."""

    def __init__(self, device: str | None) -> None:
        self.state = None
        self.rank, self.world = 0, 1
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            from accelerate import PartialState

            # Without cpu=True, PartialState on a machine without CUDA ignores the launcher's
            # WORLD_SIZE and every process would believe it is alone.
            cpu = not torch.cuda.is_available() or (device is not None and torch.device(device).type == "cpu")
            self.state = PartialState(cpu=cpu)
            self.rank, self.world = self.state.process_index, self.state.num_processes

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.state is not None:
            self.state.wait_for_everyone()


# --------------------------------------------------------------------------- decoding


def identity(item: Any) -> Any:
    return item


def worker_init(_: int) -> None:
    # Each decoder is one process on one core; torch's own threads would fight the model's.
    torch.set_num_threads(1)


def _probe_all(sources: list[Source], options: TokenizeOptions) -> list[dict]:
    class _Probe(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(sources)

        def __getitem__(self, i: int) -> dict:
            return _probe(sources[i], options)

    # Probing reads headers only (~10 ms a file): below a few dozen files, starting worker
    # processes costs more than it saves.
    if options.workers == 0 or len(sources) <= _INLINE_PROBE_MAX:
        return [_probe(s, options) for s in sources]
    loader = torch.utils.data.DataLoader(_Probe(), batch_size=None, num_workers=min(options.workers, len(sources)),
                                         collate_fn=identity, worker_init_fn=worker_init)
    return list(loader)


# --------------------------------------------------------------------------- job identity


def weights_sha256(tokenizer_dir: Path) -> str:
    h = hashlib.sha256()
    with open(tokenizer_dir / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tokenizer_dir(tokenizer: str | os.PathLike) -> Path:
    """The directory of ``tokenizer`` (a save_pretrained directory or a bundled name), checked to hold one."""
    from cosmos_lite.pretrained import CONFIG_NAME, WEIGHTS_NAME
    from cosmos_lite.tokenizer import VideoTokenizer

    d = VideoTokenizer.resolve(tokenizer)
    if not (d / WEIGHTS_NAME).is_file() or not (d / CONFIG_NAME).is_file():
        raise FileNotFoundError(
            f"{tokenizer}: no tokenizer there (expected a directory with config.json + model.safetensors "
            "from VideoTokenizer.save_pretrained, or a bundled name)")
    return d


def job_record(inputs: list[str], tokenizer: str | os.PathLike, tok_cfg, sha: str,
                options: TokenizeOptions) -> dict:
    continuous = tok_cfg.mode == "continuous"
    storage = {"key": LATENT_KEY if continuous else IDS_KEY,
               "dtype": (options.latent_dtype or "bfloat16") if continuous
               else str(ids_dtype(tok_cfg.vocab_size)).removeprefix("torch.")}
    return {"format": FORMAT, "inputs": inputs, "options": asdict(options),
            "tokenizer": {"source": str(tokenizer), "sha256": sha, "config": asdict(tok_cfg)},
            "storage": storage}


def identity_of(job: dict) -> dict:
    opts = {k: v for k, v in job["options"].items() if k not in RUNTIME_FIELDS}
    opts["size"] = list(opts["size"])
    return {"inputs": job["inputs"], "options": opts, "tokenizer.sha256": job["tokenizer"]["sha256"],
            "tokenizer.config": job["tokenizer"]["config"], "format": job["format"]}


def check_same_job(out: Path, new: dict) -> None:
    path = out / JOB_FILE
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old_id = identity_of(old)
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f"{path}: unreadable job file; use a new --out directory") from None
    new_id = json.loads(json.dumps(identity_of(new)))  # tuples -> lists, as on disk
    if old_id != new_id:
        diffs = []
        for key in new_id:
            if key == "options":
                diffs += [f"{k}: {old_id['options'].get(k)!r} -> {v!r}" for k, v in new_id["options"].items()
                          if old_id["options"].get(k) != v]
            elif old_id.get(key) != new_id[key]:
                diffs.append(f"{key} differs")
        raise ValueError(f"{out} holds a tokenize job with different settings ({'; '.join(diffs)}); "
                         "re-run with the original ones to resume, or use a new --out directory")


def check_against_tokenizer(options: TokenizeOptions, cfg) -> None:
    t, s = cfg.temporal_compression, cfg.spatial_compression
    if (options.clip_frames - 1) % t:
        k = max(1, round((options.clip_frames - 1) / t))
        raise ValueError(f"clip_frames must be 1 + k*{t} for this tokenizer (temporal compression {t}), got "
                         f"{options.clip_frames}; e.g. {1 + k * t}")
    h, w = options.size
    if h % s or w % s:
        raise ValueError(f"size {h}x{w} must be a multiple of the tokenizer's spatial compression {s} on both "
                         f"sides, e.g. {max(s, h // s * s)}x{max(s, w // s * s)}")
    if cfg.mode == "discrete" and options.latent_dtype is not None:
        raise ValueError("latent_dtype applies to continuous latents; this tokenizer is discrete "
                         f"(ids are stored as {str(ids_dtype(cfg.vocab_size)).removeprefix('torch.')})")


def load_plan(out: Path) -> dict | None:
    path = out / PLAN_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def make_plan(out: Path, sources: list[Source], options: TokenizeOptions, procs: Processes) -> dict:
    """Probe the files (each process every N-th), then every process builds the same plan."""
    parts = out / ".plan"
    mine = list(range(procs.rank, len(sources), procs.world))
    entries = _probe_all([sources[i] for i in mine], options)
    parts.mkdir(parents=True, exist_ok=True)
    atomic_write_text(parts / f"probe-{procs.rank:05d}-of-{procs.world:05d}.json",
                      json.dumps({"index": mine, "entries": entries}))
    procs.barrier()
    merged: list[dict | None] = [None] * len(sources)
    for r in range(procs.world):
        part = json.loads((parts / f"probe-{r:05d}-of-{procs.world:05d}.json").read_text(encoding="utf-8"))
        for i, e in zip(part["index"], part["entries"]):
            merged[i] = e
    plan = {"videos": [e for e in merged if "reason" not in e],
            "errors": [e for e in merged if "reason" in e]}
    if procs.is_main:
        atomic_write_text(out / PLAN_FILE, json.dumps(plan) + "\n")
    return plan
