"""``cosmos-lite eval world-model``: structure on a tiny untrained model, and the pure helpers
(horizon buckets, shift measurement, baselines, action alignment) on hand-made inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_world

from cosmos_lite.cli import main
from cosmos_lite.eval.condition_classifier import (
    ConditionClassifier,
    ConditionClassifierConfig,
)
from cosmos_lite.eval.world_model import (
    PSNR_CAP,
    WorldEvalSettings,
    check_cond_frames,
    cumulative_shift,
    evaluate_world_model,
    format_table,
    frame_scores,
    horizon_buckets,
    horizontal_shift,
    repeat_last_prediction,
    steering_actions,
)

SIZE = (32, 48)
FAST = dict(n=2, prompts=2, steering=1, frames=9, cond_frames=5, steps=2, progress=False)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    """A tiny untrained world model (the curvature test steers at 0.02, inside its range)."""
    return tiny_world(SIZE, 9).save_pretrained(tmp_path_factory.mktemp("world") / "model")


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    """An untrained classifier: enough to check the plumbing without the bundled weights."""
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("clf")
    ConditionClassifier(ConditionClassifierConfig(size=SIZE, width=8)).save_pretrained(d)
    return d


def _finite_in(v, lo, hi) -> bool:
    return isinstance(v, float) and math.isfinite(v) and lo <= v <= hi


# --------------------------------------------------------------------------- end to end


def test_evaluate_writes_metrics_and_png(world_dir, classifier_dir, tmp_path):
    out = tmp_path / "eval"
    r = evaluate_world_model(world_dir, out, WorldEvalSettings(**FAST), classifier=classifier_dir)

    assert r["model"] == str(world_dir) and "disabled" in r["guardrail"]
    s = r["settings"]
    assert (s["frames"], s["cond_frames"], s["size"], s["fps"], s["split"]) == (9, 5, [32, 48], 10.0, "test")

    p = r["prediction"]
    assert p["clips"] == 2 and len(p["per_clip"]) == 2
    assert [b["horizon_s"] for b in p["buckets"]] == ["(0,1]"] and p["buckets"][0]["frames"] == [5, 6, 7, 8]
    for row in [*p["buckets"], p["all"]]:
        for who in ("generated", "repeat_last", "tokenizer"):
            assert _finite_in(row[f"{who}_psnr"], 0, PSNR_CAP) and _finite_in(row[f"{who}_ssim"], -1, 1)
        assert row["beats_repeat"] in (0.0, 0.5, 1.0)
    assert p["per_clip"][0]["seed"] == 0 and p["per_clip"][0]["caption"]

    c = r["prompted_condition"]
    assert c["clips"] == 2 and c["classifier"] == str(classifier_dir) and len(c["per_clip"]) == 2
    for key in ("generated", "true_clips", "tokenizer_clips"):
        assert set(c[key]) == {"weather", "lighting", "shown"}
        assert all(v in (0.0, 0.5, 1.0) for v in c[key].values())
        assert c[key]["shown"] <= min(c[key]["weather"], c[key]["lighting"])
    row = c["per_clip"][0]
    assert row["weather"] in row["caption"].lower() or row["weather"] == "clear"
    assert row["generated"]["shown"] == (row["generated"]["weather_ok"] and row["generated"]["lighting_ok"])

    st = r["steering"]
    assert st["clips"] == 1 and st["curvature"] == 0.01 and len(st["per_clip"]) == 1
    one = st["per_clip"][0]
    for who in ("generated", "simulator", "tokenizer"):
        assert one[f"{who}_diff"] == pytest.approx(one[f"{who}_left"] - one[f"{who}_right"])
        assert one[f"{who}_sign"] in (-1, 0, 1)
    assert st["agreement"] in (0.0, 1.0)
    assert st["closer_to_matching_turn"] in (0.0, 0.5, 1.0)
    assert st["closer_to_matching_turn"] == (one["closer_left"] + one["closer_right"]) / 2

    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(r))
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = format_table(r)
    for text in ("Prediction", "(0,1] s", "repeat-last", "Prompted condition", "condition shown", "Steering",
                 "simulator", "agreement", "same steering"):
        assert text in table


def test_cli_world_model(world_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["eval", "world-model", "--model", str(world_dir), "--out", str(out), "--n", "1", "--prompts", "0",
               "--steering", "0", "--frames", "9", "--steps", "1", "--seed", "3", "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr()
    assert "Prediction" in printed.out and "Steering" not in printed.out and "metrics.json" in printed.err
    r = json.loads((out / "metrics.json").read_text())
    assert r["prompted_condition"] is None and r["steering"] is None and r["settings"]["seed"] == 3


def test_bundled_classifier_prompted_condition(world_dir, tmp_path):
    try:
        ConditionClassifier.from_pretrained(None)
    except FileNotFoundError as err:
        pytest.skip(f"bundled condition-classifier weights not available yet: {err}")
    settings = WorldEvalSettings(n=1, prompts=2, steering=0, frames=9, steps=1, progress=False)
    r = evaluate_world_model(world_dir, tmp_path, settings)
    c = r["prompted_condition"]
    assert c["classifier"] == "bundled"
    # an untrained generator's clips say nothing; the classifier itself must read the true clips
    # (it gets 30 of 30 test clips right at this size; one of two per head leaves room for retraining)
    assert c["true_clips"]["weather"] >= 0.5 and c["true_clips"]["lighting"] >= 0.5
    assert all(set(row["true_clip"]) >= {"p_weather", "p_lighting"} for row in c["per_clip"])


# --------------------------------------------------------------------------- errors


def test_errors(world_dir, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="nope"):
        evaluate_world_model(tmp_path / "nope", tmp_path / "o", WorldEvalSettings(**FAST))
    with pytest.raises(ValueError, match=r"1 \+ 4\*j"):
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "cond_frames": 4}))
    with pytest.raises(ValueError, match="below"):
        WorldEvalSettings(**{**FAST, "cond_frames": 9})
    with pytest.raises(ValueError, match="at most 5"):  # context_latents = 2: more would be cut silently
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "cond_frames": 9, "frames": 17}))
    with pytest.raises(ValueError, match="below the clip"):  # frames from the model: cond_frames 9 vs 9
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "cond_frames": 9, "frames": None}))
    with pytest.raises(ValueError, match="steering limits"):
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**{**FAST, "curvature": 0.5}))
    with pytest.raises(FileNotFoundError, match="missing-clf"):  # fails before generating anything
        evaluate_world_model(world_dir, tmp_path / "o", WorldEvalSettings(**FAST), classifier=tmp_path / "missing-clf")
    assert not (tmp_path / "o").exists()
    for bad in ({"n": 0}, {"steps": 0}, {"prompts": -1}, {"curvature": 0.0}, {"frames": 1}):
        with pytest.raises(ValueError):
            WorldEvalSettings(**{**FAST, **bad})

    rc = main(["eval", "world-model", "--model", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "absent" in capsys.readouterr().err
    rc = main(["eval", "world-model", "--model", str(world_dir), "--out", str(tmp_path / "o"), "--cond-frames", "3",
               "--no-progress"])
    assert rc == 2 and "cond_frames" in capsys.readouterr().err


def test_check_cond_frames():
    check_cond_frames(1, 9, 4, 2)
    check_cond_frames(5, 9, 4, 2)
    check_cond_frames(9, 33, 4, 3)
    for cond, frames in ((0, 9), (2, 9), (6, 33), (5, 5)):
        with pytest.raises(ValueError):
            check_cond_frames(cond, frames, 4, 2)


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


def test_steering_measure_credits_an_oracle_and_not_a_model_that_ignores_actions(world_dir, tmp_path, monkeypatch):
    """A 'world model' that returns the simulator's own clip under the given actions is closer to the
    matching turn every time; one that ignores actions is never credited with both turns."""
    from cosmos_lite.scenes import Scenario, render, replay
    from cosmos_lite.world import GeneratedClip, WorldModel

    T = 17
    scenarios = {}
    for i in range(2):
        sc = Scenario.sample(i, split="test", duration=T / 10 + 1e-6)
        scenarios[render(sc, T, SIZE, 10.0).caption] = sc

    def oracle(self, prompt, video=None, actions=None, num_frames=33, **kw):
        sc = scenarios[prompt]
        truth = render(sc, num_frames, SIZE, 10.0).frames
        sim = replay(sc, from_frame=4, actions=np.asarray(actions)[4:], size=SIZE, fps=10.0).frames
        return GeneratedClip(np.concatenate([truth[:4], sim]), 10.0, {"condition_frames": 5})

    def blind(self, prompt, video=None, actions=None, num_frames=33, **kw):
        truth = render(scenarios[prompt], num_frames, SIZE, 10.0).frames
        return GeneratedClip(truth, 10.0, {"condition_frames": 5})  # same clip whatever the steering

    settings = WorldEvalSettings(n=1, prompts=0, steering=2, frames=T, steps=1, progress=False, curvature=0.02)
    monkeypatch.setattr(WorldModel, "generate", oracle)
    st = evaluate_world_model(world_dir, tmp_path / "oracle", settings)["steering"]
    assert st["closer_to_matching_turn"] == 1.0
    assert st["generated_diff"] == pytest.approx(st["simulator_diff"])
    monkeypatch.setattr(WorldModel, "generate", blind)
    st = evaluate_world_model(world_dir, tmp_path / "blind", settings)["steering"]
    assert st["closer_to_matching_turn"] <= 0.5  # left and right clips are identical: one turn at most
