"""Inverse dynamics model: config, shapes and units, save/load, input checks, loss, training + exact
resume, the bundled weights on true clips, and a clip it must read as no action."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from cosmos_lite.eval.idm import IDMConfig, InverseDynamics
from cosmos_lite.scenes import Behaviour, Scenario, render
from cosmos_lite.train.config import TrainConfig
from cosmos_lite.train.engine import fit
from cosmos_lite.train.idm_task import (
    IDMLossConfig,
    IDMRunConfig,
    IDMTask,
    freeze_clips,
    idm_loss,
    idm_run_config,
    normalise_actions,
)
from cosmos_lite.train.reader_task import InstrumentDataConfig

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = IDMConfig(size=(32, 48), width=8, dim=16, temporal_blocks=1)
DATA = InstrumentDataConfig(render_size=(32, 48), render_frames=6, frames=4, pool_scenes=2, reuse=2, val_clips=2,
                            plain_behaviour="mix")


def _tiny(seed: int = 0, cfg: IDMConfig = TINY) -> InverseDynamics:
    torch.manual_seed(seed)
    return InverseDynamics(cfg)


def _frames(t: int = 5, h: int = 40, w: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def _run(**train) -> IDMRunConfig:
    t = TrainConfig(steps=4, batch_size=2, lr=3e-3, warmup_steps=1, num_workers=0, mixed_precision="no",
                    val_every=0, ckpt_every=0, log_every=1, progress=False, ema_decay=0.9)
    return IDMRunConfig(model=TINY, train=replace(t, **train), data=DATA)


def test_config_round_trip_and_validation():
    cfg = IDMConfig()
    assert cfg.size == (64, 96) and cfg.map_size == (4, 6) and cfg.scales == (3.0, 0.02)
    assert IDMConfig(size=(33, 50)).map_size == (3, 4)  # each stage rounds up
    assert IDMConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown IDMConfig fields"):
        IDMConfig.from_dict({"size": [64, 96], "depth": 3})
    with pytest.raises(ValueError, match="curvature_scale"):
        IDMConfig(curvature_scale=0.0)
    with pytest.raises(ValueError, match="multiple of norm_groups"):
        IDMConfig(dim=20)


def test_shapes_units_and_scales():
    model = _tiny()
    x = torch.rand(2, 5, 3, 32, 48) * 2 - 1
    assert model(x).shape == (2, 5, 2)
    a = model.predict(_frames(6))  # any size: resized to the working size
    assert a.shape == (6, 2) and a.dtype == np.float32
    # predict() multiplies the normalised output by the scales
    scaled = InverseDynamics(replace(TINY, accel_scale=6.0, curvature_scale=0.04))
    scaled.load_state_dict(model.state_dict())
    assert np.allclose(scaled.predict(_frames(6)), 2 * a, rtol=1e-5, atol=1e-6)


def test_save_load_identity_and_strict_load(tmp_path):
    model = _tiny()
    x = torch.rand(1, 4, 3, 32, 48) * 2 - 1
    model.save_pretrained(tmp_path / "m")
    loaded = InverseDynamics.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config and not loaded.training
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    w = tmp_path / "m" / "model.safetensors"
    state = load_file(str(w))
    state["head.weight"] = torch.zeros(3, 16)
    save_file(state, str(w))
    with pytest.raises(ValueError, match="do not match"):
        InverseDynamics.from_pretrained(tmp_path / "m")


def test_bad_inputs_give_clear_errors():
    model = _tiny()
    with pytest.raises(ValueError, match="at least 2 frames"):
        model.predict(_frames(1))
    with pytest.raises(ValueError, match="uint8"):
        model.predict(_frames().astype(np.float64))
    with pytest.raises(ValueError, match="at least 2 frame"):
        model(torch.zeros(1, 1, 3, 32, 48))
    with pytest.raises(ValueError, match="config size"):
        model(torch.zeros(1, 3, 3, 40, 48))
    with pytest.raises(ValueError, match=r"\[B, T, 3, H, W\]"):
        model(torch.zeros(3, 3, 32, 48))


def test_loss_targets_and_frozen_clips():
    acts = torch.tensor([[[3.0, 0.02], [-6.0, -0.04]]])
    assert torch.allclose(normalise_actions(acts, TINY), torch.tensor([[[1.0, 1.0], [-2.0, -2.0]]]))
    target = normalise_actions(acts, TINY)
    zero, _ = idm_loss(target, target, IDMLossConfig())
    assert float(zero) == 0.0
    off = target + torch.tensor([0.0, 0.2])  # a curvature error only
    a, logs = idm_loss(off, target, IDMLossConfig(curvature_weight=1.0))
    b, _ = idm_loss(off, target, IDMLossConfig(curvature_weight=3.0))
    assert logs["loss_accel"] == 0.0 and float(b) == pytest.approx(3 * float(a))
    big = target + 2.0
    lin, _ = idm_loss(big, target, IDMLossConfig(huber_delta=0.5))
    quad, _ = idm_loss(big, target, IDMLossConfig(huber_delta=4.0))
    assert float(lin) < float(quad)  # past delta the loss grows linearly
    x = torch.rand(4, 3, 3, 8, 8)
    t = torch.rand(4, 3, 2)
    same = freeze_clips(x, t, 0.0)
    assert same[0] is x and same[1] is t
    fx, ft = freeze_clips(x, t, 1.0)
    assert torch.equal(fx, x[:, :1].expand_as(x)) and not ft.any() and t.any()  # inputs untouched


def test_run_config_round_trip_and_cpu_defaults():
    run = _run()
    assert IDMRunConfig.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    with pytest.raises(ValueError, match="not an idm run"):
        IDMRunConfig.from_dict({**run.to_dict(), "kind": "scene-reader"})
    cpu = idm_run_config()
    assert cpu.data.plain_behaviour == "mix" and cpu.model.size == (64, 96) and cpu.train.num_workers == 0
    assert cpu.train.steps == 1000
    with pytest.raises(ValueError, match="frozen_fraction"):
        IDMTask(replace(run, data=replace(run.data, blank_fraction=0.1)))


def test_training_runs_and_resumes_exactly(tmp_path):
    run = replace(_run(ckpt_every=2, keep_checkpoints=3), loss=IDMLossConfig(frozen_fraction=0.5))
    full = fit(IDMTask(run), run.train, tmp_path / "a", run.to_dict())
    part = fit(IDMTask(run), run.train, tmp_path / "b", run.to_dict(), stop_at=2)
    rest = fit(IDMTask(run), run.train, tmp_path / "b", run.to_dict(), resume=True)
    assert sorted(part.losses) == [1, 2] and sorted(rest.losses) == [3, 4]
    for s in (1, 2):
        assert part.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    for s in (3, 4):
        assert rest.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    a = load_file(str(tmp_path / "a" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    b = load_file(str(tmp_path / "b" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    val = full.validations[-1]
    assert {"mae_accel", "mae_curvature", "spearman_curvature"} <= set(val)
    exported = InverseDynamics.from_pretrained(tmp_path / "a" / "final")
    assert all(torch.allclose(exported.state_dict()[k], a[k], atol=1e-6) for k in a)
    # a finished run resumed with more steps trains on (what `train idm --resume --steps 5` does)
    from cosmos_lite.train.idm_task import train_main

    more = train_main(tmp_path / "b", resume=True, steps=5)
    assert more.step == 5 and sorted(more.losses) == [5]


# --------------------------------------------------------------------------- bundled weights


@pytest.fixture(scope="module")
def bundled():
    return InverseDynamics.from_pretrained()


def _swerve(kind: str):
    # a held-out straight urban street by day, where both swerves have room to happen
    sc = Scenario.sample(5, "test", 3.3 + 1e-6)
    sc = dataclasses.replace(sc, ego_behaviour=Behaviour(kind, start=0.5, strength=0.9))
    return render(sc, 33, (128, 192), 10.0)


def test_bundled_idm_tells_a_left_from_a_right_swerve(bundled):
    for kind, sign in (("swerve_left", 1), ("swerve_right", -1)):
        clip = _swerve(kind)
        est = bundled.predict(clip.frames)
        turning = np.abs(clip.actions[:, 1]) >= 0.005
        assert turning.sum() >= 5
        # the opening of the swerve (the first turning frames) has the sign of the swerve
        first = np.flatnonzero(turning)[:5]
        assert np.all(np.sign(clip.actions[first, 1]) == sign)
        assert np.mean(np.sign(est[turning, 1]) == np.sign(clip.actions[turning, 1])) >= 0.8
        assert np.mean(np.sign(est[first, 1]) == sign) >= 0.8


def test_bundled_idm_reads_a_frozen_clip_as_no_turn(bundled):
    clip = _swerve("swerve_left")
    frozen = np.repeat(clip.frames[:1], 17, axis=0)
    est = bundled.predict(frozen)
    assert np.abs(est[:, 1]).max() < 0.004 and np.abs(est[:, 0]).max() < 1.0


def test_cli_train_reader_and_idm_are_thin_wrappers(monkeypatch, tmp_path, capsys):
    """`cosmos-lite train reader|idm` map their flags onto train_main; --resume refuses other settings."""
    from cosmos_lite.cli import main
    from cosmos_lite.train import idm_task, reader_task

    calls = []
    monkeypatch.setattr(reader_task, "train_main", lambda out, **kw: calls.append(("reader", out, kw)))
    monkeypatch.setattr(idm_task, "train_main", lambda out, **kw: calls.append(("idm", out, kw)))
    out = str(tmp_path / "r")
    assert main(["train", "idm", "--out", out, "--steps", "30", "--lr", "1e-3"]) == 0
    assert main(["train", "reader", "--out", out, "--resume"]) == 0
    (tmp_path / "start").mkdir()
    assert main(["train", "reader", "--out", out, "--init-from", str(tmp_path / "start"), "--batch-size", "2"]) == 0
    assert calls == [("idm", out, {"resume": False, "steps": 30, "lr": 1e-3}),
                     ("reader", out, {"resume": True, "init_from": None}),
                     ("reader", out, {"resume": False, "init_from": str(tmp_path / "start"), "batch_size": 2})]
    assert main(["train", "idm", "--out", out, "--resume", "--steps", "5"]) == 0  # more steps for a resumed run
    assert calls[-1] == ("idm", out, {"resume": True, "steps": 5})
    assert main(["train", "reader", "--out", out, "--resume", "--init-from", str(tmp_path / "start")]) == 2
    assert "--resume continues" in capsys.readouterr().err
    assert main(["train", "reader", "--out", out, "--init-from", str(tmp_path / "nope")]) == 2
    assert "no such reader directory" in capsys.readouterr().err
    assert len(calls) == 4
    start = str(tmp_path / "start")
    assert main(["train", "reader", "--out", out, "--init-from", start, "--focus"]) == 0
    assert calls[-1] == ("reader", out, {"resume": False, "init_from": start, "focus": ()})
    assert main(["train", "reader", "--out", out, "--init-from", start, "--focus", "pedestrian_crossing",
                 "--focus-fraction", "0.4"]) == 0
    assert calls[-1] == ("reader", out, {"resume": False, "init_from": start, "focus": ("pedestrian_crossing",),
                                         "focus_fraction": 0.4})
    assert main(["train", "reader", "--out", out, "--focus"]) == 2
    assert "--init-from" in capsys.readouterr().err and len(calls) == 6
    assert main(["train", "reader", "--out", out, "--init-from", start, "--focus-fraction", "0.4"]) == 2
    assert "needs --focus" in capsys.readouterr().err and len(calls) == 6
