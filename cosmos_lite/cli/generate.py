"""``cosmos-lite generate``: a prompt (plus optional first frames and actions) -> a video file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cosmos_lite.cli.types import non_negative_int, positive_float, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", help="generate a clip with the diffusion world model",
                              description="Generate a driving clip from a prompt, optionally continuing the first "
                                          "frames of a video and following per-frame ego actions. Offline; the "
                                          "guardrail checks the request and the clip.")
    p.add_argument("--prompt", required=True, help='e.g. "night, heavy rain, a pedestrian steps out"')
    p.add_argument("-o", "--out", required=True, help="output video (.mp4, .mkv or .avi)")
    p.add_argument("--video", default=None, help="continue the first frames of this video")
    p.add_argument("--actions", default=None,
                   help="JSON file: [[accel m/s^2, curvature 1/m], ...] one row per output frame "
                        '(or {"actions": [...]})')
    p.add_argument("--frames", type=positive_int, default=33, help="frames to generate (default 33)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, default=24, help="sampler steps (default 24)")
    p.add_argument("--guidance", type=positive_float, default=3.0, help="classifier-free guidance (default 3)")
    p.add_argument("--negative-prompt", default="", help="what to steer away from (default: empty prompt)")
    p.add_argument("--solver", choices=("dpm", "euler"), default="dpm", help="EDM scheduler (default dpm)")
    p.add_argument("--model", default=None, help="world-model directory (default: the bundled model)")
    p.add_argument("--report", default=None, help="also write the generation report (guardrail verdicts, timings) here")
    p.add_argument("--no-guardrail", action="store_true", help="skip the guardrail (logged; not for production)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_generate)


def read_actions(path: str | Path) -> list[list[float]]:
    """Actions from a JSON file: a list of per-frame rows, or an object with an ``actions`` list."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such actions file")
    try:
        data = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{p}: not valid JSON ({err.msg} at line {err.lineno})") from None
    rows = data.get("actions") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
        raise ValueError(f"{p}: expected a non-empty list of per-frame [accel, curvature] rows")
    try:
        return [[float(v) for v in r] for r in rows]
    except (TypeError, ValueError):
        raise ValueError(f"{p}: action rows must hold numbers") from None


def _generate(args: argparse.Namespace) -> int:
    import logging

    from cosmos_lite.world import GenerationBlocked, WorldModel

    out = Path(args.out)
    if out.suffix.lower() not in (".mp4", ".mkv", ".avi"):
        raise ValueError(f"{out}: the output must be .mp4, .mkv or .avi")
    actions = read_actions(args.actions) if args.actions else None
    if args.video is not None and not Path(args.video).is_file():
        raise FileNotFoundError(f"{args.video}: no such video")
    logging.basicConfig(level=logging.WARNING, format="cosmos-lite: %(message)s")
    kwargs = {"guardrail": None} if args.no_guardrail else {}
    wm = WorldModel.from_pretrained(args.model, **kwargs)
    try:
        clip = wm.generate(args.prompt, video=args.video, actions=actions, num_frames=args.frames, seed=args.seed,
                           steps=args.steps, guidance=args.guidance, negative_prompt=args.negative_prompt,
                           solver=args.solver, progress=not args.no_progress)
    except GenerationBlocked as err:
        print(f"cosmos-lite generate: blocked: {err}", file=sys.stderr)
        if args.report:
            Path(args.report).write_text(json.dumps({"blocked": err.stage, "report": err.report.to_dict()},
                                                    indent=2) + "\n")
        return 3
    clip.save(out)
    if args.report:
        Path(args.report).write_text(json.dumps(clip.report, indent=2, default=str) + "\n")
    t = clip.report["timings"]
    print(f"wrote {out} ({len(clip.frames)} frames, {clip.frames.shape[2]}x{clip.frames.shape[1]}, "
          f"{clip.fps:g} fps) in {t['total_s']:.1f} s")
    return 0
