"""Tokenize a folder (or manifest) of videos into safetensors shards, resumably.

    from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos
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

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from cosmos_lite.data.shards import (
    ERRORS,
    JOB_FILE,
    LATENT_KEY,
    MANIFEST,
    SHARD_DIR,
    STORAGE_DTYPES,
    read_shard_meta,
    remove_stale_temps,
    shard_name,
    write_shard,
)
from cosmos_lite.pretrained import atomic_write_text

from .inputs import resolve_inputs
from .plan import (
    Clip,
    Processes,
    TokenizeOptions,
    TokenizeSummary,
    check_against_tokenizer,
    check_same_job,
    enumerate_clips,
    error_reason,
    identity,
    job_record,
    load_plan,
    make_plan,
    tokenizer_dir,
    weights_sha256,
    worker_init,
)

_PREFETCH_PER_WORKER = 4


@dataclass(frozen=True)
class _Task:
    """Decode one file's frame range holding consecutive clips of one shard."""

    shard: int
    video: int
    clips: tuple[Clip, ...]


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

        from cosmos_lite.data.codec import frames_to_video
        from cosmos_lite.data.io import iter_video

        task, o = self.tasks[i], self.options
        first = task.clips[0].start
        span = task.clips[-1].start + o.clip_frames - first
        chunks, error = [], None
        try:
            for chunk in iter_video(self.files[task.video], start=first, num_frames=span, chunk_frames=o.clip_frames,
                                    size=o.size, resize_mode=o.resize_mode, fps=o.fps):
                chunks.append(chunk)
        except Exception as err:  # noqa: BLE001 - recorded per file, the job goes on
            error = error_reason(err)
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
        video = frames_to_video(clips)  # [n, T, H, W, 3] -> [n, 3, T, H, W]
        return task, keep, video.contiguous(), error


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
    procs = Processes(str(device))
    tok_dir = tokenizer_dir(tokenizer)
    tok = VideoTokenizer.from_pretrained(tok_dir)
    cfg = tok.config
    check_against_tokenizer(options, cfg)
    sources = resolve_inputs(inputs)
    job = job_record([s.file for s in sources], tokenizer, cfg, weights_sha256(tok_dir), options)
    # Every process checks for itself, so a refusal never leaves the others stuck at a barrier.
    check_same_job(out, job)

    plan = load_plan(out)
    if procs.is_main:
        out.mkdir(parents=True, exist_ok=True)
        if not (out / JOB_FILE).is_file():
            atomic_write_text(out / JOB_FILE, json.dumps(job, indent=2) + "\n")
        remove_stale_temps(out / SHARD_DIR)  # before the barrier: nobody writes shards yet
    if plan is None:
        plan = make_plan(out, sources, options, procs)
    procs.barrier()

    clips = enumerate_clips(plan)
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


def _tasks_for(shards: list[int], clips: list[Clip], shard_size: int) -> list[_Task]:
    tasks = []
    for k in shards:
        run: list[Clip] = []
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
def _encode_shards(tok, plan: dict, clips: list[Clip], shards: list[int], options: TokenizeOptions,
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
        dataset, batch_size=None, num_workers=workers, collate_fn=identity, worker_init_fn=worker_init,
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


def _write(buf: _ShardBuffer, plan: dict, clips: list[Clip], options: TokenizeOptions, shard_dir: Path,
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
    from cosmos_lite.data.codec import decode_to_file
    from cosmos_lite.data.shards import TokenShards
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
