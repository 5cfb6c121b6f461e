"""``cosmos-lite generate``: a prompt (plus optional first frames and actions) -> a video file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cosmos_lite.cli.types import non_negative_int, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", help="generate a clip with a world model",
                              description="Generate a driving clip from a prompt, optionally continuing the first "
                                          "frames of a video and following per-frame ego actions. Offline; the "
                                          "guardrail checks the request and the clip. Exit codes: 2 invalid input, "
                                          "3 blocked by the guardrail.")
    p.add_argument("--prompt", required=True, help='e.g. "night, heavy rain, a pedestrian steps out"')
    p.add_argument("-o", "--out", required=True, help="output video (.mp4, .mkv or .avi)")
    p.add_argument("--video", default=None, help="continue the first frames of this video")
    p.add_argument("--actions", default=None,
                   help="JSON file: [[accel m/s^2, curvature 1/m], ...] one row per output frame "
                        '(or {"actions": [...]})')
    p.add_argument("--frames", type=positive_int, default=None,
                   help="frames to generate (default: the generator's training clip length)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--model", default=None, help="world-model directory (default: the bundled model)")
    p.add_argument("--generator", default=None, help="which of the model's generators (default: its first)")
    g = p.add_argument_group("generator settings (each applies to the generators whose settings have it)")
    g.add_argument("--steps", type=positive_int, default=None, help="sampler steps (diffusion; default 24)")
    g.add_argument("--guidance", type=float, default=None,
                   help="classifier-free guidance, 1 = none (default 1.5)")
    g.add_argument("--negative-prompt", default=None, help="what to steer away from (default: empty prompt)")
    g.add_argument("--solver", choices=("dpm", "euler"), default=None, help="EDM scheduler (diffusion; default dpm)")
    g.add_argument("--temperature", type=float, default=None, help="sampling temperature (autoregressive; 0 = greedy)")
    g.add_argument("--top-k", type=int, default=None, help="keep the k likeliest codes (autoregressive; 0 = off)")
    g.add_argument("--top-p", type=float, default=None, help="nucleus sampling (autoregressive; 1 = off)")
    g.add_argument("--decode-steps", type=positive_int, default=None,
                   help="parallel decoding steps per latent frame (autoregressive)")
    p.add_argument("--report", default=None, help="also write the generation report (guardrail verdicts, timings) here")
    p.add_argument("--no-guardrail", action="store_true", help="skip the guardrail (logged; not for production)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_generate)


# flag -> settings field; a flag given for a generator whose settings lack the field is an error
SETTINGS_FLAGS = {"steps": "steps", "guidance": "guidance", "negative_prompt": "negative_prompt", "solver": "solver",
                  "temperature": "temperature", "top_k": "top_k", "top_p": "top_p", "decode_steps": "decode_steps"}


def settings_from_flags(kind: str, args: argparse.Namespace):
    """The chosen generator's settings object, with the flags that were given."""
    import dataclasses

    from cosmos_lite.generators import settings_class

    cls = settings_class(kind)
    known = {f.name for f in dataclasses.fields(cls)}
    given = {field: getattr(args, flag) for flag, field in SETTINGS_FLAGS.items() if getattr(args, flag) is not None}
    foreign = sorted(k for k in given if k not in known)
    if foreign:
        flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
        raise ValueError(f"invalid flag: {flags} does not apply to the {kind} generator")
    return cls(**given)


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

    from cosmos_lite.pretrained import atomic_write_text
    from cosmos_lite.world import WorldConfig, WorldModel, check_request

    def write_report(obj: dict) -> None:
        atomic_write_text(args.report, json.dumps(obj, indent=2, default=str) + "\n")

    # everything about the input is checked here, before any model loads (seconds, not a minute)
    out = Path(args.out)
    if out.suffix.lower() not in (".mp4", ".mkv", ".avi"):
        raise ValueError(f"invalid output {out}: must be .mp4, .mkv or .avi")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"invalid output {out}: folder {out.parent} does not exist")
    if args.report and not Path(args.report).parent.is_dir():
        raise FileNotFoundError(f"invalid --report {args.report}: folder {Path(args.report).parent} does not exist")
    actions = read_actions(args.actions) if args.actions else None
    video = args.video
    if video is not None:
        from cosmos_lite.data.io import read_video

        if not Path(video).is_file():
            raise FileNotFoundError(f"invalid video {video}: no such file")
        video, _ = read_video(video)  # the frames, so their size is checked now too
    config = WorldConfig.load(args.model)
    spec = config.spec(args.generator)
    request = check_request(config, dict(prompt=args.prompt, video=video, actions=actions, num_frames=args.frames,
                                         seed=args.seed, generator=spec.name,
                                         settings=settings_from_flags(spec.kind, args)))

    logging.basicConfig(level=logging.WARNING, format="cosmos-lite: %(message)s")
    kwargs = {"guardrail": None} if args.no_guardrail else {}
    wm = WorldModel.from_pretrained(args.model, **kwargs)
    clip = wm.generate_many([request], batch_size=1, progress=not args.no_progress)[0]
    if args.report:
        write_report(clip.report)
    if clip.blocked:
        print(f"cosmos-lite generate: blocked ({clip.report['blocked_stage']}): {'; '.join(clip.reasons)}",
              file=sys.stderr)
        return 3
    clip.save(out)
    t = clip.report["timings"]
    print(f"wrote {out} ({len(clip.frames)} frames, {clip.frames.shape[2]}x{clip.frames.shape[1]}, "
          f"{clip.fps:g} fps) in {t['total_s']:.1f} s")
    return 0
