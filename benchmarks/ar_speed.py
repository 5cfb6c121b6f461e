"""Autoregressive world model speed: vocabulary / head variants, parallel vs raster decoding, KV cache vs
recompute, and the real-time factor of a clip (random weights: speed only, not quality).

    python benchmarks/ar_speed.py [--preset small] [--grid 8x12] [--frames 33] [--temporal 4] [--fps 10]
                                  [--steps 4 8] [--window 8] [--threads 1] [--repeat 3] [--bf16]
                                  [--recompute-frames N] [--decode-tokenizer]

One process, one thread by default (the shared CPU box: OpenMP spin-waits across two busy cores
cost more than they give). Every rollout is text-to-world: all ``1 + (frames - 1) / temporal``
latent frames are generated (9 for 33 frames at 4x temporal compression: the CPU recipe's
DV4x8x8 at 64x96, or DV4x16x16 at 128x192; both give 8 x 12 ids per latent frame). Figures are the
best of ``--repeat`` runs (min: the least disturbed by the other jobs on the box). ``--bf16`` runs
the transformer under bf16 autocast (fast on CPUs with AMX / AVX512-BF16; sampling stays float32).

Tables:

1. vocabulary and heads: parameters of the input embedding and the output head, whole-model
   parameters, and ms per generated latent frame (bidirectional, ``--steps`` first value) for the
   factorized head (one softmax per FSQ digit) and the joint head, at FSQ levels (8,8,8,5,5,5)
   (64 000 ids) and (8,5,5,5) (1 000 ids). The input is always the sum of per-digit embeddings; the
   "joint table" column is what a ``vocab x D`` embedding would hold instead, and the last rows time
   both lookups for one frame of ids.
2. decoding: ms per latent frame, model passes per frame, KV cache vs recomputing the window at
   every pass, and the real-time factor (seconds of video / seconds of generation) of the clip;
   ``--decode-tokenizer`` adds the decode time of a random-weight ``default-dv`` tokenizer at the
   size behind ``--grid`` (8x spatial), so the factor covers generator + decode.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time

import torch
from cosmos_lite.generators.autoregressive import PRESETS, ARTransformer, DecodeSettings, rollout
from cosmos_lite.generators.conditioning import Conditioning


def params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conditioning(T: int, text_len: int = 12) -> Conditioning:
    g = torch.Generator().manual_seed(0)
    return Conditioning(torch.randn(1, text_len, 384, generator=g), torch.ones(1, text_len, dtype=torch.bool),
                        torch.randn(1, T, 2, generator=g) * torch.tensor([2.0, 0.002]))


def rollout_timer(model: ARTransformer, n: int, grid: tuple[int, int], settings: DecodeSettings, window: int,
                  use_cache: bool = True):
    """A function that runs one text-to-world rollout of ``n`` latent frames and returns its seconds."""
    cond = conditioning(n)

    def once() -> float:
        t0 = time.perf_counter()
        rollout(model, None, n, grid, cond, None, settings, [torch.Generator().manual_seed(0)], window,
                use_cache=use_cache)
        return time.perf_counter() - t0

    return once


def best_of(timers: dict, repeat: int) -> dict:
    """Min seconds per timer over ``repeat`` rounds, the timers interleaved within each round so that
    load from other jobs on a shared box hits every variant alike."""
    best = {k: float("inf") for k in timers}
    for _ in range(repeat):
        for k, fn in timers.items():
            best[k] = min(best[k], fn())
    return best


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(v).rjust(w) for v, w in zip(r, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", choices=list(PRESETS))
    ap.add_argument("--grid", default="8x12", help="ids per latent frame, HxW")
    ap.add_argument("--frames", type=int, default=33, help="video frames of the clip")
    ap.add_argument("--temporal", type=int, default=4, help="tokenizer temporal compression")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--steps", type=int, nargs="+", default=[4, 8], help="parallel decoding steps per frame")
    ap.add_argument("--window", type=int, default=8, help="latent frames of context")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast")
    ap.add_argument("--recompute-frames", type=int, default=None,
                    help="latent frames of the recompute rollouts (default: all; raster recompute is slow)")
    ap.add_argument("--decode-tokenizer", action="store_true", help="add a random default-dv decode to the RTF")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else contextlib.nullcontext():
        run(args)


def run(args: argparse.Namespace) -> None:
    gh, gw = (int(v) for v in args.grid.lower().split("x"))
    grid, S = (gh, gw), gh * gw
    T = 1 + (args.frames - 1) // args.temporal
    seconds_of_video = args.frames / args.fps
    base = PRESETS[args.preset]
    print(f"preset {args.preset} (dim {base.dim}, depth {base.depth}, heads {base.num_heads}), {gh}x{gw} = {S} ids "
          f"per latent frame, {T} latent frames ({args.frames} frames at {args.fps:g} fps = {seconds_of_video:g} s), "
          f"window {args.window}, {torch.get_num_threads()} thread(s), {'bf16 autocast' if args.bf16 else 'fp32'}, "
          f"random weights\n")
    torch.manual_seed(0)
    first_steps = args.steps[0]

    # 1. vocabulary and heads --------------------------------------------------------------
    head_models = {}
    for levels in ((8, 8, 8, 5, 5, 5), (8, 5, 5, 5)):
        for head in ("factorized", "joint"):
            head_models[levels, head] = ARTransformer(dataclasses.replace(base, fsq_levels=levels, head=head)).eval()
    head_s = best_of({k: rollout_timer(m, 3, grid, DecodeSettings(steps=first_steps), args.window)
                      for k, m in head_models.items()}, args.repeat)
    rows = []
    for (levels, head), model in head_models.items():
        vocab = model.config.vocab_size
        rows.append([str(levels), vocab, head, model.config.num_logits, params(model.digit_embed), vocab * base.dim,
                     params(model.head), f"{params(model) / 1e6:.2f}M", f"{1000 * head_s[levels, head] / 3:.0f}"])
    print(f"vocabulary and heads (bidirectional, {first_steps} steps, 3 latent frames, best of {args.repeat})")
    print(table(rows, ["fsq levels", "vocab", "head", "logits/id", "digit embed", "joint table", "head params",
                       "model params", "ms/frame"]))
    # the two input embeddings, one frame of ids, timed alone
    ids = torch.randint(0, 64000, (1, S))
    joint_table = torch.nn.Embedding(64000, base.dim)
    model = head_models[(8, 8, 8, 5, 5, 5), "factorized"]
    digit = lambda: model.digit_embed(((ids[..., None] // model.basis) % model.levels) + model.digit_offset).sum(-2)
    for name, fn in (("digit-sum", digit), ("joint table", lambda: joint_table(ids))):
        with torch.no_grad():
            for _ in range(10):
                fn()
            t0 = time.perf_counter()
            for _ in range(200):
                fn()
        print(f"input embedding of {S} ids, {name}: {1e6 * (time.perf_counter() - t0) / 200:.0f} us")
    print()
    del head_models

    # 2. decoding ---------------------------------------------------------------------------
    decode_s = 0.0
    if args.decode_tokenizer:
        from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
        from cosmos_lite.tokenizer import VideoTokenizer

        tok = VideoTokenizer(TOK_PRESETS["default-dv"]).eval()
        lat = torch.randint(0, tok.config.vocab_size, (1, T, gh, gw))
        with torch.no_grad():
            decode_s = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                tok.decode(lat, num_frames=args.frames)
                decode_s = min(decode_s, time.perf_counter() - t0)
        print(f"tokenizer decode (random default-dv, {T} latent frames -> {args.frames} x {8 * gh}x{8 * gw}): "
              f"{decode_s:.2f} s\n")

    n_re = args.recompute_frames or T
    variants = {f"parallel, {s} steps": ("bidirectional", DecodeSettings(steps=s)) for s in args.steps}
    variants["raster"] = ("causal", DecodeSettings(steps=S))
    models = {k: ARTransformer(dataclasses.replace(base, within_frame=w)).eval() for k, (w, _) in variants.items()}
    timers = {(k, "cached"): rollout_timer(models[k], T, grid, st, args.window) for k, (_, st) in variants.items()}
    if n_re != T:
        timers.update({(k, "cached part"): rollout_timer(models[k], n_re, grid, st, args.window)
                       for k, (_, st) in variants.items()})
    cached = best_of(timers, args.repeat)
    # recomputing is slow (the raster one most): one round, interleaved
    recompute = best_of({k: rollout_timer(models[k], n_re, grid, st, args.window, use_cache=False)
                         for k, (_, st) in variants.items()}, 1)
    rows = []
    for k, (within, st) in variants.items():
        c = cached[k, "cached"]
        part = cached[k, "cached part"] if n_re != T else c
        passes = S if within == "causal" else min(st.steps, S)
        rows.append([within, k, passes, f"{1000 * c / T:.0f}", f"{1000 * recompute[k] / n_re:.0f}",
                     f"{recompute[k] / part:.1f}x", f"{c:.2f}", f"{seconds_of_video / (c + decode_s):.2f}"])
    print(f"decoding ({T} latent frames, text-to-world, best of {args.repeat}; recompute: one run over the first "
          f"{n_re})")
    print(table(rows, ["within frame", "decoding", "passes/frame", "ms/frame cached", "ms/frame recompute",
                       "cache speed-up", "clip s", "real-time factor" + (" (+decode)" if decode_s else "")]))


if __name__ == "__main__":
    main()
