"""``cosmos-lite eval world-model``: every generator of a world model against the simulator.

All clips come from held-out ``split="test"`` scenarios, rendered at each generator's size
and frame rate. One function per measure, each given the model, one generator's name and
its settings, and the instruments (scene reader, inverse dynamics model):

- :func:`measure_prediction`: Video2World with the scenes' true actions (ego behaviours mixed
  in, so actions matter); per-horizon PSNR / SSIM of generated, repeat-last (the floor) and
  tokenizer round trip (the ceiling); the same clips with another scene's actions
  (``psnr_true_minus_shuffled``: > 0 when the actions are used).
- :func:`measure_actions`: the IDM's estimate on the generated clips against the commanded
  actions (turn sign over left / straight / right, Spearman, MAE), and the closest-replay
  check (a clip generated under a left turn is closer to the simulator's left-turn replay
  than to its right-turn replay, and vice versa).
- :func:`measure_events`: text-to-world from captions of scenarios whose event is placed in
  view; the share of clips where the reader finds the prompted event, beside the same
  share on the true clips and their tokenizer round trips; and the prompted weather and
  lighting.
- :func:`measure_sharpness`: high-frequency energy of generated over true frames at the
  same horizons; the Fréchet distance between reader features of generated and true clips
  (the project's FVD-alike: the reader plays the I3D network's part).
- :func:`measure_stutter`: frame-to-frame change by position inside a latent group.
- :func:`measure_failures`: blank / black / frozen / flicker clips over a fixed prompt set
  with every weather x lighting, night included (true clips of the same conditions beside).
- :func:`measure_drift`: long rollouts (>= 97 frames): per-horizon PSNR / SSIM and the
  reader's event rate.
- speed: wall time per generated second of video and the real-time factor, after load.

Generation runs with the guardrail off (evaluation clips are synthetic and scored, not
shown; ``metrics.json`` says so).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .measures import (PSNR_CAP, change_by_group_position, check_cond_frames, clip_mse, cumulative_shift,
                       failure_kinds, frame_scores, frechet_distance, hf_ratio, horizon_buckets,
                       repeat_last_prediction, sign_accuracy, spearman, steering_actions, stutter_deviation)

GUARDRAIL_NOTE = ("disabled for evaluation: the clips are synthetic test scenes, scored and not shown "
                  "(WorldModel(guardrail=None))")
ACTIVE_CURVATURE = 0.005  # 1/m: frames the IDM's validity is judged on (|curvature| at least this)
SHUFFLE_OFFSET = 1  # clip i is also generated with the actions of clip i + 1


@dataclass(frozen=True)
class WorldEvalSettings:
    """How much of each measure to run (0 skips one) and how to sample."""

    n: int = 8  # prediction clips (also feed actions, sharpness and stutter)
    prompts: int = 12  # text-to-world clips naming an event
    steering: int = 4  # closest-replay scenarios; two generations each
    failures: bool = True  # the fixed prompt set over every weather x lighting (12 clips)
    drift: int = 2  # long rollouts
    drift_frames: int = 97
    cond_frames: int = 5  # 1 + j * temporal compression
    frames: int | None = None  # clip length; None = each generator's training clip length
    # for generators whose settings have these fields; None = the generator's own default (what a
    # user of generate gets)
    steps: int | None = None
    guidance: float | None = None
    seed: int = 0  # generation seed of clip i is seed + i
    curvature: float = 0.02  # 1/m, the closest-replay turn (a lane change's peak at town speeds)
    progress: bool = True
    png_clips: int = 3

    def __post_init__(self) -> None:
        for name in ("n", "steps", "cond_frames", "drift_frames"):
            v = getattr(self, name)
            if v is None and name == "steps":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("prompts", "steering", "drift", "png_clips", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if self.n < 2:
            raise ValueError("n must be >= 2: the shuffled-actions check needs another clip's actions")
        if self.frames is not None and (isinstance(self.frames, bool) or not isinstance(self.frames, int)
                                        or self.frames <= self.cond_frames):
            raise ValueError(f"frames must be an integer above cond_frames ({self.cond_frames}), got {self.frames!r}")
        if self.guidance is not None and not (isinstance(self.guidance, (int, float)) and not isinstance(
                self.guidance, bool) and math.isfinite(self.guidance) and self.guidance >= 1):
            raise ValueError(f"guidance must be a finite number >= 1, got {self.guidance!r}")
        if not (math.isfinite(self.curvature) and self.curvature > 0):
            raise ValueError(f"curvature must be a positive number (1/m), got {self.curvature!r}")


@dataclass
class Instruments:
    """The scene reader, the rule that says whether it found a prompted event, and the inverse
    dynamics model (bundled by default; tests pass stubs)."""

    reader: Any  # .read_clip(frames) -> dict (weather, lighting, event, ...); .features(frames) -> [D]
    idm: Any  # .predict(frames) -> [T, 2] (acceleration m/s^2, curvature 1/m)
    event_found: Any  # (reader output, event kind) -> bool

    @classmethod
    def bundled(cls) -> "Instruments":
        from cosmos_lite.eval.idm import InverseDynamics
        from cosmos_lite.eval.reader import SceneReader, prompted_event_found

        return cls(SceneReader.from_pretrained(), InverseDynamics.from_pretrained(), prompted_event_found)


@dataclass
class _Run:
    """One generator's evaluation context: model, geometry, settings and the clips generated so far."""

    wm: Any
    name: str
    settings: Any
    st: WorldEvalSettings
    bar: Any
    timings: list = field(default_factory=list)  # (video seconds, wall seconds) per generated clip

    @property
    def spec(self):
        return self.wm.config.spec(self.name)

    @property
    def tokenizer(self):
        return self.wm.tokenizers[self.name]

    @property
    def frames(self) -> int:
        return self.st.frames or self.spec.frames

    def generate(self, prompt: str, seed: int, video=None, actions=None, num_frames: int | None = None) -> np.ndarray:
        clip = self.wm.generate(prompt, video=video, actions=actions, num_frames=num_frames or self.frames,
                                seed=self.st.seed + seed, generator=self.name, settings=self.settings,
                                progress=False)
        t = clip.report["timings"]
        self.timings.append((len(clip.frames) / clip.fps, t["prepare_s"] + t["sample_s"] + t["decode_s"]))
        self.bar.update(1)
        return clip.frames

    def scene(self, seed: int, frames: int | None = None, behaviour: str = "keep", salient: bool = False):
        from cosmos_lite.data.streams import scene_clip

        s = self.spec
        return scene_clip(seed, "test", frames or self.frames, s.size, s.fps, behaviour=behaviour, salient=salient)

    def reconstruct(self, frames: np.ndarray) -> np.ndarray:
        from cosmos_lite.data.codec import frames_to_video, video_to_frames

        with torch.no_grad():
            tok = self.tokenizer
            return video_to_frames(tok.decode(tok.encode(frames_to_video(frames)), num_frames=len(frames)))


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(xs)) if xs else None


# --------------------------------------------------------------------------- measures


def measure_prediction(run: _Run) -> tuple[dict, list[dict]]:
    """Per-horizon fidelity (true actions), the shuffled-actions gap; returns the clips for later measures."""
    st, cond = run.st, run.st.cond_frames
    T, fps = run.frames, run.spec.fps
    buckets = horizon_buckets(T, cond, fps)
    scenes = [run.scene(i, behaviour="mix") for i in range(st.n)]
    clips, rows = [], []
    for i, clip in enumerate(scenes):
        truth = clip.frames
        generated = run.generate(clip.caption, i, video=truth[:cond], actions=clip.actions)
        shuffled_actions = scenes[(i + SHUFFLE_OFFSET) % st.n].actions
        shuffled = run.generate(clip.caption, i, video=truth[:cond], actions=shuffled_actions)
        repeat, recon = repeat_last_prediction(truth, cond), run.reconstruct(truth)
        scores = {name: frame_scores(x[cond:], truth[cond:]) for name, x in
                  (("generated", generated), ("repeat_last", repeat), ("tokenizer", recon), ("shuffled", shuffled))}
        row: dict[str, Any] = {"seed": i, "caption": clip.caption, "behaviour": clip.scenario.ego_behaviour.kind,
                               "buckets": {}}
        for b in buckets:
            idx = [k - cond for k in b["frames"]]
            row["buckets"][b["label"]] = {f"{name}_{m}": float(np.mean(v[j][idx])) for name, v in scores.items()
                                          for j, m in enumerate(("psnr", "ssim"))}
        row["all"] = {f"{name}_{m}": float(np.mean(v[j])) for name, v in scores.items()
                      for j, m in enumerate(("psnr", "ssim"))}
        rows.append(row)
        clips.append({"scene": clip, "truth": truth, "generated": generated, "repeat": repeat, "recon": recon})

    def summarize(rs: list[dict]) -> dict:
        out = {k: _mean(r[k] for r in rs) for k in rs[0]}
        out["beats_repeat"] = _mean(float(r["generated_psnr"] > r["repeat_last_psnr"]) for r in rs)
        out["beats_repeat_ssim"] = _mean(float(r["generated_ssim"] > r["repeat_last_ssim"]) for r in rs)
        return out

    per_bucket = [{"horizon_s": b["label"], "frames": b["frames"],
                   **summarize([r["buckets"][b["label"]] for r in rows])} for b in buckets]
    overall = summarize([r["all"] for r in rows])
    return {"clips": st.n, "buckets": per_bucket, "all": overall,
            "psnr_true_minus_shuffled": overall["generated_psnr"] - overall["shuffled_psnr"],
            "per_clip": rows}, clips


def measure_actions(run: _Run, clips: list[dict], idm) -> tuple[dict, list[dict]]:
    """IDM on generated clips vs the commanded actions, its validity on the true clips, closest replay;
    and the steering sheet's clips (left / straight / right from one start, with the simulator's)."""
    from cosmos_lite.scenes import replay

    cond = run.st.cond_frames

    def follow(frames_key: str) -> dict:
        est, cmd = [], []
        for c in clips:
            a = c["scene"].actions
            est.append(idm.predict(c[frames_key])[cond:])
            cmd.append(a[cond:])
        est, cmd = np.concatenate(est), np.concatenate(cmd)
        active = np.abs(cmd[:, 1]) >= ACTIVE_CURVATURE
        return {"sign_accuracy": sign_accuracy(est[:, 1], cmd[:, 1]),
                "sign_accuracy_turning": sign_accuracy(est[active, 1], cmd[active, 1]) if active.any() else None,
                "turning_frames": int(active.sum()),
                "spearman_curvature": spearman(est[:, 1], cmd[:, 1]),
                "spearman_acceleration": spearman(est[:, 0], cmd[:, 0]),
                "mae_curvature": float(np.abs(est[:, 1] - cmd[:, 1]).mean()),
                "mae_acceleration": float(np.abs(est[:, 0] - cmd[:, 0]).mean())}

    out = {"generated": follow("generated"), "true_clips": follow("truth"), "tokenizer_clips": follow("recon")}
    out["sign_accuracy"] = out["generated"]["sign_accuracy"]

    rows, sheet = [], []
    c = run.st.curvature
    for i in range(run.st.steering):
        clip = run.scene(i)
        truth = clip.frames
        gens, sims = {}, {}
        r: dict[str, Any] = {"seed": i, "caption": clip.caption}
        for side, curv in (("left", c), ("right", -c)):
            acts = steering_actions(clip.actions, cond, curv)
            gens[side] = run.generate(clip.caption, i, video=truth[:cond], actions=acts)
            sim = replay(clip.scenario, from_frame=cond - 1, actions=acts[cond - 1:], size=run.spec.size,
                         fps=run.spec.fps)
            sims[side] = np.concatenate([truth[:cond - 1], sim.frames])
            r[f"generated_shift_{side}"] = cumulative_shift(gens[side][cond - 1:])
            r[f"simulator_shift_{side}"] = cumulative_shift(sim.frames)
        for side, other in (("left", "right"), ("right", "left")):
            r[f"closer_{side}"] = clip_mse(gens[side][cond:], sims[side][cond:]) < \
                clip_mse(gens[side][cond:], sims[other][cond:])
        rows.append(r)
        if i < run.st.png_clips:  # the sheet's middle row: straight on from the same start
            gens["straight"] = run.generate(clip.caption, i, video=truth[:cond],
                                            actions=steering_actions(clip.actions, cond, 0.0))
            sheet.append({"caption": clip.caption, "generated": gens, "simulated": sims})
    out["closest_replay"] = _mean(float(r[f"closer_{s}"]) for r in rows for s in ("left", "right"))
    out["steering"] = {"clips": len(rows), "curvature": c, "per_clip": rows}
    return out, sheet


def measure_events(run: _Run, reader, prompted_event_found) -> tuple[dict, list[dict]]:
    """Text-to-world from captions naming an event (placed in view): is it there? And the weather / lighting."""
    rows, shown = [], []
    seed = 0
    while len(rows) < run.st.prompts:
        clip = run.scene(seed, salient=True)
        seed += 1
        sc = clip.scenario
        if sc.event.kind == "none":
            continue
        generated = run.generate(clip.caption, len(rows))
        judged = {}
        for who, frames in (("generated", generated), ("true_clip", clip.frames),
                            ("tokenizer_clip", run.reconstruct(clip.frames))):
            o = reader.read_clip(frames)
            judged[who] = {"event_found": bool(prompted_event_found(o, sc.event.kind)), "event": o["event"],
                           "weather_ok": o["weather"] == sc.weather, "lighting_ok": o["lighting"] == sc.lighting}
        rows.append({"seed": seed - 1, "caption": clip.caption, "event": sc.event.kind, **judged})
        shown.append({"caption": clip.caption, "frames": generated, "found": judged["generated"]["event_found"],
                      "truth": clip.frames})

    def rate(who: str, key: str) -> float | None:
        return _mean(float(r[who][key]) for r in rows)

    out = {"clips": len(rows), "rate": rate("generated", "event_found"), "true_rate": rate("true_clip", "event_found"),
           "tokenizer_rate": rate("tokenizer_clip", "event_found"),
           "conditions": {who: {"weather": rate(who, "weather_ok"), "lighting": rate(who, "lighting_ok")}
                          for who in ("generated", "true_clip", "tokenizer_clip")},
           "per_clip": rows}
    if out["rate"] is not None and out["true_rate"]:
        out["share_of_true_rate"] = out["rate"] / out["true_rate"]
    return out, shown


def measure_sharpness(run: _Run, clips: list[dict], event_clips: list[dict], reader) -> dict:
    """HF energy generated / true at each horizon, the tokenizer's ceiling, and the reader-feature distance."""
    cond, T, fps = run.st.cond_frames, run.frames, run.spec.fps
    per = []
    for b in horizon_buckets(T, cond, fps):
        k = b["frames"]
        g = np.concatenate([c["generated"][k] for c in clips])
        t = np.concatenate([c["truth"][k] for c in clips])
        r = np.concatenate([c["recon"][k] for c in clips])
        per.append({"horizon_s": b["label"], "hf_ratio": hf_ratio(g, t), "tokenizer_hf_ratio": hf_ratio(r, t)})
    gen = np.concatenate([c["generated"][cond:] for c in clips])
    true = np.concatenate([c["truth"][cond:] for c in clips])
    rec = np.concatenate([c["recon"][cond:] for c in clips])
    out = {"hf_ratio": hf_ratio(gen, true), "tokenizer_hf_ratio": hf_ratio(rec, true), "buckets": per}
    pairs = [(c["generated"], c["truth"]) for c in clips] + [(c["frames"], c["truth"]) for c in event_clips]
    if len(pairs) >= 2:
        fg = np.stack([reader.features(g) for g, _ in pairs])
        ft = np.stack([reader.features(t) for _, t in pairs])
        out["reader_frechet"] = frechet_distance(fg, ft)
        out["reader_frechet_clips"] = len(pairs)
    return out


def measure_stutter(run: _Run, clips: list[dict]) -> dict:
    """Mean frame-to-frame change by position inside a latent group: generated, round trip, true."""
    t = run.tokenizer.config.temporal_compression
    prof = {who: np.nanmean([change_by_group_position(c[key], t) for c in clips], axis=0)
            for who, key in (("generated", "generated"), ("tokenizer", "recon"), ("true", "truth"))}
    return {"positions": t, **{f"{who}_profile": p.tolist() for who, p in prof.items()},
            "generated_deviation": stutter_deviation(prof["generated"], prof["true"]),
            "tokenizer_deviation": stutter_deviation(prof["tokenizer"], prof["true"])}


def failure_prompts() -> list[tuple[str, str, str]]:
    """The fixed prompt set: every weather x lighting, with an ordinary driving scene."""
    from cosmos_lite.scenes import LIGHTINGS, WEATHERS

    words = {"clear": "clear", "rain": "heavy rain", "fog": "fog", "snow": "snow"}
    return [(w, li, f"{li if li != 'day' else 'day'}, {words[w]}, a car ahead on the road")
            for w in WEATHERS for li in LIGHTINGS]


def measure_failures(run: _Run) -> dict:
    rows = []
    for i, (w, li, prompt) in enumerate(failure_prompts()):
        kinds = failure_kinds(run.generate(prompt, 1000 + i))
        rows.append({"weather": w, "lighting": li, "prompt": prompt, "failures": kinds})
    return {"clips": len(rows), "rate": _mean(float(bool(r["failures"])) for r in rows),
            **{f"{k}_rate": _mean(float(k in r["failures"]) for r in rows)
               for k in ("blank", "black", "frozen", "flicker")},
            "per_clip": rows}


def measure_drift(run: _Run, reader, prompted_event_found) -> dict:
    cond, T, fps = run.st.cond_frames, run.st.drift_frames, run.spec.fps
    buckets = horizon_buckets(T, cond, fps)
    rows, found = [], []
    for i in range(run.st.drift):
        clip = run.scene(100 + i, frames=T, behaviour="mix", salient=True)
        gen = run.generate(clip.caption, 100 + i, video=clip.frames[:cond], actions=clip.actions, num_frames=T)
        p, s = frame_scores(gen[cond:], clip.frames[cond:])
        rows.append({b["label"]: (float(p[[k - cond for k in b["frames"]]].mean()),
                                  float(s[[k - cond for k in b["frames"]]].mean())) for b in buckets})
        if clip.scenario.event.kind != "none":
            found.append(float(prompted_event_found(reader.read_clip(gen), clip.scenario.event.kind)))
    return {"clips": run.st.drift, "frames": T,
            "buckets": [{"horizon_s": b["label"], "generated_psnr": _mean(r[b["label"]][0] for r in rows),
                         "generated_ssim": _mean(r[b["label"]][1] for r in rows)} for b in buckets],
            "event_rate": _mean(found)}


def measure_speed(run: _Run) -> dict:
    video = sum(v for v, _ in run.timings)
    wall = sum(w for _, w in run.timings)
    return {"clips": len(run.timings), "wall_s_per_video_s": wall / video if video else None,
            "realtime_factor": video / wall if wall else None, "threads": torch.get_num_threads()}


def instrument_validity(results: dict) -> dict:
    """The instruments judged on truth, from the true clips every generator's run read."""
    first = next(iter(results.values()))
    out = {"event_reader": {}, "idm": {}}
    if first.get("events"):
        out["event_reader"] = {"true_accuracy": first["events"]["true_rate"],
                               "tokenizer_accuracy": first["events"]["tokenizer_rate"]}
    if first.get("actions"):
        t = first["actions"]["true_clips"]
        out["idm"] = {"true_sign_accuracy": t["sign_accuracy_turning"], "true_sign_accuracy_all": t["sign_accuracy"],
                      "true_spearman_curvature": t["spearman_curvature"], "true_mae_curvature": t["mae_curvature"],
                      "turning_frames": t["turning_frames"]}
    return out


# --------------------------------------------------------------------------- orchestration


def generator_settings(kind: str, st: WorldEvalSettings):
    """The generator's settings with the evaluation's ``steps`` / ``guidance`` where it has them and
    they are given (None: the generator's defaults)."""
    from cosmos_lite.generators import settings_class

    cls = settings_class(kind)
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in (("steps", st.steps), ("guidance", st.guidance)) if k in names and v is not None})


def evaluate_world_model(model_dir: str | Path | None, out_dir: str | Path, settings: WorldEvalSettings,
                         instruments: Instruments | None = None) -> dict:
    """Run every measure for every generator; write ``metrics.json``, the contact sheets and the
    plot to ``out_dir`` and return the metrics dict."""
    from tqdm.auto import tqdm

    from cosmos_lite.world import WorldModel

    from .report import curves_plot, prediction_sheet, prompt_sheet, steering_sheet

    if model_dir is not None and not Path(model_dir).is_dir():
        raise FileNotFoundError(f"{model_dir}: no such world-model directory (expected one written by "
                                "WorldModel.save_pretrained or `cosmos-lite train diffusion`, RUN/final)")
    st = settings
    wm = WorldModel.from_pretrained(model_dir, guardrail=None)
    for name in wm.generators:  # refuse bad settings before any clip is made
        spec = wm.config.spec(name)
        check_cond_frames(st.cond_frames, st.frames or spec.frames, wm.tokenizers[name].config.temporal_compression,
                          wm.generator(name).max_context_frames(wm.tokenizers[name].config.temporal_compression))
    instruments = instruments or Instruments.bundled()
    per_gen = st.n * 2 + st.steering * 2 + min(st.steering, st.png_clips) + st.prompts + (12 if st.failures else 0) + st.drift
    bar = tqdm(total=per_gen * len(wm.generators), desc="eval world-model", unit="clip", disable=not st.progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in wm.generators:
        spec = wm.config.spec(name)
        run = _Run(wm, name, generator_settings(spec.kind, st), st, bar)
        r: dict[str, Any] = {"kind": spec.kind, "settings": asdict(run.settings), "size": list(spec.size),
                             "fps": spec.fps, "frames": run.frames}
        bar.set_postfix_str(f"{name}: prediction")
        r["prediction"], clips = measure_prediction(run)
        bar.set_postfix_str(f"{name}: actions")
        r["actions"], steering = measure_actions(run, clips, instruments.idm)
        event_clips: list[dict] = []
        if st.prompts:
            bar.set_postfix_str(f"{name}: events")
            r["events"], event_clips = measure_events(run, instruments.reader, instruments.event_found)
        r["sharpness"] = measure_sharpness(run, clips, event_clips, instruments.reader)
        r["stutter"] = measure_stutter(run, clips)
        if st.failures:
            bar.set_postfix_str(f"{name}: failures")
            r["failures"] = measure_failures(run)
        if st.drift:
            bar.set_postfix_str(f"{name}: drift")
            r["drift"] = measure_drift(run, instruments.reader, instruments.event_found)
        r["speed"] = measure_speed(run)
        results[name] = r
        from cosmos_lite.scenes.preview import write_png

        write_png(out / f"prediction_{name}.png", prediction_sheet(clips[:st.png_clips], st.cond_frames, spec.fps))
        if event_clips:
            write_png(out / f"prompts_{name}.png", prompt_sheet(event_clips))
        if steering:
            write_png(out / f"steering_{name}.png", steering_sheet(steering, st.cond_frames, spec.fps))
    bar.close()
    result = {"model": "bundled" if model_dir is None else str(model_dir), "guardrail": GUARDRAIL_NOTE,
              "settings": {**asdict(st), "split": "test", "psnr_cap_db": PSNR_CAP},
              "instruments": instrument_validity(results), "generators": results}
    from cosmos_lite.pretrained import write_json
    from cosmos_lite.scenes.preview import write_png

    write_json(out / "metrics.json", result)
    write_png(out / "curves.png", curves_plot(result))
    return result
