"""``cosmos-lite train tokenizer|diffusion|autoregressive|reader|idm`` and ``cosmos-lite eval tokenizer|world-model``
(argparse only; heavy imports in handlers).

Every override flag defaults to None, meaning "keep the recipe's (or, with
--resume, the checkpoint's) value", so the saved run config stays the one
source of truth.
"""

from __future__ import annotations

import argparse
import sys

from cosmos_lite.cli.types import non_negative_int, positive_float, positive_int, size_hw


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="train a model (tokenizer, diffusion or autoregressive world model, reader or IDM)")
    tsub = train.add_subparsers(dest="train_command", metavar="MODEL")
    tsub.required = True
    p = tsub.add_parser("tokenizer", help="train a video tokenizer (continuous or FSQ)",
                        description="Train a VideoTokenizer on scenes or a folder of videos. "
                                    "Flags override the recipe; with --resume, the checkpoint's config.")
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl, final/)")
    p.add_argument("--preset", default=None, help="tokenizer preset (default-cv, default-dv, tiny-cv, ...)")
    p.add_argument("--recipe", choices=("cpu", "gpu"), default="cpu", help="base settings (default: cpu)")
    p.add_argument("--data", default=None, help="'scenes' (rendered on the fly) or a folder of videos")
    p.add_argument("--val-data", default=None, help="'scenes' (val split) or a folder of videos")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--finetune-decoder", default=None, metavar="TOKENIZER",
                   help="start from this trained tokenizer (directory or bundled name, continuous or FSQ) and train "
                        "its decoder only: latents and token ids stay fixed, so world models trained on them keep "
                        "working")
    p.add_argument("--init-from", default=None, metavar="TOKENIZER",
                   help="start all weights from this trained tokenizer (directory or bundled name) and train "
                        "everything; latent statistics are re-measured (training adds up across runs)")
    p.add_argument("--warm-start", default=None, metavar="TOKENIZER",
                   help="seed the --preset architecture with this tokenizer's tensors wherever name and shape "
                        "match (e.g. default-dv from default-cv: only the latent projections start fresh)")
    _add_train_flags(p)
    g = p.add_argument_group("data")
    g.add_argument("--frames", type=positive_int, help="clip length, 1 + k*t (e.g. 17, 33)")
    g.add_argument("--crop-scale", type=float, help="folders: read at size * crop-scale, then random-crop size "
                                                   "(train on crops, run at full size)")
    g.add_argument("--size", type=size_hw, help="HxW, e.g. 128x192")
    g.add_argument("--fps", type=positive_float)
    g.add_argument("--val-clips", type=positive_int)
    g = p.add_argument_group("loss")
    g.add_argument("--l1", type=float)
    g.add_argument("--ssim", type=float, help="weight of 1 - MS-SSIM")
    g.add_argument("--temporal", type=float, help="weight of the frame-difference L1")
    g.add_argument("--adv", type=float, help="generator adversarial weight")
    g.add_argument("--adv-start-step", type=non_negative_int, help="turn the 3D patch discriminator on at this step")
    p.set_defaults(func=_train_tokenizer)

    p = tsub.add_parser("diffusion", help="train the diffusion world model (DiT on tokenizer latents)",
                        description="Train a DiT on continuous latents of a `cosmos-lite tokenize` directory "
                                    "(with captions and actions) or of scenes encoded on the fly. Flags override "
                                    "the recipe; with --resume, the checkpoint's config.")
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl, final/)")
    p.add_argument("--preset", default=None, help="DiT preset (test, small, default, ...)")
    p.add_argument("--recipe", choices=("cpu", "gpu"), default="cpu", help="base settings (default: cpu)")
    p.add_argument("--data", default=None, help="'scenes' (encoded on the fly) or a cosmos-lite tokenize directory")
    p.add_argument("--tokenizer", default=None,
                   help="continuous tokenizer: bundled name or save_pretrained directory (default: default-cv)")
    p.add_argument("--text-encoder", default=None,
                   help="transformers encoder name or path for captions (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--init-from", default=None, metavar="WORLD_MODEL",
                   help="start the DiT from this world model's diffusion generator ('bundled' = the package's): "
                        "training adds up across runs")
    _add_train_flags(p)
    g = p.add_argument_group("data")
    g.add_argument("--frames", type=positive_int, help="clip length in video frames, 1 + k*t (e.g. 33)")
    g.add_argument("--size", type=size_hw, help="HxW of the video behind the latents, e.g. 64x96")
    g.add_argument("--fps", type=positive_float)
    g.add_argument("--val-clips", type=positive_int)
    g = p.add_argument_group("loss")
    g.add_argument("--p-mean", type=float, help="mean of ln(sigma) in training")
    g.add_argument("--p-std", type=positive_float, help="std of ln(sigma) in training")
    g.add_argument("--max-cond-latents", type=positive_int, help="condition on up to this many latent frames")
    g.add_argument("--p-text-to-world", type=float, help="probability of no condition frames")
    g.add_argument("--text-dropout", type=float, help="caption dropout (classifier-free guidance)")
    g.add_argument("--action-dropout", type=float, help="action dropout (classifier-free guidance)")
    p.set_defaults(func=_train_diffusion)

    p = tsub.add_parser("autoregressive", help="train the autoregressive world model (transformer on FSQ token ids)",
                        description="Train the autoregressive world model on token ids of a discrete tokenizer: a "
                                    "`cosmos-lite tokenize` directory (with captions and actions) or scenes encoded "
                                    "on the fly. Flags override the recipe; with --resume, the checkpoint's config.")
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl, final/)")
    p.add_argument("--preset", default=None, help="AR preset (test, small, base, ...)")
    p.add_argument("--recipe", choices=("cpu", "gpu"), default="cpu", help="base settings (default: cpu)")
    p.add_argument("--data", default=None, help="'scenes' (encoded on the fly) or a cosmos-lite tokenize directory")
    p.add_argument("--tokenizer", default=None, help="discrete (FSQ) tokenizer: bundled name or directory")
    p.add_argument("--text-encoder", default=None,
                   help="transformers encoder name or path for captions (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--init-from", default=None, metavar="WORLD_MODEL",
                   help="start the transformer from this world model's autoregressive generator ('bundled' = the "
                        "package's): training adds up across runs")
    p.add_argument("--within-frame", choices=("bidirectional", "causal"), default=None,
                   help="bidirectional: MaskGIT parallel decoding of a frame's ids; causal: raster order")
    p.add_argument("--head", choices=("factorized", "joint"), default=None,
                   help="one output head per FSQ digit (factorized) or one over the whole vocabulary")
    _add_train_flags(p)
    g = p.add_argument_group("data")
    g.add_argument("--frames", type=positive_int, help="clip length in video frames, 1 + k*t (e.g. 33)")
    g.add_argument("--size", type=size_hw, help="HxW of the video behind the ids")
    g.add_argument("--fps", type=positive_float)
    g.add_argument("--val-clips", type=positive_int)
    g.add_argument("--random-start", action="store_true", default=None,
                   help="cut --frames clips from a random latent frame of longer tokenized clips (the windows a "
                        "sliding rollout sees after its first), not only from their start")
    g = p.add_argument_group("loss")
    g.add_argument("--z-loss", type=float, help="z-loss weight (default 1e-4)")
    g.add_argument("--context-noise", type=float, help="share of context ids replaced at random (against drift)")
    g.add_argument("--text-dropout", type=float, help="caption dropout (classifier-free guidance)")
    g.add_argument("--action-dropout", type=float, help="action dropout (classifier-free guidance)")
    p.set_defaults(func=_train_autoregressive)

    for name, what, extra in (("reader", "the scene reader (weather, lighting, agents, events per clip)", True),
                              ("idm", "the inverse dynamics model (per-frame ego actions from frames)", False)):
        p = tsub.add_parser(name, help=f"train {what}: an evaluation instrument",
                            description=f"Train {what} on labelled scene clips rendered on the fly (one "
                                        f"thread on a CPU); flags override its recipe. Bundle the result with "
                                        f"cosmos_lite.train.{name}_task.bundle(OUT) (fp16 + validity figures).")
        p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl, final/)")
        p.add_argument("--resume", action="store_true",
                       help="continue from the newest checkpoint in --out with its saved settings (flags override)")
        if extra:
            p.add_argument("--init-from", default=None, metavar="READER",
                           help="stage 2: fine-tune this trained reader (RUN/final) with blank clips (400 steps)")
            p.add_argument("--focus", nargs="*", default=None, metavar="EVENT",
                           help="with --init-from, a focus stage (1200 steps): part of the salient scenes are "
                                "redrawn until their event is one of these (none given: pedestrian_crossing, "
                                "cyclist_swerve, animal_crossing)")
            p.add_argument("--focus-fraction", type=float, default=None, metavar="F",
                           help="with --focus: share of the salient scenes redrawn (default 0.5)")
        _add_train_flags(p)
        p.set_defaults(func=_train_instrument)

    ev = subparsers.add_parser("eval", help="evaluate a model (tokenizer, world model)")
    esub = ev.add_subparsers(dest="eval_command", metavar="MODEL")
    esub.required = True
    e = esub.add_parser("tokenizer", help="PSNR / SSIM, comparison PNG, rate-distortion vs H.264")
    e.add_argument("--tokenizer", required=True,
                   help="directory written by save_pretrained (e.g. RUN/final) or a bundled name (default-dv, ...)")
    e.add_argument("--data", required=True, help="'scenes-test' or a folder of videos")
    e.add_argument("--out", required=True, help="output directory (metrics.json, comparison.png)")
    e.add_argument("--n", type=positive_int, default=8, help="clips (default 8)")
    e.add_argument("--frames", type=positive_int, default=17)
    e.add_argument("--size", type=size_hw, default=(128, 192))
    e.add_argument("--fps", type=positive_float, default=10.0)
    e.add_argument("--no-h264", action="store_true", help="skip the H.264 comparison")
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_eval_tokenizer)

    e = esub.add_parser("world-model", help="every generator against the simulator: fidelity, events, actions, "
                                            "sharpness, stutter, failures, drift, speed",
                        description="Evaluate each generator of a world model on held-out test scenes, with the "
                                    "scene reader and the inverse dynamics model as instruments (see "
                                    "cosmos_lite/eval/world/evaluate.py). Writes metrics.json, contact sheets and "
                                    "curves.png. The guardrail is off (synthetic clips).")
    e.add_argument("--model", default=None, help="world-model directory (default: the bundled one)")
    e.add_argument("--out", required=True, help="output directory")
    e.add_argument("--n", type=positive_int, default=8, help="prediction clips (default 8)")
    e.add_argument("--prompts", type=non_negative_int, default=12, help="event prompts (default 12; 0 = skip)")
    e.add_argument("--steering", type=non_negative_int, default=4,
                   help="closest-replay scenarios, two clips each (default 4; 0 = skip)")
    e.add_argument("--no-failures", action="store_true", help="skip the 12-prompt failure set")
    e.add_argument("--drift", type=non_negative_int, default=2, help="long rollouts (default 2; 0 = skip)")
    e.add_argument("--drift-frames", type=positive_int, default=97, help="long rollout length (default 97)")
    e.add_argument("--cond-frames", type=positive_int, default=5, help="condition frames, 1 + 4j (default 5)")
    e.add_argument("--frames", type=positive_int, default=None, help="clip length (default: each generator's)")
    e.add_argument("--steps", type=positive_int, default=None,
                   help="sampler steps, where a generator has them (default: each generator's own)")
    e.add_argument("--guidance", type=float, default=None,
                   help="classifier-free guidance, 1 = none (default: each generator's own)")
    e.add_argument("--seed", type=non_negative_int, default=0, help="generation seed of clip i is SEED + i")
    e.add_argument("--curvature", type=positive_float, default=0.02,
                   help="closest-replay |curvature| in 1/m (default 0.02)")
    e.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    e.set_defaults(func=_eval_world_model)


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int)
    g.add_argument("--batch-size", type=positive_int)
    g.add_argument("--grad-accum", type=positive_int)
    g.add_argument("--lr", type=positive_float)
    g.add_argument("--warmup-steps", type=non_negative_int)
    g.add_argument("--ema-decay", type=float)
    g.add_argument("--clip-grad", type=float)
    g.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"))
    g.add_argument("--seed", type=non_negative_int)
    g.add_argument("--log-every", type=positive_int)
    g.add_argument("--val-every", type=non_negative_int)
    g.add_argument("--ckpt-every", type=non_negative_int)
    g.add_argument("--workers", type=non_negative_int, help="DataLoader worker processes")
    g.add_argument("--no-progress", action="store_true", help="no tqdm bar")


def _train_overrides(args: argparse.Namespace) -> dict:
    return {"steps": args.steps, "batch_size": args.batch_size, "grad_accum": args.grad_accum, "lr": args.lr,
            "warmup_steps": args.warmup_steps, "ema_decay": args.ema_decay, "clip_grad": args.clip_grad,
            "mixed_precision": args.mixed_precision, "seed": args.seed, "log_every": args.log_every,
            "val_every": args.val_every, "ckpt_every": args.ckpt_every, "num_workers": args.workers,
            "progress": False if args.no_progress else None}


def build_run_config(args: argparse.Namespace):
    """The run config from the recipe (or the checkpoint with --resume) plus the flags."""
    from pathlib import Path

    from cosmos_lite.train.config import TokenizerRunConfig
    from cosmos_lite.train.engine import resume_config
    from cosmos_lite.train.recipes import recipe

    if args.finetune_decoder and args.preset:
        raise ValueError("--finetune-decoder takes its architecture from the tokenizer it starts from; drop --preset")
    if args.init_from and (args.preset or args.finetune_decoder):
        raise ValueError("--init-from takes its architecture from the tokenizer it starts from; "
                         "drop --preset / --finetune-decoder")
    if args.init_from and args.resume:
        raise ValueError("--init-from starts a run; --resume continues one from its checkpoint")
    if args.warm_start and (args.resume or args.init_from or args.finetune_decoder):
        raise ValueError("--warm-start starts a run from a --preset architecture; it does not combine with "
                         "--resume, --init-from or --finetune-decoder")
    if args.finetune_decoder and args.resume:
        raise ValueError("--finetune-decoder starts a run; --resume continues one with the checkpoint's setting")
    if args.resume:
        base = TokenizerRunConfig.from_dict(resume_config(args.out))
    else:
        if args.data is None:
            raise ValueError("--data is required (a folder of videos, or 'scenes')")
        base = recipe(args.recipe, args.preset or "default-cv")
    if args.data is not None and args.data != "scenes" and not Path(args.data).exists():
        raise FileNotFoundError(f"{args.data}: no such directory (use 'scenes' for synthetic clips)")
    train = _train_overrides(args)
    data = {"source": args.data, "val_source": args.val_data, "frames": args.frames, "size": args.size,
            "fps": args.fps, "val_clips": args.val_clips, "crop_scale": args.crop_scale}
    loss = {"l1": args.l1, "ssim": args.ssim, "temporal": args.temporal, "adv": args.adv,
            "adv_start_step": args.adv_start_step}
    return base.with_overrides(train, data, loss, preset=args.preset, finetune_decoder=args.finetune_decoder,
                                init_from=args.init_from, warm_start=args.warm_start)


def _train_tokenizer(args: argparse.Namespace) -> int:
    from cosmos_lite.train.engine import fit
    from cosmos_lite.train.tokenizer_task import TokenizerTask

    run = build_run_config(args)
    task = TokenizerTask(run)
    result = fit(task, run.train, args.out, run.to_dict(), resume=args.resume)
    last = result.validations[-1] if result.validations else {}
    summary = " ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float))
    print(f"trained {result.step} steps in {result.seconds:.0f} s; final val: {summary}; tokenizer: {result.final_dir}")
    return 0


def build_diffusion_run_config(args: argparse.Namespace):
    """The diffusion run config from the recipe (or the checkpoint with --resume) plus the flags."""
    from cosmos_lite.train.config import DiffusionRunConfig
    from cosmos_lite.train.engine import resume_config
    from cosmos_lite.train.recipes import diffusion_recipe

    if args.init_from and args.resume:
        raise ValueError("--init-from starts a run; --resume continues one from its checkpoint")
    if args.resume:
        base = DiffusionRunConfig.from_dict(resume_config(args.out))
    else:
        if args.data is None:
            raise ValueError("--data is required (a cosmos-lite tokenize directory, or 'scenes')")
        base = diffusion_recipe(args.recipe)
    data = {"source": args.data, "tokenizer": args.tokenizer, "text_encoder": args.text_encoder,
            "frames": args.frames, "size": args.size, "fps": args.fps, "val_clips": args.val_clips}
    loss = {"p_mean": args.p_mean, "p_std": args.p_std, "max_cond_latents": args.max_cond_latents,
            "p_text_to_world": args.p_text_to_world, "text_dropout": args.text_dropout,
            "action_dropout": args.action_dropout}
    return base.with_overrides(_train_overrides(args), data, loss, preset=args.preset, init_from=args.init_from)


def _train_diffusion(args: argparse.Namespace) -> int:
    from cosmos_lite.train.diffusion_task import DiffusionTask
    from cosmos_lite.train.engine import fit

    run = build_diffusion_run_config(args)
    result = fit(DiffusionTask(run), run.train, args.out, run.to_dict(), resume=args.resume)
    last = result.validations[-1] if result.validations else {}
    summary = " ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float))
    print(f"trained {result.step} steps in {result.seconds:.0f} s; final val: {summary}; world model: {result.final_dir}")
    return 0


def _train_autoregressive(args: argparse.Namespace) -> int:
    from cosmos_lite.train.autoregressive_task import ARTask, build_ar_run_config
    from cosmos_lite.train.engine import fit

    run = build_ar_run_config(args, _train_overrides(args))
    result = fit(ARTask(run), run.train, args.out, run.to_dict(), resume=args.resume)
    last = result.validations[-1] if result.validations else {}
    summary = " ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float))
    print(f"trained {result.step} steps in {result.seconds:.0f} s; final val: {summary}; world model: {result.final_dir}")
    return 0


def _train_instrument(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cosmos_lite.train import idm_task, reader_task

    overrides = {k: v for k, v in _train_overrides(args).items() if v is not None}
    init_from = getattr(args, "init_from", None)
    if args.resume and init_from:
        raise ValueError("--init-from starts a run; --resume continues one from its checkpoint")
    if init_from is not None and not Path(init_from).is_dir():
        raise FileNotFoundError(f"{init_from}: no such reader directory (RUN/final of a reader run)")
    if args.train_command == "reader":
        if args.focus is not None and init_from is None:
            raise ValueError("--focus is a later stage: give the reader it fine-tunes with --init-from")
        if args.focus_fraction is not None and args.focus is None:
            raise ValueError("--focus-fraction needs --focus")
        focus = {} if args.focus is None else {"focus": tuple(args.focus)}
        if args.focus_fraction is not None:
            focus["focus_fraction"] = args.focus_fraction
        reader_task.train_main(args.out, resume=args.resume, init_from=init_from, **focus, **overrides)
    else:
        idm_task.train_main(args.out, resume=args.resume, **overrides)
    return 0


def _eval_tokenizer(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cosmos_lite.eval.tokenizer import EvalSettings, evaluate, format_table

    from cosmos_lite.tokenizer import VideoTokenizer

    tokenizer = VideoTokenizer.resolve(args.tokenizer)  # a directory or a bundled name (default-cv, ...)
    if not tokenizer.is_dir():
        raise FileNotFoundError(f"{args.tokenizer}: no such tokenizer directory")
    if args.data != "scenes-test" and not Path(args.data).is_dir():
        raise FileNotFoundError(f"{args.data}: no such directory (use 'scenes-test' for the synthetic test split)")
    settings = EvalSettings(data=args.data, n=args.n, frames=args.frames, size=args.size, fps=args.fps,
                            h264=not args.no_h264)
    result = evaluate(str(tokenizer), settings, args.out, device=args.device)
    print(format_table(result))
    print(f"wrote {Path(args.out) / 'metrics.json'} and {Path(args.out) / 'comparison.png'}", file=sys.stderr)
    return 0


def _eval_world_model(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cosmos_lite.eval.world import WorldEvalSettings, evaluate_world_model, format_table

    settings = WorldEvalSettings(n=args.n, prompts=args.prompts, steering=args.steering, failures=not args.no_failures,
                                 drift=args.drift, drift_frames=args.drift_frames, cond_frames=args.cond_frames,
                                 frames=args.frames, steps=args.steps, guidance=args.guidance, seed=args.seed,
                                 curvature=args.curvature, progress=not args.no_progress)
    result = evaluate_world_model(args.model, args.out, settings)
    print(format_table(result))
    print(f"wrote {Path(args.out) / 'metrics.json'}, curves.png and contact sheets", file=sys.stderr)
    return 0
