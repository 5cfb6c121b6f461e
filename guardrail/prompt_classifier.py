"""Learned prompt classifier: a small MLP head on the guard's MiniLM sentence embeddings.

The rules block the phrasings someone wrote down; on prompts written after
them they blocked 81 % of the unsafe ones of ``benchmarks/guardrail_heldout.json``.
This head is trained on a templated corpus (``prompt_corpus.py``) whose unsafe
and legitimate prompts share vehicles, people and verbs ("hits the cyclist on
purpose" / "hits the cyclist after skidding on ice"), so it learns intent and
target rather than words, plus other writers' prompts (the rule suite's dev
and held-out sets). It reads the embedding the semantic stage computes anyway,
so it costs one small matrix product per prompt. The guard blocks when the
rules or the head say unsafe.

Retrain (CPU, one thread, about five minutes; writes the bundled weights)::

    python benchmarks/guardrail_suite.py --export-training /tmp/guardrail-train
    python -m cosmos_lite.guardrail.prompt_classifier --out guardrail/weights/prompt-classifier \
        --extra /tmp/guardrail-train/train.jsonl --calibrate /tmp/guardrail-train/calibrate.jsonl \
        --calibrate tests/data/prompts/safe.jsonl

The threshold is calibrated at training time: the highest unsafe score of any
legitimate calibration prompt (the ``--calibrate`` files and the default
catalog's wordings and simulator captions of test-split scenes, none of them
trained on) plus ``TrainConfig.margin``, never below ``TrainConfig.min_threshold``.
The frozen held-out suites are never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cosmos_lite.pretrained import Pretrained, config_from_dict, write_json

from .normalize import normalize
from .prompt_corpus import CLASSES, SAFE, LabelledPrompt, training_corpus
from .text_encoder import MiniLMEmbedder, TextEmbedder

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_NAME = "prompt-classifier"


class PromptClassifierError(RuntimeError):
    """The classifier could not be loaded or run (the guard then blocks: fail closed)."""


@dataclass(frozen=True)
class PromptClassifierConfig:
    classes: tuple[str, ...] = CLASSES  # output order; classes[0] must be "safe"
    embed_dim: int = 384  # all-MiniLM-L6-v2
    hidden: int = 512  # 0: a linear (multinomial logistic) head
    dropout: float = 0.2
    # Unsafe probability (1 - p(safe)) at which the guard blocks; written by calibration.
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not self.classes or self.classes[0] != SAFE or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct and start with {SAFE!r}, got {self.classes}")
        if self.embed_dim < 1 or self.hidden < 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"invalid sizes: embed_dim={self.embed_dim}, hidden={self.hidden}, "
                             f"dropout={self.dropout}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")

    @classmethod
    def from_dict(cls, d: dict) -> PromptClassifierConfig:
        return config_from_dict(cls, d)


@dataclass(frozen=True)
class ClassifierScore:
    unsafe: float  # 1 - p(safe)
    category: str  # the most likely unsafe class
    threshold: float

    @property
    def blocked(self) -> bool:
        return self.unsafe >= self.threshold


class PromptClassifier(Pretrained, nn.Module):
    """Embedding ``[N, embed_dim]`` -> class logits ``[N, len(classes)]``."""

    config_class = PromptClassifierConfig
    bundled_dir = BUNDLED_DIR
    default_name = DEFAULT_NAME

    def __init__(self, config: PromptClassifierConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or PromptClassifierConfig()
        n = len(cfg.classes)
        if cfg.hidden:
            self.head = nn.Sequential(nn.Linear(cfg.embed_dim, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                      nn.Linear(cfg.hidden, n))
        else:
            self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.embed_dim, n))
        self.eval()

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.head(emb)

    def score(self, embeddings: np.ndarray) -> list[ClassifierScore]:
        """One score per row of L2-normalised float32 embeddings ``[N, embed_dim]``."""
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[1] != self.config.embed_dim:
            raise ValueError(f"expected embeddings [N, {self.config.embed_dim}], got {list(emb.shape)}")
        if not np.isfinite(emb).all():
            raise ValueError("embeddings contain NaN or inf")
        with torch.inference_mode():
            probs = torch.softmax(self(torch.from_numpy(emb)).float(), dim=-1).numpy()
        if not np.isfinite(probs).all():
            raise PromptClassifierError("classifier produced NaN scores (corrupt weights?)")
        top = probs[:, 1:].argmax(axis=1) + 1
        return [ClassifierScore(float(1.0 - p[0]), self.config.classes[int(t)], self.config.threshold)
                for p, t in zip(probs, top)]

    def with_threshold(self, threshold: float) -> PromptClassifier:
        self.config = dataclasses.replace(self.config, threshold=float(threshold))
        return self


def classifier_text(prompt: str) -> str:
    """What the classifier embeds: the normalised reading the semantic stage embeds too."""
    return normalize(prompt).for_embedding


# -- training ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    # Chosen on a validation split (suite sets dev + held-out trained, fresh + final + tests/data held
    # apart: 80 % of unsafe prompts caught at a threshold that passes every legitimate one), never on
    # the frozen held-out suite.
    fills: int = 12  # draws per corpus template
    obfuscated: float = 0.25  # fraction of corpus prompts obfuscated
    corpus_seed: int = 0
    caption_seeds: int = 200  # training-split scenes whose captions and catalog wordings are legitimate examples
    calibration_seeds: int = 150  # test-split scenes for calibration (never trained on)
    hidden: int = 512
    dropout: float = 0.2
    epochs: int = 500
    label_smoothing: float = 0.05  # keeps the head from being certain far from its data
    lr: float = 3e-3
    weight_decay: float = 1e-3
    seed: int = 0
    margin: float = 0.02  # added to the highest legitimate calibration score
    min_threshold: float = 0.5


def scene_prompts(seeds: range, split: str) -> list[str]:
    """Legitimate prompts of simulator scenes: every caption and default-catalog wording, per condition.

    Imported lazily: only training needs the simulator (the guard at run time does not).
    """
    from cosmos_lite.edge_cases.catalog import default_catalog
    from cosmos_lite.scenes import LIGHTINGS, WEATHERS, Scenario
    from cosmos_lite.scenes.caption import _event_phrase, caption

    conditions = sorted({c for item in default_catalog().items for c in item.conditions})
    out: dict[str, None] = {}
    for seed in seeds:
        sc = Scenario.sample(seed, split=split, salient=True)
        rng = np.random.default_rng([seed, 31])
        for weather in WEATHERS:
            for lighting in LIGHTINGS:
                out.setdefault(caption(dataclasses.replace(sc, weather=weather, lighting=lighting)))
        # the catalog's prompt is "{condition}, {event_phrase}" (edge_cases/plan.py)
        for condition in conditions:
            out.setdefault(f"{condition}, {_event_phrase(sc, rng)}")
    return list(out)


def embed_prompts(encoder: TextEmbedder, texts: Sequence[str], batch: int = 128) -> np.ndarray:
    """Embeddings of ``classifier_text`` of each prompt, ``[N, D]``; batches of similar length (less padding)."""
    if not texts:
        raise ValueError("no prompts to embed")
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: np.ndarray | None = None
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        part = np.asarray(encoder.embed([classifier_text(texts[j]) for j in idx]), dtype=np.float32)
        if out is None:
            out = np.zeros((len(texts), part.shape[1]), np.float32)
        out[idx] = part
    assert out is not None
    return out


def fit(emb: np.ndarray, labels: np.ndarray, cfg: TrainConfig) -> PromptClassifier:
    """Full-batch AdamW with class weights that give the safe and the unsafe side equal mass."""
    torch.manual_seed(cfg.seed)
    model = PromptClassifier(PromptClassifierConfig(embed_dim=emb.shape[1], hidden=cfg.hidden, dropout=cfg.dropout))
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    weights = np.zeros(len(CLASSES))
    unsafe_classes = counts[1:] > 0
    weights[0] = 0.5 / counts[0]
    weights[1:][unsafe_classes] = 0.5 / unsafe_classes.sum() / counts[1:][unsafe_classes]
    x, y = torch.from_numpy(emb), torch.from_numpy(labels)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights * len(labels), dtype=torch.float32),
                                  label_smoothing=cfg.label_smoothing)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    for _ in range(cfg.epochs):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return model.eval()


def read_jsonl(path: str | Path, labelled: bool) -> list[LabelledPrompt]:
    """Rows ``{"text": ..., "label": one of CLASSES}`` (``labelled``) or legitimate rows ``{"text": ...}``."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{n}: not JSON ({err})") from None
        text = row.get("text") if isinstance(row, dict) else None
        label = row.get("label", SAFE) if labelled else SAFE
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}:{n}: expected an object with a non-empty \"text\"")
        if label not in CLASSES or (labelled and "label" not in row):
            raise ValueError(f"{path}:{n}: \"label\" must be one of {list(CLASSES)}, got {row.get('label')!r}")
        out.append(LabelledPrompt(text, label, str(path)))
    return out


def train(cfg: TrainConfig = TrainConfig(), encoder: TextEmbedder | None = None,
          extra: Sequence[LabelledPrompt] = (), calibration: Sequence[str] = ()) -> tuple[PromptClassifier, dict]:
    """Train on the corpus, ``extra`` and simulator prompts; calibrate the threshold; returns (model, report).

    The threshold is the highest unsafe score among the legitimate calibration prompts (``calibration``
    plus the catalog wordings and captions of test-split scenes, none trained on) plus ``cfg.margin``.
    """
    encoder = encoder if encoder is not None else MiniLMEmbedder()
    start = time.perf_counter()
    corpus = training_corpus(cfg.fills, cfg.obfuscated, cfg.corpus_seed) + list(extra)
    scenes = scene_prompts(range(cfg.caption_seeds), "train")
    texts = [p.text for p in corpus] + scenes
    labels = np.array([CLASSES.index(p.label) for p in corpus] + [0] * len(scenes), dtype=np.int64)
    model = fit(embed_prompts(encoder, texts), labels, cfg)
    calib_scenes = scene_prompts(range(cfg.calibration_seeds), "test")
    calib = calib_scenes + list(calibration)
    scores = np.array([s.unsafe for s in model.score(embed_prompts(encoder, calib))])
    worst = int(scores.argmax())
    threshold = max(cfg.min_threshold, float(scores[worst]) + cfg.margin)
    if threshold >= 1.0:
        raise PromptClassifierError(f"cannot calibrate: legitimate prompt {calib[worst]!r} scores {scores[worst]:.3f}")
    model.with_threshold(threshold)
    report = {
        "train_prompts": len(texts), "train_unsafe": int((labels > 0).sum()), "extra_prompts": len(extra),
        "calibration_prompts": len(calib), "calibration_scene_max": float(scores[:len(calib_scenes)].max()),
        "calibration_max": float(scores[worst]), "calibration_max_prompt": calib[worst], "threshold": threshold,
        "seconds": round(time.perf_counter() - start, 1), "train_config": asdict(cfg),
    }
    return model, report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train and calibrate the guardrail's learned prompt classifier.")
    ap.add_argument("--out", required=True, help="model directory to write (config.json + model.safetensors)")
    ap.add_argument("--extra", action="append", default=[],
                    help='JSONL of labelled training prompts {"text", "label"} (repeatable)')
    ap.add_argument("--calibrate", action="append", default=[],
                    help='JSONL of legitimate prompts {"text"} the threshold must pass (repeatable)')
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    extra = [p for path in args.extra for p in read_jsonl(path, labelled=True)]
    calibration = [p.text for path in args.calibrate for p in read_jsonl(path, labelled=False)]
    model, report = train(TrainConfig(), extra=extra, calibration=calibration)
    out = model.save_pretrained(args.out)
    write_json(Path(out) / "training.json", {**report, "extra": args.extra, "calibrate": args.calibrate})
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
