"""One command that trains every bundled model on a GPU lent for 15 minutes, in under 10 minutes wall.

Three steps, two machines::

    # 1. here (CPU, MiniLM installed): the captions of exactly the scenes the run renders, embedded
    python -m cosmos_lite.train.oneshot prepare              # -> .oneshot/text.safetensors (12 MiB)
    # 2. on the GPU machine (no network, no diffusers / PyAV / MiniLM, package not installed):
    scripts/gpu_oneshot.sh "$OUT"                            # = oneshot run --out "$OUT" (9 minutes)
    # 3. here: check that every model loads, then swap them into the bundled locations
    python -m cosmos_lite.train.oneshot install OUT_FILES_DIR [--target ROOT]

``run`` goes through eight stages, each on the existing task and ``engine.fit``:

1. render ``clips`` train-split scenes of ``scene_frames`` (65) frames (behaviour mix, salient
   events, as ``scenes export --behaviour mix --salient --raw``) with a process pool, as raw
   ``.npz`` clips (no PyAV);
2. the continuous tokenizer ``default-cv`` on them (``train tokenizer --data DIR``);
3. the discrete tokenizer ``default-dv``, warm-started from (2) (``warm_start``);
4. the scenes cut into ``frames`` (33)-frame clips every 32 frames and encoded to latents and token
   ids (``cosmos-lite tokenize``) by the fp16 copies of (2) and (3), the weights that ship;
5. the DiT and (6) the autoregressive transformer on them, text from the prepared table
   (``data.text_encoder=<table>``: :class:`~cosmos_lite.generators.conditioning.TextEncoder` looks
   the captions up); both generators go into one world model that names MiniLM (None) as its
   text encoder, which the table reproduces to fp16 precision;
7. the scene reader and (8) the inverse dynamics model, on scenes their streams render.

Time: ``--minutes`` (default 9) is the wall budget from start-up to the last file. Rendering and
encoding take what they take; each training stage gets a share of what is left (weights in
``STAGE_WEIGHTS``), runs a few calibration steps, and continues (resuming the same run, so the
calibration steps count) for as many steps as its share leaves time for, so that the cosine
schedule, which follows ``steps``, ends on time. A step costs the slower of the model (timed
on the calibration steps) and the data pipeline (a few samples timed apart, divided among the
DataLoader workers). A progress line per stage goes to stdout. The budget is an estimate, not
a stop: a stage that runs slower than calibrated overruns, and the later stages' shares shrink.

Output: at most 8 files of at most 16 MiB (see :mod:`cosmos_lite.train.oneshot_install`).
Model sizes: the GPU recipes' batch sizes and tokenizer presets; the generators are the
"small" presets, since the GPU recipes' "base" ones (22 MB and 38 MB in fp16) do not fit a
16 MiB file. ``--tiny`` swaps in the test presets and batch sizes (the CPU test of the chain).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_TABLE = Path(".oneshot") / "text.safetensors"
TRAIN_STAGES = ("tokenizer-cv", "tokenizer-dv", "diffusion", "autoregressive", "scene-reader", "idm")
# share of the training time left when a stage starts (among the stages still to come)
STAGE_WEIGHTS = {"tokenizer-cv": 0.26, "tokenizer-dv": 0.14, "diffusion": 0.22, "autoregressive": 0.18,
                 "scene-reader": 0.10, "idm": 0.10}
DATA_SAMPLES = 3  # samples timed per stage to estimate the data pipeline's rate
DATA_SLACK = 1.2  # the workers share the cores with the main process and each other
PACK_RESERVE = 0.04  # of the budget, kept for the world model assembly, the tars and the report
# dense bf16 peak FLOP/s per device name fragment, for MFU
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12}


def _log(message: str) -> None:
    print(f"oneshot: {message}", flush=True)


# --------------------------------------------------------------------------- what the run renders


@dataclass(frozen=True)
class DataPlan:
    """The clips a run renders and validates on: what ``prepare`` writes captions for."""

    clips: int = 512  # train-split scenes 0 .. clips - 1 (12 MiB of caption embeddings at 512: ~24 KiB each)
    frames: int = 33  # training clip length of every model
    # frames rendered per scene: the generators' clips are cut from it every frames - 1 frames (65 -> two
    # 33-frame clips a scene, as the CPU recipe; twice the clips for the same captions), the tokenizers
    # read random windows of it
    scene_frames: int = 65
    size: tuple[int, int] = (128, 192)
    fps: float = 10.0
    val_clips: int = 8  # val-split scenes the generators validate on (their captions are in the table too)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(self.size))
        if isinstance(self.clips, bool) or not isinstance(self.clips, int) or not 2 <= self.clips <= 4096:
            raise ValueError(f"clips must be an integer in [2, 4096], got {self.clips!r}")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or self.frames < 5 \
                or (self.frames - 1) % 4:
            raise ValueError(f"frames must be 1 + 4k with k >= 1 (the tokenizers compress time 4x: 9, 17, 33, ...), "
                             f"got {self.frames!r}")
        if isinstance(self.scene_frames, bool) or not isinstance(self.scene_frames, int) \
                or not self.frames <= self.scene_frames <= 1000:
            raise ValueError(f"scene_frames must be an integer in [frames, 1000] = [{self.frames}, 1000], "
                             f"got {self.scene_frames!r}")
        h, w = self.size
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 32 or v % 16 for v in (h, w)):
            raise ValueError(f"size must be HxW with sides multiples of 16 and at least 32 (8x tokenizer, 2x DiT "
                             f"patches; e.g. 128x192), got {h}x{w}")
        if not (isinstance(self.fps, (int, float)) and 0 < self.fps <= 100):
            raise ValueError(f"fps must be in (0, 100], got {self.fps!r}")
        object.__setattr__(self, "fps", float(self.fps))
        if isinstance(self.val_clips, bool) or not isinstance(self.val_clips, int) or not 1 <= self.val_clips <= 256:
            raise ValueError(f"val_clips must be an integer in [1, 256], got {self.val_clips!r}")

    def export_settings(self):
        from cosmos_lite.scenes.export import ExportSettings

        h, w = self.size
        return ExportSettings(self.scene_frames, h, w, self.fps, "train", behaviour="mix", salient=True, raw=True)

    def captions(self) -> list[str]:
        """Every caption the run's models see: the rendered train scenes, the generators' val scenes
        (``scene_sample``: behaviour keep, not salient) and "" (guidance drops captions to it)."""
        from cosmos_lite.data.streams import scene_scenario
        from cosmos_lite.scenes.caption import caption

        settings = self.export_settings()
        train = [caption(settings.scenario(i)) for i in range(self.clips)]
        val = [caption(scene_scenario(i, "val", self.frames, self.fps)) for i in range(self.val_clips)]
        return train + val + [""]

    def text_key(self) -> dict[str, Any]:
        """What the captions depend on (not the size)."""
        return {"clips": self.clips, "frames": self.frames, "scene_frames": self.scene_frames, "fps": self.fps,
                "val_clips": self.val_clips}


def prepare(plan: DataPlan, table: Path) -> Path:
    """Embed ``plan``'s captions with the bundled MiniLM into the text table ``table``."""
    from cosmos_lite.generators.conditioning import TextEncoder, save_text_table

    t0 = time.perf_counter()
    captions = plan.captions()
    path = save_text_table(TextEncoder(), captions, table, extra={"plan": {**asdict(plan), "size": list(plan.size)}})
    _log(f"prepare: {len(set(captions))} captions of {plan.clips} train + {plan.val_clips} val scenes -> {path} "
         f"({path.stat().st_size / 2**20:.1f} MiB, {time.perf_counter() - t0:.0f} s)")
    return path


def plan_of_table(table: Path) -> DataPlan:
    """The plan a text table was prepared for, or a clear error."""
    from cosmos_lite.generators.conditioning import text_table_info

    if not table.is_file():
        raise FileNotFoundError(f"{table}: no prepared text table; run `python -m cosmos_lite.train.oneshot prepare` "
                                "on the CPU side first (and carry .oneshot to the GPU machine)")
    extra = text_table_info(table)["extra"]
    if "plan" not in extra:
        raise ValueError(f"{table}: a text table, but not one `oneshot prepare` wrote (no plan in it)")
    return DataPlan(**{**extra["plan"], "size": tuple(extra["plan"]["size"])})


# --------------------------------------------------------------------------- model sizes


@dataclass(frozen=True)
class Recipe:
    """Presets and batch sizes of one run (the GPU product, or the tiny CPU test)."""

    cv: str
    dv: str
    dit: str
    ar: str
    tokenizer_batch: int
    dit_batch: int
    ar_batch: int
    instrument_batch: int
    instrument_width: int  # SceneReaderConfig / IDMConfig first-stage channels
    instrument_dim: int  # and their feature width
    calibration_steps: int
    encode_batch: int
    val_clips: int  # tokenizer and instrument validation clips
    stats_clips: int


GPU = Recipe(cv="default-cv", dv="default-dv", dit="small", ar="small", tokenizer_batch=8, dit_batch=64, ar_batch=32,
             instrument_batch=16, instrument_width=24, instrument_dim=128, calibration_steps=5, encode_batch=16,
             val_clips=8, stats_clips=32)
TINY = Recipe(cv="tiny-cv", dv="tiny-dv", dit="test", ar="test", tokenizer_batch=2, dit_batch=4, ar_batch=4,
              instrument_batch=2, instrument_width=8, instrument_dim=32, calibration_steps=2, encode_batch=4,
              val_clips=1, stats_clips=2)


# --------------------------------------------------------------------------- one training stage


@dataclass
class StageResult:
    name: str
    steps: int
    seconds: float  # stage wall time: set-up, calibration, training, validation, export
    train_seconds: float  # sum of the optimizer steps' times
    batch: int  # samples per optimizer step
    calibration: dict[str, Any]
    validation: dict[str, Any]
    tokens_per_sample: int | None = None
    params: int | None = None

    def to_dict(self, peak: float | None) -> dict[str, Any]:
        samples = self.steps * self.batch
        rate = samples / self.train_seconds if self.train_seconds > 0 else 0.0
        out: dict[str, Any] = {"steps": self.steps, "seconds": round(self.seconds, 1),
                               "train_seconds": round(self.train_seconds, 1), "batch": self.batch,
                               "samples": samples, "samples_per_s": round(rate, 2),
                               "calibration": self.calibration, "validation": self.validation}
        if self.tokens_per_sample is not None and self.params is not None:
            flops = 6.0 * self.params * self.tokens_per_sample * rate  # forward + backward, dense layers
            out.update(params=self.params, tokens_per_s=round(rate * self.tokens_per_sample, 1),
                       model_tflops=round(flops / 1e12, 3), mfu=None if peak is None else round(flops / peak, 4))
        return out


def _train_records(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("kind") == "train"]


def _train_seconds(records: list[dict[str, Any]]) -> float:
    total, prev = 0.0, 0
    for r in records:
        total += r["sec_per_step"] * (r["step"] - prev)
        prev = r["step"]
    return total


class Clock:
    """The run's wall budget: what is left, and each training stage's share of it."""

    def __init__(self, minutes: float, start: float):
        self.total = minutes * 60.0
        self.deadline = start + self.total

    def left(self) -> float:
        return self.deadline - time.perf_counter() - PACK_RESERVE * self.total

    def share(self, stage: str) -> float:
        rest = TRAIN_STAGES[TRAIN_STAGES.index(stage):]
        return max(0.0, self.left()) * STAGE_WEIGHTS[stage] / sum(STAGE_WEIGHTS[s] for s in rest)


def train_stage(name: str, task, run, run_dir: Path, clock: Clock, calibration_steps: int,
                max_steps: int | None) -> StageResult:
    """Calibrate, then train ``task`` (run config ``run``, with ``.train`` and ``.to_dict()``) for as
    many steps as the stage's share of the clock allows; returns what the report needs."""
    from .engine import fit

    t0 = time.perf_counter()
    budget = clock.share(name)
    k = calibration_steps
    cfg = replace(run.train, val_every=0, progress=False)
    # The validation data (scenes rendered, for the generators also encoded, in this process) is
    # made once per task: make it now, so that its cost is counted before the step count is set.
    for cache in ("val_clips", "val_samples", "val_scenes"):
        if hasattr(task, cache):
            getattr(task, cache)()
    t_val = time.perf_counter() - t0
    # What one sample costs the data pipeline, timed here on fresh streams (no render cache): the
    # calibration steps are fed from the loader's first burst of prefetched batches, so they time the
    # model alone, and a stage whose workers cannot keep up (scenes rendered on the fly) would overrun.
    t1 = time.perf_counter()
    for i in range(DATA_SAMPLES):
        task.train_stream(10_000 * (i + 1), cfg.batch_size, 0, 1).sample(10_000 * (i + 1))
    t_data = time.perf_counter() - t1
    per_sample = t_data / DATA_SAMPLES
    data_step = cfg.batch_size * cfg.grad_accum * per_sample / cfg.num_workers if cfg.num_workers else 0.0
    # Calibration: the first k steps of the real run (warmup does not depend on the total), with a
    # checkpoint at step k to resume from; step 1 (loader start, kernel selection) is not timed.
    cal = replace(cfg, steps=max(cfg.steps, 10 * k), ckpt_every=k, log_every=1, keep_checkpoints=1)
    fit(task, cal, run_dir, replace(run, train=cal).to_dict(), stop_at=k)
    records = _train_records(run_dir)
    model_step = statistics.median(r["sec_per_step"] for r in records[1:] or records)
    per_step = max(model_step, DATA_SLACK * data_step)
    spent = time.perf_counter() - t0
    # what the calibration session spent besides its steps (model build, loader, checkpoint, export)
    # comes again in the second session, plus a final validation (~5 % of the share)
    overhead = max(0.0, spent - t_val - t_data - _train_seconds(records))
    steps = k + max(1, math.floor((budget - spent - overhead - 0.05 * budget) / per_step))
    if max_steps is not None:
        steps = min(steps, max_steps)
    final = replace(cfg, steps=steps, warmup_steps=min(cfg.warmup_steps, max(1, steps // 10)), ckpt_every=0,
                    log_every=max(1, steps // 20), keep_checkpoints=1)
    _log(f"{name}: {per_step:.3f} s/step (model {model_step:.3f} after {k} calibration steps, data "
         f"{data_step:.3f} with {cfg.num_workers} workers) -> {steps} steps in a {budget:.0f} s share")
    res = fit(task, final, run_dir, replace(run, train=final).to_dict(), resume=True)
    val = {k_: v for k_, v in (res.validations[-1] if res.validations else {}).items() if k_ not in ("kind",)}
    batch = final.batch_size * final.grad_accum
    out = StageResult(name, res.step, time.perf_counter() - t0, _train_seconds(_train_records(run_dir)), batch,
                      {"steps": k, "model_sec_per_step": round(model_step, 4),
                       "data_sec_per_step": round(data_step, 4), "sec_per_step": round(per_step, 4)}, val)
    _log(f"{name}: {res.step} steps in {out.seconds:.0f} s; validation "
         + " ".join(f"{k_}={v:.4g}" for k_, v in val.items() if isinstance(v, float)))
    return out


# --------------------------------------------------------------------------- the run


def check_out_dir(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out}: the output folder must be empty or not exist (it receives only the run's files)")


def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def _peak(device: str) -> float | None:
    return next((v for k, v in PEAK_FLOPS.items() if k in device), None)


def process_age() -> float:
    """Seconds since this process started (Linux; 0 elsewhere): the clock counts interpreter start-up
    and imports (torch, ~5-10 s on a cold machine) too."""
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def run(out: Path, table: Path, minutes: float, workers: int, recipe: Recipe, plan: DataPlan | None = None,
        max_steps: int | None = None, started: float | None = None) -> dict[str, Any]:
    """Render, train and export every bundled model into ``out`` (see the module docstring);
    ``started`` (a ``time.perf_counter()`` value) is when the budget began, default now."""
    start = time.perf_counter() if started is None else started
    table = table.resolve()
    prepared = plan_of_table(table)
    plan = plan or prepared
    if plan.text_key() != prepared.text_key():
        raise ValueError(f"{table} was prepared for {prepared.text_key()}, this run asks for {plan.text_key()}; "
                         "re-run prepare with the same --clips / --frames / --scene-frames / --fps / --val-clips")
    if not minutes > 0:
        raise ValueError(f"--minutes must be positive, got {minutes}")
    if not 1 <= workers <= 256:
        raise ValueError(f"--workers must be in [1, 256], got {workers}")
    if max_steps is not None and max_steps <= recipe.calibration_steps:
        raise ValueError(f"--max-steps must exceed the {recipe.calibration_steps} calibration steps, got {max_steps}")
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cosmos-oneshot-"))
    import torch

    # The main process renders and encodes the validation clips on the CPU (the tasks keep their
    # tokenizers there): a few threads, not so many that they spin against the DataLoader workers
    # (one thread each) for the cores.
    torch.set_num_threads(max(1, min(4, workers // 4)))
    clock = Clock(minutes, start)
    device = _device_name()
    import cosmos_lite

    report: dict[str, Any] = {"device": device, "minutes": minutes, "workers": workers, "recipe": asdict(recipe),
                              "plan": {**asdict(plan), "size": list(plan.size)},
                              "package": str(Path(cosmos_lite.__file__).parent), "stages": {}}
    _log(f"run on {device}: {plan.clips} scenes of {plan.scene_frames} frames at {plan.size[0]}x{plan.size[1]}, "
         f"{plan.frames}-frame clips, {minutes:g} minutes, "
         f"{workers} workers; scratch {work}")
    try:
        models = _stages(plan, recipe, table, work, clock, workers, max_steps, report)
        report["world"] = {"tokenizers": {g: {"name": t, "sha256": _sha(models[t])}
                                          for g, t in _world_tokenizers(models["world"]).items()}}
        report["seconds_before_pack"] = round(time.perf_counter() - start, 1)
        from .oneshot_install import pack

        report["files"] = pack(models, out)
        peak = _peak(device)
        report["stages"] = {k: (v.to_dict(peak) if isinstance(v, StageResult) else v)
                            for k, v in report["stages"].items()}
        report["seconds"] = round(time.perf_counter() - start, 1)
        from cosmos_lite.pretrained import write_json

        write_json(out / "report.json", report)
    except BaseException:
        _log(f"failed; scratch files kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)
    files = ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in report["files"].items())
    _log(f"done in {report['seconds']:.0f} s: {files} + report.json in {out}")
    return report


def _sha(model_dir: Path) -> str:
    from cosmos_lite.pretrained import WEIGHTS_NAME

    from .oneshot_install import sha256_of

    return sha256_of(model_dir / WEIGHTS_NAME)


def _world_tokenizers(world: Path) -> dict[str, str]:
    return {g["name"]: g["tokenizer"] for g in json.loads((world / "world.json").read_text())["generators"]}


def _timed(report: dict, name: str, t0: float, **extra: Any) -> None:
    report["stages"][name] = {"seconds": round(time.perf_counter() - t0, 1), **extra}
    _log(f"{name}: " + ", ".join(f"{k}={v}" for k, v in report["stages"][name].items()))


def _stages(plan: DataPlan, recipe: Recipe, table: Path, work: Path, clock: Clock, workers: int,
            max_steps: int | None, report: dict[str, Any]) -> dict[str, Path]:
    import torch

    from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos
    from cosmos_lite.scenes.export import export
    from cosmos_lite.tokenizer import VideoTokenizer

    from . import autoregressive_task as ar
    from . import diffusion_task as dt
    from .config import DataConfig, LatentDataConfig
    from .idm_task import IDMTask, idm_run_config
    from .reader_task import ReaderTask, reader_run_config
    from .recipes import diffusion_recipe
    from .recipes import recipe as tokenizer_recipe
    from .tokenizer_task import TokenizerTask

    staged = work / "models"
    loaders = max(0, workers - 2)  # DataLoader processes: the rest of the cores beside the main process
    h, w = plan.size
    k, cap = recipe.calibration_steps, max_steps

    # 1. clips
    t0 = time.perf_counter()
    scenes = work / "scenes"
    _log(f"render: {plan.clips} scenes with {workers} processes")
    res = export(scenes, plan.clips, plan.export_settings(), workers=workers, progress=False)
    if not res.complete:
        raise RuntimeError(f"{scenes}: the scene export did not complete")
    _timed(report, "render", t0, scenes=plan.clips, scenes_per_s=round(plan.clips / (time.perf_counter() - t0), 1))

    # 2-3. tokenizers; the fp16 copies (what ships) are what everything after them uses
    def tokenizer(preset: str, name: str, warm_start: str | None) -> Path:
        base = tokenizer_recipe("gpu", preset)
        run = replace(base, warm_start=warm_start,
                      train=replace(base.train, batch_size=recipe.tokenizer_batch, num_workers=min(loaders, 8)),
                      data=DataConfig(source=str(scenes / "clips"), frames=plan.frames, size=plan.size, fps=plan.fps,
                                      val_clips=recipe.val_clips, stats_clips=recipe.stats_clips))
        report["stages"][name] = train_stage(name, TokenizerTask(run), run, work / name, clock, k, cap)
        dest = staged / preset_name[name]
        VideoTokenizer.from_pretrained(work / name / "final").save_pretrained(dest, dtype=torch.float16)
        return dest

    preset_name = {"tokenizer-cv": "default-cv", "tokenizer-dv": "default-dv"}
    cv = tokenizer(recipe.cv, "tokenizer-cv", None)
    dv = tokenizer(recipe.dv, "tokenizer-dv", str(cv))

    # 4. latents and token ids
    t0 = time.perf_counter()
    _log(f"encode: the scenes' {plan.frames}-frame clips to latents and token ids")
    opts = TokenizeOptions(size=plan.size, clip_frames=plan.frames, stride=plan.frames - 1, fps=plan.fps,
                           batch_size=recipe.encode_batch,
                           workers=min(loaders, 8))
    latents = tokenize_videos([scenes / "manifest.jsonl"], work / "latents", cv, opts, progress=False)
    ids = tokenize_videos([scenes / "manifest.jsonl"], work / "ids", dv, opts, progress=False)
    if not (latents.complete and ids.complete):
        raise RuntimeError("tokenizing the clips did not complete")
    _timed(report, "encode", t0, clips=latents.in_manifest + ids.in_manifest,
           clips_per_s=round((latents.encoded + ids.encoded) / (time.perf_counter() - t0), 1))

    # 5. DiT
    t_lat = 1 + (plan.frames - 1) // 4
    base = diffusion_recipe("gpu")
    drun = replace(base, preset=recipe.dit,
                   train=replace(base.train, batch_size=recipe.dit_batch, num_workers=min(loaders, 4)),
                   data=LatentDataConfig(source=str(work / "latents"), tokenizer=str(cv), text_encoder=str(table),
                                         frames=plan.frames, size=plan.size, fps=plan.fps, val_clips=plan.val_clips))
    dtask = dt.DiffusionTask(drun)
    s = dtask.tokenizer.config.spatial_compression
    ph, pw = dt.PRESETS[recipe.dit].patch_size[1:]
    st = train_stage("diffusion", dtask, drun, work / "diffusion", clock, k, cap)
    st.tokens_per_sample, st.params = t_lat * (h // s // ph) * (w // s // pw), _params(dt.DiT(dt.PRESETS[recipe.dit]))
    report["stages"]["diffusion"] = st

    # 6. AR transformer
    base = ar.ar_recipe("gpu")
    arun = replace(base, preset=recipe.ar,
                   train=replace(base.train, batch_size=recipe.ar_batch, num_workers=min(loaders, 4)),
                   data=ar.TokenDataConfig(source=str(work / "ids"), tokenizer=str(dv), text_encoder=str(table),
                                           frames=plan.frames, size=plan.size, fps=plan.fps,
                                           val_clips=plan.val_clips))
    atask = ar.ARTask(arun)
    st = train_stage("autoregressive", atask, arun, work / "autoregressive", clock, k, cap)
    st.tokens_per_sample, st.params = t_lat * (h // s) * (w // s), _params(ar.ARTransformer(atask.model_config))
    report["stages"]["autoregressive"] = st
    world = assemble_world(work / "diffusion" / "final", work / "autoregressive" / "final", staged / "world")

    # 7-8. instruments
    from cosmos_lite.eval.idm import InverseDynamics
    from cosmos_lite.eval.reader import SceneReader

    rrun, irun = instrument_runs(plan, recipe, loaders, reader_run_config, idm_run_config)
    report["stages"]["scene-reader"] = train_stage("scene-reader", ReaderTask(rrun), rrun, work / "scene-reader",
                                                   clock, k, cap)
    SceneReader.from_pretrained(work / "scene-reader" / "final").save_pretrained(staged / "scene-reader",
                                                                               dtype=torch.float16)
    report["stages"]["idm"] = train_stage("idm", IDMTask(irun), irun, work / "idm", clock, k, cap)
    InverseDynamics.from_pretrained(work / "idm" / "final").save_pretrained(staged / "idm", dtype=torch.float16)
    return {"default-cv": cv, "default-dv": dv, "world": world, "scene-reader": staged / "scene-reader",
            "idm": staged / "idm"}


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def instrument_runs(plan: DataPlan, recipe: Recipe, loaders: int, reader_run_config, idm_run_config):
    """Reader and IDM run configs: the bundled models' settings, at the plan's render size and length
    (their working size is the bundled 64x96, or the clip size when that is smaller)."""
    from cosmos_lite.eval.idm import IDMConfig
    from cosmos_lite.eval.reader import SceneReaderConfig

    size = (64, 96) if plan.size[0] >= 64 and plan.size[1] >= 96 else plan.size
    width, dim = recipe.instrument_width, recipe.instrument_dim
    data = {"render_size": plan.size, "render_frames": plan.frames, "frames": min(17, plan.frames),
            "val_clips": recipe.val_clips}
    train = {"batch_size": recipe.instrument_batch, "num_workers": loaders}
    r = reader_run_config(**train)
    r = replace(r, model=SceneReaderConfig(size=size, width=width, dim=dim),
                data=replace(r.data, **data))
    i = idm_run_config(**train)
    i = replace(i, model=IDMConfig(size=size, width=width, dim=dim),
                data=replace(i.data, **data))
    return r, i


def assemble_world(dit_final: Path, ar_final: Path, out: Path) -> Path:
    """One world model of both trained generators (diffusion first: the default), fp16, their
    tokenizers referred to by the bundled names, MiniLM (None) as text encoder, and the scenes'
    action range (what the generators were trained on)."""
    import torch

    from cosmos_lite.scenes import ACTION_RANGE
    from cosmos_lite.world import WorldConfig, WorldModel

    from .oneshot_install import TOKENIZER_OF

    parts = [WorldModel.from_pretrained(d, guardrail=None) for d in (dit_final, ar_final)]
    rng = (tuple(ACTION_RANGE["acceleration"]), tuple(ACTION_RANGE["curvature"]))
    specs = tuple(replace(s, action_range=rng) for p in parts for s in p.config.generators)
    gens = {s.name: p.generator(s.name) for p in parts for s in p.config.generators}
    toks = {n: t for p in parts for n, t in p.tokenizers.items()}
    # the table encoder answers the width check; world.json names MiniLM, which the table reproduces
    wm = WorldModel(WorldConfig(generators=specs, text_encoder=None), gens, toks, guardrail=None,
                    text_encoder=parts[0].text_encoder, tokenizer_sources={n: TOKENIZER_OF[n] for n in gens})
    return wm.save_pretrained(out, dtype=torch.float16)


# --------------------------------------------------------------------------- CLI


def _plan_args(p: argparse.ArgumentParser, defaults: bool) -> None:
    from .config import parse_size

    d = DataPlan()
    p.add_argument("--clips", type=int, default=d.clips if defaults else None,
                   help=f"train scenes to render (default {d.clips}" + ("" if defaults else ", or the table's") + ")")
    p.add_argument("--frames", type=int, default=d.frames if defaults else None, help="frames per clip, 1 + 4k")
    p.add_argument("--scene-frames", type=int, default=d.scene_frames if defaults else None,
                   help=f"frames rendered per scene, cut into clips every frames - 1 (default {d.scene_frames})")
    p.add_argument("--size", type=str, default=None, help="HxW of the clips (default 128x192)")
    p.add_argument("--fps", type=float, default=d.fps if defaults else None)
    p.add_argument("--val-clips", type=int, default=d.val_clips if defaults else None,
                   help="val scenes the generators validate on")
    p.set_defaults(parse_size=parse_size)


def _plan_from(args, base: DataPlan) -> DataPlan:
    size = base.size if args.size is None else args.parse_size(args.size)
    given = {"clips": args.clips, "frames": args.frames, "scene_frames": args.scene_frames, "fps": args.fps,
             "val_clips": args.val_clips}
    return replace(base, size=size, **{k: v for k, v in given.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cosmos_lite.train.oneshot", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("prepare", help="CPU side: embed the captions of the scenes the run renders")
    _plan_args(pr, defaults=True)
    pr.add_argument("--table", type=Path, default=DEFAULT_TABLE, help=f"text table to write (default {DEFAULT_TABLE})")
    r = sub.add_parser("run", help="GPU side: render, train and export every bundled model")
    r.add_argument("--out", type=Path, required=True, help="empty output folder: the tars and report.json")
    r.add_argument("--table", type=Path, default=DEFAULT_TABLE, help=f"prepared text table (default {DEFAULT_TABLE})")
    r.add_argument("--minutes", type=float, default=9.0, help="wall budget of the whole run (default 9)")
    r.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1),
                   help="render processes; DataLoader workers get this minus 2 (default: the CPU cores, at most 16)")
    r.add_argument("--tiny", action="store_true", help="test presets and batch sizes (the CPU test of the chain)")
    r.add_argument("--max-steps", type=int, default=None, help="cap every training stage at this many steps")
    _plan_args(r, defaults=False)
    i = sub.add_parser("install", help="CPU side: check the returned models load, then install them")
    i.add_argument("src", type=Path, help="the folder holding the run's tars and report.json")
    i.add_argument("--target", type=Path, default=None,
                   help="a root laid out like the repository (default: the package's bundled locations)")
    args = p.parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(_plan_from(args, DataPlan()), args.table)
        elif args.command == "run":
            table = args.table
            plan = _plan_from(args, plan_of_table(table))
            run(args.out, table, args.minutes, args.workers, TINY if args.tiny else GPU, plan, args.max_steps,
                started=time.perf_counter() - process_age())
        else:
            from .oneshot_install import install

            install(args.src, args.target)
    except (ValueError, FileNotFoundError) as err:
        print(f"oneshot {args.command}: error: {err}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
