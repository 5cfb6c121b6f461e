"""``cosmos-lite scenes export | preview``: arguments only; handlers import the renderer."""

from __future__ import annotations

import argparse

from cosmos_lite.cli.types import size_hw


def register(sub) -> None:
    p = sub.add_parser("scenes", help="synthetic driving scenes: export datasets, preview contact sheets",
                       description="Procedural, labelled dash-camera driving scenes (the built-in dataset).")
    s = p.add_subparsers(dest="scenes_command", metavar="SUBCOMMAND")
    s.required = True

    e = s.add_parser("export", help="render N clips to mp4 + a JSONL manifest (parallel, resumable)")
    e.add_argument("--n", type=int, required=True, help="number of clips")
    e.add_argument("--frames", type=int, default=33, help="frames per clip (default 33)")
    e.add_argument("--size", type=size_hw, default=(128, 192), help="HxW (default 128x192)")
    e.add_argument("--fps", type=float, default=10.0, help="frames per second (default 10)")
    e.add_argument("--split", choices=("train", "val", "test"), default="train",
                   help="seed range to draw scenes from (disjoint per split)")
    e.add_argument("--out", required=True, help="output directory")
    e.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    e.add_argument("--seed-offset", type=int, default=0, help="first split seed (clip i uses offset + i)")
    e.add_argument("--limit", type=int, default=None, help="render at most this many missing clips in this run")
    e.add_argument("--lossless", action="store_true", help="FFV1 .mkv instead of H.264 .mp4")
    e.add_argument("--raw", action="store_true", help="raw uint8 frames (.npz) instead of video: exact, and "
                   "readable without PyAV/FFmpeg (about 8x the bytes of H.264)")
    e.add_argument("--behaviour", default="keep", help="ego manoeuvre per clip: keep, mix (30%% keep), or one of "
                   "lane_change_left/right, swerve_left/right, drift_left/right, hard_brake, accelerate, random, "
                   "veer_left/right")
    e.add_argument("--salient", action="store_true", help="place each event near and in view (clearly visible)")
    e.set_defaults(func=_export)

    v = s.add_parser("preview", help="write a contact sheet PNG of several scenarios")
    v.add_argument("--out", required=True, help="PNG file to write")
    v.add_argument("--n", type=int, default=8, help="number of scenarios / rows (default 8)")
    v.add_argument("--size", type=size_hw, default=(96, 144), help="frame size HxW (default 96x144)")
    v.add_argument("--columns", type=int, default=4, help="frames per row (default 4)")
    v.add_argument("--seed", type=int, default=0, help="first seed to sample from (val split)")
    v.set_defaults(func=_preview)


def _export(args) -> int:
    from cosmos_lite.scenes.export import ExportSettings, export

    h, w = args.size
    settings = ExportSettings(args.frames, h, w, args.fps, args.split, args.seed_offset, args.lossless,
                              args.behaviour, args.salient, args.raw)
    res = export(args.out, args.n, settings, workers=args.workers, limit=args.limit)
    if res.rendered:
        state = "complete" if res.complete else f"{res.total - res.skipped - res.rendered} clips still missing"
        print(f"{res.out}: rendered {res.rendered}, kept {res.skipped}; {state}; manifest {res.manifest}")
    return 0


def _preview(args) -> int:
    from cosmos_lite.scenes.preview import contact_sheet, preview_scenarios, write_png

    if not 1 <= args.n <= 64:
        raise ValueError(f"--n must be in [1, 64], got {args.n}")
    if not 1 <= args.columns <= 16:
        raise ValueError(f"--columns must be in [1, 16], got {args.columns}")
    if not str(args.out).lower().endswith(".png"):
        raise ValueError(f"{args.out}: the contact sheet is a PNG; give a .png file name")
    sheet = contact_sheet(preview_scenarios(args.n, args.seed), args.size, args.columns)
    path = write_png(args.out, sheet)
    print(f"wrote {path} ({sheet.shape[1]}x{sheet.shape[0]}, {path.stat().st_size // 1024} KB)")
    return 0
