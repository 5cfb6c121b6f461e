"""End-to-end ``cosmos-lite tokenize`` throughput vs the tokenizer's pure encode rate.

    python benchmarks/tokenize_throughput.py [--videos 16] [--frames 33] [--size 128x192] [--batch-size 8]
                                             [--workers 1] [--preset default-cv] [--repeats 2]

Data: synthetic driving scenes exported as H.264 mp4 (``cosmos_lite.scenes``).
Tokenizer: the preset at random init, saved to a temp dir first (speed does not
depend on the weights). Both sides encode the same clips with the same batch
size in the same process:

* pure encode: clips already decoded into float tensors, only ``tok.encode``
  timed (after one warm-up batch);
* end to end: ``tokenize_videos`` on the folder, wall clock from the call to
  its return (tokenizer load, probing, decoding in a worker process, encoding,
  shard writes and the manifest), into a fresh output directory each time.

"in model s" and "waiting s" split the end-to-end wall time: time inside ``tok.encode`` and
time the model waited for decoded clips (the rest is startup, probing and writing).

The two are measured alternately ``--repeats`` times; the table shows each
repetition and the best of each side, and the ratio of the bests.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def export_videos(root: Path, n: int, frames: int, size: tuple[int, int], fps: float) -> Path:
    from cosmos_lite.scenes.export import ExportSettings, export

    settings = ExportSettings(frames=frames, height=size[0], width=size[1], fps=fps, split="val")
    res = export(root / "scenes", n, settings, workers=min(2, os.cpu_count() or 1), progress=False)
    return res.out / "clips"


def pure_encode_rate(tok, clips: list, batch_size: int) -> float:
    import torch

    with torch.inference_mode():
        tok.encode(torch.stack(clips[:batch_size]))  # warm-up: allocator, oneDNN primitive caches
        t0 = time.perf_counter()
        for i in range(0, len(clips), batch_size):
            tok.encode(torch.stack(clips[i : i + batch_size]))
        return len(clips) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=16)
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--size", type=_size, default=(128, 192))
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="decoding processes for the end-to-end run")
    ap.add_argument("--preset", default="default-cv")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import torch

    from cosmos_lite.data.codec import frames_to_video
    from cosmos_lite.data.io import read_video
    from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos
    from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

    with tempfile.TemporaryDirectory(prefix="tokenize-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        videos = export_videos(root, args.videos, args.frames, args.size, args.fps)
        files = sorted(videos.glob("*.mp4"))
        print(f"exported {len(files)} videos of {args.frames} frames at {args.size[0]}x{args.size[1]} "
              f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        torch.manual_seed(0)
        VideoTokenizer(PRESETS[args.preset]).save_pretrained(root / "tok")
        tok = VideoTokenizer.from_pretrained(root / "tok")
        clips = [frames_to_video(read_video(f, size=args.size)[0])[0] for f in files]
        options = TokenizeOptions(size=args.size, clip_frames=args.frames, batch_size=args.batch_size,
                                  workers=args.workers)

        rows = []
        for r in range(args.repeats):
            pure = pure_encode_rate(tok, clips, args.batch_size)
            t0 = time.perf_counter()
            summary = tokenize_videos([videos], root / f"out{r}", root / "tok", options, progress=False)
            wall = time.perf_counter() - t0
            assert summary.complete and summary.in_manifest == len(files), summary
            rows.append((r, pure, len(files) / wall, wall, summary.encode_seconds, summary.wait_seconds))

    best_pure = max(row[1] for row in rows)
    best_e2e = max(row[2] for row in rows)
    print(f"\ntokenize throughput: {args.preset}, {len(files)} clips of {args.frames}x{args.size[0]}x{args.size[1]}, "
          f"batch {args.batch_size}, {args.workers} decode worker(s), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    print(f"| {'run':>4} | {'pure encode clips/s':>19} | {'end-to-end clips/s':>18} | {'e2e wall s':>10} | "
          f"{'in model s':>10} | {'waiting s':>9} | {'ratio':>6} |")
    print(f"| {'-' * 4} | {'-' * 19} | {'-' * 18} | {'-' * 10} | {'-' * 10} | {'-' * 9} | {'-' * 6} |")
    for r, pure, e2e, wall, model_s, wait_s in rows:
        print(f"| {r:>4} | {pure:>19.3f} | {e2e:>18.3f} | {wall:>10.1f} | {model_s:>10.1f} | {wait_s:>9.1f} | "
              f"{e2e / pure:>6.1%} |")
    print(f"| best | {best_pure:>19.3f} | {best_e2e:>18.3f} | {'':>10} | {'':>10} | {'':>9} | "
          f"{best_e2e / best_pure:>6.1%} |")
    print(f"\nend-to-end / pure encode = {best_e2e / best_pure:.1%} (acceptance: >= 80%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
