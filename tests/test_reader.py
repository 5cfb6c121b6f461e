"""Scene reader: config, shapes, save/load, input checks, labels and stream, training + exact resume,
the bundled weights on true clips, and a clip it must not pass."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from cosmos_lite.eval.reader import SceneReader, SceneReaderConfig, prompted_event_found
from cosmos_lite.scenes import AGENT_KINDS, EVENTS, LIGHTINGS, WEATHERS, Scenario, render
from cosmos_lite.train.config import TrainConfig
from cosmos_lite.train.engine import fit
from cosmos_lite.train.reader_task import (
    FOCUS_EVENTS,
    InstrumentDataConfig,
    InstrumentStream,
    LabelConfig,
    ReaderLossConfig,
    ReaderRunConfig,
    ReaderTask,
    batch_clips,
    blank_clips,
    degrade_clips,
    label_scene,
    reader_finetune_config,
    reader_focus_config,
    reader_loss,
    reader_run_config,
    window_sample,
)

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = SceneReaderConfig(size=(32, 48), width=8, dim=16, temporal_blocks=1)
RULES0 = LabelConfig(kinds_min_height=0.0, event_min_height=0.0)  # every drawn agent counts
DATA = InstrumentDataConfig(render_size=(32, 48), render_frames=6, frames=4, pool_scenes=2, reuse=2, val_clips=2)


def _tiny(seed: int = 0) -> SceneReader:
    torch.manual_seed(seed)
    return SceneReader(TINY)


def _frames(t: int = 5, h: int = 40, w: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def _run(**train) -> ReaderRunConfig:
    t = TrainConfig(steps=4, batch_size=2, lr=3e-3, warmup_steps=1, num_workers=0, mixed_precision="no",
                    val_every=0, ckpt_every=0, log_every=1, progress=False, ema_decay=0.9)
    return ReaderRunConfig(model=TINY, train=replace(t, **train), data=DATA)


# --------------------------------------------------------------------------- config and model


def test_config_labels_come_from_scenes_and_round_trip():
    cfg = SceneReaderConfig()
    assert cfg.size == (64, 96) and cfg.weathers == WEATHERS and cfg.lightings == LIGHTINGS
    assert cfg.events == EVENTS and cfg.kinds == AGENT_KINDS
    assert SceneReaderConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown SceneReaderConfig fields"):
        SceneReaderConfig.from_dict({"size": [64, 96], "depth": 3})
    with pytest.raises(ValueError, match="multiple of norm_groups"):
        SceneReaderConfig(width=12)
    with pytest.raises(ValueError, match="odd"):
        SceneReaderConfig(temporal_kernel=4)
    with pytest.raises(ValueError, match="'none'"):
        SceneReaderConfig(events=("lead_brake", "cut_in"))
    with pytest.raises(ValueError, match="size"):
        SceneReaderConfig(size=(8, 96))


def test_shapes_read_clip_and_features():
    model = _tiny()
    logits = model(torch.rand(2, 5, 3, 32, 48) * 2 - 1)
    assert logits.weather.shape == (2, 4) and logits.lighting.shape == (2, 3) and logits.event.shape == (2, len(EVENTS))
    assert logits.kinds.shape == (2, 5, len(AGENT_KINDS)) and logits.active.shape == (2, 5)
    assert TINY.where_size == (4, 6) and logits.where.shape == (2, 5, len(AGENT_KINDS) + 1, 4, 6)
    out = model.read_clip(_frames(7))  # any size: resized to the working size
    assert out["weather"] in WEATHERS and out["lighting"] in LIGHTINGS and out["event"] in EVENTS
    for key in ("weather_probs", "lighting_probs", "event_probs"):
        assert abs(sum(out[key].values()) - 1) < 1e-5
    assert out["kinds_per_frame"].shape == (7, len(AGENT_KINDS)) and out["kinds_per_frame"].dtype == bool
    assert out["event_active"].shape == (7,) and out["event_active"].dtype == bool
    assert out["kinds_visible"] == {k: bool(out["kinds_per_frame"][:, i].any()) for i, k in enumerate(AGENT_KINDS)}
    assert model.read_clip(_frames(1))["event_active"].shape == (1,)  # one frame is a clip too
    f = model.features(_frames(7))
    assert f.shape == (2 * TINY.dim,) and f.dtype == np.float32
    assert not np.allclose(f, model.features(_frames(7, seed=1)))


def test_clip_heads_read_the_location_maps():
    # the event head sees where each kind is: its gradient reaches the location head's weights
    model = _tiny().train()
    model(torch.rand(1, 3, 3, 32, 48) * 2 - 1).event.sum().backward()
    assert model.where_head.weight.grad is not None and model.where_head.weight.grad.abs().sum() > 0


def test_save_load_identity_and_strict_load(tmp_path):
    model = _tiny()
    x = torch.rand(1, 4, 3, 32, 48) * 2 - 1
    model.save_pretrained(tmp_path / "m")
    loaded = SceneReader.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config and not loaded.training
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(model(x), loaded(x)))
    w = tmp_path / "m" / "model.safetensors"
    state = load_file(str(w))
    state.pop(sorted(state)[0])
    save_file(state, str(w))
    with pytest.raises(ValueError, match="do not match"):
        SceneReader.from_pretrained(tmp_path / "m")
    from cosmos_lite.eval.idm import IDMConfig, InverseDynamics

    InverseDynamics(IDMConfig(size=(32, 48), width=8, dim=16)).save_pretrained(tmp_path / "idm")
    with pytest.raises(ValueError, match="not a SceneReader"):
        SceneReader.from_pretrained(tmp_path / "idm")


def test_bad_inputs_give_clear_errors():
    model = _tiny()
    with pytest.raises(ValueError, match="uint8"):
        model.read_clip(_frames().astype(np.float32))
    with pytest.raises(ValueError, match="numpy"):
        model.read_clip(_frames().tolist())
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        model.read_clip(_frames()[..., :2])
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        model.read_clip(np.zeros((0, 32, 48, 3), np.uint8))
    with pytest.raises(ValueError, match="float"):
        model(torch.zeros(1, 2, 3, 32, 48, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\[B, T, 3, H, W\]"):
        model(torch.zeros(2, 3, 32, 48))
    with pytest.raises(ValueError, match="config size"):
        model(torch.zeros(1, 2, 3, 40, 48))
    with pytest.raises(ValueError, match="unknown event"):
        prompted_event_found(model.read_clip(_frames()), "meteor_strike")
    with pytest.raises(ValueError, match="read_clip"):
        prompted_event_found({"weather": "rain"}, "cut_in")


def test_prompted_event_found_is_the_predicted_event():
    out = {"event": "cut_in", "kinds": AGENT_KINDS, "kinds_per_frame": np.ones((3, len(AGENT_KINDS)), bool),
           "event_active": np.ones(3, bool)}
    assert prompted_event_found(out, "cut_in")
    # a car in view while some event is active is not enough: the clip head must name the event
    assert not prompted_event_found(out, "lead_brake") and not prompted_event_found(out, "none")
    assert prompted_event_found({**out, "event": "none"}, "none")


# --------------------------------------------------------------------------- labels, stream, options


def test_labels_follow_the_scene_ground_truth():
    sc = Scenario.sample(0, "train", DATA.duration, behaviour="mix", salient=True)
    lab = label_scene(sc, DATA, (32, 48), TINY, RULES0)
    clip = render(sc, DATA.render_frames, DATA.render_size, DATA.fps)
    assert np.array_equal(lab.frames, clip.frames) and np.array_equal(lab.actions, clip.actions)
    assert np.array_equal(lab.kinds, clip.visible_kinds(min_height=0.0))
    assert np.array_equal(lab.active, clip.event_active()) and not (lab.event_seen & ~lab.active).any()
    assert EVENTS[lab.event] == sc.event.kind and WEATHERS[lab.weather] == sc.weather
    # a higher visibility bar never sees more; a render at twice the size halves the bar in render pixels
    strict = label_scene(sc, DATA, (32, 48), TINY, LabelConfig(6.0, 0.0))
    assert not (strict.kinds & ~lab.kinds).any() and np.array_equal(strict.event_seen, lab.event_seen)
    assert lab.event_seen.any() and not label_scene(sc, DATA, (32, 48), TINY, LabelConfig(0.0, 1000.0)).event_seen.any()
    # the location grid: a kind is somewhere on it exactly when it is visible; the event agent only while active
    assert np.array_equal(lab.where[:, :-1].any(axis=(2, 3)), lab.kinds)
    assert not (lab.where[:, -1].any(axis=(1, 2)) & ~lab.active).any()
    assert np.array_equal(lab.where[:, -1].any(axis=(1, 2)), lab.event_seen)
    big = label_scene(sc, replace(DATA, render_size=(64, 96)), (32, 48), TINY, LabelConfig(3.0, 0.0))
    assert big.frames.shape == lab.frames.shape
    assert np.array_equal(big.kinds, render(sc, 6, (64, 96), 10.0).visible_kinds(min_height=6.0))


def test_window_labels_flip_and_unseen_events():
    sc = Scenario.sample(0, "train", DATA.duration, behaviour="mix", salient=True)
    lab = label_scene(sc, DATA, (32, 48), TINY, RULES0)
    lab = dataclasses.replace(lab, actions=np.tile(np.float32([[1.0, 0.02]]), (6, 1)))
    s = window_sample(lab, 1, 4, True, 0)
    assert s["frames"].shape == (4, 32, 48, 3)
    assert torch.equal(s["frames"], torch.from_numpy(lab.frames[1:5, :, ::-1].copy()))
    assert torch.allclose(s["actions"], torch.tensor([[1.0, -0.02]] * 4))  # a mirrored turn
    assert torch.equal(s["where"], torch.from_numpy(lab.where[1:5, ..., ::-1].astype(np.float32)))
    hidden = dataclasses.replace(lab, event_seen=np.zeros(6, bool), active=np.ones(6, bool))
    h = window_sample(hidden, 0, 4, False, 0)
    assert int(h["event"]) == 0 and not h["active"].any()  # an event nobody can see is no event
    seen = dataclasses.replace(lab, event_seen=np.eye(6, dtype=bool)[5], active=np.ones(6, bool))
    assert int(window_sample(seen, 0, 4, False, 0)["event"]) == 0  # seen only after the window
    assert int(window_sample(seen, 2, 4, False, 0)["event"]) == lab.event


def test_stream_is_position_addressed_and_options_change_it():
    def stream(data=DATA, seed=0, start=0):
        return InstrumentStream(data, (32, 48), TINY, LabelConfig(), seed, start, 2)

    a, b = stream(), stream(start=5)
    first = [a.sample(i) for i in range(8)]
    again = b.sample(6)  # a fresh stream (a resume) gives the same sample
    assert all(torch.equal(first[6][k], again[k]) for k in again)
    # each window shows pool_scenes scenes reuse times each
    idx = [a.scene_index(i) for i in range(8)]
    assert sorted(idx) == [0, 0, 1, 1, 2, 2, 3, 3] and idx != sorted(idx)
    assert sorted(stream(replace(DATA, reuse=1)).scene_index(i) for i in range(4)) == [0, 1, 2, 3]
    salient = stream(replace(DATA, salient_fraction=1.0))
    plain = stream(replace(DATA, salient_fraction=0.0))
    assert all(salient.scene(m).salient and not plain.scene(m).salient for m in range(3))
    assert plain.scene(0).scenario.ego_behaviour.kind == "keep"
    mixed = stream(replace(DATA, salient_fraction=0.0, plain_behaviour="swerve_left")).scene(0)
    assert mixed.scenario.ego_behaviour.kind == "swerve_left"
    big = replace(DATA, render_size=(64, 96))
    direct = stream(replace(big, direct_fraction=1.0)).scene(0)
    resized = stream(replace(big, direct_fraction=0.0)).scene(0)
    assert direct.frames.shape == resized.frames.shape and not np.array_equal(direct.frames, resized.frames)
    noflip = stream(replace(DATA, hflip=False))
    flips = [not torch.equal(a.sample(i)["frames"], noflip.sample(i)["frames"]) for i in range(8)]
    assert any(flips) and not all(flips)
    with pytest.raises(ValueError, match="frames"):
        replace(DATA, frames=7)
    with pytest.raises(ValueError, match="plain_behaviour"):
        replace(DATA, plain_behaviour="moonwalk")
    # focus: salient scenes redrawn until their event is a focus kind; plain scenes and focus 0 untouched
    focus = ("cyclist_swerve", "animal_crossing")
    kinds = [salient.scene(m).scenario.event.kind for m in range(6)]
    focused = stream(replace(DATA, salient_fraction=1.0, focus_events=focus, focus_fraction=1.0))
    assert all(focused.scene(m).scenario.event.kind in focus for m in range(6)) and not set(kinds) <= set(focus)
    off = stream(replace(DATA, salient_fraction=1.0, focus_events=focus, focus_fraction=0.0))
    assert [off.scene(m).scenario.event.kind for m in range(6)] == kinds
    plain_focus = stream(replace(DATA, salient_fraction=0.0, focus_events=focus, focus_fraction=1.0))
    assert [plain_focus.scene(m).scenario.seed for m in range(3)] == [plain.scene(m).scenario.seed for m in range(3)]
    with pytest.raises(ValueError, match="focus_events"):
        replace(DATA, focus_events=("ufo",))
    with pytest.raises(ValueError, match="needs focus_events"):
        replace(DATA, focus_fraction=0.5)


def test_degradations_and_loss():
    frames = torch.from_numpy(np.stack([_frames(3, 32, 48, s) for s in range(2)]))
    clean = batch_clips(frames, degrade=False)
    assert clean.shape == (2, 3, 3, 32, 48) and clean.min() >= -1 and clean.max() <= 1
    torch.manual_seed(0)
    d1 = batch_clips(frames, degrade=True)
    torch.manual_seed(0)
    d2 = degrade_clips(clean)
    assert torch.equal(d1, d2) and not torch.allclose(d1, clean) and d1.min() >= -1 and d1.max() <= 1
    logits = _tiny()(clean)
    batch = {"weather": torch.tensor([0, 1]), "lighting": torch.tensor([2, 0]), "event": torch.tensor([0, 3]),
             "kinds": torch.zeros(2, 3, len(AGENT_KINDS)), "active": torch.ones(2, 3),
             "where": (torch.arange(2 * 3 * 11 * 24).reshape(2, 3, 11, 4, 6) % 7 == 0).float(),
             "scene": torch.ones(2)}
    loss, logs = reader_loss(logits, batch, ReaderLossConfig())
    assert set(logs) == {f"loss_{k}" for k in ("weather", "lighting", "event", "kinds", "active", "where")}
    base = sum(logs[f"loss_{k}"] for k in ("weather", "lighting", "event"))
    heads = {"kinds_weight": 0.0, "active_weight": 0.0, "where_weight": 0.0}
    off, _ = reader_loss(logits, batch, ReaderLossConfig(event_weight=1.0, **heads))
    assert float(off.detach()) == pytest.approx(base, rel=1e-5)
    double, _ = reader_loss(logits, batch, ReaderLossConfig(event_weight=2.0, **heads))
    assert float(double.detach()) == pytest.approx(base + logs["loss_event"], rel=1e-5)
    _, unweighted = reader_loss(logits, batch, ReaderLossConfig(where_pos_weight=1.0))
    assert unweighted["loss_where"] < logs["loss_where"]  # positives weigh more by default
    for name in heads:  # each per-frame weight adds its own part
        one, _ = reader_loss(logits, batch, ReaderLossConfig(event_weight=1.0, **{**heads, name: 1.0}))
        part = logs["loss_" + name.removesuffix("_weight")]
        assert float(one.detach()) == pytest.approx(base + part, rel=1e-5)
    _, sl = reader_loss(logits, batch, ReaderLossConfig(label_smoothing=0.0))
    assert sl["loss_event"] != logs["loss_event"]


def test_blank_clips_show_nothing():
    x = torch.rand(3, 4, 3, 32, 48) * 2 - 1
    batch = {"event": torch.tensor([2, 3, 4]), "kinds": torch.ones(3, 4, 10), "active": torch.ones(3, 4),
             "where": torch.ones(3, 4, 11, 4, 6), "scene": torch.ones(3), "weather": torch.tensor([1, 2, 3])}
    same_x, same = blank_clips(x, batch, 0.0, 0)
    assert same_x is x and same is batch
    torch.manual_seed(0)
    bx, bb = blank_clips(x, batch, 1.0, 0)
    spread = (bx - bx.mean(dim=(1, 3, 4), keepdim=True)).abs().amax(dim=(1, 2, 3, 4))
    assert bool((spread <= 0.25).all())  # one flat colour per clip (plus light noise)
    assert bb["event"].tolist() == [0, 0, 0] and not bb["scene"].any()
    assert not any(bb[k].any() for k in ("kinds", "active", "where")) and batch["kinds"].all()  # input untouched
    logits = _tiny()(bx)
    full = {**bb, "lighting": torch.tensor([0, 1, 2])}
    _, logs = reader_loss(logits, full, ReaderLossConfig())
    assert logs["loss_weather"] == 0.0 and logs["loss_lighting"] == 0.0  # no weather to read in a blank


def test_fine_tune_starts_from_the_given_weights(tmp_path):
    start = _tiny(3)
    start.save_pretrained(tmp_path / "start")
    run = replace(_run(), init_from=str(tmp_path / "start"))
    model = ReaderTask(run).build_modules()["model"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), start.state_dict().values()))
    with pytest.raises(ValueError, match="config differs"):
        ReaderTask(replace(run, model=replace(TINY, dim=24))).build_modules()
    ft = reader_finetune_config(tmp_path / "start")
    assert ft.data.blank_fraction == 0.1 and ft.init_from == str(tmp_path / "start") and ft.train.steps == 400
    assert ft.model == TINY  # the later stages keep the starting reader's architecture, not the default's
    ReaderTask(ft).build_modules()
    st3 = reader_focus_config(tmp_path / "start")
    assert st3.train.steps == 1200 and st3.data.focus_events == FOCUS_EVENTS and st3.data.focus_fraction == 0.5
    assert replace(st3, data=replace(st3.data, focus_fraction=0.0, focus_events=())).data == ft.data
    ped = reader_focus_config(tmp_path / "start", events=("pedestrian_crossing",), fraction=0.4)
    assert ped.data.focus_events == ("pedestrian_crossing",) and ped.data.focus_fraction == 0.4
    assert replace(ped, data=replace(ped.data, focus_events=FOCUS_EVENTS, focus_fraction=0.5)) == st3
    assert ReaderRunConfig.from_dict(json.loads(json.dumps(st3.to_dict()))) == st3
    assert ReaderRunConfig.from_dict(json.loads(json.dumps(ft.to_dict()))) == ft


def test_train_main_maps_focus_onto_the_stage_config(tmp_path, monkeypatch):
    """train_main(focus=()) is stage 3 (FOCUS_EVENTS, half); named events and a fraction replace them."""
    import cosmos_lite.train.reader_task as reader_task

    runs = []
    monkeypatch.setattr(reader_task, "fit", lambda task, train, out, cfg, resume: runs.append(task.run) or
                        dataclasses.make_dataclass("R", ["step", "seconds", "final_dir"])(0, 0.0, out))
    start = tmp_path / "start"
    _tiny().save_pretrained(start)
    reader_task.train_main(tmp_path / "a", init_from=start, focus=())
    reader_task.train_main(tmp_path / "b", init_from=start, focus=("pedestrian_crossing",), focus_fraction=0.4,
                           seed=7)
    reader_task.train_main(tmp_path / "c", init_from=start)
    assert runs[0] == reader_focus_config(start)
    assert runs[1].data.focus_events == ("pedestrian_crossing",) and runs[1].data.focus_fraction == 0.4
    assert runs[1].train.seed == 7 and runs[1].train.steps == 1200
    assert runs[2].data.focus_fraction == 0.0 and runs[2].train.steps == 400
    with pytest.raises(ValueError, match="init_from"):
        reader_task.train_main(tmp_path / "d", focus=())
    with pytest.raises(ValueError, match="needs focus"):
        reader_task.train_main(tmp_path / "e", init_from=start, focus_fraction=0.4)
    assert len(runs) == 3


# --------------------------------------------------------------------------- training


def test_run_config_round_trip_and_cpu_defaults():
    run = _run()
    assert ReaderRunConfig.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    with pytest.raises(ValueError, match="not a scene-reader run"):
        ReaderRunConfig.from_dict({**run.to_dict(), "kind": "idm"})
    with pytest.raises(ValueError, match="unknown"):
        ReaderRunConfig.from_dict({**run.to_dict(), "extra": 1})
    cpu = reader_run_config()
    assert cpu.train.num_workers == 0 and cpu.data.render_size == (128, 192) and cpu.model.size == (64, 96)
    assert cpu.train.steps == 2700 and cpu.data.blank_fraction == 0.0 and cpu.init_from is None
    assert reader_run_config(steps=7, lr=1e-3).train.lr == 1e-3


def test_training_runs_and_resumes_exactly(tmp_path):
    run = _run(ckpt_every=2, keep_checkpoints=3)
    run = replace(run, data=replace(run.data, blank_fraction=0.5))  # its draws must resume exactly too
    full = fit(ReaderTask(run), run.train, tmp_path / "a", run.to_dict())
    part = fit(ReaderTask(run), run.train, tmp_path / "b", run.to_dict(), stop_at=2)
    rest = fit(ReaderTask(run), run.train, tmp_path / "b", run.to_dict(), resume=True)
    assert sorted(part.losses) == [1, 2] and sorted(rest.losses) == [3, 4]
    for s in (1, 2):
        assert part.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    for s in (3, 4):
        assert rest.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    a = load_file(str(tmp_path / "a" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    b = load_file(str(tmp_path / "b" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    val = full.validations[-1]
    assert 0.0 <= val["weather_acc"] <= 1.0 and "event_acc" in val and "kinds_frame_acc" in val
    exported = SceneReader.from_pretrained(tmp_path / "a" / "final")  # export() = the EMA weights
    assert all(torch.allclose(exported.state_dict()[k], a[k], atol=1e-6) for k in a)


# --------------------------------------------------------------------------- bundled weights

# Held-out test-split scenes with an unmistakable condition (heavy weather or plain clear).
CONDITIONS = [(1027, "rain", "day"), (1006, "clear", "night"), (1063, "fog", "day"), (1457, "snow", "dusk"),
              (1000, "clear", "day")]


@pytest.fixture(scope="module")
def bundled():
    return SceneReader.from_pretrained()


def test_bundled_reader_reads_true_test_clips(bundled):
    assert bundled.config.size == (64, 96)
    right = 0
    for seed in range(8):  # salient test scenes as the world-model evaluation prompts them
        sc = Scenario.sample(seed, "test", 3.3 + 1e-6, behaviour="mix", salient=True)
        out = bundled.read_clip(render(sc, 33, (128, 192), 10.0).frames)
        right += (out["weather"] == sc.weather) + (out["lighting"] == sc.lighting)
    assert right >= 13  # of 16 answers
    for seed, weather, lighting in CONDITIONS:
        sc = Scenario.sample(seed, "test", 1.7 + 1e-6)
        out = bundled.read_clip(render(sc, 17, (64, 96), 10.0).frames)  # a world model's size, direct
        assert (sc.weather, sc.lighting) == (weather, lighting)
        assert (out["weather"], out["lighting"]) == (weather, lighting)


def test_bundled_reader_finds_nothing_in_a_black_clip(bundled):
    out = bundled.read_clip(np.zeros((17, 64, 96, 3), np.uint8))
    assert out["event"] == "none" and not out["event_active"].any()
    assert not any(prompted_event_found(out, kind) for kind in EVENTS[1:])
