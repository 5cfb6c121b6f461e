"""World-model evaluation with the synthetic scenes as ground truth.

All clips come from held-out ``split="test"`` scenarios (seeds 0, 1, ...), rendered at
the model's ``config.size`` and ``config.fps``, ``frames`` long (default: the model's
``config.frames``). Three measurements:

1. **Prediction per horizon.** Condition on the first ``cond_frames`` true frames plus
   the scene's true actions for the whole clip, generate the rest, and compare frames
   ``cond_frames .. T-1`` with the truth (PSNR, SSIM on the 8-bit frames), bucketed by
   the time after the last condition frame: (0, 1] s, (1, 2] s, ... Two baselines share
   the table: *repeat-last* (the last condition frame held still: the floor a model
   must beat) and *tokenizer* (the model's own tokenizer round trip of the true clip:
   the ceiling, since generation happens in its latent space). Per bucket, ``beats
   repeat`` is the fraction of clips whose generated PSNR is above repeat-last's.
2. **Prompted condition.** Text-to-world (no frames, no actions) from the captions of
   held-out scenarios; the :class:`~cosmos_lite.eval.condition_classifier.ConditionClassifier`
   reads weather and lighting off the generated clip. A clip *shows* its condition
   when both the weather and the lighting match the scenario (a caption without a
   lighting word means day). The classifier also reads the true clips, so its own
   errors can be told apart from the generator's, and their tokenizer round trips, the
   ceiling: generated clips are decoded by the same tokenizer and share its blur.
3. **Steering.** From the same first frames, generate twice under constant curvature
   +c (left) and -c (right) with zero acceleration, and replay the simulator under the
   same actions. The scene content's horizontal shift from the last condition frame
   to the last frame is measured by phase correlation chained over consecutive frames
   (+ = content moves right, which a left turn causes). A single first-to-last phase
   correlation is unreliable here: a 3 s turn shifts the view by a third of the frame.
   Reported: the sign of ``shift_left - shift_right`` for the model and the simulator,
   their agreement rate, and the mean shifts. Phase correlation needs texture: the
   shift is also measured on the *tokenizer* round trip of the simulator's clips, and
   where that ceiling reads near zero too, the shift cannot judge the model. The
   blur-proof measure is *closer to the matching turn*: each generated clip is compared
   (MSE over the generated frames) with both simulator continuations, and counts when it
   is closer to the one with its own steering (blur adds about the same error to both).

Generation runs with the guardrail off (``WorldModel(guardrail=None)``): evaluation
clips are synthetic and scored, not shown; ``metrics.json`` says so.

Action timing (see :mod:`cosmos_lite.scenes.driver`): action k is held from frame k to
k + 1, so frame k shows the state before action k. The steering rollouts therefore keep
the true actions ``0 .. cond_frames - 2`` (which produced the condition frames) and apply
the constant steering from action ``cond_frames - 1`` on, which first shows in frame
``cond_frames``; the simulator's ``replay(scenario, from_frame=cond_frames - 1, ...)``
starts at the last condition frame, so its frames line up with ``generated[cond_frames - 1:]``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .metrics import psnr, ssim

PSNR_CAP = 100.0  # dB; identical frames (PSNR = inf) count as this, so means and JSON stay finite
GUARDRAIL_NOTE = ("disabled for evaluation: the clips are synthetic test scenes, scored and not shown "
                  "(WorldModel(guardrail=None))")


@dataclass(frozen=True)
class WorldEvalSettings:
    n: int = 16  # prediction clips
    prompts: int = 24  # text-to-world clips (0 = skip; needs the condition classifier)
    steering: int = 8  # steering scenarios (0 = skip); two generations each
    cond_frames: int = 5  # 1 + j * temporal compression
    frames: int | None = None  # clip length; None = the model's config.frames
    steps: int = 24
    guidance: float = 3.0
    seed: int = 0  # generation seed of clip i is seed + i
    curvature: float = 0.01  # 1/m, the steering test's |curvature|
    progress: bool = True
    png_clips: int = 3  # prediction clips shown in comparison.png

    def __post_init__(self) -> None:
        for name in ("n", "steps", "cond_frames"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("prompts", "steering", "png_clips", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if self.frames is not None and (isinstance(self.frames, bool) or not isinstance(self.frames, int)
                                        or self.frames < 2):
            raise ValueError(f"frames must be an integer >= 2, got {self.frames!r}")
        if self.frames is not None and self.cond_frames >= self.frames:
            raise ValueError(f"cond_frames ({self.cond_frames}) must be below frames ({self.frames}): "
                             "nothing would be left to predict")
        if not (math.isfinite(self.guidance) and self.guidance >= 0):
            raise ValueError(f"guidance must be a finite number >= 0, got {self.guidance!r}")
        if not (math.isfinite(self.curvature) and self.curvature > 0):
            raise ValueError(f"curvature must be a positive number (1/m), got {self.curvature!r}")


# --------------------------------------------------------------------------- pure helpers


def check_cond_frames(cond_frames: int, frames: int, temporal_compression: int, context_latents: int) -> None:
    """``cond_frames`` must be ``1 + j * t``, below ``frames``, and at most what the model
    conditions on (``1 + (context_latents - 1) * t``; more would be cut silently)."""
    t = temporal_compression
    if cond_frames < 1 or (cond_frames - 1) % t:
        raise ValueError(f"cond_frames must be 1 + {t}*j (1, {1 + t}, {1 + 2 * t}, ...) for temporal "
                         f"compression {t}, got {cond_frames}")
    if cond_frames >= frames:
        raise ValueError(f"cond_frames ({cond_frames}) must be below the clip length ({frames} frames)")
    most = 1 + (context_latents - 1) * t
    if cond_frames > most:
        raise ValueError(f"this model conditions on at most {most} frames ({context_latents} latent frames), "
                         f"got cond_frames={cond_frames}")


def horizon_buckets(num_frames: int, cond_frames: int, fps: float) -> list[dict]:
    """Frames ``cond_frames .. num_frames-1`` grouped by horizon ``(k - (cond_frames-1)) / fps``
    seconds into whole-second buckets (0, 1], (1, 2], ...; empty buckets are left out.

    Returns ``[{"label": "(0,1]", "lo": 0, "hi": 1, "frames": [k, ...]}, ...]`` in order."""
    if not 1 <= cond_frames < num_frames:
        raise ValueError(f"need 1 <= cond_frames < num_frames, got {cond_frames}, {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    by: dict[int, list[int]] = {}
    for k in range(cond_frames, num_frames):
        h = (k - (cond_frames - 1)) / fps
        b = max(0, math.ceil(round(h, 9)) - 1)  # round: 3 frames at 3 fps is exactly 1 s, not 1.0000001
        by.setdefault(b, []).append(k)
    return [{"label": f"({b},{b + 1}]", "lo": b, "hi": b + 1, "frames": by[b]} for b in sorted(by)]


def repeat_last_prediction(frames: np.ndarray, cond_frames: int) -> np.ndarray:
    """The repeat-last baseline: the condition frames, then the last of them held still."""
    out = np.array(frames, copy=True)
    out[cond_frames:] = frames[cond_frames - 1]
    return out


def frame_scores(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame PSNR (dB, capped at :data:`PSNR_CAP`) and SSIM of uint8 ``[T, H, W, 3]`` clips."""
    if pred.shape != true.shape:
        raise ValueError(f"clips differ in shape: {pred.shape} vs {true.shape}")
    from cosmos_lite.data.codec import frames_to_images

    x, y = frames_to_images(pred), frames_to_images(true)
    p = psnr(x, y).clamp(max=PSNR_CAP).numpy().astype(np.float64)
    s = ssim(x, y).numpy().astype(np.float64)
    return p, s


def clip_mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error of two uint8 clips of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"clips differ in shape: {a.shape} vs {b.shape}")
    return float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float64)


def horizontal_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Horizontal translation (pixels, + = content moved right) from frame ``a`` to frame ``b``
    (uint8 [H, W, 3]), by phase correlation of the grayscale frames under a Hann window.
    Featureless frames give 0."""
    import cv2

    ga, gb = _gray(a), _gray(b)
    if ga.std() < 1e-6 or gb.std() < 1e-6:
        return 0.0
    win = cv2.createHanningWindow((ga.shape[1], ga.shape[0]), cv2.CV_64F)
    (dx, _dy), response = cv2.phaseCorrelate(ga, gb, win)
    if not (math.isfinite(dx) and response > 0):
        return 0.0
    return float(dx)


def cumulative_shift(frames: np.ndarray) -> float:
    """Horizontal shift of the content from ``frames[0]`` to ``frames[-1]``, summed over
    consecutive pairs (each a small, reliably measured step)."""
    return float(sum(horizontal_shift(frames[i], frames[i + 1]) for i in range(len(frames) - 1)))


def steering_actions(true_actions: np.ndarray, cond_frames: int, curvature: float) -> np.ndarray:
    """True actions for the condition frames' transitions, then (accel 0, ``curvature``) from
    action ``cond_frames - 1`` on (it first shows in frame ``cond_frames``)."""
    a = np.array(true_actions, dtype=np.float32, copy=True)
    a[cond_frames - 1:] = (0.0, curvature)
    return a


def _sign(x: float) -> int:
    return int(np.sign(x))


def _mean(xs) -> float | None:
    xs = list(xs)
    return float(np.mean(xs)) if xs else None


# --------------------------------------------------------------------------- evaluation


def _load_world_model(model_dir: str | Path | None):
    from cosmos_lite.world import WorldModel

    if model_dir is not None and not Path(model_dir).is_dir():
        raise FileNotFoundError(f"{model_dir}: no such world-model directory (expected one written by "
                                "`cosmos-lite train diffusion`, RUN/final)")
    return WorldModel.from_pretrained(model_dir, guardrail=None)


def _load_classifier(classifier: Any):
    from cosmos_lite.eval.condition_classifier import ConditionClassifier

    if isinstance(classifier, ConditionClassifier):
        return classifier.eval(), "given"
    model = ConditionClassifier.from_pretrained(classifier)
    return model, "bundled" if classifier is None else str(classifier)


class _Scenes:
    """Test-split scenarios and their true clips, rendered once each."""

    def __init__(self, frames: int, size: tuple[int, int], fps: float):
        self.frames, self.size, self.fps = frames, tuple(size), fps
        self._cache: dict[int, Any] = {}

    def __call__(self, i: int):
        from cosmos_lite.data.streams import scene_clip

        if i not in self._cache:
            self._cache[i] = scene_clip(i, "test", self.frames, self.size, self.fps)
        return self._cache[i]


@torch.no_grad()
def _reconstruct(tokenizer, frames: np.ndarray) -> np.ndarray:
    from cosmos_lite.data.codec import frames_to_video, video_to_frames

    video = frames_to_video(frames)
    lat = tokenizer.encode(video)
    rec = tokenizer.decode(lat, num_frames=frames.shape[0], size=tuple(frames.shape[1:3]))
    return video_to_frames(rec)


def evaluate_world_model(model_dir: str | Path | None, out_dir: str | Path,
                         settings: WorldEvalSettings = WorldEvalSettings(), classifier: Any = None) -> dict:
    """Evaluate a world-model directory (None = the bundled default); writes ``metrics.json``
    and ``comparison.png`` to ``out_dir`` and returns the metrics dict.

    ``classifier``: the condition classifier for the prompted-condition test, a directory
    written by ``ConditionClassifier.save_pretrained``, a loaded one, or None for the
    bundled weights (only loaded when ``settings.prompts > 0``)."""
    from tqdm.auto import tqdm

    from cosmos_lite.generators.diffusion import DiffusionSettings
    from cosmos_lite.scenes import replay
    from cosmos_lite.scenes.driver import MAX_CURVATURE

    wm = _load_world_model(model_dir)
    cfg = wm.config.spec(None)  # the default generator
    tokenizer = wm.tokenizers[cfg.name]
    tc = tokenizer.config
    T = settings.frames or cfg.frames
    cond = settings.cond_frames
    check_cond_frames(cond, T, tc.temporal_compression, wm.generator(cfg.name).config.context_latents)
    if settings.steering:
        from cosmos_lite.guardrail.input_guard import InputLimits

        lo, hi = InputLimits().steering_range
        limit = min(MAX_CURVATURE, -lo, hi)
        if settings.curvature > limit:
            raise ValueError(f"curvature {settings.curvature} 1/m is outside the steering limits (|c| <= {limit}); "
                             "normal driving stays within about 0.01")
    clf, clf_source = _load_classifier(classifier) if settings.prompts else (None, None)
    H, W = cfg.size
    fps = cfg.fps
    scenes = _Scenes(T, (H, W), fps)
    gen_kw = dict(num_frames=T, settings=DiffusionSettings(steps=settings.steps, guidance=settings.guidance),
                  progress=False)
    buckets = horizon_buckets(T, cond, fps)
    total = settings.n + settings.prompts + 2 * settings.steering
    bar = tqdm(total=total, desc="eval world-model", unit="clip", disable=not settings.progress)

    # ---- 1. prediction per horizon
    bar.set_postfix_str("prediction")
    pred_rows, panels = [], []
    for i in range(settings.n):
        clip = scenes(i)
        truth = clip.frames
        gen = wm.generate(clip.caption, video=truth[:cond], actions=clip.actions, seed=settings.seed + i,
                          **gen_kw)
        if gen.report.get("condition_frames") != cond:
            raise RuntimeError(f"the model used {gen.report.get('condition_frames')} condition frames, not {cond}")
        generated = gen.frames
        repeat = repeat_last_prediction(truth, cond)
        recon = _reconstruct(tokenizer, truth)
        scores = {name: frame_scores(x[cond:], truth[cond:])
                  for name, x in (("generated", generated), ("repeat_last", repeat), ("tokenizer", recon))}
        row: dict[str, Any] = {"seed": i, "caption": clip.caption, "buckets": {}}
        for b in buckets:
            idx = [k - cond for k in b["frames"]]
            row["buckets"][b["label"]] = {f"{name}_{m}": float(np.mean(v[j][idx]))
                                          for name, v in scores.items() for j, m in enumerate(("psnr", "ssim"))}
        row["all"] = {f"{name}_{m}": float(np.mean(v[j])) for name, v in scores.items()
                      for j, m in enumerate(("psnr", "ssim"))}
        pred_rows.append(row)
        if len(panels) < settings.png_clips:
            panels.append((i, truth, generated, repeat))
        bar.update(1)

    def summarize(rows: list[dict]) -> dict:
        out = {k: _mean(r[k] for r in rows) for k in rows[0]}
        out["beats_repeat"] = _mean(float(r["generated_psnr"] > r["repeat_last_psnr"]) for r in rows)
        return out

    per_bucket = []
    for b in buckets:
        s = summarize([r["buckets"][b["label"]] for r in pred_rows])
        per_bucket.append({"horizon_s": b["label"], "frames": b["frames"], **s})
    prediction = {"clips": settings.n, "buckets": per_bucket, "all": summarize([r["all"] for r in pred_rows]),
                  "per_clip": pred_rows}

    # ---- 2. prompted condition (text-to-world)
    prompted = None
    if settings.prompts:
        bar.set_postfix_str("prompted condition")
        rows = []
        for i in range(settings.prompts):
            clip = scenes(i)
            sc = clip.scenario
            gen = wm.generate(clip.caption, seed=settings.seed + i, **gen_kw)
            on_gen, on_true = clf.predict_clip(gen.frames), clf.predict_clip(clip.frames)
            # the ceiling: what the classifier reads once the true clip went through the tokenizer,
            # whose blur the generator cannot get under (its clips are decoded by the same tokenizer)
            on_recon = clf.predict_clip(_reconstruct(tokenizer, clip.frames))

            def judged(p: dict) -> dict:
                w_ok, l_ok = p["weather"] == sc.weather, p["lighting"] == sc.lighting
                return {"weather": p["weather"], "lighting": p["lighting"], "weather_ok": w_ok, "lighting_ok": l_ok,
                        "shown": w_ok and l_ok, "p_weather": float(p["weather_probs"][sc.weather]),
                        "p_lighting": float(p["lighting_probs"][sc.lighting])}

            rows.append({"seed": i, "caption": clip.caption, "weather": sc.weather, "lighting": sc.lighting,
                         "named": list(sc.conditions), "generated": judged(on_gen), "true_clip": judged(on_true),
                         "tokenizer_clip": judged(on_recon)})
            bar.update(1)

        def rates(key: str) -> dict:
            return {"weather": _mean(r[key]["weather_ok"] for r in rows),
                    "lighting": _mean(r[key]["lighting_ok"] for r in rows),
                    "shown": _mean(r[key]["shown"] for r in rows)}

        trusted = [r for r in rows if r["true_clip"]["shown"]]
        prompted = {"clips": settings.prompts, "classifier": clf_source,
                    "generated": rates("generated"), "true_clips": rates("true_clip"),
                    "tokenizer_clips": rates("tokenizer_clip"),
                    "shown_where_classifier_right_on_truth": _mean(r["generated"]["shown"] for r in trusted),
                    "clips_classifier_right_on_truth": len(trusted), "per_clip": rows}

    # ---- 3. steering
    steering = None
    if settings.steering:
        bar.set_postfix_str("steering")
        c = settings.curvature
        rows = []
        for i in range(settings.steering):
            clip = scenes(i)
            truth = clip.frames
            r: dict[str, Any] = {"seed": i, "caption": clip.caption}
            gens, sims, recs = {}, {}, {}
            for side, curv in (("left", c), ("right", -c)):
                acts = steering_actions(clip.actions, cond, curv)
                gen = wm.generate(clip.caption, video=truth[:cond], actions=acts, seed=settings.seed + i, **gen_kw)
                sim = replay(clip.scenario, from_frame=cond - 1, actions=acts[cond - 1:], size=(H, W), fps=fps)
                if sim.frames.shape[0] != T - cond + 1:
                    raise RuntimeError(f"replay returned {sim.frames.shape[0]} frames, expected {T - cond + 1}")
                # the simulator's whole clip under these actions, through the model's tokenizer
                sims[side] = np.concatenate([truth[:cond - 1], sim.frames])
                recs[side] = _reconstruct(tokenizer, sims[side])
                gens[side] = gen.frames
                r[f"generated_{side}"] = cumulative_shift(gen.frames[cond - 1:])
                r[f"simulator_{side}"] = cumulative_shift(sim.frames)
                r[f"tokenizer_{side}"] = cumulative_shift(recs[side][cond - 1:])
                bar.update(1)
            for who in ("generated", "simulator", "tokenizer"):
                r[f"{who}_diff"] = r[f"{who}_left"] - r[f"{who}_right"]
                r[f"{who}_sign"] = _sign(r[f"{who}_diff"])
            r["agree"] = r["generated_sign"] == r["simulator_sign"] != 0
            for side, other in (("left", "right"), ("right", "left")):
                own, wrong = (clip_mse(gens[side][cond:], sims[s_][cond:]) for s_ in (side, other))
                r[f"closer_{side}"] = own < wrong
            rows.append(r)
        steering = {"clips": settings.steering, "curvature": c, "shift_units": "pixels, + = content moves right",
                    "agreement": _mean(r["agree"] for r in rows),
                    "closer_to_matching_turn": _mean(float(r[f"closer_{side}"]) for r in rows
                                                     for side in ("left", "right")),
                    **{f"{who}_{k}": _mean(r[f"{who}_{k}"] for r in rows)
                       for who in ("generated", "simulator", "tokenizer") for k in ("left", "right", "diff")},
                    **{f"{who}_positive": _mean(r[f"{who}_sign"] > 0 for r in rows)
                       for who in ("generated", "simulator", "tokenizer")},
                    "per_clip": rows}
    bar.close()

    result = {
        "model": "bundled" if model_dir is None else str(model_dir),
        "guardrail": GUARDRAIL_NOTE,
        "settings": {**asdict(settings), "frames": T, "size": [H, W], "fps": fps, "split": "test",
                     "temporal_compression": tc.temporal_compression, "psnr_cap_db": PSNR_CAP},
        "prediction": prediction,
        "prompted_condition": prompted,
        "steering": steering,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    from cosmos_lite.scenes.preview import write_png

    write_png(out / "comparison.png", comparison_image(panels, cond, fps))
    return result


# --------------------------------------------------------------------------- report


def comparison_image(panels: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], cond_frames: int,
                     fps: float) -> np.ndarray:
    """Per clip, rows TRUE / GENERATED / REPEAT LAST; columns = the last condition frame and
    a few horizons after it, labelled in seconds."""
    from cosmos_lite.scenes.preview import text_image

    pad, lab = 2, 11
    T, h, w = panels[0][1].shape[:3]
    last = cond_frames - 1
    cols = sorted({last, *np.linspace(last, T - 1, 5).round().astype(int).tolist()})[:5]
    width = len(cols) * (w + pad) - pad + 60

    def put(canvas: np.ndarray, text: str, y: int, x: int, limit: int) -> None:
        img = text_image(text)[:, :max(0, limit)]
        canvas[y:y + 7, x:x + img.shape[1]] = img

    blocks = []
    for seed, truth, gen, rep in panels:
        head = np.full((lab, width, 3), 16, np.uint8)
        put(head, f"TEST {seed}", 2, 2, 56)
        for j, k in enumerate(cols):
            put(head, f"+{(k - last) / fps:.1f}S", 2, 60 + j * (w + pad), w)
        rows = [head]
        for name, clip in (("TRUE", truth), ("GEN", gen), ("REPEAT", rep)):
            row = np.full((h, width, 3), 16, np.uint8)
            put(row, name, (h - 7) // 2, 2, 56)
            for j, k in enumerate(cols):
                row[:, 60 + j * (w + pad):60 + j * (w + pad) + w] = clip[k]
            rows += [row, np.full((pad, width, 3), 16, np.uint8)]
        blocks.append(np.concatenate(rows))
    return np.concatenate(blocks)


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def format_table(result: dict) -> str:
    """The printed summary of :func:`evaluate_world_model`."""
    s = result["settings"]
    lines = [f"world model {result['model']}: {s['frames']} frames at {s['size'][0]}x{s['size'][1]}, {s['fps']:g} fps; "
             f"{s['cond_frames']} condition frames; {s['steps']} steps, guidance {s['guidance']:g}; guardrail off"]
    p = result["prediction"]
    lines += ["", f"Prediction ({p['clips']} test clips; true actions; PSNR dB / SSIM; 'beats' = clips where "
                  "generated PSNR > repeat-last)"]
    head = f"{'horizon':<10} {'generated':>16} {'repeat-last':>16} {'tokenizer':>16} {'beats':>6}"
    lines += [head, "-" * len(head)]

    def pl(name: str, r: dict) -> str:
        cell = lambda k: f"{r[k + '_psnr']:>6.2f} / {r[k + '_ssim']:>6.3f}"  # noqa: E731
        return f"{name:<10} {cell('generated'):>16} {cell('repeat_last'):>16} {cell('tokenizer'):>16} " \
               f"{r['beats_repeat']:>6.2f}"

    lines += [pl(b["horizon_s"] + " s", b) for b in p["buckets"]]
    lines += ["-" * len(head), pl("all", p["all"])]

    c = result.get("prompted_condition")
    if c:
        lines += ["", f"Prompted condition ({c['clips']} text-to-world clips from test captions; classifier: "
                      f"{c['classifier']})",
                  f"{'':<22} {'generated':>9} {'true clips':>10} {'tokenizer':>10}"]
        for k, name in (("weather", "weather matches"), ("lighting", "lighting matches"),
                        ("shown", "condition shown")):
            lines.append(f"{name:<22} {_f(c['generated'][k], '.3f'):>9} {_f(c['true_clips'][k], '.3f'):>10} "
                         f"{_f(c['tokenizer_clips'][k], '.3f'):>10}")
        lines.append(f"shown where the classifier is right on the true clip: "
                     f"{_f(c['shown_where_classifier_right_on_truth'], '.3f')} "
                     f"({c['clips_classifier_right_on_truth']} clips)")

    st = result.get("steering")
    if st:
        lines += ["", f"Steering ({st['clips']} clips, curvature +/-{st['curvature']:g} 1/m; horizontal shift of the "
                      "scene in px, + = right)",
                  f"{'':<10} {'left':>7} {'right':>7} {'left-right':>10} {'sign +':>7}"]
        for who in ("generated", "simulator", "tokenizer"):
            lines.append(f"{who:<10} {st[who + '_left']:>7.1f} {st[who + '_right']:>7.1f} {st[who + '_diff']:>10.1f} "
                         f"{st[who + '_positive']:>7.2f}")
        lines.append(f"sign agreement with the simulator: {st['agreement']:.2f} (tokenizer row: the shift the "
                     "measure can see through the tokenizer)")
        lines.append(f"generated clip closer to the simulator's clip with the same steering than to the "
                     f"opposite turn: {st['closer_to_matching_turn']:.2f}")
    return "\n".join(lines)
