"""Learned prompt classifier: save/load, fail-closed, bad input, training flags, runner plumbing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmos_lite.guardrail import Check, GuardrailRunner, PrivacyConfig, PromptGuard, Verdict
from cosmos_lite.guardrail import prompt_classifier as pc
from cosmos_lite.guardrail.prompt_classifier import (
    PromptClassifier, PromptClassifierConfig, PromptClassifierError, TrainConfig,
)
from cosmos_lite.guardrail.prompt_corpus import CLASSES, LabelledPrompt, obfuscate, training_corpus

DIM = 8


class _FlatEncoder:
    """Every text embeds the same: the semantic stage passes, the classifier sees one vector."""

    def embed(self, texts):
        return np.ones((len(texts), DIM), np.float32) / np.sqrt(DIM)


class _HashEncoder:
    """Bag of hashed words: cheap, deterministic, different texts get different vectors."""

    def embed(self, texts):
        out = np.zeros((len(texts), 32), np.float32)
        for i, t in enumerate(texts):
            for w in t.split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 32] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def _uniform(threshold: float, dim: int = DIM) -> PromptClassifier:
    """Zero weights: every class 1/9, unsafe score 8/9 = 0.89."""
    model = PromptClassifier(PromptClassifierConfig(embed_dim=dim, hidden=0, threshold=threshold))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def test_save_load_identity(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = PromptClassifier(PromptClassifierConfig(embed_dim=DIM, hidden=16, threshold=0.7))
    model.save_pretrained(tmp_path / "clf")
    back = PromptClassifier.from_pretrained(tmp_path / "clf")
    assert back.config == model.config
    x = np.random.default_rng(0).normal(size=(5, DIM)).astype(np.float32)
    assert [s.unsafe for s in back.score(x)] == [s.unsafe for s in model.score(x)]
    assert json.loads((tmp_path / "clf" / "config.json").read_text())["_class_name"] == "PromptClassifier"


def test_save_load_identity_with_ngram_features(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = PromptClassifier(PromptClassifierConfig(embed_dim=DIM, hidden=16, ngram_buckets=64, threshold=0.7))
    with torch.no_grad():
        model.ngrams.weight.normal_()  # zero-initialised: give the n-gram head something to save
    model.save_pretrained(tmp_path / "clf")
    back = PromptClassifier.from_pretrained(tmp_path / "clf")
    assert back.config == model.config and back.config.ngram_buckets == 64
    x = np.random.default_rng(0).normal(size=(3, DIM)).astype(np.float32)
    texts = ["a car shoots past", "a man stabs the cyclist", "fog at dawn"]
    assert [s.unsafe for s in back.score(x, texts)] == [s.unsafe for s in model.score(x, texts)]
    # the n-gram head reads the text: the same embedding with another text scores differently
    assert model.score(x[:1], ["a car shoots past"])[0].unsafe != model.score(x[:1], ["kill them all"])[0].unsafe
    # a directory whose config lacks the n-gram table the weights hold (or the reverse) is refused
    cfg = json.loads((tmp_path / "clf" / "config.json").read_text())
    (tmp_path / "clf" / "config.json").write_text(json.dumps({**cfg, "ngram_buckets": 0}))
    with pytest.raises(ValueError, match="do not match"):
        PromptClassifier.from_pretrained(tmp_path / "clf")


def test_ngram_features_are_deterministic_and_bounded() -> None:
    a = pc.ngram_features("The driver un-alives himself", 1 << 15)
    assert a == pc.ngram_features("the driver un-alives himself", 1 << 15) == sorted(set(a))
    assert all(0 <= i < 1 << 15 for i in a) and len(a) > 20
    assert pc.ngram_features("", 16) == []
    ids, offsets, weights = pc.ngram_batch(["a b", "c"], 1 << 10)
    assert offsets.tolist() == [0, len(pc.ngram_features("a b", 1 << 10))] and len(ids) == len(weights)
    with pytest.raises(ValueError, match="buckets must be >= 1"):
        pc.ngram_features("x", 0)


def test_classifier_readings_blank_driving_senses() -> None:
    assert pc.classifier_readings("A vintage car with suicide doors") == [
        "a vintage car with suicide doors", "a vintage car with" + " " * 14]
    assert pc.classifier_readings("a man shoots the cyclist") == ["a man shoots the cyclist"]
    assert pc.classifier_readings("the d r i v e r sh0ots") == ["the driver shoots"]
    assert pc.classifier_readings("kill the engine") == []  # nothing left but a driving sense
    assert pc.classifier_readings("...") == []


def _word_classifier(word: str) -> PromptClassifier:
    """Safe by default (MLP bias); the n-gram head says 'self_harm' for texts with ``word`` in them."""
    buckets = 1 << 12
    model = PromptClassifier(PromptClassifierConfig(embed_dim=DIM, hidden=0, ngram_buckets=buckets, threshold=0.5))
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
        model.head[-1].bias[0] = 5.0
        model.ngrams.weight[pc.ngram_features(word, buckets), CLASSES.index("self_harm")] = 20.0
    return model


def test_classifier_blocks_only_when_every_reading_is_unsafe() -> None:
    guard = PromptGuard(encoder=_FlatEncoder(), classifier=_word_classifier("suicide"))
    # "suicide doors" is a driving sense: blanked, the second reading is safe, so the head passes it
    assert not guard.check_classifier("a vintage car with suicide doors").blocked
    verdict = guard.check_classifier("the driver commits suicide")
    assert verdict.blocked and verdict.categories == ("self_harm",)
    # a driving sense does not launder the rest of the prompt: "suicide" outside it is in both readings
    assert guard.check_classifier("a car with suicide doors, then the driver commits suicide").blocked


def test_bundled_classifier_loads_and_is_calibrated() -> None:
    model = PromptClassifier.from_pretrained()
    assert model.config.classes == CLASSES and 0.5 <= model.config.threshold < 1.0
    report = json.loads((pc.BUNDLED_DIR / pc.DEFAULT_NAME / "training.json").read_text())
    assert report["threshold"] == pytest.approx(model.config.threshold)


def test_threshold_decides(tmp_path: Path) -> None:
    text = "a quiet country road"
    assert not PromptGuard(encoder=_FlatEncoder(), classifier=_uniform(0.95)).check(text).blocked
    verdict = PromptGuard(encoder=_FlatEncoder(), classifier=_uniform(0.85)).check(text)
    assert verdict.blocked and "learned classifier says unsafe" in verdict.reasons[0]


def test_broken_weight_file_fails_closed(tmp_path: Path) -> None:
    _uniform(0.95).save_pretrained(tmp_path / "clf")
    (tmp_path / "clf" / "model.safetensors").write_bytes(b"not a safetensors file")
    guard = PromptGuard(encoder=_FlatEncoder(), classifier=tmp_path / "clf")
    with pytest.raises(PromptClassifierError, match="cannot be loaded"):
        guard.check_classifier("a quiet country road")
    verdict = guard.check("a quiet country road")
    assert verdict.blocked and verdict.categories == ("classifier_error",)
    missing = PromptGuard(encoder=_FlatEncoder(), classifier=tmp_path / "nowhere").check("a road")
    assert missing.blocked and missing.categories == ("classifier_error",)
    # config without its weights (a half-copied bundle): blocked, with the reason
    (tmp_path / "clf" / "model.safetensors").unlink()
    verdict = PromptGuard(encoder=_FlatEncoder(), classifier=tmp_path / "clf").check("a quiet country road")
    assert verdict.blocked and "missing model.safetensors" in verdict.reasons[0]


def test_nan_weights_and_wrong_encoder_fail_closed(tmp_path: Path) -> None:
    model = _uniform(0.95)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    verdict = PromptGuard(encoder=_FlatEncoder(), classifier=model).check("a quiet country road")
    assert verdict.blocked and "NaN" in verdict.reasons[0]
    # a classifier trained on another encoder's embeddings: a dimension mismatch, not a silent pass
    verdict = PromptGuard(encoder=_FlatEncoder(), classifier=_uniform(0.95, dim=384)).check("a road")
    assert verdict.blocked and verdict.categories == ("classifier_error",)


def test_runner_reports_and_disables_the_classifier() -> None:
    args = {"encoder": _FlatEncoder(), "privacy": PrivacyConfig(workers=1)}
    report = GuardrailRunner(**args, prompt_classifier=_uniform(0.85)).check_request(prompt="a quiet road")
    assert not report.allowed and report.check("prompt_classifier").verdict is Verdict.BLOCK
    runner = GuardrailRunner(**args, prompt_classifier=_uniform(0.85), disabled=(Check.PROMPT_CLASSIFIER,))
    report = runner.check_request(prompt="a quiet road")
    assert report.allowed and report.check("prompt_classifier").verdict is Verdict.DISABLED


def test_bad_input_errors() -> None:
    guard = PromptGuard(encoder=_FlatEncoder(), classifier=_uniform(0.95))
    for method in (guard.check, guard.check_classifier, guard.check_blocklist, guard.check_semantic):
        with pytest.raises(TypeError, match="expected str, got int"):
            method(3)  # type: ignore[arg-type]
    blocking = PromptGuard(encoder=_FlatEncoder(), classifier=_uniform(0.85))
    assert blocking.check_classifier("a road").blocked
    assert not blocking.check_classifier("   ").blocked and not blocking.check_classifier("...").blocked
    with pytest.raises(ValueError, match=r"expected embeddings \[N, 8\]"):
        _uniform(0.95).score(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        _uniform(0.95).score(np.full((1, DIM), np.nan, np.float32))
    with_ngrams = PromptClassifier(PromptClassifierConfig(embed_dim=DIM, hidden=0, ngram_buckets=32))
    with pytest.raises(ValueError, match="reads the texts too: expected 2 texts, got none"):
        with_ngrams.score(np.zeros((2, DIM), np.float32))
    with pytest.raises(ValueError, match="expected 2 texts, got 1"):
        with_ngrams.score(np.zeros((2, DIM), np.float32), ["one"])
    with pytest.raises(ValueError, match="got a str"):
        with_ngrams.score(np.zeros((2, DIM), np.float32), "ab")
    with pytest.raises(ValueError, match="ngram_buckets"):
        PromptClassifierConfig(ngram_buckets=-1)
    with pytest.raises(ValueError, match="threshold"):
        PromptClassifierConfig(threshold=1.0)
    with pytest.raises(ValueError, match="start with 'safe'"):
        PromptClassifierConfig(classes=("gore", "safe"))
    with pytest.raises(ValueError, match="unknown PromptClassifierConfig fields"):
        PromptClassifierConfig.from_dict({"hiden": 3})
    with pytest.raises(ValueError, match="fills must be"):
        training_corpus(fills=0)


def test_read_jsonl_rejects_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "a car rams the crowd", "label": "vehicle_attack"}\n\n')
    assert pc.read_jsonl(good, labelled=True) == [LabelledPrompt("a car rams the crowd", "vehicle_attack",
                                                                 str(good))]
    for body, match in (('{"text": "x", "label": "evil"}', "label"), ('{"text": "x"}', "label"),
                        ('{"label": "safe"}', "non-empty"), ("{oops", "not JSON")):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(body + "\n")
        with pytest.raises(ValueError, match=match):
            pc.read_jsonl(bad, labelled=True)


def _tiny() -> TrainConfig:
    return TrainConfig(fills=1, caption_seeds=3, calibration_seeds=3, hidden=8, epochs=5)


def test_train_extra_and_calibration_change_the_model() -> None:
    base, report = pc.train(_tiny(), _HashEncoder())
    assert report["extra_prompts"] == 0 and 0.5 <= report["threshold"] < 1.0
    extra = [LabelledPrompt(f"zz{i} qq{i}", "gore", "test") for i in range(20)]
    _, with_extra = pc.train(_tiny(), _HashEncoder(), extra=extra)
    assert with_extra["train_prompts"] == report["train_prompts"] + 20 and with_extra["extra_prompts"] == 20
    # a legitimate calibration prompt the model scores high raises the threshold above its score
    assert base.config.ngram_buckets == _tiny().ngram_buckets > 0
    scores = pc.score_prompts(base, _HashEncoder(), [p.text for p in extra])
    worst = extra[int(np.argmax([s.unsafe for s in scores]))].text
    _, calibrated = pc.train(_tiny(), _HashEncoder(), calibration=[worst])
    assert calibrated["calibration_prompts"] == report["calibration_prompts"] + 1
    top = max(s.unsafe for s in scores)  # the same seed trains the same model
    assert calibrated["threshold"] >= top + _tiny().margin - 1e-6


def test_main_passes_extra_and_calibrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake_train(cfg, encoder=None, extra=(), calibration=()):
        seen.update(extra=list(extra), calibration=list(calibration))
        return _uniform(0.9), {"threshold": 0.9}

    monkeypatch.setattr(pc, "train", fake_train)
    extra, calib = tmp_path / "extra.jsonl", tmp_path / "calib.jsonl"
    extra.write_text('{"text": "shoot the driver", "label": "violence"}\n')
    calib.write_text('{"text": "a car shoots past", "category": "tricky_words"}\n')
    assert pc.main(["--out", str(tmp_path / "m"), "--extra", str(extra), "--calibrate", str(calib)]) == 0
    assert [p.text for p in seen["extra"]] == ["shoot the driver"] and seen["calibration"] == ["a car shoots past"]
    assert PromptClassifier.from_pretrained(tmp_path / "m").config.threshold == 0.9
    written = json.loads((tmp_path / "m" / "training.json").read_text())
    assert written["extra"] == [str(extra)] and written["calibrate"] == [str(calib)]


def test_obfuscate_changes_words_and_is_seeded() -> None:
    import random

    text = "a truck deliberately drives into the crowd"
    a, b = obfuscate(text, random.Random(3)), obfuscate(text, random.Random(3))
    assert a == b and a != text


def test_classifier_readings_blank_harmless_senses_of_violent_words() -> None:
    # the word-sense rules of the default policy reach the classifiers' second reading
    readings = pc.classifier_readings("the gridlock is killing me on the ring road")
    assert len(readings) == 2 and "killing" in readings[0] and "killing" not in readings[1]
    assert pc.classifier_readings("the driver is killing the cyclist") == ["the driver is killing the cyclist"]


def test_sense_families_are_drawn_last_and_leave_the_other_draws_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from cosmos_lite.guardrail import prompt_corpus

    full = training_corpus(fills=2)
    r4_legit, r4_unsafe = prompt_corpus.R4_LEGIT, prompt_corpus.R4_UNSAFE
    sense_templates = {t for fam in (prompt_corpus.SENSE_LEGIT, prompt_corpus.SENSE_UNSAFE) for ts in fam.values()
                       for t in ts}
    sense = [p for p in full if p.template in sense_templates]
    assert {p.label for p in sense if p.template in prompt_corpus.SENSE_LEGIT["fatal_accident"]} == {"safe"}
    assert {"violence", "self_harm", "vehicle_attack", "safe"} <= {p.label for p in sense}
    monkeypatch.setattr(prompt_corpus, "SENSE_LEGIT", {})
    monkeypatch.setattr(prompt_corpus, "SENSE_UNSAFE", {})
    monkeypatch.setattr(prompt_corpus, "R4_LEGIT", {})
    monkeypatch.setattr(prompt_corpus, "R4_UNSAFE", {})
    r5_legit, r5_unsafe = prompt_corpus.R5_LEGIT, prompt_corpus.R5_UNSAFE
    r6_legit, r6_unsafe = prompt_corpus.R6_LEGIT, prompt_corpus.R6_UNSAFE
    r7_legit, r7_unsafe = prompt_corpus.R7_LEGIT, prompt_corpus.R7_UNSAFE
    r8_legit, r8_unsafe = prompt_corpus.R8_LEGIT, prompt_corpus.R8_UNSAFE
    for name in ("R5_LEGIT", "R5_UNSAFE", "R6_LEGIT", "R6_UNSAFE", "R7_LEGIT", "R7_UNSAFE", "R8_LEGIT", "R8_UNSAFE"):
        monkeypatch.setattr(prompt_corpus, name, {})
    before = training_corpus(fills=2)
    later = {t for fam in (r4_legit, r4_unsafe, r5_legit, r5_unsafe, r6_legit, r6_unsafe, r7_legit, r7_unsafe,
                           r8_legit, r8_unsafe)
             for ts in fam.values() for t in ts}
    assert [p for p in full if p.template not in sense_templates | later][:len(before)] == before


def test_fourth_to_eighth_round_families_come_last_with_harmless_twins(monkeypatch: pytest.MonkeyPatch) -> None:
    from cosmos_lite.guardrail import prompt_corpus

    full = training_corpus(fills=2)
    rounds = [(prompt_corpus.R4_LEGIT, prompt_corpus.R4_UNSAFE), (prompt_corpus.R5_LEGIT, prompt_corpus.R5_UNSAFE),
              (prompt_corpus.R6_LEGIT, prompt_corpus.R6_UNSAFE), (prompt_corpus.R7_LEGIT, prompt_corpus.R7_UNSAFE),
              (prompt_corpus.R8_LEGIT, prompt_corpus.R8_UNSAFE)]
    templates = [{t for fam in r for ts in fam.values() for t in ts} for r in rounds]
    drawn: list[list] = []
    for tpl in reversed(templates):  # a prompt drawn by a later round belongs to it (the slots overlap)
        taken = {id(p) for d in drawn for p in d}
        drawn.insert(0, [p for p in full if p.template in tpl and id(p) not in taken])
    r4, r5, r6, r7, r8 = drawn
    tail = full[len(full) - sum(map(len, drawn)):]
    assert all(drawn) and tail == r4 + r5 + r6 + r7 + r8  # each round after the one before, all after the rest
    for (legit, _), d in zip(rounds, drawn):
        twin = next(iter(legit))
        assert {p.label for p in d if p.template in legit[twin]} == {"safe"}
    assert {"vehicle_attack", "violence", "gore", "self_harm", "safe"} <= {p.label for p in r4}
    assert {"vehicle_attack", "violence", "safe"} <= {p.label for p in r5}
    assert {"vehicle_attack", "terrorism", "self_harm", "safe"} <= {p.label for p in r6}
    assert {"vehicle_attack", "violence", "self_harm", "safe"} <= {p.label for p in r7}
    assert {"vehicle_attack", "violence", "terrorism", "gore", "safe"} <= {p.label for p in r8}
    assert not any("{" in p.text for p in r4 + r5 + r6 + r7 + r8)  # nested slots are filled
    # the seventh family pairs every unsafe template with a twin in the same frame slots, about as many of each
    r7_safe = sum(p.label == "safe" for p in r7)
    assert 0.8 < r7_safe / (len(r7) - r7_safe) < 1.25
    # the eighth family likewise, and dropping it leaves every earlier draw as it was
    r8_safe = sum(p.label == "safe" for p in r8)
    assert 0.8 < r8_safe / (len(r8) - r8_safe) < 1.25
    monkeypatch.setattr(prompt_corpus, "R8_LEGIT", {})
    monkeypatch.setattr(prompt_corpus, "R8_UNSAFE", {})
    assert training_corpus(fills=2) == full[:len(full) - len(r8)]
    monkeypatch.setattr(prompt_corpus, "R7_LEGIT", {})
    monkeypatch.setattr(prompt_corpus, "R7_UNSAFE", {})
    assert training_corpus(fills=2) == full[:len(full) - len(r7) - len(r8)]


def test_slang_respelling_is_seeded_and_whole_word() -> None:
    import random

    from cosmos_lite.guardrail.prompt_corpus import _SLANG_TAGS, slang

    text = "the truck drives through the people over there"
    a, b = slang(text, random.Random(3), rate=1.0), slang(text, random.Random(3), rate=1.0)
    assert a == b and a.startswith("da truck drives thru da ppl ova there")  # "there" is not "the"
    assert slang(text, random.Random(3), rate=0.0) in {text + t for t in ("", *_SLANG_TAGS)}  # only a tag


def test_phonetic_respelling_is_seeded_and_keeps_the_sense() -> None:
    import random

    from cosmos_lite.guardrail.prompt_corpus import phonetic

    text = "the truck runs over the kids for fun"
    a, b = phonetic(text, random.Random(5), rate=1.0), phonetic(text, random.Random(5), rate=1.0)
    assert a == b == "da truk runz ovr da kidz 4 fun"
    assert phonetic(text, random.Random(5), rate=0.0) == text
