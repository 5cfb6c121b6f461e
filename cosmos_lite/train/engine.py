"""The one training loop, on accelerate. Model families plug in a :class:`Task`.

The engine owns everything that is the same for every model: mixed precision
(accelerate's ``mixed_precision="bf16"`` autocasts on CPU too), gradient
accumulation, per-module grad clipping, AdamW, warmup + cosine lr, EMA of the
main model, periodic validation on the EMA weights, atomic checkpoints with
exact resume, a JSONL metrics log and a tqdm bar. A task owns what differs:
which modules train, the loss of one batch, validation metrics, the training
stream and the exported artifact. ``accelerate launch -m cosmos_lite ...``
runs the same code on many GPUs (each process reads its own shard of the
stream; only the main process validates and writes).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

from .checkpoint import latest_checkpoint, load_checkpoint, read_state, save_checkpoint
from .config import TrainConfig
from .ema import EMA
from .schedule import lr_factor


@dataclass
class StepOutput:
    """What a task returns for one micro-batch: the loss to backprop and scalars to log."""

    loss: torch.Tensor
    logs: dict[str, float] = field(default_factory=dict)


class Task(Protocol):
    """A model family's contribution to the loop."""

    # True when some parameters get no gradient on some steps (e.g. a discriminator
    # before its stage starts); DDP must then be told to look for unused parameters.
    find_unused_parameters: bool

    def build_modules(self) -> dict[str, nn.Module]:
        """Fresh trainable modules; the first is the main model (EMA'd, exported)."""

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        """Peak lr per module name."""

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        """The endless training stream of this process, starting at sample ``start``."""

    def training_step(self, modules: dict[str, nn.Module], batch: Any, step: int) -> StepOutput:
        """Loss of one micro-batch (a tensor, or a dict of tensors and strings; runs under autocast).
        ``step`` = optimizer steps done so far."""

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Validation metrics of ``model`` (the EMA weights, eval mode)."""

    def export(self, model: nn.Module, out_dir: Path) -> None:
        """Write the usable artifact (e.g. ``save_pretrained``) of ``model`` (EMA weights) to ``out_dir``."""


@dataclass
class FitResult:
    step: int  # optimizer steps completed
    losses: dict[int, float]  # step (1-based) -> training loss of this process, this session only
    validations: list[dict[str, Any]]
    final_dir: Path
    seconds: float


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """Whether bf16 matmuls beat fp32 on this CPU, measured once per process.

    Without native bf16 (no AVX512-BF16 / AMX flag) oneDNN emulates it and convolutions run ~100x slower
    than fp32 (measured on an AVX2 EPYC). The flag alone is not enough either: on an AMD EPYC with
    ``avx512_bf16`` a 1024x1024 matmul ran 2.5x faster in bf16, on a Xeon with the same flag and no AMX
    1.8x slower (and a DiT training step 1.5x slower), so where the flag is there a 512x512 matmul is timed
    in both (best of 5, ~30 ms) and bf16 must win by 20 %.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: trust the user's setting
        return True
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return False
    return _matmul_seconds(torch.bfloat16) < 0.8 * _matmul_seconds(torch.float32)


def _matmul_seconds(dtype: torch.dtype) -> float:
    """Best of 5 timings of a 512x512 matmul in ``dtype``, after a warm-up (oneDNN picks its kernel)."""
    a = torch.randn(512, 512).to(dtype)
    a @ a
    times = []
    for _ in range(5):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return min(times)


def effective_precision(cfg: TrainConfig) -> str:
    """The mixed precision actually used: bf16 on a CPU without native bf16 falls back to fp32."""
    if cfg.mixed_precision == "bf16" and not torch.cuda.is_available() and not cpu_has_fast_bf16():
        return "no"
    return cfg.mixed_precision


def _make_accelerator(cfg: TrainConfig, find_unused: bool):
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState
    from accelerate.utils import DistributedDataParallelKwargs

    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        # Single process: allow several runs (with different settings) in one Python process.
        AcceleratorState._reset_state()
        GradientState._reset_state()
    precision = effective_precision(cfg)
    if precision != cfg.mixed_precision:
        print("cosmos-lite train: this CPU has no native bf16 (AVX512-BF16/AMX); training in fp32 instead",
              file=sys.stderr, flush=True)
    # cpu=True where there is no CUDA: without it, processes started by `accelerate launch` on a
    # CPU-only machine do not join a gloo group and each trains alone (tests/test_distributed.py)
    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=precision,
                       gradient_accumulation_steps=cfg.grad_accum,
                       kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=find_unused)])


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop log lines past the checkpoint we resume from (they will be logged again)."""
    if not path.exists():
        return
    keep = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln).get("step", 0) <= step]
    path.write_text("".join(ln + "\n" for ln in keep))


def fit(task: Task, cfg: TrainConfig, run_dir: str | Path, run_config: dict[str, Any], *, resume: bool = False,
        stop_at: int | None = None) -> FitResult:
    """Train ``task`` for ``cfg.steps`` optimizer steps, writing everything under ``run_dir``.

    ``resume`` continues from the newest checkpoint in ``run_dir`` (exactly: same
    weights, optimizer moments, EMA, data position and RNG states). ``stop_at``
    ends the session after that step, as a kill would (after its checkpoint, if due).
    """
    run_dir = Path(run_dir)
    ckpt = latest_checkpoint(run_dir)
    if ckpt is not None and not resume:
        raise ValueError(f"{run_dir} already holds checkpoints (newest {ckpt.name}); pass --resume or a new --out")
    if resume and ckpt is None:
        raise FileNotFoundError(f"{run_dir}: no checkpoint to resume from")

    accelerator = _make_accelerator(cfg, task.find_unused_parameters)
    main = accelerator.is_main_process
    torch.manual_seed(cfg.seed)  # identical init on every process (DDP broadcasts anyway)
    modules = task.build_modules()
    names = list(modules)
    lrs = task.learning_rates(cfg.lr)
    optimizers = {n: torch.optim.AdamW(modules[n].parameters(), lr=lrs[n], betas=cfg.betas,
                                       weight_decay=cfg.weight_decay) for n in names}
    prepared = accelerator.prepare(*[modules[n] for n in names], *[optimizers[n] for n in names])
    wrapped = dict(zip(names, prepared[: len(names)]))
    optims = dict(zip(names, prepared[len(names):]))
    raw = {n: accelerator.unwrap_model(wrapped[n]) for n in names}
    ema = EMA(raw[names[0]], cfg.ema_decay)

    step, position = 0, 0
    metrics_path = run_dir / "metrics.jsonl"
    if resume:
        state = load_checkpoint(ckpt, raw, ema.model, {n: optims[n].optimizer for n in names})
        step, position = state.step, state.data_position
        if main:
            _truncate_metrics(metrics_path, step)
    else:
        torch.manual_seed(cfg.seed + 1000 * accelerator.process_index)  # per-process randomness from here on
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(run_config, indent=2) + "\n")

    stream = task.train_stream(position, cfg.batch_size, accelerator.process_index, accelerator.num_processes)
    loader = DataLoader(stream, batch_size=cfg.batch_size, num_workers=cfg.num_workers,
                        pin_memory=accelerator.device.type == "cuda",
                        persistent_workers=False, prefetch_factor=4 if cfg.num_workers else None,
                        # Own generator: creating the iterator must not draw from the global RNG,
                        # or a resumed run's RNG stream would differ from an unbroken one.
                        generator=torch.Generator().manual_seed(cfg.seed))
    batches = iter(loader)

    from accelerate.utils import send_to_device
    from tqdm.auto import tqdm

    bar = tqdm(total=cfg.steps, initial=step, disable=not (main and cfg.progress), dynamic_ncols=True, desc="train")
    losses: dict[int, float] = {}
    validations: list[dict[str, Any]] = []
    window: dict[str, float] = {}
    window_n, t_window, t_start = 0, time.perf_counter(), time.perf_counter()
    final_dir = run_dir / "final"

    def log(record: dict[str, Any]) -> None:
        if main:
            with metrics_path.open("a") as f:
                f.write(json.dumps(record) + "\n")

    def run_validation() -> dict[str, Any]:
        rec: dict[str, Any] = {"step": step, "kind": "val"}
        if main:
            with torch.no_grad(), accelerator.autocast():
                rec.update(task.validate(ema.model, accelerator.device))
            log(rec)
            bar.write("val " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
        accelerator.wait_for_everyone()
        return rec

    while step < cfg.steps:
        factor = lr_factor(step, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio)
        for n in names:
            for group in optims[n].param_groups:
                group["lr"] = lrs[n] * factor
        step_logs: dict[str, float] = {}
        for _ in range(cfg.grad_accum):
            batch = send_to_device(next(batches), accelerator.device, non_blocking=True)
            position += cfg.batch_size
            with accelerator.accumulate(*wrapped.values()):
                with accelerator.autocast():
                    out = task.training_step(wrapped, batch, step)
                if not torch.isfinite(out.loss):
                    raise FloatingPointError(f"non-finite loss {float(out.loss)} at step {step + 1}")
                accelerator.backward(out.loss)
                if accelerator.sync_gradients and cfg.clip_grad > 0:
                    for n in names:
                        norm = accelerator.clip_grad_norm_(wrapped[n].parameters(), cfg.clip_grad)
                        step_logs[f"grad_norm/{n}"] = float(norm)
                for n in names:
                    optims[n].step()
                    optims[n].zero_grad(set_to_none=True)
            for k, v in {"loss": float(out.loss.detach()), **out.logs}.items():
                step_logs[k] = step_logs.get(k, 0.0) + v / cfg.grad_accum
        step += 1
        ema.update(raw[names[0]], step)
        losses[step] = step_logs["loss"]
        for k, v in step_logs.items():
            window[k] = window.get(k, 0.0) + v
        window_n += 1
        bar.update(1)
        bar.set_postfix(loss=f"{step_logs['loss']:.4f}", lr=f"{lrs[names[0]] * factor:.2e}", refresh=False)

        if step % cfg.log_every == 0 or step == cfg.steps:
            now = time.perf_counter()
            log({"step": step, "kind": "train", **{k: v / window_n for k, v in window.items()},
                 "lr": lrs[names[0]] * factor, "sec_per_step": (now - t_window) / window_n,
                 "samples": position * accelerator.num_processes})
            window, window_n, t_window = {}, 0, now
        if (cfg.val_every and step % cfg.val_every == 0) or step == cfg.steps:
            validations.append(run_validation())
        if (cfg.ckpt_every and step % cfg.ckpt_every == 0) or step == cfg.steps:
            accelerator.wait_for_everyone()
            if main:
                save_checkpoint(run_dir, step, position, run_config, raw, ema.model,
                                {n: optims[n].optimizer for n in names}, cfg.keep_checkpoints)
                task.export(ema.model, final_dir)
            accelerator.wait_for_everyone()
        if stop_at is not None and step >= stop_at:
            break
    bar.close()
    del batches  # shut DataLoader workers down before returning
    return FitResult(step=step, losses=losses, validations=validations, final_dir=final_dir,
                     seconds=time.perf_counter() - t_start)


def resume_config(run_dir: str | Path) -> dict[str, Any]:
    """The run config saved with the newest checkpoint of ``run_dir``."""
    ckpt = latest_checkpoint(Path(run_dir))
    if ckpt is None:
        raise FileNotFoundError(f"{run_dir}: no checkpoint to resume from")
    return read_state(ckpt).run_config
