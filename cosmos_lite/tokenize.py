"""Tokenize a folder (or manifest) of videos into safetensors shards, resumably.

    from cosmos_lite.tokenize import TokenizeOptions, tokenize_videos
    summary = tokenize_videos(["videos/"], "tokens/", "path/to/tokenizer", TokenizeOptions(size=(128, 192)))

How it stays correct when things fail:

* The work list is fixed once, in ``plan.json``: every input file is probed
  (bad files go to ``errors.jsonl``), and its clips ``(file, start)`` are
  enumerated in input order. Clip ``c`` always lands in shard
  ``c // shard_size``, so shard k holds the same clips in every run.
* A shard is written atomically (temp file + rename) with its manifest rows in
  its header. A restarted run skips the shards already on disk and the
  manifest is rebuilt from the shards at the end, so killed + resumed equals
  unbroken. A file that fails while decoding loses its clips in that shard,
  and is recorded in that shard, the same way in every run.
* ``tokenize.json`` records the tokenizer (config + sha256 of its weights),
  the inputs and the options; a re-run with different ones is refused.

Speed: videos are decoded (and resized, resampled, converted to float) in
DataLoader worker processes ahead of the model, in batches that cross shard
boundaries, so the model only waits on I/O when decoding is slower than it.

Scale-out: under ``accelerate launch`` each process probes every N-th file
and encodes every N-th shard; the result is identical to a single-process
run, shard names included. Whoever finishes last writes the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Literal

import torch

from cosmos_lite.io import VIDEO_SUFFIXES, ResizeMode
from cosmos_lite.shards import (
    ERRORS,
    IDS_KEY,
    JOB_FILE,
    LATENT_KEY,
    MANIFEST,
    PLAN_FILE,
    SHARD_DIR,
    STORAGE_DTYPES,
    atomic_write_text,
    ids_dtype,
    read_shard_meta,
    remove_stale_temps,
    shard_name,
    write_shard,
)

FORMAT = "cosmos-lite-tokenize/1"
ComputeDtype = Literal["float32", "bfloat16", "float16"]
StorageDtype = Literal["bfloat16", "float16", "float32"]
MANIFEST_SUFFIXES = (".jsonl", ".csv")
# Options that change how fast the job runs, not what it writes: a resumed run may change them.
RUNTIME_FIELDS = frozenset({"batch_size", "device", "workers"})
_PREFETCH_PER_WORKER = 4
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


@dataclass(frozen=True)
class Source:
    """One input video and what a manifest says about it."""

    file: str
    caption: str | None
    actions: list[list[float]] | None  # per source frame


# --------------------------------------------------------------------------- inputs


def resolve_inputs(inputs: list[str | os.PathLike]) -> list[Source]:
    """Files, folders (recursive, by video suffix) and JSONL/CSV manifests, in a fixed order.

    A path the user typed that does not exist is an error; a video a manifest
    names that does not exist is a bad file (recorded, not fatal).
    """
    if not inputs:
        raise ValueError("no inputs given")
    out: list[Source] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_SUFFIXES and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                raise ValueError(f"{p}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder")
            out += [Source(os.path.abspath(f), None, None) for f in found]
        elif p.suffix.lower() in MANIFEST_SUFFIXES:
            out += _read_manifest(p)
        else:
            out.append(Source(os.path.abspath(p), None, None))
    seen: set[str] = set()
    unique = []
    for s in out:  # a file listed twice would be tokenized twice; keep its first listing
        if s.file not in seen:
            seen.add(s.file)
            unique.append(s)
    return unique


_FILE_KEYS = ("file", "path", "video")
_CAPTION_KEYS = ("caption", "text", "prompt")


def _read_manifest(path: Path) -> list[Source]:
    """JSONL rows or CSV records with a file/path/video column, optional caption and actions.

    Relative video paths are relative to the manifest (the ``scenes export``
    manifest works as is). CSV actions are a JSON list of per-frame rows.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: not valid JSON ({err.msg})") from None
            if not isinstance(rec, dict):
                raise ValueError(f"{path}:{n}: each line must be a JSON object")
            records.append((n, rec))
    else:
        records = [(n, rec) for n, rec in enumerate(csv.DictReader(text.splitlines()), 2)]
    sources = []
    for n, rec in records:
        name = next((rec[k] for k in _FILE_KEYS if rec.get(k)), None)
        if name is None:
            raise ValueError(f"{path}:{n}: no video path (expected a {'/'.join(_FILE_KEYS)} field)")
        caption = next((rec[k] for k in _CAPTION_KEYS if rec.get(k) is not None), None)
        actions = rec.get("actions")
        if isinstance(actions, str):  # CSV cell
            try:
                actions = json.loads(actions) if actions.strip() else None
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: actions must be a JSON list of per-frame rows ({err.msg})") from None
        if actions is not None:
            ok = isinstance(actions, list) and all(isinstance(a, list) and a for a in actions)
            width = {len(a) for a in actions} if ok else set()
            if not ok or len(width) != 1:
                raise ValueError(f"{path}:{n}: actions must be a non-empty [T][A] list with the same A on every frame")
            actions = [[float(v) for v in a] for a in actions]
        file = Path(name) if Path(name).is_absolute() else path.parent / name
        sources.append(Source(os.path.abspath(file), None if caption is None else str(caption), actions))
    if not sources:
        raise ValueError(f"{path}: the manifest lists no videos")
    return sources


# --------------------------------------------------------------------------- the plan


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
    from cosmos_lite.io import probe_video

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
        return {"file": source.file, "stage": "probe", "reason": _reason(err)}
    starts = list(range(0, n - options.clip_frames + 1, options.clip_stride))
    return {"file": source.file, "caption": source.caption, "actions": actions, "frames": n, "fps": rate,
            "source_fps": info.fps, "source_size": [info.height, info.width], "codec": info.codec,
            "starts": starts}


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    if not isinstance(err, (ValueError, FileNotFoundError)):
        text = f"{type(err).__name__}: {text}"
    return " ".join(text.split())  # one line, whatever the decoder printed


@dataclass(frozen=True)
class _Clip:
    clip: int  # global clip number
    video: int  # index into plan["videos"]
    start: int


def _enumerate_clips(plan: dict) -> list[_Clip]:
    clips = []
    for v, entry in enumerate(plan["videos"]):
        clips += [_Clip(len(clips) + j, v, s) for j, s in enumerate(entry["starts"])]
    return clips


# --------------------------------------------------------------------------- processes


class _Processes:
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


@dataclass(frozen=True)
class _Task:
    """Decode one file's frame range holding consecutive clips of one shard."""

    shard: int
    video: int
    clips: tuple[_Clip, ...]


class _TaskDataset(torch.utils.data.Dataset):
    """Runs in the DataLoader workers: decode, resize, resample, stack clips, convert to float."""

    def __init__(self, tasks: list[_Task], plan: dict, options: TokenizeOptions):
        self.tasks, self.options = tasks, options
        self.files = [v["file"] for v in plan["videos"]]

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, i: int) -> tuple[_Task, tuple[int, ...], torch.Tensor | None, str | None]:
        """(task, positions of the clips that decoded, their video [n, 3, T, H, W], error or None)."""
        import numpy as np

        from cosmos_lite.io import iter_video

        task, o = self.tasks[i], self.options
        first = task.clips[0].start
        span = task.clips[-1].start + o.clip_frames - first
        chunks, error = [], None
        try:
            for chunk in iter_video(self.files[task.video], start=first, num_frames=span, chunk_frames=o.clip_frames,
                                    size=o.size, resize_mode=o.resize_mode, fps=o.fps):
                chunks.append(chunk)
        except Exception as err:  # noqa: BLE001 - recorded per file, the job goes on
            error = _reason(err)
        got = sum(len(c) for c in chunks)
        # A file that breaks mid-way still gives the clips decoded before the break; the
        # break point is a property of the file, so every run keeps the same clips.
        keep = tuple(j for j, c in enumerate(task.clips) if c.start - first + o.clip_frames <= got)
        if not keep:
            return task, keep, None, error
        x = torch.from_numpy(np.concatenate(chunks))  # [got, H, W, 3] uint8
        idx = torch.tensor([task.clips[j].start - first for j in keep])[:, None] + torch.arange(o.clip_frames)
        clips = x[idx]  # [n, T, H, W, 3]
        # The float conversion happens here so the model's process spends no time on it.
        video = clips.permute(0, 4, 1, 2, 3).float().div_(127.5).sub_(1.0)
        return task, keep, video.contiguous(), error


def _identity(item: Any) -> Any:
    return item


def _worker_init(_: int) -> None:
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
                                         collate_fn=_identity, worker_init_fn=_worker_init)
    return list(loader)


# --------------------------------------------------------------------------- job identity


def weights_sha256(tokenizer_dir: Path) -> str:
    h = hashlib.sha256()
    with open(tokenizer_dir / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tokenizer_dir(tokenizer: str | os.PathLike) -> Path:
    from cosmos_lite.tokenizer import PRESETS
    from cosmos_lite.tokenizer.model import BUNDLED_DIR

    d = Path(tokenizer)
    if not d.exists() and str(tokenizer) in PRESETS:
        d = BUNDLED_DIR / str(tokenizer)
    if not (d / "model.safetensors").is_file() or not (d / "config.json").is_file():
        raise FileNotFoundError(
            f"{tokenizer}: no tokenizer there (expected a directory with config.json + model.safetensors "
            "from VideoTokenizer.save_pretrained, or a bundled preset name with weights)")
    return d


def _job_record(inputs: list[str], tokenizer: str | os.PathLike, tok_cfg, sha: str,
                options: TokenizeOptions) -> dict:
    continuous = tok_cfg.mode == "continuous"
    storage = {"key": LATENT_KEY if continuous else IDS_KEY,
               "dtype": (options.latent_dtype or "bfloat16") if continuous
               else str(ids_dtype(tok_cfg.vocab_size)).removeprefix("torch.")}
    return {"format": FORMAT, "inputs": inputs, "options": asdict(options),
            "tokenizer": {"source": str(tokenizer), "sha256": sha, "config": asdict(tok_cfg)},
            "storage": storage}


def _identity_of(job: dict) -> dict:
    opts = {k: v for k, v in job["options"].items() if k not in RUNTIME_FIELDS}
    opts["size"] = list(opts["size"])
    return {"inputs": job["inputs"], "options": opts, "tokenizer.sha256": job["tokenizer"]["sha256"],
            "tokenizer.config": job["tokenizer"]["config"], "format": job["format"]}


def _check_same_job(out: Path, new: dict) -> None:
    path = out / JOB_FILE
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old_id = _identity_of(old)
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f"{path}: unreadable job file; use a new --out directory") from None
    new_id = json.loads(json.dumps(_identity_of(new)))  # tuples -> lists, as on disk
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


def _check_against_tokenizer(options: TokenizeOptions, cfg) -> None:
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


def _resolve_device(device: str | None) -> torch.device:
    # Under a launcher each process takes the accelerator matching its LOCAL_RANK.
    local = int(os.environ.get("LOCAL_RANK", "0"))
    name = device or (f"cuda:{local % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"device {name!r} is not a torch device ({err})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine (use cpu)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r}: MPS is not available on this machine (use cpu)")
    return dev


# --------------------------------------------------------------------------- the job


def tokenize_videos(
    inputs: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    tokenizer: str | os.PathLike,
    options: TokenizeOptions,
    *,
    max_shards: int | None = None,
    progress: bool = True,
    on_shard: Callable[[int], None] | None = None,
) -> TokenizeSummary:
    """Tokenize every clip of ``inputs`` into ``out_dir``; resumes whatever a previous run left.

    ``max_shards`` stops this process after writing that many shards (a time
    box; the next run resumes). ``on_shard(k)`` is called after shard k is on disk.
    """
    from cosmos_lite.tokenizer import VideoTokenizer

    t0 = time.perf_counter()
    out = Path(out_dir)
    device = _resolve_device(options.device)
    procs = _Processes(str(device))
    tok_dir = tokenizer_dir(tokenizer)
    tok = VideoTokenizer.from_pretrained(tok_dir)
    cfg = tok.config
    _check_against_tokenizer(options, cfg)
    sources = resolve_inputs(inputs)
    job = _job_record([s.file for s in sources], tokenizer, cfg, weights_sha256(tok_dir), options)
    # Every process checks for itself, so a refusal never leaves the others stuck at a barrier.
    _check_same_job(out, job)

    plan = _load_plan(out)
    if procs.is_main:
        out.mkdir(parents=True, exist_ok=True)
        if not (out / JOB_FILE).is_file():
            atomic_write_text(out / JOB_FILE, json.dumps(job, indent=2) + "\n")
        remove_stale_temps(out / SHARD_DIR)  # before the barrier: nobody writes shards yet
    if plan is None:
        plan = _make_plan(out, sources, options, procs)
    procs.barrier()

    clips = _enumerate_clips(plan)
    num_shards = math.ceil(len(clips) / options.shard_size)
    shard_dir = out / SHARD_DIR
    mine = [k for k in range(num_shards) if k % procs.world == procs.rank]
    todo = [k for k in mine if not (shard_dir / shard_name(k)).is_file()]
    skipped = len(mine) - len(todo)
    if max_shards is not None:
        todo = todo[:max_shards]

    encoded, written, timing = 0, 0, (0.0, 0.0)
    if todo:
        tok = tok.to(device).eval()
        storage = _storage_dtype(job)
        encoded, written, timing = _encode_shards(tok, plan, clips, todo, options, shard_dir, storage,
                                          job["storage"]["key"], progress and procs.is_main, on_shard)

    complete = _merge_if_complete(out, plan, num_shards)
    if procs.world > 1:
        # Belt and braces for shared filesystems with lagging metadata: after everyone is
        # done, the main process merges too (idempotent).
        procs.barrier()
        if procs.is_main:
            complete = _merge_if_complete(out, plan, num_shards)
    errors = _count_lines(out / ERRORS) if complete else len(plan["errors"])
    in_manifest = _count_lines(out / MANIFEST) if complete else 0
    return TokenizeSummary(out, len(clips), in_manifest, encoded, num_shards, written, skipped, errors, complete,
                           time.perf_counter() - t0, *timing)


def _storage_dtype(job: dict) -> torch.dtype:
    name = job["storage"]["dtype"]
    return STORAGE_DTYPES[name] if name in STORAGE_DTYPES else getattr(torch, name)


def _load_plan(out: Path) -> dict | None:
    path = out / PLAN_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _make_plan(out: Path, sources: list[Source], options: TokenizeOptions, procs: _Processes) -> dict:
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


def _tasks_for(shards: list[int], clips: list[_Clip], shard_size: int) -> list[_Task]:
    tasks = []
    for k in shards:
        run: list[_Clip] = []
        for c in clips[k * shard_size : (k + 1) * shard_size]:
            if run and run[-1].video != c.video:
                tasks.append(_Task(k, run[0].video, tuple(run)))
                run = []
            run.append(c)
        if run:
            tasks.append(_Task(k, run[0].video, tuple(run)))
    return tasks


class _ShardBuffer:
    def __init__(self, k: int, tasks: int):
        self.k, self.tasks_left = k, tasks
        self.outputs: dict[int, torch.Tensor] = {}  # clip number -> latent / ids
        self.dropped: set[int] = set()
        self.errors: list[dict] = []
        self.queued = 0  # clips waiting for the model


@torch.inference_mode()
def _encode_shards(tok, plan: dict, clips: list[_Clip], shards: list[int], options: TokenizeOptions,
                   shard_dir: Path, storage: torch.dtype, key: str, progress: bool,
                   on_shard: Callable[[int], None] | None) -> tuple[int, int, tuple[float, float]]:
    from tqdm.auto import tqdm

    tasks = _tasks_for(shards, clips, options.shard_size)
    buffers = {k: _ShardBuffer(k, sum(t.shard == k for t in tasks)) for k in shards}
    device = next(tok.parameters()).device
    compute = getattr(torch, options.dtype)
    # Lower precision by autocast, not by casting the weights: some ops (avg_pool3d on CPU) have no
    # bf16 kernel, and autocast keeps norms and FSQ rounding in float32.
    autocast = torch.autocast(device.type, dtype=compute, enabled=compute != torch.float32)
    dataset = _TaskDataset(tasks, plan, options)
    workers = min(options.workers, len(tasks))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, num_workers=workers, collate_fn=_identity, worker_init_fn=_worker_init,
        prefetch_factor=_PREFETCH_PER_WORKER if workers else None, pin_memory=device.type == "cuda")
    total = sum(len(t.clips) for t in tasks)
    bar = tqdm(total=total, unit="clip", desc="tokenize", disable=not progress, dynamic_ncols=True)
    queue: list[tuple[int, int, torch.Tensor]] = []  # (shard, clip number, video [3, T, H, W])
    encoded = written = 0
    next_to_write = 0
    model_s = wait_s = 0.0

    def run_batch(n: int) -> None:
        nonlocal encoded, model_s
        t = time.perf_counter()
        batch, queue[:] = queue[:n], queue[n:]
        video = torch.stack([v for _, _, v in batch]).to(device, non_blocking=True)
        with autocast:
            z = tok.encode(video)
        z = z.to(storage) if key == LATENT_KEY else z.to(torch.int32).to(storage)
        z = z.cpu()
        for (k, c, _), zi in zip(batch, z):
            buffers[k].outputs[c] = zi.clone()  # clone: keep only this clip, not the batch tensor
            buffers[k].queued -= 1
        encoded += len(batch)
        model_s += time.perf_counter() - t
        bar.update(len(batch))

    def flush_ready() -> None:
        nonlocal written, next_to_write
        # In shard order, so an interrupted run leaves a prefix of its shards on disk.
        while next_to_write < len(shards):
            buf = buffers[shards[next_to_write]]
            if buf.tasks_left or buf.queued:
                return
            _write(buf, plan, clips, options, shard_dir, key, storage, tok)
            del buffers[buf.k]
            written += 1
            next_to_write += 1
            if on_shard is not None:
                on_shard(buf.k)

    try:
        items = iter(loader)
        while True:
            t = time.perf_counter()
            item = next(items, None)
            wait_s += time.perf_counter() - t
            if item is None:
                break
            task, keep, video, error = item
            buf = buffers[task.shard]
            buf.tasks_left -= 1
            if error is not None:
                lost = [c.clip for j, c in enumerate(task.clips) if j not in keep]
                buf.dropped.update(lost)
                buf.errors.append({"file": plan["videos"][task.video]["file"], "stage": "decode",
                                   "reason": error, "clips": len(lost), "shard": shard_name(task.shard)})
                bar.update(len(lost))
            if keep:
                for j, v in zip(keep, video):
                    queue.append((task.shard, task.clips[j].clip, v))
                buf.queued += len(keep)
            while len(queue) >= options.batch_size:
                run_batch(options.batch_size)
            flush_ready()
        while queue:
            run_batch(min(len(queue), options.batch_size))
        flush_ready()
    finally:
        bar.close()
    return encoded, written, (model_s, wait_s)


def _write(buf: _ShardBuffer, plan: dict, clips: list[_Clip], options: TokenizeOptions, shard_dir: Path,
           key: str, storage: torch.dtype, tok) -> None:
    rows, tensors = [], []
    for c in clips[buf.k * options.shard_size : (buf.k + 1) * options.shard_size]:
        if c.clip in buf.dropped:
            continue
        v = plan["videos"][c.video]
        actions = v["actions"][c.start : c.start + options.clip_frames] if v["actions"] is not None else None
        rows.append({"clip": c.clip, "file": v["file"], "start": c.start, "frames": options.clip_frames,
                     "fps": v["fps"], "size": list(options.size), "shard": shard_name(buf.k),
                     "index": len(rows), "caption": v["caption"], "actions": actions})
        tensors.append(buf.outputs[c.clip])
    if tensors:
        data = torch.stack(tensors)
    else:  # every clip of this shard failed: an empty shard still marks the work as done
        cfg = tok.config
        h, w = (v // cfg.spatial_compression for v in options.size)
        t = 1 + (options.clip_frames - 1) // cfg.temporal_compression
        shape = (0, cfg.latent_channels, t, h, w) if key == LATENT_KEY else (0, t, h, w)
        data = torch.zeros(shape, dtype=storage)
    write_shard(shard_dir / shard_name(buf.k), key, data, rows, buf.errors)


def _merge_if_complete(out: Path, plan: dict, num_shards: int) -> bool:
    """Rebuild manifest.jsonl and errors.jsonl from the shards once all of them exist.

    Idempotent and safe to race: every caller writes the same bytes atomically.
    """
    shard_dir = out / SHARD_DIR
    paths = [shard_dir / shard_name(k) for k in range(num_shards)]
    if not all(p.is_file() for p in paths):
        return False
    rows: list[str] = []
    decode_errors: dict[str, dict] = {}
    for p in paths:
        shard_rows, shard_errors = read_shard_meta(p)
        rows += [json.dumps(r) for r in shard_rows]
        for e in shard_errors:
            if e["file"] in decode_errors:  # one line per file, even if it failed in several shards
                decode_errors[e["file"]]["clips"] += e["clips"]
            else:
                decode_errors[e["file"]] = {k: v for k, v in e.items() if k != "shard"}
    errors = [json.dumps(e) for e in plan["errors"]] + [json.dumps(e) for e in decode_errors.values()]
    text = "".join(r + "\n" for r in rows)
    manifest = out / MANIFEST
    if not manifest.is_file() or manifest.read_text(encoding="utf-8") != text:
        atomic_write_text(manifest, text)
    atomic_write_text(out / ERRORS, "".join(e + "\n" for e in errors))
    return True


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line) if path.is_file() else 0


# --------------------------------------------------------------------------- detokenize


def detokenize_clips(
    token_dir: str | os.PathLike,
    indices: list[int],
    out_dir: str | os.PathLike,
    *,
    tokenizer: str | os.PathLike | None = None,
    device: str | None = None,
) -> list[Path]:
    """Decode chosen clips of a tokenize output back to ``clip-NNNNNN.mp4`` files for inspection.

    ``tokenizer`` defaults to the one recorded in ``tokenize.json``; its weights
    must hash the same as the ones that made the shards.
    """
    from cosmos_lite.codec import decode_to_file
    from cosmos_lite.shards import TokenShards
    from cosmos_lite.tokenizer import VideoTokenizer

    ds = TokenShards(token_dir)
    if not indices:
        raise ValueError("give at least one clip index")
    bad = [i for i in indices if not 0 <= i < len(ds)]
    if bad:
        raise ValueError(f"clip indices {bad} out of range: {token_dir} holds clips 0..{len(ds) - 1}")
    source = tokenizer if tokenizer is not None else ds.job["tokenizer"]["source"]
    tok_dir = tokenizer_dir(source)
    if weights_sha256(tok_dir) != ds.job["tokenizer"]["sha256"]:
        raise ValueError(f"{source}: not the tokenizer these shards were made with (weights sha256 differs from "
                         f"{ds.job['tokenizer']['sha256'][:12]}... in {JOB_FILE})")
    dev = _resolve_device(device)
    tok = VideoTokenizer.from_pretrained(tok_dir).to(dev).eval()
    written = []
    for i in indices:
        item = ds[i]
        z = item[ds.key][None]
        z = z.float() if ds.key == LATENT_KEY else z
        written.append(decode_to_file(tok, z, Path(out_dir) / f"clip-{i:06d}.mp4", item["fps"],
                                      num_frames=item["frames"], size=item["size"]))
    return written

