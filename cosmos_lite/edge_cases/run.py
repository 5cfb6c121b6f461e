"""One edge-case run: plan, batched generation with QC and resampling, per-item results, outputs.

Resumable by construction: ``plan.json`` is written first; each item's clip and then its
result file ``items/<id>.json`` are written atomically when the item is finished (accepted,
rejected, blocked or failed), and a finished item is never written again. The manifest,
contact sheet and gallery are rebuilt from the item files, in plan order, at the end.

``generate_many`` seeds every request on its own, but a batch's float sums run in another
order than one request's, which moves a pixel by a grey level now and then. So items are
made in fixed chunks of ``batch_size`` consecutive plan items, and a chunk that a kill left
half done is made again whole (its finished items' results are recomputed and dropped):
every request is always sampled beside the same others, and a run killed at any point and
run again ends with the manifest of an unbroken run, and with clips of the same frames
(``frames_sha256`` in each row; see the package docstring on the H.264 bytes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cosmos_lite.pretrained import atomic_write_text, write_json

from . import qc
from .catalog import Catalog
from .gallery import write_contact_sheet, write_gallery
from .plan import SCENE_SPLIT, START_FRAMES, Plan, PlanItem, build_plan, model_fingerprint, plan_differences

PLAN_FILE = "plan.json"
ITEMS_DIR = "items"
CLIPS_DIR = "clips"
MANIFEST = "manifest.jsonl"
CONTACT_SHEET = "contact_sheet.png"
GALLERY = "index.html"
STATUSES = ("accepted", "rejected", "blocked", "failed")


@dataclass(frozen=True)
class RunResult:
    out: Path
    total: int  # items in the plan
    made: int  # items finished by this run
    kept: int  # items finished by an earlier run, left as they were
    counts: dict[str, int]  # status -> items
    manifest: Path
    contact_sheet: Path
    gallery: Path


def run_edge_cases(out: str | Path, catalog: Catalog, model: str | Path | None = None, n: int | None = None,
                   batch_size: int = 8, guardrail: bool = True, instruments: qc.Instruments | None = None,
                   progress: bool = True) -> RunResult:
    """Make the clips of ``catalog`` (the first ``n`` items of its spread order) with the world
    model in ``model`` (None = bundled) into ``out``, ``batch_size`` requests per batch;
    ``instruments`` None = :func:`~.qc.load_instruments`. Resumes a run killed in ``out``; refuses
    an ``out`` holding a run with another plan, listing the differences."""
    from cosmos_lite.world import WorldConfig, bundled_world_model_dir

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"invalid --out {out}: exists and is not a directory")
    config = WorldConfig.load(model)
    instruments = qc.load_instruments() if instruments is None else instruments
    model_dir = bundled_world_model_dir() if model is None else Path(model)
    plan = build_plan(catalog, config, model_fingerprint(model_dir), n, batch_size, guardrail,
                      instruments.describe())
    _claim(out, plan)

    pending = [it for it in plan.items if not _finished(out, it)]
    kept = len(plan.items) - len(pending)
    if pending:
        from tqdm.auto import tqdm

        from cosmos_lite.world import WorldModel

        wm = WorldModel.from_pretrained(model) if guardrail else WorldModel.from_pretrained(model, guardrail=None)
        todo = {it.id for it in pending}
        counts = _counts([_read_row(out, it) for it in plan.items if it.id not in todo])
        with tqdm(total=len(plan.items), initial=kept, unit="item", desc="edge-cases", disable=not progress) as bar:
            # fixed chunks of the plan (module docstring), written as each item finishes: a kill loses one chunk
            for j in range(0, len(plan.items), batch_size):
                chunk = plan.items[j:j + batch_size]
                if not any(it.id in todo for it in chunk):
                    continue
                for row in _make(wm, chunk, todo, catalog.max_attempts, instruments, batch_size, out):
                    counts[row["status"]] += 1
                    bar.update(1)
                bar.set_postfix(counts, refresh=False)
    rows = [_read_row(out, it) for it in plan.items]
    manifest = atomic_write_text(out / MANIFEST, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    sheet = write_contact_sheet(out / CONTACT_SHEET, out, rows)
    page = write_gallery(out / GALLERY, plan.catalog.name, rows)
    return RunResult(out, len(plan.items), len(pending), kept, _counts(rows), manifest, sheet, page)


# --------------------------------------------------------------------------- the output directory


def _claim(out: Path, plan: Plan) -> None:
    """Write ``plan.json``, or check that the one there is this plan; clear a killed run's temp files."""
    (out / ITEMS_DIR).mkdir(parents=True, exist_ok=True)
    (out / CLIPS_DIR).mkdir(exist_ok=True)
    path = out / PLAN_FILE
    new = plan.to_dict()
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: unreadable plan ({err}); use a new --out") from None
        if old != new:
            diff = plan_differences(old, new)
            raise ValueError(f"{out} holds a run with another plan; use a new --out, or the catalog, --n, model and "
                             f"flags of that run. Differences: {'; '.join(diff)}")
    else:
        write_json(path, new)
    # temp files of a killed run (atomic writes name theirs ".<name>..."); one run per directory at a time
    for d in (out / ITEMS_DIR, out / CLIPS_DIR):
        for stale in d.glob(".*"):
            if stale.is_file():
                stale.unlink()


def _item_path(out: Path, item: PlanItem) -> Path:
    return out / ITEMS_DIR / f"{item.id}.json"


def _clip_path(out: Path, item: PlanItem) -> Path:
    return out / CLIPS_DIR / f"{item.id}.mp4"


def _read_row(out: Path, item: PlanItem) -> dict[str, Any]:
    return json.loads(_item_path(out, item).read_text(encoding="utf-8"))


def _finished(out: Path, item: PlanItem) -> bool:
    """Its result file exists and so does the clip it names (written before it, so this only
    fails if someone deleted the clip: then the item is made again)."""
    path = _item_path(out, item)
    if not path.is_file():
        return False
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return row.get("file") is None or (out / row["file"]).is_file()


def _counts(rows: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for r in rows:
        counts[r["status"]] += 1
    return counts


# --------------------------------------------------------------------------- making items


@dataclass(frozen=True)
class _Work:
    """An item being made: its request, the actions it commands, and its row so far."""

    item: PlanItem
    request: Any
    commanded: np.ndarray | None
    row: dict[str, Any]


def _make(wm, items: tuple[PlanItem, ...], todo: set[str], max_attempts: int, instruments: qc.Instruments,
          batch_size: int, out: Path) -> list[dict]:
    """Make the chunk ``items``, writing the clips and result files of those in ``todo``; their rows."""
    from cosmos_lite.generators import settings_class
    from cosmos_lite.world import GenerationRequest, check_request

    finished, work = [], []
    for item in items:
        row = _base_row(item)
        try:
            video, commanded = item.start() if item.start_state else (None, None)
            if commanded is not None:
                row["start_state"]["actions"] = _actions_summary(commanded)
            settings = settings_class(wm.config.spec(item.generator).kind)(**item.settings)
            request = check_request(wm.config, GenerationRequest(
                prompt=item.prompt, video=video, actions=commanded, num_frames=item.num_frames, seed=item.seed,
                generator=item.generator, settings=settings))
        except (ValueError, TypeError, FileNotFoundError) as err:  # this item cannot be asked for: record it, go on
            row.update(status="failed", error=str(err))
            if item.id in todo:
                finished.append(_finish(out, item, row, None))
            continue
        work.append(_Work(item, request, commanded, row))
    for attempt in range(max_attempts):
        if not work:
            break
        clips = wm.generate_many([dataclasses.replace(w.request, seed=w.item.seed_of(attempt)) for w in work],
                                 batch_size=batch_size, progress=False)
        again = []
        for w, clip in zip(work, clips):
            status, verdict = _assess(w, clip, instruments)
            w.row["seeds"].append(w.item.seed_of(attempt))
            w.row["attempts"].append({"seed": w.item.seed_of(attempt), "outcome": status,
                                      "qc": verdict, "blocked_reasons": clip.reasons if status == "blocked" else []})
            w.row.update(seed=w.item.seed_of(attempt), guardrail=_verdicts(clip.report), qc=verdict,
                         blocked_reasons=clip.reasons)
            if status == "qc failed" and attempt + 1 < max_attempts:
                again.append(w)
                continue
            w.row["status"] = "rejected" if status == "qc failed" else status
            if w.item.id in todo:
                finished.append(_finish(out, w.item, w.row, clip.frames if status != "blocked" else None, clip.fps))
        work = again
    return finished


def _assess(w: _Work, clip, instruments: qc.Instruments) -> tuple[str, dict | None]:
    """("accepted" | "qc failed" | "blocked", the QC verdict) of one generated clip.

    A guardrail block is final (resampling to get past a policy check would defeat it), except
    a block by video integrity alone: that is a broken clip, and another seed may give a sound one."""
    report = clip.report
    start = START_FRAMES if w.item.start_state else 0
    if clip.blocked:
        if report.get("blocked_stage") == "request":
            return "blocked", None
        checks = report.get("guardrail_output", {}).get("checks", [])
        blocking = [c for c in checks if c["verdict"] in ("block", "error")]
        if not blocking or any(c["name"] != "video_integrity" for c in blocking):
            return "blocked", None
        verdict = qc.judge(instruments, None, w.item.event, w.commanded, start, "block",
                           [r for c in blocking for r in c["reasons"]])
        return "qc failed", verdict
    integrity = "disabled"
    for c in report.get("guardrail_output", {}).get("checks", []):
        if c["name"] == "video_integrity":
            integrity = c["verdict"]
    verdict = qc.judge(instruments, clip.frames, w.item.event, w.commanded, start, integrity, [])
    return ("accepted" if verdict["passed"] else "qc failed"), verdict


def _finish(out: Path, item: PlanItem, row: dict, frames: np.ndarray | None, fps: float | None = None) -> dict:
    """Write the clip (if any), then the result file: the item counts as finished only once both exist."""
    from cosmos_lite.data.io import write_video

    if frames is not None:
        path = _clip_path(out, item)
        write_video(path, frames, fps)
        row["file"] = f"{CLIPS_DIR}/{path.name}"
        # what was generated, exactly: H.264 files of equal frames need not be equal bytes (see the package doc)
        row["frames_sha256"] = hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()
    write_json(_item_path(out, item), row)
    return row


def _base_row(item: PlanItem) -> dict[str, Any]:
    """The row of an item before any attempt: the effective settings of everything it will be made with."""
    return {"id": item.id, "index": item.index, "entry": item.entry, "status": None, "prompt": item.prompt,
            "event": item.event, "condition": item.condition, "generator": item.generator,
            "settings": dict(item.settings), "num_frames": item.num_frames, "fps": item.fps, "size": list(item.size),
            "seed": item.seed, "seeds": [], "scene": {"split": SCENE_SPLIT, "seed": item.scene_seed},
            "start_state": ({"condition_frames": START_FRAMES, "behaviour": item.behaviour, "actions": None}
                            if item.start_state else None),
            "guardrail": None, "blocked_reasons": [], "qc": None, "attempts": [], "file": None,
            "frames_sha256": None, "error": None}


def _verdicts(report: dict) -> dict[str, dict[str, str]] | str:
    """The guardrail's verdict per check and stage (timings left out: a rerun must write the same row)."""
    if report.get("guardrail") == "disabled":
        return "disabled"
    return {stage: {c["name"]: c["verdict"] for c in report[key]["checks"]}
            for key, stage in (("guardrail_request", "request"), ("guardrail_output", "output")) if key in report}


def _actions_summary(a: np.ndarray) -> dict[str, Any]:
    def stats(x: np.ndarray) -> dict[str, float]:
        return {"min": round(float(x.min()), 5), "max": round(float(x.max()), 5), "mean": round(float(x.mean()), 5)}

    return {"frames": len(a), "acceleration": stats(a[:, 0]), "curvature": stats(a[:, 1]),
            "steering_frames": int((np.abs(a[:, 1]) >= qc.CURVATURE_MIN).sum())}
