"""Prompt classifier on a fine-tuned copy of MiniLM's top transformer layer(s).

A mean-pooled sentence embedding blurs intent: "a car hits the jogger after
skidding" and "a car chases the jogger and runs him over" pool to nearly the
same vector, and no head on that vector can tell them apart reliably. This
model fine-tunes the TOP ``layers`` transformer layers of the shipped
all-MiniLM-L6-v2 (initialised from its weights) plus a linear head on their
mean-pooled output, on the templated corpus of ``prompt_corpus.py`` and the
other training prompts. The lower ``base_layers - layers`` layers stay frozen
and shared: the guard runs MiniLM once per reading (the semantic stage needs
its embedding anyway), keeps the hidden states entering the top layers, and
runs the fine-tuned layers over them as a second short pass. Only the
fine-tuned layers and the head ship (float16, a few MB), through the project's
one save/load mechanism (``cosmos_lite.pretrained.Pretrained``: config.json +
model.safetensors, strict, no pickles).

An optional hashed word / character n-gram linear head (``ngram_buckets``,
``prompt_classifier.ngram_features``) is summed into the logits and trained
jointly, a random fraction of each prompt's n-grams dropped per step.

Retrain (CPU, one thread, about eight minutes; deterministic for a seed; writes the bundled weights)::

    python benchmarks/guardrail_suite.py --export-training /tmp/guardrail-train
    python -m cosmos_lite.guardrail.tuned_classifier --out guardrail/weights/prompt-tuned-top \\
        --extra /tmp/guardrail-train/train.jsonl --calibrate /tmp/guardrail-train/calibrate.jsonl \\
        --calibrate tests/data/prompts/safe.jsonl

Calibration (training time): the threshold is ``TunedTrainConfig.margin`` above
the highest unsafe score of the default catalog's wordings and simulator
captions of test-split scenes (a hard constraint: none of them is blocked) and
above the ``calibration_quantile`` quantile of the ``--calibrate`` prompts
(never trained on), so one odd calibration prompt does not set the threshold
for every unsafe one; the calibration prompts still blocked are listed in
``training.json``. The frozen held-out suites are never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cosmos_lite.pretrained import Pretrained, config_from_dict, write_json

from .prompt_classifier import (BUNDLED_DIR, ClassifierScore, PromptClassifierError, add_ngram_logits,
                                classifier_readings, ngram_batch, ngram_features, read_jsonl, scene_prompts,
                                scores_from_logits)
from .prompt_corpus import CLASSES, SAFE, LabelledPrompt, training_corpus

DEFAULT_NAME = "prompt-tuned-top"


@dataclass(frozen=True)
class TunedTopConfig:
    classes: tuple[str, ...] = CLASSES  # output order; classes[0] must be "safe"
    base_layers: int = 6  # layers of the frozen encoder (all-MiniLM-L6-v2)
    layers: int = 1  # top layers replaced by fine-tuned copies; their input is hidden state base_layers - layers
    hidden_size: int = 384
    heads: int = 12
    intermediate: int = 1536
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1
    ngram_buckets: int = 0  # hashed n-gram linear head beside the pooled one (0: none)
    threshold: float = 0.5  # unsafe probability (1 - p(safe)) at which the guard blocks; set by calibration

    def __post_init__(self) -> None:
        if not self.classes or self.classes[0] != SAFE or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct and start with {SAFE!r}, got {self.classes}")
        if not 1 <= self.layers <= self.base_layers:
            raise ValueError(f"layers must be in [1, base_layers={self.base_layers}], got {self.layers}")
        if self.hidden_size < 1 or self.heads < 1 or self.hidden_size % self.heads or self.intermediate < 1:
            raise ValueError(f"invalid sizes: hidden_size={self.hidden_size}, heads={self.heads}, "
                             f"intermediate={self.intermediate}")
        if self.ngram_buckets < 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"invalid ngram_buckets={self.ngram_buckets} or dropout={self.dropout}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")

    @property
    def input_layer(self) -> int:
        """Index into the encoder's hidden states (0: embeddings) that the fine-tuned layers read."""
        return self.base_layers - self.layers

    @classmethod
    def from_dict(cls, d: dict) -> TunedTopConfig:
        return config_from_dict(cls, d)


class _EncoderLayer(nn.Module):
    """One post-LayerNorm BERT layer (MiniLM's), written out so the weights do not depend on transformers."""

    def __init__(self, cfg: TunedTopConfig) -> None:
        super().__init__()
        d = cfg.hidden_size
        self.heads = cfg.heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.attn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.ffn_in = nn.Linear(d, cfg.intermediate)
        self.ffn_out = nn.Linear(cfg.intermediate, d)
        self.ffn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        h = self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(n, t, h, d // h).transpose(1, 2)

        ctx = nn.functional.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                                         split(self.value(x)), attn_mask=bias)
        x = self.attn_norm(x + self.drop(self.attn_out(ctx.transpose(1, 2).reshape(n, t, d))))
        return self.ffn_norm(x + self.drop(self.ffn_out(nn.functional.gelu(self.ffn_in(x)))))

    # MiniLM (transformers BertLayer) parameter names of each of ours
    HF_NAMES = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
                "ffn_in": "intermediate.dense", "ffn_out": "output.dense", "ffn_norm": "output.LayerNorm"}


class TunedTopClassifier(Pretrained, nn.Module):
    """Hidden states ``[N, T, hidden]`` entering the top layers + attention mask ``[N, T]`` -> logits."""

    config_class = TunedTopConfig
    bundled_dir = BUNDLED_DIR
    default_name = DEFAULT_NAME

    def __init__(self, config: TunedTopConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or TunedTopConfig()
        n = len(cfg.classes)
        self.layers = nn.ModuleList(_EncoderLayer(cfg) for _ in range(cfg.layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden_size, n)
        self.ngrams = nn.EmbeddingBag(cfg.ngram_buckets, n, mode="sum") if cfg.ngram_buckets else None
        if self.ngrams is not None:
            nn.init.zeros_(self.ngrams.weight)
        self.eval()

    def init_from_encoder(self, encoder: nn.Module) -> TunedTopClassifier:
        """Copy the top ``layers`` layers of a transformers BERT encoder (the shipped MiniLM) into ours."""
        hf_layers = encoder.encoder.layer  # type: ignore[union-attr]
        if len(hf_layers) != self.config.base_layers:
            raise ValueError(f"encoder has {len(hf_layers)} layers, config says {self.config.base_layers}")
        hf_state = {k: v for k, v in encoder.state_dict().items()}
        state = {}
        for i, layer in enumerate(self.layers):
            src = self.config.input_layer + i
            for ours, theirs in _EncoderLayer.HF_NAMES.items():
                for p in ("weight", "bias"):
                    state[f"{ours}.{p}"] = hf_state[f"encoder.layer.{src}.{theirs}.{p}"]
            layer.load_state_dict(state, strict=True)
        return self

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor,
                ngrams: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        keep = mask.to(hidden.dtype)
        bias = ((1.0 - keep) * torch.finfo(hidden.dtype).min)[:, None, None, :]
        x = hidden
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        return add_ngram_logits(self.head(self.drop(pooled)), self.ngrams, ngrams)

    def score(self, hidden: torch.Tensor, mask: torch.Tensor, texts: Sequence[str]) -> list[ClassifierScore]:
        """One score per row: ``hidden`` the encoder's hidden states ``config.input_layer``, ``texts`` the readings."""
        if hidden.ndim != 3 or hidden.shape[-1] != self.config.hidden_size or mask.shape != hidden.shape[:2]:
            raise ValueError(f"expected hidden [N, T, {self.config.hidden_size}] and mask [N, T], got "
                             f"{list(hidden.shape)} and {list(mask.shape)}")
        if isinstance(texts, str) or len(texts) != len(hidden):
            raise ValueError(f"expected {len(hidden)} texts")
        ngrams = ngram_batch(texts, self.config.ngram_buckets) if self.config.ngram_buckets else None
        with torch.inference_mode():
            logits = self(hidden.float(), mask, ngrams)
        return scores_from_logits(logits, self.config.classes, self.config.threshold, "tuned classifier")

    def with_threshold(self, threshold: float) -> TunedTopClassifier:
        self.config = dataclasses.replace(self.config, threshold=float(threshold))
        return self


# -- encoder hidden states ----------------------------------------------------------------


class HiddenStates:
    """The shipped MiniLM's hidden states entering layer ``layer`` (frozen), batched by length."""

    def __init__(self, layer: int, max_length: int = 128) -> None:
        from cosmos_lite.pretrained import load_text_model, minilm_path

        self.tokenizer, self.model = load_text_model(minilm_path(), local_files_only=True)
        self.layer = layer
        self.max_length = max_length

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")
        with torch.inference_mode():
            out = self.model(**batch, output_hidden_states=True)
        return out.hidden_states[self.layer].clone(), batch["attention_mask"].clone()

    def batches(self, texts: Sequence[str], batch: int = 64) -> list[tuple[list[int], torch.Tensor, torch.Tensor]]:
        """``(indices, hidden float16, mask)`` per batch of similar length."""
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        out = []
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            hidden, mask = self([texts[j] for j in idx])
            out.append((idx, hidden.half(), mask))
        return out


def score_batches(model: TunedTopClassifier, batches: Sequence[tuple[list[int], torch.Tensor, torch.Tensor]],
                  texts: Sequence[str]) -> np.ndarray:
    """Unsafe score per text of precomputed ``HiddenStates.batches``."""
    out = np.zeros(len(texts), np.float64)
    for idx, hidden, mask in batches:
        for i, s in zip(idx, model.score(hidden, mask, [texts[j] for j in idx])):
            out[i] = s.unsafe
    return out


def score_prompts(model: TunedTopClassifier, texts: Sequence[str], states: HiddenStates | None = None) -> np.ndarray:
    """The verdict score on raw prompts, read the way the guard reads them (lowest over the readings)."""
    states = states or HiddenStates(model.config.input_layer)
    per_prompt = [classifier_readings(t) for t in texts]
    flat = [r for rs in per_prompt for r in rs]
    scores = score_batches(model, states.batches(flat), flat) if flat else np.zeros(0)
    out, i = [], 0
    for rs in per_prompt:
        out.append(float(scores[i:i + len(rs)].min()) if rs else 0.0)
        i += len(rs)
    return np.array(out)


# -- training ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TunedTrainConfig:
    fills: int = 12  # draws per corpus template
    obfuscated: float = 0.25
    corpus_seed: int = 0
    caption_seeds: int = 200
    calibration_seeds: int = 150
    layers: int = 1
    dropout: float = 0.1
    ngram_buckets: int = 1 << 15
    ngram_dropout: float = 0.3
    epochs: int = 4
    batch: int = 32
    lr_layers: float = 1e-4
    lr_head: float = 2e-3
    lr_ngrams: float = 1e-2
    weight_decay: float = 1e-2
    label_smoothing: float = 0.05
    seed: int = 0
    margin: float = 0.02
    min_threshold: float = 0.5
    # scene prompts are a hard constraint (max); the other calibration prompts set the threshold at this quantile
    calibration_quantile: float = 0.999

    def __post_init__(self) -> None:
        if not 0.5 <= self.calibration_quantile <= 1.0:
            raise ValueError(f"calibration_quantile must be in [0.5, 1], got {self.calibration_quantile}")
        if self.epochs < 1 or self.batch < 1 or self.layers < 1:
            raise ValueError(f"invalid epochs={self.epochs}, batch={self.batch}, layers={self.layers}")


def fit(readings: Sequence[str], labels: np.ndarray, cfg: TunedTrainConfig,
        states: HiddenStates | None = None, log: bool = False) -> TunedTopClassifier:
    """Minibatch AdamW on the top layers, the head and the n-gram head; class weights balance safe vs unsafe."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model_cfg = TunedTopConfig(layers=cfg.layers, dropout=cfg.dropout, ngram_buckets=cfg.ngram_buckets)
    states = states or HiddenStates(model_cfg.input_layer)
    if states.layer != model_cfg.input_layer:
        raise ValueError(f"hidden states of layer {states.layer}, model reads layer {model_cfg.input_layer}")
    model = TunedTopClassifier(model_cfg).init_from_encoder(states.model)
    batches = states.batches(readings, cfg.batch)
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    weights = np.zeros(len(CLASSES))
    present = counts[1:] > 0
    weights[0] = 0.5 / max(counts[0], 1.0)
    weights[1:][present] = 0.5 / present.sum() / counts[1:][present]
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights * len(labels), dtype=torch.float32),
                                  label_smoothing=cfg.label_smoothing)
    groups = [{"params": list(model.layers.parameters()), "lr": cfg.lr_layers, "weight_decay": cfg.weight_decay},
              {"params": list(model.head.parameters()), "lr": cfg.lr_head, "weight_decay": cfg.weight_decay}]
    if model.ngrams is not None:
        groups.append({"params": list(model.ngrams.parameters()), "lr": cfg.lr_ngrams, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups)
    total = cfg.epochs * len(batches)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 0.5 * (1 + math.cos(math.pi * min(s, total) / total))))
    feats = [[ngram_features(readings[j], cfg.ngram_buckets) for j in idx] for idx, _, _ in batches] \
        if model.ngrams is not None else None
    y_all = torch.from_numpy(labels)
    model.train()
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(batches), generator=gen).tolist()
        total_loss = 0.0
        for b in order:
            idx, hidden, mask = batches[b]
            ngrams = None
            if feats is not None:
                ids, offsets, w = [], [], []
                for f in feats[b]:
                    keep = [x for x, r in zip(f, torch.rand(len(f), generator=gen).tolist()) if r >= cfg.ngram_dropout]
                    offsets.append(len(ids))
                    ids += keep
                    w += [1.0 / max(len(keep), 1) ** 0.5] * len(keep)
                ngrams = (torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long),
                          torch.tensor(w, dtype=torch.float32))
            opt.zero_grad()
            loss = loss_fn(model(hidden.float(), mask, ngrams), y_all[idx])
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss.detach()) * len(idx)
        if log:
            print(f"epoch {epoch + 1}/{cfg.epochs}: loss {total_loss / len(readings):.4f} "
                  f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return model.eval()


def train(cfg: TunedTrainConfig = TunedTrainConfig(), extra: Sequence[LabelledPrompt] = (),
          calibration: Sequence[str] = (), log: bool = False) -> tuple[TunedTopClassifier, dict]:
    """Train on the corpus, ``extra`` and simulator prompts; calibrate the threshold; returns (model, report)."""
    start = time.perf_counter()
    corpus = training_corpus(cfg.fills, cfg.obfuscated, cfg.corpus_seed) + list(extra)
    scenes = scene_prompts(range(cfg.caption_seeds), "train")
    texts = [p.text for p in corpus] + scenes
    labels = [CLASSES.index(p.label) for p in corpus] + [0] * len(scenes)
    pairs = list(dict.fromkeys((r, int(y)) for t, y in zip(texts, labels) for r in classifier_readings(t)))
    readings, y = [r for r, _ in pairs], np.array([lab for _, lab in pairs], dtype=np.int64)
    states = HiddenStates(TunedTopConfig(layers=cfg.layers).input_layer)
    model = fit(readings, y, cfg, states, log=log)
    calib_scenes = scene_prompts(range(cfg.calibration_seeds), "test")
    calib = calib_scenes + list(calibration)
    scores = score_prompts(model, calib, states)
    scene_scores, other = scores[:len(calib_scenes)], scores[len(calib_scenes):]
    scene_max = float(scene_scores.max())
    other_q = float(np.quantile(other, cfg.calibration_quantile, method="higher")) if len(other) else 0.0
    threshold = max(cfg.min_threshold, scene_max + cfg.margin, other_q + cfg.margin)
    if threshold >= 1.0:
        worst = int(scores.argmax())
        raise PromptClassifierError(f"cannot calibrate: legitimate prompt {calib[worst]!r} scores {scores[worst]:.3f}")
    model.with_threshold(threshold)
    blocked = [calib[i] for i in np.flatnonzero(scores >= threshold)]
    report = {
        "train_prompts": len(texts), "train_readings": len(readings), "train_unsafe": int((y > 0).sum()),
        "extra_prompts": len(extra), "calibration_prompts": len(calib), "calibration_scene_max": scene_max,
        "calibration_max": float(scores.max()), "calibration_quantile_score": other_q,
        "calibration_blocked": blocked, "threshold": threshold,
        "seconds": round(time.perf_counter() - start, 1), "train_config": asdict(cfg),
    }
    return model, report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train and calibrate the fine-tuned top-layer prompt classifier.")
    ap.add_argument("--out", required=True, help="model directory to write (config.json + model.safetensors)")
    ap.add_argument("--extra", action="append", default=[], help='JSONL of labelled prompts {"text", "label"}')
    ap.add_argument("--calibrate", action="append", default=[], help='JSONL of legitimate prompts {"text"}')
    ap.add_argument("--epochs", type=int, default=TunedTrainConfig.epochs)
    ap.add_argument("--layers", type=int, default=TunedTrainConfig.layers)
    ap.add_argument("--ngram-buckets", type=int, default=TunedTrainConfig.ngram_buckets)
    ap.add_argument("--lr-layers", type=float, default=TunedTrainConfig.lr_layers)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    extra = [p for path in args.extra for p in read_jsonl(path, labelled=True)]
    calibration = [p.text for path in args.calibrate for p in read_jsonl(path, labelled=False)]
    cfg = TunedTrainConfig(epochs=args.epochs, layers=args.layers, ngram_buckets=args.ngram_buckets,
                           lr_layers=args.lr_layers)
    model, report = train(cfg, extra=extra, calibration=calibration, log=True)
    out = model.save_pretrained(args.out, dtype=torch.float16)
    write_json(Path(out) / "training.json", {**report, "extra": args.extra, "calibrate": args.calibrate})
    print(json.dumps({k: v for k, v in report.items() if k != "calibration_blocked"}, indent=2))
    print(f"calibration prompts blocked: {len(report['calibration_blocked'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
