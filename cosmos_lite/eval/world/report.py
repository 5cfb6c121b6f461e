"""What the world-model evaluation shows a person: contact sheets, the per-horizon plot, the table."""

from __future__ import annotations

import numpy as np

BG = 16


def _put(canvas: np.ndarray, text: str, y: int, x: int, limit: int) -> None:
    from cosmos_lite.scenes.preview import text_image

    img = text_image(text.upper())[:, :max(0, limit)]
    canvas[y:y + img.shape[0], x:x + img.shape[1]] = img


def prediction_sheet(clips: list[dict], cond_frames: int, fps: float) -> np.ndarray:
    """Per clip, rows TRUE / GEN / REPEAT; columns: the last condition frame and a few horizons after it."""
    pad, lab, margin = 2, 11, 60
    T, h, w = clips[0]["truth"].shape[:3]
    last = cond_frames - 1
    cols = sorted({last, *np.linspace(last, T - 1, 5).round().astype(int).tolist()})[:5]
    width = len(cols) * (w + pad) - pad + margin
    blocks = []
    for i, c in enumerate(clips):
        head = np.full((lab, width, 3), BG, np.uint8)
        _put(head, f"test {i}", 2, 2, margin - 4)
        for j, k in enumerate(cols):
            _put(head, f"+{(k - last) / fps:.1f}s", 2, margin + j * (w + pad), w)
        rows = [head]
        for name, key in (("true", "truth"), ("gen", "generated"), ("repeat", "repeat")):
            row = np.full((h, width, 3), BG, np.uint8)
            _put(row, name, (h - 7) // 2, 2, margin - 4)
            for j, k in enumerate(cols):
                row[:, margin + j * (w + pad):margin + j * (w + pad) + w] = c[key][k]
            rows += [row, np.full((pad, width, 3), BG, np.uint8)]
        blocks.append(np.concatenate(rows))
    return np.concatenate(blocks)


def steering_sheet(clips: list[dict], cond_frames: int, fps: float, columns: int = 5) -> np.ndarray:
    """Per start: rows GEN LEFT / GEN STRAIGHT / GEN RIGHT, then the simulator's replays of left and right;
    columns: the last condition frame and horizons after it. A model that steers turns the road
    the way its replay does."""
    pad, lab, margin = 2, 11, 60
    T, h, w = clips[0]["generated"]["left"].shape[:3]
    last = cond_frames - 1
    cols = np.linspace(last, T - 1, columns).round().astype(int)
    width = columns * (w + pad) - pad + margin
    blocks = []
    for i, c in enumerate(clips):
        head = np.full((lab, width, 3), BG, np.uint8)
        _put(head, c["caption"], 2, 2, width - 4)
        rows = [head]
        for name, frames in (("gen left", c["generated"]["left"]), ("gen straight", c["generated"]["straight"]),
                             ("gen right", c["generated"]["right"]), ("sim left", c["simulated"]["left"]),
                             ("sim right", c["simulated"]["right"])):
            row = np.full((h, width, 3), BG, np.uint8)
            _put(row, name, (h - 7) // 2, 2, margin - 4)
            for j, k in enumerate(cols):
                row[:, margin + j * (w + pad):margin + j * (w + pad) + w] = frames[k]
            rows += [row, np.full((pad, width, 3), BG, np.uint8)]
        blocks.append(np.concatenate(rows))
    return np.concatenate(blocks)


def prompt_sheet(clips: list[dict], columns: int = 5) -> np.ndarray:
    """Prompt -> clip grid: per clip a caption line with the reader's verdict, then frames across the clip."""
    pad, lab = 2, 11
    T, h, w = clips[0]["frames"].shape[:3]
    cols = np.linspace(0, T - 1, columns).round().astype(int)
    width = columns * (w + pad) - pad
    blocks = []
    for c in clips:
        head = np.full((lab, width, 3), BG, np.uint8)
        verdict = "found" if c["found"] else "missing"
        _put(head, f"[{verdict}] {c['caption']}", 2, 2, width - 4)
        row = np.full((h, width, 3), BG, np.uint8)
        for j, k in enumerate(cols):
            row[:, j * (w + pad):j * (w + pad) + w] = c["frames"][k]
        if not c["found"]:
            row[:2] = (200, 40, 40)  # a red edge marks a clip where the prompted event is not seen
        blocks += [head, row, np.full((pad, width, 3), BG, np.uint8)]
    return np.concatenate(blocks)


def curves_plot(result: dict, size: tuple[int, int] = (220, 360)) -> np.ndarray:
    """PSNR and SSIM per horizon: each generator, repeat-last and the tokenizer ceiling (and drift)."""
    import cv2

    H, W = size
    panels = []
    colours = [(230, 120, 40), (60, 170, 230), (120, 220, 120), (220, 90, 200)]
    for metric, lo, hi in (("psnr", 10.0, 35.0), ("ssim", 0.0, 1.0)):
        img = np.full((H, W, 3), 250, np.uint8)
        x0, y0, x1, y1 = 40, 20, W - 10, H - 30
        cv2.rectangle(img, (x0, y0), (x1, y1), (0, 0, 0), 1)
        series = []
        for gi, (name, r) in enumerate(result["generators"].items()):
            b = r["prediction"]["buckets"]
            series.append((f"{name}", [x[f"generated_{metric}"] for x in b], colours[gi % len(colours)]))
            if r.get("drift"):
                series.append((f"{name} long", [x[f"generated_{metric}"] for x in r["drift"]["buckets"]],
                               tuple(int(v * 0.6) for v in colours[gi % len(colours)])))
            if gi == 0:
                series.append(("repeat-last", [x[f"repeat_last_{metric}"] for x in b], (90, 90, 90)))
                series.append(("tokenizer", [x[f"tokenizer_{metric}"] for x in b], (20, 20, 20)))
        n = max(len(v) for _, v, _ in series)
        for k in range(n):
            x = x0 + int((x1 - x0) * (k + 0.5) / n)
            cv2.putText(img, f"{k + 1}s", (x - 8, H - 12), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1)
        cv2.putText(img, f"{metric.upper()} {lo:g}-{hi:g}", (x0, 14), cv2.FONT_HERSHEY_PLAIN, 0.9, (0, 0, 0), 1)
        for si, (label, vals, col) in enumerate(series):
            pts = [(x0 + int((x1 - x0) * (k + 0.5) / n), y1 - int((y1 - y0) * (min(max(v, lo), hi) - lo) / (hi - lo)))
                   for k, v in enumerate(vals) if v is not None]
            for p, q in zip(pts, pts[1:]):
                cv2.line(img, p, q, col, 2)
            for p in pts:
                cv2.circle(img, p, 3, col, -1)
            cv2.putText(img, label, (x0 + 6, y0 + 14 + 12 * si), cv2.FONT_HERSHEY_PLAIN, 0.8, col, 1)
        panels.append(img)
    return np.concatenate(panels, axis=1)


def _f(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def format_table(result: dict) -> str:
    """The printed summary of :func:`~.evaluate.evaluate_world_model`: one column per generator."""
    gens = result["generators"]
    names = list(gens)
    s = result["settings"]
    lines = [f"world model {result['model']}; {s['cond_frames']} condition frames; guardrail off"]
    col = max(12, *(len(n) for n in names))
    head = f"{'measure':<44}" + "".join(f"{n:>{col + 2}}" for n in names)
    lines += ["", head, "-" * len(head)]

    def row(label: str, get, fmt: str = ".3f") -> None:
        vals = []
        for n in names:
            try:
                vals.append(_f(get(gens[n]), fmt))
            except (KeyError, TypeError, IndexError):  # a measure this generator has not (shorter clips)
                vals.append("-")
        lines.append(f"{label:<44}" + "".join(f"{v:>{col + 2}}" for v in vals))

    longest = max(names, key=lambda n: len(gens[n]["prediction"]["buckets"]))  # generators' clips may differ
    for b in range(len(gens[longest]["prediction"]["buckets"])):
        lbl = gens[longest]["prediction"]["buckets"][b]["horizon_s"]
        row(f"PSNR {lbl} s (repeat-last / tokenizer)", lambda g: g["prediction"]["buckets"][b]["generated_psnr"], ".2f")
        r0 = gens[longest]["prediction"]["buckets"][b]
        lines[-1] += f"   ({r0['repeat_last_psnr']:.2f} / {r0['tokenizer_psnr']:.2f})"
        row(f"SSIM {lbl} s (repeat-last / tokenizer)", lambda g: g["prediction"]["buckets"][b]["generated_ssim"])
        lines[-1] += f"   ({r0['repeat_last_ssim']:.3f} / {r0['tokenizer_ssim']:.3f})"
    row("PSNR true actions - shuffled actions (dB)", lambda g: g["prediction"]["psnr_true_minus_shuffled"], ".2f")
    row("events: prompted event found", lambda g: g["events"]["rate"])
    row("events: found on true clips / round trips", lambda g: g["events"]["true_rate"])
    lines[-1] += "   (" + _f(gens[names[0]].get("events", {}).get("tokenizer_rate"), ".3f") + " round trip)"
    row("weather / lighting shown", lambda g: g["events"]["conditions"]["generated"]["weather"])
    lines[-1] += " / " + _f(gens[names[0]].get("events", {}).get("conditions", {}).get("generated", {})
                            .get("lighting"), ".3f")
    row("actions: IDM turn sign (left/straight/right)", lambda g: g["actions"]["sign_accuracy"])
    row("actions: IDM Spearman curvature", lambda g: g["actions"]["generated"]["spearman_curvature"])
    row("actions: IDM MAE curvature (1/m)", lambda g: g["actions"]["generated"]["mae_curvature"], ".4f")
    row("actions: IDM MAE acceleration (m/s^2)", lambda g: g["actions"]["generated"]["mae_acceleration"], ".2f")
    row("actions: closest replay", lambda g: g["actions"]["closest_replay"])
    row("sharpness: HF energy generated / true", lambda g: g["sharpness"]["hf_ratio"])
    row("sharpness: tokenizer round trip / true", lambda g: g["sharpness"]["tokenizer_hf_ratio"])
    row("reader-feature Frechet distance", lambda g: g["sharpness"]["reader_frechet"], ".2f")
    row("stutter: max deviation from true profile", lambda g: g["stutter"]["generated_deviation"])
    row("stutter: tokenizer round trip deviation", lambda g: g["stutter"]["tokenizer_deviation"])
    row("failures: blank/black/frozen/flicker rate", lambda g: g["failures"]["rate"])
    row("drift: event rate on long rollouts", lambda g: g["drift"]["event_rate"])
    row("drift: PSNR in the last second", lambda g: g["drift"]["buckets"][-1]["generated_psnr"], ".2f")
    row("speed: real-time factor (video s / wall s)", lambda g: g["speed"]["realtime_factor"], ".2f")
    inst = result["instruments"]
    lines += ["", "instruments on true clips: event reader "
              f"{_f(inst.get('event_reader', {}).get('true_accuracy'), '.3f')} "
              f"(round trips {_f(inst.get('event_reader', {}).get('tokenizer_accuracy'), '.3f')}); "
              f"IDM turn sign on |curvature| >= 0.005: {_f(inst.get('idm', {}).get('true_sign_accuracy'), '.3f')}"]
    for n in names:
        st = gens[n]["stutter"]
        lines.append(f"stutter profile ({n}; change by position in a latent group, grey levels): generated "
                     + " ".join(f"{v:.2f}" for v in st["generated_profile"]) + " | tokenizer "
                     + " ".join(f"{v:.2f}" for v in st["tokenizer_profile"]) + " | true "
                     + " ".join(f"{v:.2f}" for v in st["true_profile"]))
    return "\n".join(lines)
