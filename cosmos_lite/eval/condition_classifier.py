"""Condition classifier: which weather and which lighting a video clip shows.

A tiny CNN with two heads, trained on frames of the synthetic driving scenes
(:mod:`cosmos_lite.scenes`) against their ``weather`` / ``lighting`` labels. It
measures whether a world model's generated clips show the prompted condition
("rain", "night", "fog", "snow", "dusk", ...), so it is trained with light
degradations (Gaussian blur, down/up resampling, noise, small brightness and
colour jitter, horizontal flips) to stay calm about an autoencoder's softness.

Public API::

    from cosmos_lite.eval.condition_classifier import ConditionClassifier

    clf = ConditionClassifier.from_pretrained()        # bundled weights
    out = clf.predict_clip(frames)                     # uint8 [T, H, W, 3]
    out["weather"], out["lighting"]                    # "rain", "night"
    out["weather_probs"], out["lighting_probs"]        # {label: p}
    out["conditions"]                                  # {"clear": p, "rain": p, ..., "night": p, "dusk": p}
    weather_logits, lighting_logits = clf(x)           # x float [N, 3, H, W] in [-1, 1]

Training (renders scenes on the fly on one CPU core)::

    python -m cosmos_lite.eval.condition_classifier --out DIR --steps 900   # ~8 min, the bundled weights
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cosmos_lite.pretrained import Pretrained, write_json
from cosmos_lite.scenes import LIGHTINGS, WEATHERS

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"  # instruments shipped with the package
METRICS_NAME = "metrics.json"

# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ConditionClassifierConfig:
    size: tuple[int, int] = (64, 96)  # (H, W) the classifier runs at; clips are resized to it
    width: int = 24  # channels of the first stage; stages have width * (1, 2, 3, 4)
    norm_groups: int = 8
    weathers: tuple[str, ...] = WEATHERS
    lightings: tuple[str, ...] = LIGHTINGS

    def __post_init__(self) -> None:
        size = tuple(self.size)
        if len(size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 4096 for v in size):
            raise ValueError(f"size must be (H, W) with integer sides in [16, 4096], got {self.size!r}")
        object.__setattr__(self, "size", size)
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise ValueError(f"width must be a positive integer, got {self.width!r}")
        if isinstance(self.norm_groups, bool) or not isinstance(self.norm_groups, int) or self.norm_groups < 1:
            raise ValueError(f"norm_groups must be a positive integer, got {self.norm_groups!r}")
        if self.width % self.norm_groups:
            raise ValueError(f"width {self.width} must be a multiple of norm_groups {self.norm_groups}")
        for name in ("weathers", "lightings"):
            labels = tuple(getattr(self, name))
            if len(labels) < 2 or len(set(labels)) != len(labels) or not all(isinstance(v, str) for v in labels):
                raise ValueError(f"{name} must be at least two distinct strings, got {labels!r}")
            object.__setattr__(self, name, labels)

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in (1, 2, 3, 4))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "ConditionClassifierConfig":
        if not isinstance(d, dict):
            raise ValueError(f"config must be a JSON object, got {type(d).__name__}")
        d = {k: v for k, v in d.items() if not k.startswith("_")}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ConditionClassifierConfig fields: {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


# --------------------------------------------------------------------------- model


class ConditionLogits(NamedTuple):
    weather: torch.Tensor  # [N, len(weathers)]
    lighting: torch.Tensor  # [N, len(lightings)]


def _stage(cin: int, cout: int, groups: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
    )


class ConditionClassifier(Pretrained, nn.Module):
    """Four stride-2 conv stages (GroupNorm, SiLU), global average pool, two linear heads."""

    config_class = ConditionClassifierConfig
    bundled_dir = BUNDLED_DIR
    default_name = "condition-classifier"

    def __init__(self, config: ConditionClassifierConfig | None = None):
        super().__init__()
        self.config = cfg = config or ConditionClassifierConfig()
        chans = (3, *cfg.channels)
        self.features = nn.Sequential(*[_stage(chans[i], chans[i + 1], cfg.norm_groups) for i in range(4)])
        self.weather_head = nn.Linear(chans[-1], len(cfg.weathers))
        self.lighting_head = nn.Linear(chans[-1], len(cfg.lightings))
        self.eval()

    # ------------------------------------------------------------------ forward

    def forward(self, x: torch.Tensor) -> ConditionLogits:
        """``x`` float ``[N, 3, H, W]`` in [-1, 1] -> (weather logits, lighting logits)."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise ValueError(f"input must be a float tensor in [-1, 1], got dtype {x.dtype}")
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[0] == 0:
            raise ValueError(f"input must have shape [N, 3, H, W] with N >= 1, got {list(x.shape)}")
        if x.shape[2] < 16 or x.shape[3] < 16:
            raise ValueError(f"input frames must be at least 16x16, got {x.shape[2]}x{x.shape[3]}")
        p = next(self.parameters())
        h = self.features(x.to(device=p.device, dtype=p.dtype)).mean(dim=(2, 3))
        return ConditionLogits(self.weather_head(h), self.lighting_head(h))

    def prepare(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 ``[T, H, W, 3]`` -> float ``[T, 3, h, w]`` in [-1, 1] at the config size
        (antialiased resize with a centre crop to the config's aspect ratio)."""
        from cosmos_lite.data.codec import frames_to_images
        from cosmos_lite.data.io import resize_frames

        _check_frames(frames)
        return frames_to_images(resize_frames(frames, self.config.size, mode="crop"))

    @torch.inference_mode()
    def predict_clip(self, frames: np.ndarray, max_frames: int = 8) -> dict:
        """Classify one clip: softmax averaged over up to ``max_frames`` evenly spaced frames.

        Returns ``weather`` and ``lighting`` (labels), ``weather_probs`` and
        ``lighting_probs`` ({label: p}), ``conditions`` (the probability of each
        word of :data:`cosmos_lite.scenes.CONDITIONS` and ``"day"``: a weather
        word reads the weather head, a lighting word the lighting head) and
        ``frames_used`` (the frame indices).
        """
        _check_frames(frames)
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
            raise ValueError(f"max_frames must be a positive integer, got {max_frames!r}")
        n = min(max_frames, frames.shape[0])
        idx = np.unique(np.linspace(0, frames.shape[0] - 1, n).round().astype(np.int64))
        was_training = self.training
        self.eval()
        try:
            logits = self(self.prepare(frames[idx]))
        finally:
            self.train(was_training)
        pw = logits.weather.float().softmax(-1).mean(0).cpu().tolist()
        pl = logits.lighting.float().softmax(-1).mean(0).cpu().tolist()
        cfg = self.config
        weather_probs = dict(zip(cfg.weathers, pw))
        lighting_probs = dict(zip(cfg.lightings, pl))
        return {
            "weather": cfg.weathers[int(np.argmax(pw))],
            "lighting": cfg.lightings[int(np.argmax(pl))],
            "weather_probs": weather_probs,
            "lighting_probs": lighting_probs,
            "conditions": {**weather_probs, **lighting_probs},
            "frames_used": idx.tolist(),
        }


def _check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray):
        raise ValueError(f"frames must be a numpy uint8 array [T, H, W, 3], got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 [T, H, W, 3], got dtype {frames.dtype}")
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise ValueError(f"frames must have shape [T, H, W, 3] with T, H, W >= 1, got {list(frames.shape)}")


# --------------------------------------------------------------------------- data


def _render_frames(split: str, seed: int, num_frames: int, size: tuple[int, int], duration: float):
    """Frames of one scenario spread over ``duration`` s, with its (weather, lighting)."""
    from cosmos_lite.data.streams import scene_clip

    clip = scene_clip(seed, split, num_frames, size, num_frames / duration)
    return clip.frames, clip.scenario.weather, clip.scenario.lighting


def _gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Per-sample separable Gaussian blur of ``x`` [N, C, H, W]; ``sigma`` [N] (0 = identity)."""
    n, c, h, w = x.shape
    r = 3
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None] / sigma.clamp_min(1e-3)[:, None]) ** 2)  # [N, 2r+1]
    k = k / k.sum(-1, keepdim=True)
    k = k.repeat_interleave(c, 0)  # [N*C, 2r+1]
    y = x.reshape(1, n * c, h, w)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), k[:, None, None, :], groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Light degradations on float [N, 3, H, W] in [0, 1]: flip, blur, down/up resample,
    small brightness / contrast / colour jitter, Gaussian noise. Returns [-1, 1]."""
    n = x.shape[0]

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, *shape, generator=gen)

    def coin(p: float) -> torch.Tensor:
        return torch.rand(n, generator=gen) < p

    flip = coin(0.5)
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    soft = coin(0.3)  # the softness of an autoencoder: down by 2-4 then back up
    if soft.any():
        h, w = x.shape[2:]
        f = float(u(2.0, 4.0)[0])
        small = F.interpolate(x[soft], size=(max(4, round(h / f)), max(4, round(w / f))), mode="bilinear",
                              antialias=True, align_corners=False)
        x[soft] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    sigma = u(0.3, 1.5) * coin(0.5)
    x = torch.where((sigma > 0)[:, None, None, None], _gaussian_blur(x, sigma), x)
    gain = u(0.9, 1.1, 1, 1, 1) * u(0.97, 1.03, 3, 1, 1)  # brightness and a slight colour cast
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(0.9, 1.1, 1, 1, 1) + mean  # contrast
    x = x * gain + u(-0.03, 0.03, 1, 1, 1)
    noise = u(0.0, 0.04, 1, 1, 1) * coin(0.5)[:, None, None, None]
    x = x + noise * torch.randn(x.shape, generator=gen)
    return x.clamp(0, 1) * 2 - 1


# --------------------------------------------------------------------------- evaluation


def evaluate(model: ConditionClassifier, num_scenarios: int = 300, size: tuple[int, int] = (128, 192),
             num_frames: int = 8, split: str = "test", degrade: bool = False, first_seed: int = 0) -> dict:
    """Clip-level accuracy on ``num_scenarios`` scenarios of ``split`` (seeds first_seed, ...),
    each rendered at ``size`` with ``num_frames`` frames over 4 s. ``degrade`` blurs
    (down 3x, up) and adds noise first, a stand-in for a tokenizer round trip."""
    cfg = model.config
    w_true, w_pred, l_true, l_pred = [], [], [], []
    gen = np.random.default_rng(1234)
    for i in range(num_scenarios):
        frames, weather, lighting = _render_frames(split, first_seed + i, num_frames, size, 4.0)
        if degrade:
            frames = _degrade(frames, gen)
        out = model.predict_clip(frames, max_frames=num_frames)
        w_true.append(weather)
        l_true.append(lighting)
        w_pred.append(out["weather"])
        l_pred.append(out["lighting"])
    return {
        "num_scenarios": num_scenarios, "size": list(size), "num_frames": num_frames, "split": split,
        "degraded": degrade,
        "weather": _scores(w_true, w_pred, cfg.weathers),
        "lighting": _scores(l_true, l_pred, cfg.lightings),
    }


def _degrade(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    h, w = x.shape[2:]
    x = F.interpolate(x, size=(h // 3, w // 3), mode="bilinear", antialias=True, align_corners=False)
    x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    x = x + 0.03 * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _scores(true: list[str], pred: list[str], labels: tuple[str, ...]) -> dict:
    conf = {t: {p: 0 for p in labels} for t in labels}
    for t, p in zip(true, pred):
        conf[t][p] += 1
    per_class = {t: {"n": sum(row.values()), "accuracy": (row[t] / sum(row.values())) if sum(row.values()) else None}
                 for t, row in conf.items()}
    acc = sum(t == p for t, p in zip(true, pred)) / max(len(true), 1)
    return {"accuracy": acc, "per_class": per_class, "confusion": conf}


# --------------------------------------------------------------------------- training


def train_condition_classifier(
    out_dir: str | Path | None,
    steps: int = 900,
    batch_size: int = 64,
    seed: int = 0,
    size: tuple[int, int] = (64, 96),
    progress: bool = True,
    *,
    width: int = 24,
    lr: float = 3e-3,
    weight_decay: float = 0.01,
    frames_per_scenario: int = 5,
    fresh_per_step: int | None = None,
    buffer_frames: int = 4096,
    eval_scenarios: int = 300,
    eval_size: tuple[int, int] = (128, 192),
    model: ConditionClassifier | None = None,
) -> dict:
    """Train on freshly rendered train-split scenes, evaluate on ``eval_scenarios`` held-out
    test-split clips, and (with ``out_dir``) save weights plus ``metrics.json``.

    Rendering feeds a ring buffer of ``buffer_frames`` frames: each step renders about
    ``fresh_per_step`` new frames (default ``batch_size // 3``; scenarios of
    ``frames_per_scenario`` frames over 3-6 s, half at the classifier's size, half at
    twice it and resized down) and draws its batch from the buffer. AdamW, linear
    warm-up then cosine decay. Returns the metrics dict (``losses`` holds the mean
    training loss of each tenth of the run).
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("frames_per_scenario", frames_per_scenario),
                    ("buffer_frames", buffer_frames)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if isinstance(eval_scenarios, bool) or not isinstance(eval_scenarios, int) or eval_scenarios < 0:
        raise ValueError(f"eval_scenarios must be an integer >= 0, got {eval_scenarios!r}")
    from cosmos_lite.data.io import resize_frames

    cfg = ConditionClassifierConfig(size=tuple(size), width=width)
    torch.manual_seed(seed)
    if model is None:
        model = ConditionClassifier(cfg)
    cfg = model.config
    h, w = cfg.size
    rng = np.random.default_rng([seed, 77])
    gen = torch.Generator().manual_seed(seed)
    w_index = {k: i for i, k in enumerate(cfg.weathers)}
    l_index = {k: i for i, k in enumerate(cfg.lightings)}
    fresh = fresh_per_step or max(1, batch_size // 3)

    cap = max(buffer_frames, batch_size)
    buf = np.zeros((cap, h, w, 3), np.uint8)
    buf_w = np.zeros(cap, np.int64)
    buf_l = np.zeros(cap, np.int64)
    filled = cursor = 0
    render_s = 0.0

    def add_scenario() -> None:
        nonlocal filled, cursor, render_s
        t0 = time.perf_counter()
        scale = 2 if rng.random() < 0.5 else 1
        frames, weather, lighting = _render_frames(
            "train", int(rng.integers(0, 10**9)), frames_per_scenario, (h * scale, w * scale), float(rng.uniform(3, 6)))
        if scale != 1:
            frames = resize_frames(frames, (h, w), mode="stretch")
        for f in frames:
            buf[cursor], buf_w[cursor], buf_l[cursor] = f, w_index[weather], l_index[lighting]
            cursor = (cursor + 1) % cap
            filled = min(filled + 1, cap)
        render_s += time.perf_counter() - t0

    while filled < min(cap, 4 * batch_size):
        add_scenario()

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, min(50, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
    model.train()
    t_start = time.perf_counter()
    losses: list[float] = []
    correct = seen = 0
    pending = 0.0
    for step in range(steps):
        pending += fresh
        while pending >= frames_per_scenario:
            add_scenario()
            pending -= frames_per_scenario
        idx = rng.integers(0, filled, batch_size)
        x = torch.from_numpy(buf[idx]).permute(0, 3, 1, 2).float().div_(255.0)
        x = augment(x, gen)
        yw, yl = torch.from_numpy(buf_w[idx]), torch.from_numpy(buf_l[idx])
        out = model(x)
        loss = F.cross_entropy(out.weather, yw, label_smoothing=0.05) + \
            F.cross_entropy(out.lighting, yl, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        correct += int((out.weather.argmax(-1) == yw).sum() + (out.lighting.argmax(-1) == yl).sum())
        seen += 2 * batch_size
        if progress and ((step + 1) % 50 == 0 or step + 1 == steps):
            el = time.perf_counter() - t_start
            print(f"step {step + 1}/{steps}  loss {np.mean(losses[-50:]):.4f}  train acc {correct / seen:.3f}  "
                  f"lr {sched.get_last_lr()[0]:.2e}  {el:.0f}s (render {render_s:.0f}s)", file=sys.stderr, flush=True)
            correct = seen = 0
    model.eval()
    train_s = time.perf_counter() - t_start
    tenth = max(1, steps // 10)
    metrics: dict = {
        "config": cfg.to_dict(),
        "train": {"steps": steps, "batch_size": batch_size, "seed": seed, "lr": lr, "weight_decay": weight_decay,
                  "frames_per_scenario": frames_per_scenario, "fresh_per_step": fresh, "buffer_frames": cap,
                  "seconds": round(train_s, 1), "render_seconds": round(render_s, 1),
                  "losses": [round(float(np.mean(losses[i:i + tenth])), 4) for i in range(0, steps, tenth)]},
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if eval_scenarios:
        t0 = time.perf_counter()
        metrics["eval"] = evaluate(model, eval_scenarios, eval_size)
        metrics["eval_degraded"] = evaluate(model, eval_scenarios, eval_size, degrade=True)
        metrics["eval_seconds"] = round(time.perf_counter() - t0, 1)
    if out_dir is not None:
        out = model.save_pretrained(out_dir)
        write_json(out / METRICS_NAME, metrics)
    metrics["model"] = model
    return metrics


# --------------------------------------------------------------------------- CLI


def _summary(ev: dict) -> str:
    lines = []
    for head in ("weather", "lighting"):
        s = ev[head]
        per = ", ".join(f"{k} {v['accuracy']:.3f} (n={v['n']})" for k, v in s["per_class"].items() if v["n"])
        lines.append(f"  {head:8s} {s['accuracy']:.3f}   {per}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from cosmos_lite.cli.types import (
        non_negative_int,
        positive_float,
        positive_int,
        size_hw,
    )

    ap = argparse.ArgumentParser(prog="python -m cosmos_lite.eval.condition_classifier",
                                 description="Train the weather / lighting classifier on synthetic scenes.")
    ap.add_argument("--out", required=True, type=Path, help="directory for config.json, model.safetensors, metrics.json")
    ap.add_argument("--steps", type=positive_int, default=900)
    ap.add_argument("--batch-size", type=positive_int, default=64)
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--size", type=size_hw, default=(64, 96), help="HxW the classifier runs at (default 64x96)")
    ap.add_argument("--width", type=positive_int, default=24)
    ap.add_argument("--lr", type=positive_float, default=3e-3)
    ap.add_argument("--eval-scenarios", type=non_negative_int, default=300, help="held-out test-split clips")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    try:
        m = train_condition_classifier(args.out, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                                       size=args.size, progress=not args.quiet, width=args.width, lr=args.lr,
                                       eval_scenarios=args.eval_scenarios)
    except ValueError as err:
        ap.error(str(err))
    print(f"trained {args.steps} steps in {m['train']['seconds']:.0f} s; {m['parameters']} parameters; saved to {args.out}")
    for key in ("eval", "eval_degraded"):
        if key in m:
            ev = m[key]
            print(f"{key}: {ev['num_scenarios']} held-out {ev['split']} clips at {ev['size'][0]}x{ev['size'][1]}, "
                  f"{ev['num_frames']} frames each")
            print(_summary(ev))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
