"""Tokenizer evaluation: PSNR / SSIM per clip, a comparison PNG, and rate-distortion against H.264.

The tokenizer's rate is counted as a plain code would store it: continuous
latents at 16 bits per value (bf16/fp16), discrete tokens at log2(vocab) bits.
H.264 (libx264 via PyAV, yuv420p, ``tune=psnr``) gets the same clips at the
highest quality whose measured bitstream size does not exceed that bits per
pixel: CRF is searched by bisection, since bitrate targets are loose on short
clips. Where even CRF 51 needs more bits, the row says so (``h264_over_budget``).

``stutter`` holds the world-model evaluation's stutter measure for the round trip:
the mean frame-to-frame change by position inside a latent group of frames, for the
original, the tokenizer and H.264, and each one's largest gap to the original's
profile relative to its mean (:mod:`cosmos_lite.eval.world.measures`; the models
issue asks for <= 0.25). A decoder that puts a group's motion into its first frames
shows a falling profile even where its PSNR is fine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from cosmos_lite.data.codec import video_to_frames
from cosmos_lite.data.streams import VideoFolder, render_scene_clip, to_model

from .metrics import (
    bits_per_pixel,
    code_histogram,
    codebook_perplexity,
    codebook_usage,
    psnr,
    ssim,
)
from .world.measures import change_by_group_position, stutter_deviation


@dataclass(frozen=True)
class EvalSettings:
    data: str  # "scenes-test" or a folder of videos
    n: int = 8
    frames: int = 17
    size: tuple[int, int] = (128, 192)
    fps: float = 10.0
    h264: bool = True
    png_clips: int = 4  # clips shown in comparison.png

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"--n must be >= 1, got {self.n}")
        if self.frames < 1:
            raise ValueError(f"--frames must be >= 1, got {self.frames}")
        if self.size[0] < 2 or self.size[1] < 2:
            raise ValueError(f"size must be at least 2x2, got {self.size}")


# --------------------------------------------------------------------------- H.264


def h264_roundtrip(frames: np.ndarray, crf: int, fps: float = 10.0) -> tuple[np.ndarray, int]:
    """Encode uint8 [T, H, W, 3] with libx264 at ``crf``, decode; returns (frames, bitstream bits)."""
    import av

    t, h, w, _ = frames.shape
    # yuv420p needs even sizes: replicate the last row / column, crop after decoding.
    ph, pw = h + h % 2, w + w % 2
    padded = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = pw, ph, "yuv420p"
    rate = Fraction(fps).limit_denominator(1001)
    enc.time_base, enc.framerate = 1 / rate, rate
    enc.options = {"crf": str(crf), "preset": "medium", "tune": "psnr"}
    packets = []
    for i, f in enumerate(padded):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24").reformat(format="yuv420p")
        vf.pts = i
        packets.extend(enc.encode(vf))
    packets.extend(enc.encode(None))
    bits = 8 * sum(p.size for p in packets)
    dec = av.CodecContext.create("h264", "r")
    out = []
    for p in packets:
        out.extend(fr.to_ndarray(format="rgb24") for fr in dec.decode(p))
    out.extend(fr.to_ndarray(format="rgb24") for fr in dec.decode(None))
    if len(out) != t:
        raise RuntimeError(f"H.264 round trip returned {len(out)} frames for {t}")
    return np.stack(out)[:, :h, :w], bits


def h264_at_bpp(frames: np.ndarray, target_bpp: float, fps: float) -> dict:
    """Best-quality H.264 encoding with bits per pixel <= ``target_bpp`` (CRF bisection)."""
    pixels = frames.shape[0] * frames.shape[1] * frames.shape[2]
    cache: dict[int, tuple[np.ndarray, int]] = {}

    def run(crf: int) -> tuple[np.ndarray, int]:
        if crf not in cache:
            cache[crf] = h264_roundtrip(frames, crf, fps)
        return cache[crf]

    lo, hi = 0, 51  # bits fall as crf rises; find the smallest crf within budget
    if run(hi)[1] / pixels > target_bpp:
        crf, over = hi, True
    else:
        while lo < hi:
            mid = (lo + hi) // 2
            if run(mid)[1] / pixels <= target_bpp:
                hi = mid
            else:
                lo = mid + 1
        crf, over = lo, False
    decoded, bits = run(crf)
    return {"crf": crf, "bpp": bits / pixels, "frames": decoded, "over_budget": over}


# --------------------------------------------------------------------------- evaluation


def tokenizer_bpp(tok, latent: torch.Tensor, frames: int, size: tuple[int, int]) -> float:
    cfg = tok.config
    bits = 16.0 if cfg.mode == "continuous" else math.log2(cfg.vocab_size)
    return bits_per_pixel(tuple(latent.shape[1:]), bits, frames, size[0], size[1])


def load_clips(settings: EvalSettings) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 [T, H, W, 3]) clips to evaluate."""
    if settings.data == "scenes-test":
        return [(f"scenes-test-{i:04d}", render_scene_clip(i, "test", settings.frames, settings.size, settings.fps))
                for i in range(settings.n)]
    folder = VideoFolder(settings.data, settings.frames, settings.size)
    out = []
    for i in range(min(settings.n, len(folder))):
        clip = folder[i]
        out.append((folder.files[i].stem, video_to_frames(clip)))
    return out


def _metricsvideo_to_frames(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    x, y = to_model(a).unsqueeze(0), to_model(b).unsqueeze(0)
    return float(psnr(y, x)[0]), float(ssim(y, x)[0])


@torch.no_grad()
def evaluate(tokenizer_dir: str | Path, settings: EvalSettings, out_dir: str | Path,
             device: str = "cpu") -> dict:
    """Evaluate a saved tokenizer; writes ``metrics.json`` and ``comparison.png`` to ``out_dir``."""
    from cosmos_lite.tokenizer import VideoTokenizer

    tok = VideoTokenizer.from_pretrained(tokenizer_dir).to(device).eval()
    clips = load_clips(settings)
    rows, panels = [], []
    profiles: dict[str, list[np.ndarray]] = {"true": [], "tokenizer": [], "h264": []}
    t = tok.config.temporal_compression
    hist = None
    for name, frames in clips:
        x = to_model(frames).unsqueeze(0).to(device)
        latent = tok.encode(x)
        recon = tok.decode(latent, num_frames=x.shape[2], size=tuple(x.shape[-2:]))
        rec_u8 = video_to_frames(recon)
        # Metrics on the 8-bit output, as a user would see it (and as H.264 is measured).
        p, s = _metricsvideo_to_frames(frames, rec_u8)
        row = {"clip": name, "psnr": p, "ssim": s, "bpp": tokenizer_bpp(tok, latent, *frames.shape[:1], frames.shape[1:3])}
        if tok.config.mode == "discrete":
            counts = code_histogram(latent, tok.config.vocab_size)
            hist = counts if hist is None else hist + counts
        h264 = None
        if settings.h264:
            h264 = h264_at_bpp(frames, row["bpp"], settings.fps)
            hp, hs = _metricsvideo_to_frames(frames, h264["frames"])
            row.update(h264_crf=h264["crf"], h264_bpp=h264["bpp"], h264_psnr=hp, h264_ssim=hs,
                       h264_over_budget=h264["over_budget"])
        rows.append(row)
        if frames.shape[0] > t:  # at least one whole latent group after frame 0
            profiles["true"].append(change_by_group_position(frames, t))
            profiles["tokenizer"].append(change_by_group_position(rec_u8, t))
            if h264 is not None:
                profiles["h264"].append(change_by_group_position(h264["frames"], t))
        if len(panels) < settings.png_clips:
            panels.append((name, frames, rec_u8, None if h264 is None else h264["frames"]))
    keys = [k for k in rows[0] if k not in ("clip", "h264_crf", "h264_over_budget")]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    result = {"tokenizer": str(tokenizer_dir), "mode": tok.config.mode, "data": settings.data,
              "frames": settings.frames, "size": list(settings.size), "clips": rows, "mean": mean}
    if profiles["true"]:
        prof = {who: np.nanmean(p, axis=0) for who, p in profiles.items() if p}
        result["stutter"] = {"positions": t, **{f"{who}_profile": p.tolist() for who, p in prof.items()},
                             **{f"{who}_deviation": stutter_deviation(p, prof["true"])
                                for who, p in prof.items() if who != "true"}}
    if hist is not None:
        result["codebook"] = {"usage": codebook_usage(hist), "perplexity": codebook_perplexity(hist),
                              "tokens": int(hist.sum()), "vocab_size": tok.config.vocab_size}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    from cosmos_lite.scenes.preview import write_png

    write_png(out / "comparison.png", comparison_image(panels))
    return result


def comparison_image(panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]) -> np.ndarray:
    """Rows = (clip, frame); columns = original | tokenizer | H.264 (when present), labelled."""
    from cosmos_lite.scenes.preview import text_image

    pad = 2
    rows = []
    for name, orig, rec, h264 in panels:
        t = orig.shape[0]
        for k in sorted({0, t // 2, t - 1}):
            cols = [orig[k], rec[k]] + ([h264[k]] if h264 is not None else [])
            h, w = orig.shape[1:3]
            strip = np.full((h + 11, len(cols) * (w + pad) - pad, 3), 16, np.uint8)
            label = text_image(f"{name} F{k}  ORIGINAL | TOKENIZER" + (" | H.264" if h264 is not None else ""))
            label = label[:, : strip.shape[1] - 4]
            strip[2:9, 3:3 + label.shape[1]] = label
            for c, img in enumerate(cols):
                strip[11:, c * (w + pad):c * (w + pad) + w] = img
            rows.append(np.pad(strip, ((0, pad), (0, 0), (0, 0)), constant_values=16))
    return np.concatenate(rows)[:-pad]


def format_table(result: dict) -> str:
    """The printed summary: one line per clip and the mean."""
    has_h264 = "h264_psnr" in result["mean"]
    head = f"{'clip':<24} {'bpp':>7} {'PSNR':>7} {'SSIM':>6}"
    if has_h264:
        head += f" | {'H.264 bpp':>9} {'PSNR':>7} {'SSIM':>6}"
    lines = [head, "-" * len(head)]

    def line(name: str, r: dict) -> str:
        s = f"{name:<24} {r['bpp']:>7.4f} {r['psnr']:>7.2f} {r['ssim']:>6.3f}"
        if has_h264:
            flag = "*" if r.get("h264_over_budget") else " "
            s += f" | {r['h264_bpp']:>8.4f}{flag} {r['h264_psnr']:>7.2f} {r['h264_ssim']:>6.3f}"
        return s

    lines += [line(r["clip"][:24], r) for r in result["clips"]]
    lines += ["-" * len(head), line("mean", result["mean"])]
    if any(r.get("h264_over_budget") for r in result["clips"]):
        lines.append("* H.264 cannot reach the tokenizer's rate even at CRF 51 (shown at CRF 51)")
    if "stutter" in result:
        st = result["stutter"]

        def fmt(profile: list[float]) -> str:
            return " / ".join(f"{v:.2f}" for v in profile)

        lines.append(f"stutter (change by position in a latent group, grey levels): true {fmt(st['true_profile'])}; "
                     f"tokenizer {fmt(st['tokenizer_profile'])} (deviation {st['tokenizer_deviation']:.2f})"
                     + (f"; H.264 {fmt(st['h264_profile'])} (deviation {st['h264_deviation']:.2f})"
                        if "h264_profile" in st else ""))
    if "codebook" in result:
        cb = result["codebook"]
        lines.append(f"codebook usage {cb['usage']:.4f} ({cb['tokens']} tokens, vocab {cb['vocab_size']}), "
                     f"perplexity {cb['perplexity']:.1f}")
    return "\n".join(lines)
