"""cosmos-lite eval world-model: every measure on a tiny run (stub instruments), each measure shown
able to fail on clips whose answer is known, and the oracle / action-blind checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_world
from cosmos_lite.cli import main
from cosmos_lite.eval.world import Instruments, WorldEvalSettings, evaluate_world_model
from cosmos_lite.eval.world.measures import (PSNR_CAP, change_by_group_position, check_cond_frames,
                                             cumulative_shift, failure_kinds, frame_scores, frechet_distance,
                                             hf_ratio, horizon_buckets, horizontal_shift, repeat_last_prediction,
                                             sign_accuracy, spearman, steering_actions, stutter_deviation)

SIZE = (32, 48)
FAST = dict(n=2, prompts=2, steering=1, drift=1, drift_frames=13, frames=9, cond_frames=5, steps=1, progress=False)

pytestmark = pytest.mark.usefixtures("one_thread")


class StubReader:
    """Reads the mean colour as features and says 'clear, day' with the event of its choice."""

    def __init__(self, event: str = "pedestrian_crossing"):
        self.event = event

    def read_clip(self, frames):
        return {"weather": "clear", "lighting": "day", "event": self.event}

    def features(self, frames):
        return frames.reshape(-1, 3).mean(0) + frames.std()


class StubIDM:
    """An IDM that reads curvature from how the picture shifts sideways (+ = content moves right = left turn)."""

    def predict(self, frames):
        out = np.zeros((len(frames), 2), np.float32)
        for k in range(1, len(frames)):
            out[k - 1, 1] = 0.004 * horizontal_shift(frames[k - 1], frames[k])
        return out


def stubs(found: bool = True) -> Instruments:
    return Instruments(StubReader(), StubIDM(), lambda out, kind: found)


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    return tiny_world(SIZE, 9).save_pretrained(tmp_path_factory.mktemp("world") / "model")


def test_evaluate_writes_metrics_with_stable_keys_sheets_and_plot(world_dir, tmp_path):
    res = evaluate_world_model(world_dir, tmp_path, WorldEvalSettings(**FAST), instruments=stubs())
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(res))
    g = metrics["generators"]["diffusion"]
    for path in ("events.rate", "events.true_rate", "actions.sign_accuracy", "actions.closest_replay",
                 "sharpness.hf_ratio", "failures.rate", "speed.realtime_factor"):
        obj = g
        for k in path.split("."):
            obj = obj[k]
        assert isinstance(obj, float), path
    assert set(metrics["instruments"]) == {"event_reader", "idm"}
    assert "true_accuracy" in metrics["instruments"]["event_reader"]
    assert "true_sign_accuracy" in metrics["instruments"]["idm"]
    assert g["failures"]["clips"] == 12 and len(g["stutter"]["generated_profile"]) == 4
    assert g["drift"]["frames"] == 13 and g["events"]["clips"] == 2
    for png in ("curves.png", "prediction_diffusion.png", "prompts_diffusion.png", "steering_diffusion.png"):
        assert (tmp_path / png).stat().st_size > 500
    from cosmos_lite.eval.world import format_table

    table = format_table(res)
    assert "closest replay" in table and "real-time factor" in table


def test_event_rate_follows_the_reader(world_dir, tmp_path):
    st = WorldEvalSettings(**{**FAST, "n": 2, "steering": 0, "drift": 0, "failures": False})
    yes = evaluate_world_model(world_dir, tmp_path / "a", st, instruments=stubs(True))
    no = evaluate_world_model(world_dir, tmp_path / "b", st, instruments=stubs(False))
    assert yes["generators"]["diffusion"]["events"]["rate"] == 1.0
    assert no["generators"]["diffusion"]["events"]["rate"] == 0.0


def test_cli_world_model(world_dir, tmp_path, capsys, monkeypatch):
    import cosmos_lite.eval.world.evaluate as ev

    monkeypatch.setattr(ev.Instruments, "bundled", classmethod(lambda cls: stubs()))
    rc = main(["eval", "world-model", "--model", str(world_dir), "--out", str(tmp_path), "--n", "2", "--prompts",
               "1", "--steering", "0", "--drift", "0", "--no-failures", "--frames", "9", "--steps", "1",
               "--no-progress"])
    assert rc == 0 and "events: prompted event found" in capsys.readouterr().out
    assert (tmp_path / "metrics.json").is_file()


def test_errors(world_dir, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="nope"):
        evaluate_world_model(tmp_path / "nope", tmp_path / "o", WorldEvalSettings(**FAST), instruments=stubs())
    with pytest.raises(ValueError, match=r"1 \+ 4\*j"):
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "cond_frames": 4}),
                             instruments=stubs())
    with pytest.raises(ValueError, match="above cond_frames"):
        WorldEvalSettings(**{**FAST, "cond_frames": 9})
    with pytest.raises(ValueError, match="at most 5"):  # context_latents = 2: more would be cut silently
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "cond_frames": 9, "frames": 17}),
                             instruments=stubs())
    assert not (tmp_path / "o").exists()
    for bad in ({"n": 1}, {"steps": 0}, {"prompts": -1}, {"curvature": 0.0}, {"frames": 1}, {"guidance": 0.5}):
        with pytest.raises(ValueError):
            WorldEvalSettings(**{**FAST, **bad})
    rc = main(["eval", "world-model", "--model", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "absent" in capsys.readouterr().err


def test_sampling_settings_default_to_each_generators_own():
    from cosmos_lite.eval.world.evaluate import generator_settings
    from cosmos_lite.generators.autoregressive import ARSettings
    from cosmos_lite.generators.diffusion import DiffusionSettings

    assert generator_settings("diffusion", WorldEvalSettings()) == DiffusionSettings()
    assert generator_settings("autoregressive", WorldEvalSettings()) == ARSettings()
    st = WorldEvalSettings(steps=6, guidance=2.5)
    assert generator_settings("diffusion", st) == DiffusionSettings(steps=6, guidance=2.5)
    assert generator_settings("autoregressive", st) == ARSettings(guidance=2.5)  # it has no "steps"


# --------------------------------------------------------------------------- each measure can fail


def _scene(seed: int, frames: int = 17, size=SIZE, **kw):
    from cosmos_lite.data.streams import scene_clip

    return scene_clip(seed, "test", frames, size, 10.0, **kw)


def test_failures_flag_frozen_black_blank_flicker_and_no_true_clip_of_any_condition():
    from cosmos_lite.scenes import Scenario

    seen = set()
    for seed in range(60):
        sc = Scenario.sample(seed, split="test", duration=1.7 + 1e-6)
        if (sc.weather, sc.lighting) in seen:
            continue
        seen.add((sc.weather, sc.lighting))
        clip = _scene(seed)
        assert failure_kinds(clip.frames) == [], (sc.weather, sc.lighting)
        frozen = np.repeat(clip.frames[:1], 17, axis=0)
        assert "frozen" in failure_kinds(frozen), (sc.weather, sc.lighting)
        noisy = np.clip(frozen + np.random.default_rng(0).normal(0, 0.3, frozen.shape), 0, 255).round().astype(np.uint8)
        assert "frozen" in failure_kinds(noisy)
    assert len(seen) == 12  # every weather x lighting, night included
    clip = _scene(0).frames
    assert "black" in failure_kinds((clip // 40).astype(np.uint8))
    assert "blank" in failure_kinds(np.full_like(clip, 128))
    flicker = clip.copy()
    flicker[::2] = np.clip(flicker[::2].astype(int) + 90, 0, 255)
    assert "flicker" in failure_kinds(flicker)


def test_blur_lowers_the_sharpness_ratio_and_the_frechet_distance_sees_a_shift():
    import cv2

    true = _scene(1, size=(64, 96)).frames
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in true])
    assert hf_ratio(true, true) == pytest.approx(1.0)
    assert hf_ratio(blurred, true) < 0.5
    rng = np.random.default_rng(0)
    a = rng.normal(size=(64, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a + 2.0, a) == pytest.approx(16.0, rel=1e-6)  # |mu|^2 = 4 * 2^2
    with pytest.raises(ValueError):
        frechet_distance(a[:1], a)


def test_stutter_profile_sees_motion_bunched_at_the_group_start():
    true = _scene(2, frames=33).frames
    bunched = true.copy()
    for k in range(1, 33):  # hold frames 2..4 of every group: motion only at the group's first frame
        g = (k - 1) // 4
        if (k - 1) % 4:
            bunched[k] = true[1 + 4 * g]
    flat, bad = change_by_group_position(true, 4), change_by_group_position(bunched, 4)
    assert stutter_deviation(flat, flat) == 0.0
    assert bad[0] > 2 * bad[1:].max() and stutter_deviation(bad, flat) > 0.25
    assert flat.max() / flat.min() < 2.0  # a true clip moves evenly


def test_shuffled_actions_lower_action_following_and_spearman():
    rng = np.random.default_rng(0)
    cmd = np.concatenate([np.full(20, 0.01), np.zeros(20), np.full(20, -0.01)])
    assert sign_accuracy(cmd, cmd) == 1.0 and spearman(cmd, cmd) == pytest.approx(1.0)
    shuffled = rng.permutation(cmd)
    assert sign_accuracy(shuffled, cmd) < 0.6 and abs(spearman(shuffled, cmd)) < 0.5
    assert np.isnan(spearman(np.zeros(5), np.arange(5)))


def test_check_cond_frames():
    check_cond_frames(1, 9, 4, 5)
    check_cond_frames(5, 9, 4, 5)
    check_cond_frames(9, 33, 4, 9)
    for cond, frames in ((0, 9), (2, 9), (6, 33), (5, 5), (9, 33)):
        with pytest.raises(ValueError):
            check_cond_frames(cond, frames, 4, 5)


# --------------------------------------------------------------------------- pure helpers


def test_horizon_buckets():
    b = horizon_buckets(33, 5, 10.0)  # last condition frame 4; frame k is (k - 4) / 10 s ahead
    assert [x["label"] for x in b] == ["(0,1]", "(1,2]", "(2,3]"]
    assert b[0]["frames"] == list(range(5, 15)) and b[1]["frames"] == list(range(15, 25))
    assert b[2]["frames"] == list(range(25, 33))
    # exact boundaries at a frame rate where k / fps is not exact in binary
    b = horizon_buckets(8, 2, 3.0)  # horizons 1/3, 2/3, 1 | 4/3, 5/3, 2
    assert [(x["label"], x["frames"]) for x in b] == [("(0,1]", [2, 3, 4]), ("(1,2]", [5, 6, 7])]
    b = horizon_buckets(9, 1, 2.0)  # 0.5, 1 | 1.5, 2 | 2.5, 3 | 3.5, 4
    assert [x["frames"] for x in b] == [[1, 2], [3, 4], [5, 6], [7, 8]] and b[-1]["hi"] == 4
    assert horizon_buckets(6, 5, 10.0) == [{"label": "(0,1]", "lo": 0, "hi": 1, "frames": [5]}]
    with pytest.raises(ValueError):
        horizon_buckets(5, 5, 10.0)


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random grayscale texture as uint8 RGB (phase correlation needs structure, not noise)."""
    import cv2

    rng = np.random.default_rng(seed)
    g = cv2.GaussianBlur(rng.random((h, w)), (0, 0), 2.0)
    g = (g - g.min()) / (g.max() - g.min()) * 255
    return np.repeat(g[..., None], 3, axis=2).round().astype(np.uint8)


def test_horizontal_shift_sign_and_magnitude():
    big = _texture(64, 160)
    base = big[:, 40:136]  # 96 wide
    for dx in (3, -3, 6, -5):
        moved = big[:, 40 - dx:136 - dx]  # content moves right by dx pixels
        assert horizontal_shift(base, moved) == pytest.approx(dx, abs=0.3)
    assert horizontal_shift(base, base) == pytest.approx(0.0, abs=0.05)
    # chained over a sequence: 4 steps of +3 px = +12 px (each step good to about 0.2 px)
    seq = np.stack([big[:, 40 - 3 * i:136 - 3 * i] for i in range(5)])
    assert cumulative_shift(seq) == pytest.approx(12.0, abs=1.0)
    assert cumulative_shift(seq[::-1]) == pytest.approx(-12.0, abs=1.0)
    flat = np.full((32, 48, 3), 90, np.uint8)
    assert horizontal_shift(flat, flat) == 0.0 and cumulative_shift(seq[:1]) == 0.0


def test_repeat_last_baseline_on_static_scene():
    frame = _texture(32, 48, seed=1)
    static = np.stack([frame] * 9)
    rep = repeat_last_prediction(static, 5)
    assert np.array_equal(rep, static)
    p_rep, s_rep = frame_scores(rep[5:], static[5:])
    p_true, s_true = frame_scores(static[5:], static[5:])
    assert np.array_equal(p_rep, p_true) and np.array_equal(s_rep, s_true)
    assert np.all(p_rep == PSNR_CAP) and np.allclose(s_rep, 1.0)
    # a moving clip: the first frames stay, the rest hold the last condition frame
    moving = np.stack([_texture(32, 48, seed=i) for i in range(9)])
    rep = repeat_last_prediction(moving, 5)
    assert np.array_equal(rep[:5], moving[:5]) and all(np.array_equal(f, moving[4]) for f in rep[5:])
    p, s = frame_scores(rep, moving)
    assert np.all(p[:5] == PSNR_CAP) and np.all(p[5:] < 40) and np.all(s[5:] < 0.9)
    with pytest.raises(ValueError, match="differ in shape"):
        frame_scores(moving[:3], moving[:4])


def test_steering_actions_line_up_with_replay():
    from cosmos_lite.scenes import Scenario, render, replay

    sc = Scenario.sample(0, split="test", duration=0.9 + 1e-6)
    clip = render(sc, 9, SIZE, 10.0)
    acts = steering_actions(clip.actions, 5, 0.01)
    assert np.array_equal(acts[:4], clip.actions[:4])
    assert np.all(acts[4:, 0] == 0) and np.allclose(acts[4:, 1], 0.01)
    sim = replay(sc, from_frame=4, actions=acts[4:], size=SIZE, fps=10.0)
    assert sim.frames.shape[0] == 5  # scene frames 4..8: the last condition frame, then the rollout
    assert np.array_equal(sim.frames[0], clip.frames[4])  # frame 4 does not depend on action 4
    assert not np.array_equal(sim.frames[-1], clip.frames[-1])


def test_closest_replay_credits_an_oracle_and_not_a_model_that_ignores_actions(world_dir, tmp_path, monkeypatch):
    """A 'world model' that returns the simulator's own clip under the given actions is closer to the
    matching turn every time; one that ignores actions is never credited with both turns."""
    from cosmos_lite.scenes import replay
    from cosmos_lite.world import GeneratedClip, WorldModel

    T = 17
    timings = {"timings": {"prepare_s": 0.1, "sample_s": 0.1, "decode_s": 0.1}}

    def scene_of(prompt, num_frames):
        for i in range(4):
            clip = _scene(i, num_frames)
            if clip.caption == prompt:
                return clip
        raise AssertionError(prompt)

    def oracle(self, prompt, video=None, actions=None, num_frames=33, **kw):
        clip = scene_of(prompt, num_frames)
        sim = replay(clip.scenario, from_frame=4, actions=np.asarray(actions)[4:], size=SIZE, fps=10.0).frames
        return GeneratedClip(np.concatenate([clip.frames[:4], sim]), 10.0, dict(timings))

    def blind(self, prompt, video=None, actions=None, num_frames=33, **kw):
        return GeneratedClip(scene_of(prompt, num_frames).frames, 10.0, dict(timings))

    st = WorldEvalSettings(n=2, prompts=0, steering=2, failures=False, drift=0, frames=T, steps=1, progress=False)
    monkeypatch.setattr("cosmos_lite.eval.world.evaluate.measure_prediction", _only_steering_prediction)
    monkeypatch.setattr(WorldModel, "generate", oracle)
    a = evaluate_world_model(world_dir, tmp_path / "oracle", st, instruments=stubs())["generators"]["diffusion"]
    assert a["actions"]["closest_replay"] == 1.0
    monkeypatch.setattr(WorldModel, "generate", blind)
    b = evaluate_world_model(world_dir, tmp_path / "blind", st, instruments=stubs())["generators"]["diffusion"]
    assert b["actions"]["closest_replay"] <= 0.5  # left and right clips are identical: one turn at most
    # the steering sheet: per start, generated left / straight / right and the simulator's left and right
    import struct

    height = struct.unpack(">I", (tmp_path / "oracle" / "steering_diffusion.png").read_bytes()[20:24])[0]  # IHDR
    assert height == min(st.steering, st.png_clips) * (11 + 5 * (SIZE[0] + 2))


def _only_steering_prediction(run):
    """Prediction rows from the true clips themselves (the steering test needs no generator there)."""
    clips = []
    for i in range(run.st.n):
        c = run.scene(i, behaviour="mix")
        clips.append({"scene": c, "truth": c.frames, "generated": c.frames, "repeat": c.frames, "recon": c.frames})
    b = {"horizon_s": "(0,1]", **{f"{w}_{m}": 1.0 for w in ("generated", "repeat_last", "tokenizer", "shuffled")
                                  for m in ("psnr", "ssim")}, "beats_repeat": 0.0}
    return {"clips": run.st.n, "buckets": [b], "all": b, "psnr_true_minus_shuffled": 0.0, "per_clip": []}, clips
