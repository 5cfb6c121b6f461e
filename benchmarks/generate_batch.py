"""Batch generation: ``WorldModel.generate_many`` against one ``generate`` call per request.

    python benchmarks/generate_batch.py [--model DIR] [--n 8] [--batch 1 4 8] [--frames 33] [--steps 24]
                                        [--generator NAME] [--threads N]

Same requests (n prompts, seeds 0..n-1, shared settings) both ways, guardrail off
(it costs the same either way and is measured in guardrail_speed.py). Prints
seconds per clip and the speed-up of each batch size over one by one, and checks
that batched clips equal the one-by-one clips (within one grey level: batch
numerics).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

PROMPTS = ("night, heavy rain, a pedestrian steps out", "dusk, fog, a cyclist swerves", "clear, a truck cuts in",
           "snow, a deer crosses the road", "rain, debris on the road", "day, clear, a car brakes hard",
           "night, clear, a car cuts in", "fog, dusk, a dog runs across")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="world-model directory (default: bundled)")
    ap.add_argument("--generator", default=None)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--batch", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--steps", type=int, default=24, help="diffusion sampler steps")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from cosmos_lite.generators import settings_class
    from cosmos_lite.world import WorldModel

    wm = WorldModel.from_pretrained(args.model, guardrail=None)
    spec = wm.config.spec(args.generator)
    cls = settings_class(spec.kind)
    settings = cls(steps=args.steps) if "steps" in cls.__dataclass_fields__ else cls()
    reqs = [dict(prompt=PROMPTS[i % len(PROMPTS)], seed=i, num_frames=args.frames, generator=spec.name,
                 settings=settings) for i in range(args.n)]
    wm.generate(**{**reqs[0], "num_frames": 9}, progress=False)  # warm-up: text encoder, kernels

    t = time.perf_counter()
    single = [wm.generate(**r, progress=False).frames for r in reqs]
    t_single = time.perf_counter() - t
    rows = [("one by one", 1, t_single / args.n, 1.0, 0)]
    for b in args.batch:
        t = time.perf_counter()
        many = wm.generate_many(reqs, batch_size=b, progress=False)
        dt = time.perf_counter() - t
        diff = max(int(np.abs(m.frames.astype(int) - s.astype(int)).max()) for m, s in zip(many, single))
        rows.append((f"generate_many", b, dt / args.n, t_single / dt, diff))

    print(f"{spec.name} generator, {args.n} clips of {args.frames} frames at {spec.size[0]}x{spec.size[1]}, "
          f"{settings}, torch threads {torch.get_num_threads()}")
    print(f"| {'method':<14} | {'batch':>5} | {'s / clip':>8} | {'speed-up':>8} | {'max diff vs one-by-one':>22} |")
    print(f"|{'-' * 16}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 24}|")
    for name, b, per, speed, diff in rows:
        print(f"| {name:<14} | {b:>5} | {per:>8.2f} | {speed:>7.2f}x | {diff:>22} |")


if __name__ == "__main__":
    main()
