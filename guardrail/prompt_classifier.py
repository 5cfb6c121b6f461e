"""Learned prompt classifier: an MLP head on MiniLM sentence embeddings plus a hashed n-gram logistic head.

The rules block the phrasings someone wrote down; on prompts written after
them they blocked 81 % of the unsafe ones of ``benchmarks/guardrail_heldout.json``.
This classifier is trained on a templated corpus (``prompt_corpus.py``) whose
unsafe and legitimate prompts share vehicles, people and verbs ("hits the
cyclist on purpose" / "hits the cyclist after skidding on ice"), so it learns
intent and target rather than words, plus other writers' prompts (the rule
suite's dev and held-out sets). Two heads are summed into one set of logits
and trained jointly:

- an MLP on the embedding the semantic stage computes anyway (one small
  matrix product per prompt), which carries paraphrase;
- a linear head on hashed word, word-pair and 3-5 letter n-grams of the same
  text (``ngram_features``: CRC32 into ``ngram_buckets`` rows), which reads
  what mean pooling blurs: a typo'd verb ("kil", "pedestrains"), one intent
  phrase ("on purpose", "has to die") in a long benign sentence. A random
  30 % of each prompt's n-grams is dropped per training epoch, so no single
  word decides.

Both read ``classifier_readings(prompt)``: the normalised prompt and, when it
has driving-sense phrases of the policy's allowlist, the same with those
blanked ("suicide doors", "kill the engine", "shoots past"); the classifier
says unsafe only when every reading does, the semantic stage's rule, and those
are the readings it embeds, so the embeddings are cached. The guard blocks
when the rules or the classifier say unsafe, and when the classifier cannot be
loaded or run.

Retrain (CPU, one thread, about seven minutes; writes the bundled weights)::

    python benchmarks/guardrail_suite.py --export-training /tmp/guardrail-train
    python -m cosmos_lite.guardrail.prompt_classifier --out guardrail/weights/prompt-classifier \
        --extra /tmp/guardrail-train/train.jsonl --calibrate /tmp/guardrail-train/calibrate.jsonl \
        --calibrate tests/data/prompts/safe.jsonl

The guard also runs ``tuned_classifier.TunedTopClassifier`` (MiniLM's top layer fine-tuned, over
the hidden states of the same encoder pass) and averages the two models' threshold-relative
scores (``prompt_guard.combine``); this module's model is unchanged by it.

The threshold is calibrated at training time: ``TrainConfig.margin`` above the
highest unsafe score of the default catalog's wordings and simulator captions
of test-split scenes (so none of them is blocked) and above the
``TrainConfig.calibration_quantile`` quantile of the ``--calibrate`` prompts
(none of them trained on), never below ``TrainConfig.min_threshold``; the
calibration prompts it still blocks are listed in ``training.json``.
The frozen held-out suites are never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
import zlib
from collections.abc import Callable, Sequence
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
    # Hashed word and character n-gram features with a linear (logistic) head beside the MLP; 0: none.
    # They read what a mean-pooled embedding blurs: a typo'd verb ("kil", "pedestrains"), one intent
    # word ("on purpose", "has to die") among many benign ones.
    ngram_buckets: int = 0
    # Unsafe probability (1 - p(safe)) at which the guard blocks; written by calibration.
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not self.classes or self.classes[0] != SAFE or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct and start with {SAFE!r}, got {self.classes}")
        if self.embed_dim < 1 or self.hidden < 0 or self.ngram_buckets < 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"invalid sizes: embed_dim={self.embed_dim}, hidden={self.hidden}, "
                             f"ngram_buckets={self.ngram_buckets}, dropout={self.dropout}")
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


def scores_from_logits(logits: torch.Tensor, classes: Sequence[str], threshold: float,
                       who: str) -> list[ClassifierScore]:
    """One :class:`ClassifierScore` per row of ``logits [N, classes]`` (``classes[0]`` is "safe");
    NaN scores are an error (``who`` names the classifier in it), so the guard fails closed."""
    probs = torch.softmax(logits.float(), dim=-1).numpy()
    if not np.isfinite(probs).all():
        raise PromptClassifierError(f"{who} produced NaN scores (corrupt weights?)")
    top = probs[:, 1:].argmax(axis=1) + 1
    return [ClassifierScore(float(1.0 - p[0]), classes[int(t)], threshold) for p, t in zip(probs, top)]


_NGRAM_WORD = re.compile(r"[a-z0-9]+")
_INNER_MARK = re.compile(r"(?<=[a-z0-9])[*._'\-](?=[a-z0-9])")


def ngram_features(text: str, buckets: int) -> list[int]:
    """Sorted distinct hashed features of ``text``: words, word pairs, and 3-5 letter pieces of each word.

    CRC32 of the feature string modulo ``buckets``: deterministic across runs and machines.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    text = text.lower()
    words = _NGRAM_WORD.findall(text)
    # a mark inside a word ("sh*oting", "un-alive", "k.ill") also reads as the word without it
    joined = _NGRAM_WORD.findall(_INNER_MARK.sub("", text))
    words += [w for w in joined if w not in words]
    feats = [f"w {w}" for w in words] + [f"b {a} {b}" for a, b in zip(words, words[1:])]
    for w in words:
        padded = f"<{w}>"
        feats += [f"c {padded[i:i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
    return sorted({zlib.crc32(f.encode()) % buckets for f in feats})


def ngram_batch(texts: Sequence[str], buckets: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``EmbeddingBag`` inputs for ``texts``: flat ids, offsets, and weights 1/sqrt(features) per text."""
    ids: list[int] = []
    offsets: list[int] = []
    weights: list[float] = []
    for text in texts:
        feats = ngram_features(text, buckets)
        offsets.append(len(ids))
        ids += feats
        weights += [1.0 / max(len(feats), 1) ** 0.5] * len(feats)
    return (torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long),
            torch.tensor(weights, dtype=torch.float32))


def add_ngram_logits(logits: torch.Tensor, bag: nn.EmbeddingBag | None,
                     ngrams: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    """``logits`` ``[N, classes]`` plus the n-gram head ``bag``'s on :func:`ngram_batch` inputs (none: as is)."""
    if bag is None:
        return logits
    if ngrams is None:
        raise ValueError("this classifier reads n-gram features: pass ngram_batch(texts, buckets)")
    ids, offsets, weights = ngrams
    return logits + bag(ids, offsets, per_sample_weights=weights)


class PromptClassifier(Pretrained, nn.Module):
    """Embedding ``[N, embed_dim]`` (and, with ``ngram_buckets``, the texts) -> class logits ``[N, classes]``.

    The logits are the MLP's on the sentence embedding plus, with ``ngram_buckets > 0``, a linear
    head on hashed word and character n-grams of the same text (trained jointly).
    """

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
        self.ngrams = nn.EmbeddingBag(cfg.ngram_buckets, n, mode="sum") if cfg.ngram_buckets else None
        if self.ngrams is not None:
            nn.init.zeros_(self.ngrams.weight)
        self.eval()

    def forward(self, emb: torch.Tensor,
                ngrams: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        return add_ngram_logits(self.head(emb), self.ngrams, ngrams)

    def score(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> list[ClassifierScore]:
        """One score per row of L2-normalised float32 embeddings ``[N, embed_dim]``.

        ``texts`` (the reading each row embeds) is required when the model has n-gram features.
        """
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[1] != self.config.embed_dim:
            raise ValueError(f"expected embeddings [N, {self.config.embed_dim}], got {list(emb.shape)}")
        if not np.isfinite(emb).all():
            raise ValueError("embeddings contain NaN or inf")
        ngrams = None
        if self.config.ngram_buckets:
            if texts is None or isinstance(texts, str) or len(texts) != len(emb):
                raise ValueError(f"this classifier reads the texts too: expected {len(emb)} texts, got "
                                 f"{'none' if texts is None else 'a str' if isinstance(texts, str) else len(texts)}")
            ngrams = ngram_batch(texts, self.config.ngram_buckets)
        with torch.inference_mode():
            logits = self(torch.from_numpy(emb), ngrams)
        return scores_from_logits(logits, self.config.classes, self.config.threshold, "classifier")

    def with_threshold(self, threshold: float) -> PromptClassifier:
        self.config = dataclasses.replace(self.config, threshold=float(threshold))
        return self


_HAS_WORD = re.compile(r"[^\W_]")


def classifier_text(prompt: str) -> str:
    """The plain reading the classifier embeds: the normalised prompt the semantic stage embeds too."""
    return normalize(prompt).for_embedding


def classifier_readings(prompt: str, mask: Callable[[str], str] | None = None,
                        respell: Callable[[str], str] | None = None) -> list[str]:
    """The readings the classifier scores: the plain one and, when it differs, the one with driving senses blanked.

    ``mask`` blanks them and ``respell`` first reads misspelled lexicon words as the words they miss
    ("murdr" -> "murder", ``spelling.py``), so the encoder's word pieces see the word (a guard passes
    its policy's ``Blocklist.mask_allowed`` and ``Blocklist.respell``; None: the default policy's).
    A prompt is unsafe only if every reading is ("A vintage car with suicide doors"
    is not once "suicide doors" is blanked; "an explosives sniffer dog" is not while "sniffer dog"
    is still there), the rule the semantic stage applies, which embeds the same readings.
    No readings when nothing is left to read (no letter or digit once the driving senses are blanked).
    """
    if mask is None or respell is None:
        from .blocklist import compiled_blocklist
        from .policy import default_policy

        blocklist = compiled_blocklist(default_policy())
        mask = mask or blocklist.mask_allowed
        respell = respell or blocklist.respell
    text = respell(classifier_text(prompt))
    masked = mask(text)
    if not _HAS_WORD.search(masked):
        return []
    return list(dict.fromkeys((text, masked)))


def least_unsafe(scores: Sequence[ClassifierScore]) -> ClassifierScore | None:
    """The verdict over a prompt's readings: the lowest-scoring one (None: no readings)."""
    return min(scores, key=lambda s: s.unsafe) if scores else None


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
    ngram_buckets: int = 1 << 15  # hashed n-gram features beside the embedding (0: embedding only)
    ngram_dropout: float = 0.3  # fraction of a prompt's n-grams dropped per epoch: no single word decides
    ngram_weight_decay: float = 1e-2
    epochs: int = 500
    label_smoothing: float = 0.05  # keeps the head from being certain far from its data
    lr: float = 3e-3
    weight_decay: float = 1e-3
    seed: int = 0
    margin: float = 0.02  # added to the calibration score the threshold is set from
    min_threshold: float = 0.5
    # The threshold passes every catalog wording and caption of the calibration scenes, and this
    # fraction of the other legitimate calibration prompts (1.0: all of them). On a few thousand
    # hand-written prompts the single oddest one ("a lifeless-looking crash test dummy ...") would
    # otherwise set the threshold for every unsafe prompt.
    calibration_quantile: float = 1.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.calibration_quantile <= 1.0:
            raise ValueError(f"calibration_quantile must be in [0.5, 1], got {self.calibration_quantile}")
        if self.ngram_buckets < 0 or not 0.0 <= self.ngram_dropout < 1.0:
            raise ValueError(f"invalid n-gram settings: buckets={self.ngram_buckets}, dropout={self.ngram_dropout}")


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


def embed_readings(encoder: TextEmbedder, readings: Sequence[str], batch: int = 128) -> np.ndarray:
    """Embeddings of already-read texts, ``[N, D]``; batches of similar length (less padding)."""
    if not readings:
        raise ValueError("no prompts to embed")
    order = sorted(range(len(readings)), key=lambda i: len(readings[i]))
    out: np.ndarray | None = None
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        part = np.asarray(encoder.embed([readings[j] for j in idx]), dtype=np.float32)
        if out is None:
            out = np.zeros((len(readings), part.shape[1]), np.float32)
        out[idx] = part
    assert out is not None
    return out


def embed_prompts(encoder: TextEmbedder, texts: Sequence[str], batch: int = 128) -> np.ndarray:
    """Embeddings of ``classifier_text`` of each prompt, ``[N, D]``."""
    return embed_readings(encoder, [classifier_text(t) for t in texts], batch)


def score_prompts(model: PromptClassifier, encoder: TextEmbedder, texts: Sequence[str]) -> list[ClassifierScore]:
    """The classifier's verdict on raw prompts, read the way the guard reads them (``classifier_readings``).

    A prompt with no reading (no letter or digit left) scores 0.
    """
    per_prompt = [classifier_readings(t) for t in texts]
    flat = [r for rs in per_prompt for r in rs]
    scores = model.score(embed_readings(encoder, flat), flat) if flat else []
    out, i = [], 0
    for rs in per_prompt:
        best = least_unsafe(scores[i:i + len(rs)])
        out.append(best or ClassifierScore(0.0, model.config.classes[1], model.config.threshold))
        i += len(rs)
    return out


def fit(emb: np.ndarray, labels: np.ndarray, cfg: TrainConfig,
        readings: Sequence[str] | None = None) -> PromptClassifier:
    """Full-batch AdamW with class weights that give the safe and the unsafe side equal mass.

    With ``cfg.ngram_buckets`` the n-gram head is trained jointly on ``readings`` (the texts the
    rows of ``emb`` embed), a random ``cfg.ngram_dropout`` of each prompt's features dropped per epoch.
    """
    torch.manual_seed(cfg.seed)
    buckets = cfg.ngram_buckets if readings is not None else 0
    model = PromptClassifier(PromptClassifierConfig(embed_dim=emb.shape[1], hidden=cfg.hidden, dropout=cfg.dropout,
                                                    ngram_buckets=buckets))
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    weights = np.zeros(len(CLASSES))
    unsafe_classes = counts[1:] > 0
    weights[0] = 0.5 / counts[0]
    weights[1:][unsafe_classes] = 0.5 / unsafe_classes.sum() / counts[1:][unsafe_classes]
    x, y = torch.from_numpy(emb), torch.from_numpy(labels)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights * len(labels), dtype=torch.float32),
                                  label_smoothing=cfg.label_smoothing)
    groups = [{"params": list(model.head.parameters()), "weight_decay": cfg.weight_decay}]
    ngrams = None
    if model.ngrams is not None:
        assert readings is not None and len(readings) == len(emb)
        groups.append({"params": list(model.ngrams.parameters()), "weight_decay": cfg.ngram_weight_decay})
        ids, offsets, _ = ngram_batch(readings, buckets)
        lengths = torch.diff(torch.cat([offsets, torch.tensor([len(ids)])]))
        owner = torch.repeat_interleave(torch.arange(len(readings)), lengths)
        ngrams = (ids, offsets, owner, lengths)
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    model.train()
    for _ in range(cfg.epochs):
        opt.zero_grad()
        batch = None
        if ngrams is not None:
            ids, offsets, owner, lengths = ngrams
            keep = (torch.rand(len(ids)) >= cfg.ngram_dropout).float()
            kept = torch.zeros(len(lengths)).index_add_(0, owner, keep)
            batch = (ids, offsets, keep / kept.clamp(min=1.0).sqrt()[owner])
        loss_fn(model(x, batch), y).backward()
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

    The threshold is ``cfg.margin`` above both the highest unsafe score of the catalog wordings and
    captions of test-split scenes and the ``cfg.calibration_quantile`` quantile of the ``calibration``
    prompts' scores (none of them trained on); the report lists the calibration prompts it blocks.
    """
    encoder = encoder if encoder is not None else MiniLMEmbedder()
    start = time.perf_counter()
    corpus = training_corpus(cfg.fills, cfg.obfuscated, cfg.corpus_seed) + list(extra)
    scenes = scene_prompts(range(cfg.caption_seeds), "train")
    texts = [p.text for p in corpus] + scenes
    labels = np.array([CLASSES.index(p.label) for p in corpus] + [0] * len(scenes), dtype=np.int64)
    # every reading of a prompt is a training example with its label (most prompts have one)
    pairs = list(dict.fromkeys((r, int(y)) for t, y in zip(texts, labels) for r in classifier_readings(t)))
    readings, labels = [r for r, _ in pairs], np.array([y for _, y in pairs], dtype=np.int64)
    model = fit(embed_readings(encoder, readings), labels, cfg, readings if cfg.ngram_buckets else None)
    calib_scenes = scene_prompts(range(cfg.calibration_seeds), "test")
    calib = calib_scenes + list(calibration)
    scores = np.array([s.unsafe for s in score_prompts(model, encoder, calib)])
    scene_scores, other = scores[:len(calib_scenes)], scores[len(calib_scenes):]
    worst = int(scores.argmax())
    scene_max = float(scene_scores.max())
    other_q = float(np.quantile(other, cfg.calibration_quantile, method="higher")) if len(other) else 0.0
    threshold = max(cfg.min_threshold, scene_max + cfg.margin, other_q + cfg.margin)
    if threshold >= 1.0:
        raise PromptClassifierError(f"cannot calibrate: legitimate prompt {calib[worst]!r} scores {scores[worst]:.3f}")
    model.with_threshold(threshold)
    blocked = [calib[i] for i in np.flatnonzero(scores >= threshold)]
    report = {
        "train_prompts": len(texts), "train_readings": len(readings), "train_unsafe": int((labels > 0).sum()),
        "extra_prompts": len(extra),
        "calibration_prompts": len(calib), "calibration_scene_max": scene_max,
        "calibration_max": float(scores[worst]), "calibration_max_prompt": calib[worst],
        "calibration_quantile_score": other_q, "calibration_blocked": blocked, "threshold": threshold,
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
