"""Fine-tuned top-layer prompt classifier: save/load, strict load, fail-closed, deterministic training, plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmos_lite.guardrail import PromptGuard
from cosmos_lite.guardrail.normalize import normalize
from cosmos_lite.guardrail.prompt_classifier import ClassifierScore
from cosmos_lite.guardrail.prompt_corpus import CLASSES
from cosmos_lite.guardrail.prompt_guard import combine
from cosmos_lite.guardrail.tuned_classifier import (
    HiddenStates, TunedTopClassifier, TunedTopConfig, TunedTrainConfig, fit,
)

TINY = TunedTopConfig(base_layers=2, layers=1, hidden_size=16, heads=2, intermediate=32, ngram_buckets=64,
                      threshold=0.7)


def _inputs(n: int = 3, t: int = 5, d: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    mask = torch.ones(n, t, dtype=torch.long)
    mask[0, 3:] = 0  # padding must not change a row's score
    return torch.randn(n, t, d, generator=g), mask


def test_save_load_identity(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TunedTopClassifier(TINY)
    with torch.no_grad():
        model.ngrams.weight.normal_()
    model.save_pretrained(tmp_path / "tuned", dtype=torch.float16)
    back = TunedTopClassifier.from_pretrained(tmp_path / "tuned")
    assert back.config == model.config
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["_class_name"] == "TunedTopClassifier"
    model.half().float()  # what the float16 file holds
    hidden, mask = _inputs()
    texts = ["a car shoots past", "a man stabs the cyclist", "fog at dawn"]
    assert [s.unsafe for s in back.score(hidden, mask, texts)] == [s.unsafe for s in model.score(hidden, mask, texts)]
    # padded positions are ignored
    short = back.score(hidden[:1, :3], mask[:1, :3], texts[:1])[0].unsafe
    assert short == pytest.approx(back.score(hidden[:1], mask[:1], texts[:1])[0].unsafe, abs=1e-6)


@pytest.mark.parametrize("change", [{"layers": 2}, {"intermediate": 64}, {"ngram_buckets": 0}, {"hidden_size": 8}])
def test_strict_load_refuses_a_mismatched_config(tmp_path: Path, change: dict) -> None:
    TunedTopClassifier(TINY).save_pretrained(tmp_path / "tuned")
    cfg = json.loads((tmp_path / "tuned" / "config.json").read_text())
    (tmp_path / "tuned" / "config.json").write_text(json.dumps({**cfg, **change}))
    with pytest.raises(ValueError, match="do not match"):
        TunedTopClassifier.from_pretrained(tmp_path / "tuned")


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        TunedTopConfig(layers=7)
    with pytest.raises(ValueError):
        TunedTopConfig(hidden_size=10, heads=3)
    with pytest.raises(ValueError):
        TunedTopConfig(threshold=1.0)
    with pytest.raises(ValueError, match="unknown"):
        TunedTopConfig.from_dict({"layers": 1, "extra": 2})


def test_init_from_encoder_reproduces_minilm() -> None:
    """The copied top layer over the hidden states entering it gives MiniLM's last hidden state."""
    cfg = TunedTopConfig(layers=1)
    states = HiddenStates(cfg.input_layer)
    model = TunedTopClassifier(cfg).init_from_encoder(states.model)
    batch = states.tokenizer(["a car rams the crowd", "fog at dawn on a quiet country road"], padding=True,
                             return_tensors="pt")
    with torch.no_grad():
        out = states.model(**batch, output_hidden_states=True)
        keep = batch["attention_mask"].float()
        bias = ((1.0 - keep) * torch.finfo(torch.float32).min)[:, None, None, :]
        mine = model.layers[0](out.hidden_states[cfg.input_layer], bias)
    real = batch["attention_mask"].bool()
    assert torch.allclose(mine[real], out.last_hidden_state[real], atol=1e-4)


TINY_CORPUS = [("the van drives into the crowd on purpose", "vehicle_attack"),
               ("a man stabs the cyclist at the light", "violence"),
               ("he jumps off the bridge to end his life", "self_harm"),
               ("a truck drives slowly past the crowd", "safe"),
               ("the cyclist waits at the light in the rain", "safe"),
               ("a bridge over the river at dawn", "safe")]


def test_training_is_deterministic_and_fits_a_tiny_corpus() -> None:
    torch.set_num_threads(1)
    cfg = TunedTrainConfig(layers=1, epochs=25, batch=3, ngram_buckets=256, lr_layers=3e-4, lr_head=1e-2)
    texts = [t for t, _ in TINY_CORPUS]
    labels = np.array([CLASSES.index(lab) for _, lab in TINY_CORPUS], dtype=np.int64)
    states = HiddenStates(TunedTopConfig(layers=1).input_layer)
    a = fit(texts, labels, cfg, states)
    b = fit(texts, labels, cfg, states)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    hidden, mask = states(texts)
    scores = [s.unsafe for s in a.score(hidden, mask, texts)]
    assert all((s > 0.5) == (lab != "safe") for s, (_, lab) in zip(scores, TINY_CORPUS)), scores


def test_guard_fails_closed_without_tuned_weights(tmp_path: Path) -> None:
    verdict = PromptGuard(tuned=tmp_path / "nowhere").check("a quiet country road at dawn")
    assert verdict.blocked and verdict.categories == ("classifier_error",)
    assert "cannot be loaded" in verdict.reasons[0]
    # weights that do not match their config also block
    TunedTopClassifier(TunedTopConfig(layers=1)).save_pretrained(tmp_path / "bad")
    cfg = json.loads((tmp_path / "bad" / "config.json").read_text())
    (tmp_path / "bad" / "config.json").write_text(json.dumps({**cfg, "layers": 2}))
    assert PromptGuard(tuned=tmp_path / "bad").check("a quiet country road at dawn").categories == ("classifier_error",)


def test_guard_fails_closed_when_the_encoder_has_no_hidden_states() -> None:
    class _Flat:
        def embed(self, texts):
            return np.ones((len(texts), 384), np.float32) / np.sqrt(384)

    verdict = PromptGuard(encoder=_Flat(), tuned=True).check("a quiet country road at dawn")
    assert verdict.blocked and verdict.categories == ("classifier_error",)


def test_bundled_guard_uses_the_tuned_model() -> None:
    guard = PromptGuard()
    assert not guard.check("a quiet country road at dawn").blocked
    assert guard.tuned is not None and guard.tuned.config.layers >= 1
    assert PromptGuard(tuned=False).tuned is None


def test_combine_averages_relative_scores() -> None:
    head, top = ClassifierScore(0.9, "violence", 0.8), ClassifierScore(0.5, "gore", 0.75)
    both = combine(head, top)
    assert both.threshold == pytest.approx(0.775)
    assert both.blocked == ((0.9 / 0.8 + 0.5 / 0.75) / 2 >= 1) and both.category == "violence"
    assert combine(ClassifierScore(0.79, "violence", 0.8), ClassifierScore(0.74, "gore", 0.75)).blocked is False
    assert combine(ClassifierScore(0.81, "violence", 0.8), ClassifierScore(0.76, "gore", 0.75)).blocked is True


def test_wide_gaps_between_spaced_letters_are_word_boundaries() -> None:
    assert normalize("r u n  o v e r  t h e  k i d s").for_embedding == "run over the kids"
    assert normalize("the d r i v e r   s t a b s   the passenger").for_embedding == "the driver stabs the passenger"
    assert normalize("a car  at night").for_embedding == "a car at night"
    assert normalize("k i l l the driver").for_embedding == "kill the driver"


def test_bundled_guardrail_weights_stay_small() -> None:
    weights = Path(__file__).resolve().parents[1] / "guardrail" / "weights"
    total = sum(p.stat().st_size for p in weights.rglob("*") if p.is_file())
    assert (weights / "prompt-tuned-top" / "model.safetensors").is_file()
    assert total <= 10 * 1024 * 1024, f"guardrail/weights holds {total / 1e6:.1f} MB"
