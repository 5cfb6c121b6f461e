"""Dataset export: many clips as mp4 (or raw .npz) + a JSONL manifest, parallel and resumable.

Layout of an export directory::

    DIR/export.json          settings (frames, size, fps, split, seed offset, codec, ego behaviour, salient)
    DIR/clips/<name>.mp4     one video per clip (written atomically by cosmos_lite.data.io;
                             .mkv when lossless, .npz raw frames when raw: no codec needed to read them)
    DIR/clips/<name>.json    that clip's manifest row, written atomically after the video
    DIR/manifest.jsonl       all finished rows in clip order, rebuilt at the end of every run

A clip is finished when both its video and its row exist, so a run killed at
any point leaves only finished clips (plus temp files the next run ignores);
re-running renders what is missing and rebuilds the manifest, which therefore
equals the one an unbroken run writes. Clip i of a split uses split seed
``seed_offset + i`` (see :func:`cosmos_lite.scenes.spec.split_seed`), so splits
never share a scene.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .spec import BEHAVIOURS, SPLIT_BASE, SPLIT_SIZE, Scenario, split_seed

SETTINGS_FILE = "export.json"
MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class ExportSettings:
    """Everything that decides the content of an export (the clip count may grow later)."""

    frames: int
    height: int
    width: int
    fps: float
    split: str
    seed_offset: int = 0
    lossless: bool = False
    behaviour: str = "keep"  # ego behaviour of every clip, or "mix" (see Scenario.sample)
    salient: bool = False  # events placed to be seen clearly (see Scenario.sample)
    raw: bool = False  # raw uint8 frames (.npz, exact, ~8x the bytes of H.264): readable without PyAV

    def __post_init__(self) -> None:
        if self.split not in SPLIT_BASE:
            raise ValueError(f"unknown split {self.split!r}; choose one of {', '.join(SPLIT_BASE)}")
        if not (isinstance(self.frames, int) and 1 <= self.frames <= 100_000):
            raise ValueError(f"frames must be an integer in [1, 100000], got {self.frames!r}")
        for name in ("height", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and 16 <= v <= 4096):
                raise ValueError(f"size {name} must be an integer in [16, 4096], got {v!r}")
        if not (isinstance(self.fps, (int, float)) and 0 < self.fps <= 1000):
            raise ValueError(f"fps must be a positive number (at most 1000), got {self.fps!r}")
        object.__setattr__(self, "fps", float(self.fps))
        if not (isinstance(self.seed_offset, int) and 0 <= self.seed_offset < SPLIT_SIZE):
            raise ValueError(f"seed offset must be an integer in [0, {SPLIT_SIZE}), got {self.seed_offset!r}")
        if self.behaviour not in BEHAVIOURS + ("mix",):
            raise ValueError(f"unknown ego behaviour {self.behaviour!r}; choose one of "
                             f"{', '.join(BEHAVIOURS + ('mix',))}")
        if not isinstance(self.salient, bool):
            raise ValueError(f"salient must be true or false, got {self.salient!r}")
        if not isinstance(self.raw, bool):
            raise ValueError(f"raw must be true or false, got {self.raw!r}")
        if self.raw and self.lossless:
            raise ValueError("raw clips are already exact: give raw or lossless, not both")

    def scenario(self, index: int) -> Scenario:
        """The scenario of clip ``index``."""
        return Scenario.sample(self.seed_offset + index, split=self.split, duration=self.frames / self.fps,
                               behaviour=self.behaviour, salient=self.salient)

    @property
    def suffix(self) -> str:
        from cosmos_lite.data.io import RAW_SUFFIX

        return RAW_SUFFIX if self.raw else ".mkv" if self.lossless else ".mp4"

    def clip_name(self, index: int) -> str:
        return f"{self.split}_{self.seed_offset + index:09d}"


@dataclass(frozen=True)
class ExportResult:
    out: Path
    total: int  # clips in the export
    rendered: int  # clips rendered by this run
    skipped: int  # clips already finished before this run
    complete: bool
    manifest: Path


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def clip_row(settings: ExportSettings, index: int, clip, file: str) -> dict:
    """The manifest row of one clip (JSON-ready)."""
    labels = clip.agents
    frames = []
    for t in range(clip.frames.shape[0]):
        # visible agents, plus the event agent(s) even when hidden (occlusion is the point)
        frames.append([a for a in labels.frame(t) if a["visible"] or a["event"]])
    return {
        "file": file,
        "index": index,
        "split": settings.split,
        "seed": clip.scenario.seed,
        "caption": clip.caption,
        "num_frames": int(clip.frames.shape[0]),
        "fps": clip.fps,
        "size": [settings.height, settings.width],
        "conditions": list(clip.scenario.conditions),
        "event": clip.scenario.event.kind,
        "event_active": [bool(x) for x in clip.event_active()],
        "behaviour": clip.scenario.ego_behaviour.kind,
        "event_onset_frame": (None if clip.scenario.event.kind == "none"
                              else int(np.ceil(clip.scenario.event.onset * clip.fps - 1e-9))),
        "actions": [[float(a), float(k)] for a, k in clip.actions],
        "speed": [float(v) for v in clip.speed],
        "labels": frames,
        "scenario": clip.scenario.to_dict(),
    }


def _finished(out: Path, settings: ExportSettings, index: int) -> bool:
    name = settings.clip_name(index)
    return (out / "clips" / f"{name}.json").is_file() and (out / "clips" / f"{name}{settings.suffix}").is_file()


def _render_one(job: tuple[str, dict, int]) -> int:
    """Worker: render, encode and record clip ``index`` (top level, so it pickles for spawn)."""
    from cosmos_lite.data.io import write_video

    from .render import render

    out_s, settings_d, index = job
    out, settings = Path(out_s), ExportSettings(**settings_d)
    seed = split_seed(settings.seed_offset + index, settings.split)
    sc = settings.scenario(index)
    assert sc.seed == seed
    clip = render(sc, settings.frames, (settings.height, settings.width), settings.fps)
    name = settings.clip_name(index)
    video = out / "clips" / f"{name}{settings.suffix}"
    write_video(video, clip.frames, settings.fps, lossless=settings.lossless)
    row = clip_row(settings, index, clip, f"clips/{video.name}")
    _atomic_write(out / "clips" / f"{name}.json", json.dumps(row, sort_keys=True) + "\n")
    return index


def _manifest_text(out: Path, settings: ExportSettings, n: int) -> str:
    rows = []
    for i in range(n):
        if _finished(out, settings, i):
            rows.append((out / "clips" / f"{settings.clip_name(i)}.json").read_text(encoding="utf-8").rstrip("\n"))
    return "".join(r + "\n" for r in rows)


def export(out: str | os.PathLike, n: int, settings: ExportSettings, workers: int = 1,
           limit: int | None = None, progress: bool = True) -> ExportResult:
    """Render clips 0..n-1 of ``settings.split`` into ``out``; skip finished ones.

    ``limit`` renders at most that many missing clips in this run (chunked jobs);
    ``workers`` > 1 renders in that many processes.
    """
    if not (isinstance(n, int) and 1 <= n <= 10_000_000):
        raise ValueError(f"--n must be a positive integer, got {n!r}")
    if not (isinstance(workers, int) and 1 <= workers <= 256):
        raise ValueError(f"--workers must be in [1, 256], got {workers!r}")
    if limit is not None and not (isinstance(limit, int) and limit >= 0):
        raise ValueError(f"--limit must be >= 0, got {limit!r}")
    if settings.seed_offset + n > SPLIT_SIZE:
        raise ValueError(f"seed offset + n exceeds the split's {SPLIT_SIZE} seeds")
    # fail early if clips cannot hold the sampled event (onset 20-60 % into the clip) or behaviour
    settings.scenario(0)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a directory")
    (out / "clips").mkdir(parents=True, exist_ok=True)
    cfg_path = out / SETTINGS_FILE
    if cfg_path.exists():
        try:
            old = ExportSettings(**json.loads(cfg_path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{cfg_path}: unreadable export settings ({err}); use a new --out") from None
        if old != settings:
            diff = {k: (v, asdict(settings)[k]) for k, v in asdict(old).items() if asdict(settings)[k] != v}
            raise ValueError(f"{out} holds an export with other settings {diff} (existing, requested); use a new --out")
    else:
        _atomic_write(cfg_path, json.dumps(asdict(settings), sort_keys=True) + "\n")

    # temp files of a killed run (ours start with '.'); one export per directory at a time
    for stale in (out / "clips").glob(".*"):
        if stale.is_file():
            stale.unlink()
    pending = [i for i in range(n) if not _finished(out, settings, i)]
    skipped = n - len(pending)
    manifest = out / MANIFEST
    if not pending:
        text = _manifest_text(out, settings, n)
        if manifest.is_file() and manifest.read_text(encoding="utf-8") == text:
            if progress:
                print(f"{out}: export complete ({n} clips), nothing to do")
            return ExportResult(out, n, 0, skipped, True, manifest)
    todo = pending if limit is None else pending[:limit]
    jobs = [(str(out), asdict(settings), i) for i in todo]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, initial=skipped, unit="clip", desc=f"scenes {settings.split}")
    try:
        if workers == 1 or len(jobs) <= 1:
            for job in jobs:
                _render_one(job)
                if bar is not None:
                    bar.update(1)
        else:
            # spawn: workers start clean (no inherited threads or locks from the parent)
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(processes=min(workers, len(jobs))) as pool:
                for _ in pool.imap_unordered(_render_one, jobs):
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        # whatever happened, the manifest lists exactly the finished clips, in order
        _atomic_write(manifest, _manifest_text(out, settings, n))
    complete = all(_finished(out, settings, i) for i in range(n))
    return ExportResult(out, n, len(jobs), skipped, complete, manifest)
