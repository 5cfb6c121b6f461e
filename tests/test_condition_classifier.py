"""Condition classifier: shapes, save/load, strict loading, bundled accuracy, training, input checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

import cosmos_lite.eval.condition_classifier as cc
from cosmos_lite.eval.condition_classifier import (
    ConditionClassifier,
    ConditionClassifierConfig,
    train_condition_classifier,
)
from cosmos_lite.scenes import LIGHTINGS, WEATHERS, Scenario, render

TINY = ConditionClassifierConfig(size=(32, 48), width=8)

# Held-out test-split scenarios with an unmistakable condition (heavy weather, intensity > 0.85).
FIXTURES = [  # (test seed, weather, lighting)
    (1027, "rain", "day"),
    (1006, "clear", "night"),
    (1063, "fog", "day"),
    (1457, "snow", "dusk"),
    (1000, "clear", "day"),
]


def _tiny(seed: int = 0) -> ConditionClassifier:
    torch.manual_seed(seed)
    return ConditionClassifier(TINY)


def test_config_labels_come_from_scenes_and_round_trip():
    cfg = ConditionClassifierConfig()
    assert cfg.size == (64, 96) and cfg.weathers == WEATHERS and cfg.lightings == LIGHTINGS
    assert ConditionClassifierConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown ConditionClassifierConfig fields"):
        ConditionClassifierConfig.from_dict({"size": [64, 96], "depth": 3})
    with pytest.raises(ValueError, match="multiple of norm_groups"):
        ConditionClassifierConfig(width=12)


def test_shapes_and_predict_clip():
    model = _tiny()
    out = model(torch.rand(2, 3, 32, 48) * 2 - 1)
    assert out.weather.shape == (2, len(WEATHERS)) and out.lighting.shape == (2, len(LIGHTINGS))
    frames = np.random.default_rng(0).integers(0, 256, (20, 70, 100, 3), dtype=np.uint8)
    res = model.predict_clip(frames)
    assert res["weather"] in WEATHERS and res["lighting"] in LIGHTINGS
    assert abs(sum(res["weather_probs"].values()) - 1) < 1e-5
    assert abs(sum(res["lighting_probs"].values()) - 1) < 1e-5
    assert set(res["conditions"]) == set(WEATHERS) | set(LIGHTINGS)
    assert res["frames_used"][0] == 0 and res["frames_used"][-1] == 19 and len(res["frames_used"]) == 8
    assert len(model.predict_clip(frames[:1])["frames_used"]) == 1


def test_save_load_identity(tmp_path):
    model = _tiny()
    x = torch.rand(3, 3, 32, 48) * 2 - 1
    model.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"config.json", "model.safetensors"}
    loaded = ConditionClassifier.from_pretrained(tmp_path)
    assert loaded.config == model.config and not loaded.training
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert torch.equal(a.weather, b.weather) and torch.equal(a.lighting, b.lighting)


def test_strict_load_rejects_bad_files(tmp_path, monkeypatch):
    _tiny().save_pretrained(tmp_path)
    w = tmp_path / "model.safetensors"
    state = load_file(str(w))
    state.pop(sorted(state)[0])
    save_file(state, str(w))
    with pytest.raises(ValueError, match="do not match"):
        ConditionClassifier.from_pretrained(tmp_path)
    w.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        ConditionClassifier.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        ConditionClassifier.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing model.safetensors"):
        w.unlink()
        ConditionClassifier.from_pretrained(tmp_path)
    monkeypatch.setattr(ConditionClassifier, "bundled_dir", tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no bundled ConditionClassifier of that name"):
        ConditionClassifier.from_pretrained()


def test_bundled_classifier_reads_clear_conditions():
    model = ConditionClassifier.from_pretrained()
    weather_ok = lighting_ok = 0
    for seed, weather, lighting in FIXTURES:
        sc = Scenario.sample(seed, split="test")
        assert (sc.weather, sc.lighting) == (weather, lighting), "the scene sampler changed; pick new fixtures"
        frames = render(sc, num_frames=8, size=(128, 192), fps=2.0).frames
        res = model.predict_clip(frames)
        weather_ok += res["weather"] == weather
        lighting_ok += res["lighting"] == lighting
    assert weather_ok >= 4 and lighting_ok >= 4, (weather_ok, lighting_ok)


def test_short_training_reduces_loss():
    model = _tiny(1)
    frames, yw, yl = [], [], []
    for seed in range(6):  # a fixed probe batch from the val split
        f, weather, lighting = cc._render_frames("val", seed, 2, TINY.size, 4.0)
        frames.append(f)
        yw += [WEATHERS.index(weather)] * 2
        yl += [LIGHTINGS.index(lighting)] * 2
    x = torch.from_numpy(np.concatenate(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1
    yw, yl = torch.tensor(yw), torch.tensor(yl)

    def probe_loss() -> float:
        with torch.no_grad():
            out = model.eval()(x)
        return float(F.cross_entropy(out.weather, yw) + F.cross_entropy(out.lighting, yl))

    before = probe_loss()
    metrics = train_condition_classifier(None, steps=40, batch_size=16, seed=0, size=TINY.size, progress=False,
                                         width=TINY.width, eval_scenarios=0, model=model)
    assert metrics["model"] is model and not model.training
    assert metrics["train"]["losses"][-1] < metrics["train"]["losses"][0]
    assert probe_loss() < before


def test_bad_input_raises_clear_errors():
    model = _tiny()
    frames = np.zeros((4, 32, 48, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        model.predict_clip(frames.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        model.predict_clip(frames[0])
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        model.predict_clip(frames[..., :2])
    with pytest.raises(ValueError, match="numpy uint8 array"):
        model.predict_clip(frames.tolist())
    with pytest.raises(ValueError, match="max_frames"):
        model.predict_clip(frames, max_frames=0)
    with pytest.raises(ValueError, match="float tensor"):
        model(torch.zeros(1, 3, 32, 48, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        model(torch.zeros(1, 32, 48, 3))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        train_condition_classifier(None, steps=0, progress=False)


def test_cli_rejects_bad_flags(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cc.main(["--out", str(tmp_path), "--steps", "0"])
    assert exit_info.value.code == 2
    assert "--steps" in capsys.readouterr().err
