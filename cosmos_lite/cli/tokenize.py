"""``cosmos-lite tokenize`` and ``cosmos-lite detokenize``: arguments only; handlers import the job."""

from __future__ import annotations

import argparse

from cosmos_lite.cli.types import non_negative_int, positive_float, positive_int, size_hw


def register(sub) -> None:
    p = sub.add_parser(
        "tokenize", help="tokenize videos into safetensors shards (resumable, multi-process)",
        description="Cut every video into clips, encode them with a video tokenizer and write safetensors "
                    "shards + manifest.jsonl + errors.jsonl. Re-running the same command resumes a killed job; "
                    "run under `accelerate launch` to split the work across processes.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video files, folders (searched recursively) or JSONL/CSV manifests "
                        "(file/path/video, caption, actions)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--tokenizer", required=True,
                   help="tokenizer directory (save_pretrained) or bundled name; its mode (continuous/discrete) "
                        "decides whether latents or token ids are written")
    p.add_argument("--size", type=size_hw, required=True,
                   help="HxW of every clip; multiples of the tokenizer's spatial compression")
    p.add_argument("--resize-mode", choices=("crop", "pad", "stretch"), default="crop",
                   help="scale to cover + center crop (default), scale to fit + pad, or stretch")
    p.add_argument("--clip-frames", type=positive_int, default=17,
                   help="frames per clip, 1 + k*t for temporal compression t (default 17)")
    p.add_argument("--stride", type=positive_int, default=None,
                   help="frames between clip starts (default: --clip-frames, no overlap)")
    p.add_argument("--fps", type=positive_float, default=None,
                   help="resample every video to this frame rate (default: each file's own)")
    p.add_argument("--shard-size", type=positive_int, default=256, help="clips per shard (default 256)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="clips per model call (default 8)")
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:1... (default: the process's accelerator, else cpu)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                   help="model compute dtype (default float32)")
    p.add_argument("--latent-dtype", choices=("bfloat16", "float16", "float32"), default=None,
                   help="storage dtype of continuous latents (default bfloat16; discrete ids are uint16/int32)")
    p.add_argument("--workers", type=non_negative_int, default=1,
                   help="video decoding processes running ahead of the model (default 1; 0 = inline)")
    p.add_argument("--max-shards", type=positive_int, default=None,
                   help="stop after writing this many shards (time box; the next run resumes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_tokenize)

    d = sub.add_parser("detokenize", help="decode chosen clips of a tokenize output back to mp4",
                       description="Decode clips from `cosmos-lite tokenize` shards to clip-NNNNNN.mp4 files.")
    d.add_argument("dir", help="a cosmos-lite tokenize output directory")
    d.add_argument("--index", type=non_negative_int, nargs="+", required=True, help="clip numbers (manifest rows)")
    d.add_argument("--out", required=True, help="directory for the mp4 files")
    d.add_argument("--tokenizer", default=None,
                   help="tokenizer directory or name (default: the one recorded in tokenize.json; "
                        "its weights must match)")
    d.add_argument("--device", default=None, help="cpu, cuda, ... (default: accelerator if any, else cpu)")
    d.set_defaults(func=_detokenize)


def _tokenize(args: argparse.Namespace) -> int:
    from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos

    options = TokenizeOptions(
        size=args.size, clip_frames=args.clip_frames, stride=args.stride, resize_mode=args.resize_mode,
        fps=args.fps, shard_size=args.shard_size, dtype=args.dtype, latent_dtype=args.latent_dtype,
        batch_size=args.batch_size, device=args.device, workers=args.workers)
    summary = tokenize_videos(args.inputs, args.out, args.tokenizer, options, max_shards=args.max_shards,
                              progress=not args.no_progress)
    print(summary.describe())
    return 0


def _detokenize(args: argparse.Namespace) -> int:
    from cosmos_lite.data.tokenize import detokenize_clips

    paths = detokenize_clips(args.dir, args.index, args.out, tokenizer=args.tokenizer, device=args.device)
    for p in paths:
        print(p)
    return 0
