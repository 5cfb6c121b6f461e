"""Guardrail speed: prompt guard ms/prompt and video guard frames/s on CPU.

    python benchmarks/guardrail_speed.py

Prompt timings exclude loading the encoder (reported separately). The video
clip is 64 frames of 128x192 with two faces moving across a textured scene,
run through ``GuardrailRunner.check_output`` (integrity + face/plate blur).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from cosmos_lite.guardrail import GuardrailRunner, PrivacyConfig, PromptGuard

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "tests" / "data" / "prompts"


def machine() -> str:
    import cv2
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, load avg {load:.2f}; Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), OpenCV {cv2.__version__}")


def prompt_rows() -> list[tuple[str, float]]:
    texts = [json.loads(line)["text"] for name in ("unsafe.jsonl", "safe.jsonl")
             for line in (PROMPTS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    guard = PromptGuard()
    start = time.perf_counter()
    guard.check_semantic("load the encoder and embed the prototypes")
    load_s = time.perf_counter() - start

    def mean_ms(fn) -> float:
        start = time.perf_counter()
        for t in texts:
            fn(t)
        return (time.perf_counter() - start) / len(texts) * 1e3

    return [
        ("encoder + prototypes load (once), s", load_s),
        (f"prompt guard check(), ms/prompt (n={len(texts)})", mean_ms(guard.check)),
        ("blocklist + semantic on every prompt, ms/prompt",
         mean_ms(lambda t: (guard.check_blocklist(t), guard.check_semantic(t)))),
        ("blocklist only, ms/prompt", mean_ms(guard.check_blocklist)),
    ]


def face_boxes(i: int) -> list[tuple[slice, slice]]:
    """Where face_clip pasted its two faces in frame i."""
    return [(slice(20, 72), slice(10 + i, 58 + i)), (slice(60, 112), slice(130 - i // 2, 178 - i // 2))]


def face_clip(t: int = 64, h: int = 128, w: int = 192) -> np.ndarray:
    import cv2
    from skimage import data

    face = cv2.resize(data.astronaut()[40:200, 150:300], (48, 52), interpolation=cv2.INTER_AREA)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for i in range(t):
        u = x - 2.0 * i
        v = 110 + 50 * np.sin(u / 9.0) * np.cos(y / 11.0)
        frame = np.clip(np.stack([v, v * 0.9 + 10, 200 - 0.5 * v], -1), 0, 255).astype(np.uint8)
        (ya, xa), (yb, xb) = face_boxes(i)
        frame[ya, xa] = face
        frame[yb, xb] = face[:, ::-1]
        frames.append(frame)
    return np.stack(frames)


def video_rows() -> list[tuple[str, float]]:
    clip = face_clip()
    rows = []
    for every, both in ((4, False), (1, True)):
        runner = GuardrailRunner(privacy=PrivacyConfig(detect_every=every, profile_both_ways=both))
        runner.check_output(clip[:8])  # load cascades
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            safe, report = runner.check_output(clip)
            best = min(best, time.perf_counter() - start)
        assert report.allowed and safe is not None, report.summary()
        # Recall: share of (frame, face) pairs where most of the pasted face changed.
        covered = [np.mean(np.any(safe[i][box] != clip[i][box], axis=-1)) >= 0.5
                   for i in range(len(clip)) for box in face_boxes(i)]
        what = f"{'; '.join(report.modifications) or 'nothing blurred'}, {np.mean(covered):.0%} face-frames covered"
        mode = "default: detect_every=4" if every == 4 else "max recall: detect_every=1, profile_both_ways"
        rows.append((f"video guard 64x128x192 ({mode}), frames/s [{what}]", len(clip) / best))
    return rows


def main() -> None:
    print(f"machine: {machine()}")
    rows = prompt_rows() + video_rows()
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-------")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value:7.1f}")
    print("acceptance: prompt guard < 50 ms/prompt, video guard >= 100 frames/s at 128x192")


if __name__ == "__main__":
    main()
