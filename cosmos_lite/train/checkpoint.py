"""Atomic, pickle-free checkpoints.

Layout of ``RUN_DIR/checkpoints/step_000200/``::

    model.safetensors          raw weights of each trained module ("model", "disc", ...): <name>.safetensors
    ema.safetensors            EMA weights of the main model
    optim_<name>.safetensors   optimizer tensors, flattened as "state.<param>.<key>"
    optim_<name>.json          optimizer param_groups and non-tensor state
    rng.safetensors            torch CPU (and CUDA) generator states
    state.json                 step, data position, python / numpy RNG states, run config

A checkpoint is written into a hidden temporary directory and renamed into
place, so a kill mid-write never leaves a half checkpoint that resume would
pick up. The newest ``keep`` checkpoints are kept.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

_PREFIX = "step_"


@dataclass(frozen=True)
class TrainState:
    """The non-tensor half of a checkpoint."""

    step: int  # optimizer steps completed
    data_position: int  # training samples consumed per process
    run_config: dict[str, Any]


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"{_PREFIX}{step:08d}"


def list_checkpoints(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(_PREFIX) and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name[len(_PREFIX):]))


def latest_checkpoint(run_dir: Path) -> Path | None:
    ckpts = list_checkpoints(run_dir)
    return ckpts[-1] if ckpts else None


# --------------------------------------------------------------------------- optimizer state


def flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """torch optimizer ``state_dict()`` -> (tensors for safetensors, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, pstate in state["state"].items():
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars,
                     "tensor_params": sorted({int(k.split(".")[1]) for k in tensors})}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, pid, key = name.split(".", 2)
        state.setdefault(int(pid), {})[key] = value
    for pid, extra in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(extra)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


# --------------------------------------------------------------------------- RNG state


def capture_rng() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    py = random.getstate()
    np_state = np.random.get_state()
    meta = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("torch_cuda_")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    v, internal, gauss = meta["python"]
    random.setstate((v, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


# --------------------------------------------------------------------------- save / load


def _state_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(run_dir: Path, step: int, data_position: int, run_config: dict[str, Any],
                    modules: dict[str, torch.nn.Module], ema: torch.nn.Module,
                    optimizers: dict[str, torch.optim.Optimizer], keep: int) -> Path:
    """Write one checkpoint atomically and prune old ones; returns its directory."""
    final = checkpoint_dir(run_dir, step)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name, module in modules.items():
        save_file(_state_of(module), str(tmp / f"{name}.safetensors"))
    save_file(_state_of(ema), str(tmp / "ema.safetensors"))
    for name, opt in optimizers.items():
        tensors, meta = flatten_optimizer(opt.state_dict())
        save_file(tensors, str(tmp / f"optim_{name}.safetensors"))
        (tmp / f"optim_{name}.json").write_text(json.dumps(meta))
    rng_t, rng_meta = capture_rng()
    save_file(rng_t, str(tmp / "rng.safetensors"))
    # state.json last: list_checkpoints only trusts directories that have it.
    (tmp / "state.json").write_text(json.dumps(
        {"step": step, "data_position": data_position, "rng": rng_meta, "run_config": run_config}, indent=1))
    if final.exists():  # re-saving the same step (e.g. final == periodic): replace it
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(ckpt: Path) -> TrainState:
    raw = json.loads((Path(ckpt) / "state.json").read_text())
    return TrainState(step=int(raw["step"]), data_position=int(raw["data_position"]), run_config=raw["run_config"])


def load_checkpoint(ckpt: Path, modules: dict[str, torch.nn.Module], ema: torch.nn.Module,
                    optimizers: dict[str, torch.optim.Optimizer], restore_rng_state: bool = True) -> TrainState:
    """Load everything saved by :func:`save_checkpoint` into live objects (strict)."""
    ckpt = Path(ckpt)
    if not (ckpt / "state.json").is_file():
        raise FileNotFoundError(f"{ckpt}: not a checkpoint (no state.json)")
    for name, module in modules.items():
        module.load_state_dict(load_file(str(ckpt / f"{name}.safetensors")), strict=True)
    ema.load_state_dict(load_file(str(ckpt / "ema.safetensors")), strict=True)
    for name, opt in optimizers.items():
        meta = json.loads((ckpt / f"optim_{name}.json").read_text())
        opt.load_state_dict(unflatten_optimizer(load_file(str(ckpt / f"optim_{name}.safetensors")), meta))
    raw = json.loads((ckpt / "state.json").read_text())
    if restore_rng_state:
        restore_rng(load_file(str(ckpt / "rng.safetensors")), raw["rng"])
    return read_state(ckpt)
