"""Inverse-dynamics training: scene clips with their ego actions, the Huber loss, the engine task.

Data: the scene reader's stream (:class:`~cosmos_lite.train.reader_task.InstrumentStream`,
see that module for the scene mix, windows, flips and exact resume), with mixed ego
behaviours in the plain scenes too (``plain_behaviour="mix"``) so that lane changes,
swerves, drifts, hard braking and random steering are common. A flip negates the
curvature. In the training step each clip is degraded (per clip, identical on every
frame, so no fake motion) and ``frozen_fraction`` of the clips are replaced by their
first frame repeated with zero targets: a clip that does not move shows no action,
so a frozen generator cannot pass the IDM by its scenery (a bend in view) alone.

Loss: Huber (``huber_delta``) between predicted and true normalised actions
(accel / accel_scale, curvature / curvature_scale, see :mod:`cosmos_lite.eval.idm`),
the curvature term weighted by ``curvature_weight``.

Train (CPU, one thread; resume after a kill with ``--resume``)::

    OMP_NUM_THREADS=1 cosmos-lite train idm --out runs/instruments/idm --steps 1000   # ~27 min, shared 2 cores
    OMP_NUM_THREADS=1 python -c "from cosmos_lite.train.idm_task import bundle; \\
        bundle('runs/instruments/idm')"      # fp16 weights + metrics.json into the package
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import IterableDataset

from cosmos_lite.eval.idm import IDMConfig, InverseDynamics
from cosmos_lite.eval.reader import SceneReaderConfig
from cosmos_lite.eval.world.measures import sign_accuracy, spearman

from .config import TrainConfig, _reject_unknown, _sub
from .engine import StepOutput, fit
from .reader_task import (
    BUNDLE_DIR,
    InstrumentDataConfig,
    InstrumentStream,
    LabelConfig,
    LabelledScene,
    batch_clips,
    bundle_instrument,
    fixed_scenes,
    test_scenes,
)

TURNING = 0.005  # 1/m: frames whose |curvature| is at least this judge the turn sign
_LABELS = SceneReaderConfig()  # the stream also makes the reader's labels; the IDM reads only frames and actions

# --------------------------------------------------------------------------- run config


@dataclass(frozen=True)
class IDMLossConfig:
    huber_delta: float = 0.5  # in normalised units (1.5 m/s^2, 0.01 1/m at the default scales)
    curvature_weight: float = 2.0  # the turn is what the evaluation reads most; acceleration is noisier
    frozen_fraction: float = 0.05  # clips replaced by a repeated frame with zero targets

    def __post_init__(self) -> None:
        if not self.huber_delta > 0:
            raise ValueError(f"huber_delta must be > 0, got {self.huber_delta}")
        if not self.curvature_weight >= 0:
            raise ValueError(f"curvature_weight must be >= 0, got {self.curvature_weight}")
        if not 0.0 <= self.frozen_fraction <= 1.0:
            raise ValueError(f"frozen_fraction must be in [0, 1], got {self.frozen_fraction}")


@dataclass(frozen=True)
class IDMRunConfig:
    """Everything one inverse-dynamics training run depends on."""

    model: IDMConfig = field(default_factory=IDMConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: InstrumentDataConfig = field(default_factory=lambda: InstrumentDataConfig(plain_behaviour="mix"))
    loss: IDMLossConfig = field(default_factory=IDMLossConfig)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return {"kind": "idm", **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IDMRunConfig":
        d = dict(d)
        kind = d.pop("kind", "idm")
        if kind != "idm":
            raise ValueError(f"run config is for a {kind!r} run, not an idm run")
        _reject_unknown(cls, d, "IDMRunConfig")
        return cls(model=IDMConfig.from_dict(d.get("model", {})), train=_sub(TrainConfig, d.get("train", {})),
                   data=_sub(InstrumentDataConfig, d.get("data", {})), loss=_sub(IDMLossConfig, d.get("loss", {})))


def idm_run_config(steps: int = 1000, batch_size: int = 8, **train: Any) -> IDMRunConfig:
    """The CPU run of the bundled IDM (one thread, bf16 where the CPU has it); ``train``
    overrides TrainConfig fields."""
    t = TrainConfig(steps=steps, batch_size=batch_size, lr=2e-3, warmup_steps=40, min_lr_ratio=0.05,
                    weight_decay=0.01, clip_grad=1.0, ema_decay=0.99, mixed_precision="bf16", log_every=20,
                    val_every=300, ckpt_every=50, keep_checkpoints=2, num_workers=0, progress=False)
    return IDMRunConfig(train=replace(t, **train))


# --------------------------------------------------------------------------- loss


def normalise_actions(actions: torch.Tensor, cfg: IDMConfig) -> torch.Tensor:
    """Physical ``[..., 2]`` actions -> the normalised targets the network predicts."""
    return actions / actions.new_tensor(cfg.scales)


def idm_loss(pred: torch.Tensor, target: torch.Tensor, cfg: IDMLossConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Huber loss between normalised ``[B, T, 2]`` predictions and targets (float32), and its parts."""
    per = F.huber_loss(pred.float(), target.float(), reduction="none", delta=cfg.huber_delta).mean(dim=(0, 1))  # [2]
    total = per[0] + cfg.curvature_weight * per[1]
    return total, {"loss_accel": float(per[0].detach()), "loss_curvature": float(per[1].detach())}


def freeze_clips(x: torch.Tensor, target: torch.Tensor, fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace ``fraction`` of the clips (torch's global RNG) by their first frame repeated, with
    zero targets. ``x`` ``[B, T, 3, H, W]``, ``target`` ``[B, T, 2]``."""
    frozen = torch.rand(x.shape[0]) < fraction
    if not frozen.any():
        return x, target
    x, target = x.clone(), target.clone()
    x[frozen] = x[frozen][:, :1].expand_as(x[frozen])
    target[frozen] = 0.0
    return x, target


# --------------------------------------------------------------------------- evaluation


def evaluate_idm(model: InverseDynamics, scenes: list[LabelledScene]) -> dict[str, Any]:
    """MAE per action, Spearman correlations and turn-sign accuracies over every frame of ``scenes``.

    ``sign_acc_turning``: the sign of the predicted curvature on frames whose true
    ``|curvature| >= 0.005``; ``turn_class_acc_turning``: the world-model evaluation's
    measure on the same frames (left / straight / right with ``|k| < 0.002`` straight, so
    a prediction near zero counts as wrong)."""
    est = np.concatenate([model.predict(s.frames) for s in scenes])
    true = np.concatenate([s.actions for s in scenes])
    turning = np.abs(true[:, 1]) >= TURNING
    return {
        "clips": len(scenes), "frames": len(true), "turning_frames": int(turning.sum()),
        "mae_accel": float(np.abs(est[:, 0] - true[:, 0]).mean()),
        "mae_curvature": float(np.abs(est[:, 1] - true[:, 1]).mean()),
        "mae_curvature_turning": float(np.abs(est[turning, 1] - true[turning, 1]).mean()) if turning.any() else None,
        "spearman_accel": spearman(est[:, 0], true[:, 0]),
        "spearman_curvature": spearman(est[:, 1], true[:, 1]),
        "sign_acc_turning": float((np.sign(est[turning, 1]) == np.sign(true[turning, 1])).mean())
        if turning.any() else None,
        "turn_class_acc_turning": sign_accuracy(est[turning, 1], true[turning, 1]) if turning.any() else None,
        "turn_class_acc_all": sign_accuracy(est[:, 1], true[:, 1]),
    }


# --------------------------------------------------------------------------- task


class IDMTask:
    """Trains an :class:`InverseDynamics` model under the engine."""

    find_unused_parameters = False

    def __init__(self, run: IDMRunConfig):
        if not isinstance(run, IDMRunConfig):
            raise ValueError(f"IDMTask needs an IDMRunConfig, got {type(run).__name__}")
        if run.data.blank_fraction:
            raise ValueError("data.blank_fraction is a scene-reader option; the IDM's degenerate clips are "
                             "loss.frozen_fraction")
        self.run = run
        self._val: list[LabelledScene] | None = None

    def build_modules(self) -> dict[str, nn.Module]:
        return {"model": InverseDynamics(self.run.model)}

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        return {"model": base_lr}

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        r = self.run
        return InstrumentStream(r.data, r.model.size, _LABELS, LabelConfig(), r.train.seed, start, batch_size, rank,
                                world_size)

    def training_step(self, modules: dict[str, nn.Module], batch: dict[str, torch.Tensor], step: int) -> StepOutput:
        x = batch_clips(batch["frames"], self.run.data.degrade)
        target = normalise_actions(batch["actions"].float(), self.run.model)
        x, target = freeze_clips(x, target, self.run.loss.frozen_fraction)
        loss, logs = idm_loss(modules["model"](x), target, self.run.loss)
        return StepOutput(loss=loss, logs=logs)

    def val_scenes(self) -> list[LabelledScene]:
        if self._val is None:
            r = self.run
            self._val = fixed_scenes("val", r.data.val_clips, r.data, r.model.size, _LABELS, LabelConfig())
        return self._val

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        m = evaluate_idm(model, self.val_scenes())
        return {k: float(v) for k, v in m.items() if isinstance(v, float)}

    def export(self, model: nn.Module, out_dir: Path) -> None:
        model.save_pretrained(out_dir)


def train_main(out: str | Path, steps: int | None = None, resume: bool = False, **train: Any):
    """Train the IDM into ``out`` (checkpoints, metrics.jsonl, ``final/``; 1000 steps by default);
    ``resume`` continues a killed run from its newest checkpoint with its saved config
    (``steps`` / ``train`` override it)."""
    from .engine import resume_config

    if resume:  # the checkpoint's settings; training flags (e.g. more steps) still override
        run = IDMRunConfig.from_dict(resume_config(out))
        run = replace(run, train=replace(run.train, **({"steps": steps} if steps else {}), **train))
    else:
        run = idm_run_config(steps or 1000, **train)
    res = fit(IDMTask(run), run.train, out, run.to_dict(), resume=resume)
    print(f"trained to step {res.step} in {res.seconds:.0f} s this session; final weights in {res.final_dir}",
          file=sys.stderr, flush=True)
    return res


# --------------------------------------------------------------------------- validity and bundle


def validity(model: InverseDynamics, n: int = 200, first_seed: int = 0, tokenizer: str | None = None,
             direct: bool = False, data: InstrumentDataConfig | None = None, progress: bool = False) -> dict[str, Any]:
    """:func:`evaluate_idm` on ``n`` whole test-split scenes (every other one salient; all with
    mixed ego behaviours; 33 frames at 10 fps rendered at 128x192 and resized to the working
    size, or rendered at it when ``direct``), optionally round-tripped through ``tokenizer``
    (see :func:`~cosmos_lite.train.reader_task.test_scenes`)."""
    t0 = time.perf_counter()
    scenes, about = test_scenes(n, data or InstrumentDataConfig(plain_behaviour="mix"), model.config.size, _LABELS,
                                first_seed=first_seed, direct=direct, tokenizer=tokenizer)
    out = {**evaluate_idm(model, scenes), **about, "seconds": round(time.perf_counter() - t0, 1)}
    if progress:
        print(json.dumps(out), file=sys.stderr, flush=True)
    return out


def bundle(run_dir: str | Path, dest: str | Path | None = None, n: int = 200) -> Path:
    """Bundle a trained IDM (default destination: the package's ``idm``)."""
    return bundle_instrument(InverseDynamics, run_dir, Path(dest) if dest else BUNDLE_DIR / "idm", validity, n)
