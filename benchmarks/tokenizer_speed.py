"""Tokenizer speed and memory: cosmos-lite's default preset vs diffusers' AutoencoderKLCosmos.

    python benchmarks/tokenizer_speed.py [--frames 33] [--height 128] [--width 192] [--repeats 2] [--bf16]

Each measurement runs in its own subprocess so that peak RSS is its own.
Rows: encode and decode frames/s and peak memory, same input, same run;
then peak memory of streaming a 33- vs 257-frame file. ``--bf16`` runs under
bf16 autocast (fast only on CPUs with native bf16 matmul/conv, e.g. AMX).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(model: str):
    import torch

    torch.manual_seed(0)
    if model == "cosmos-lite":
        from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

        return VideoTokenizer(PRESETS["default-cv"]).eval()
    from diffusers import AutoencoderKLCosmos

    # Temporal compression 4 to match 4x8x8; everything else at diffusers' defaults.
    return AutoencoderKLCosmos(temporal_compression_ratio=4).eval()


def child_speed(model: str, frames: int, h: int, w: int, repeats: int, bf16: bool) -> dict:
    import torch

    net = _build(model)
    video = torch.rand(1, 3, frames, h, w) * 2 - 1
    if model == "cosmos-lite":
        enc, dec = net.encode, net.decode
    else:
        enc, dec = (lambda v: net.encode(v).latent_dist.mode()), (lambda z: net.decode(z).sample)
    times_e, times_d = [], []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(repeats + 1):  # first round is warm-up
            t0 = time.perf_counter()
            z = enc(video)
            t1 = time.perf_counter()
            out = dec(z)
            t2 = time.perf_counter()
            if i:
                times_e.append(t1 - t0)
                times_d.append(t2 - t1)
    assert out.shape[2] == frames, out.shape
    return {
        "params_m": sum(p.numel() for p in net.parameters()) / 1e6,
        "latent": list(z.shape),
        "enc_fps": frames / min(times_e),
        "dec_fps": frames / min(times_d),
        "total_s": min(times_e) + min(times_d),
        "peak_mb": _peak_rss_mb(),
    }


def child_stream(path: str, chunk: int) -> dict:
    import torch

    from cosmos_lite.data.codec import encode_file

    net = _build("cosmos-lite")
    torch.set_grad_enabled(False)
    t0 = time.perf_counter()
    z = encode_file(net, path, chunk_frames=chunk)
    return {"latent": list(z.shape), "seconds": time.perf_counter() - t0, "peak_mb": _peak_rss_mb()}


def _run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_file(path: Path, frames: int, h: int, w: int) -> None:
    import numpy as np

    from cosmos_lite.data.io import write_video

    t = np.arange(frames, dtype=np.float32)[:, None, None]
    y = np.arange(h, dtype=np.float32)[None, :, None]
    x = np.arange(w, dtype=np.float32)[None, None, :]
    shape = (frames, h, w)
    r = np.broadcast_to(127 + 120 * np.sin((x + 3 * t) / 9), shape)
    g = np.broadcast_to(127 + 120 * np.cos((y - 2 * t) / 7), shape)
    b = np.broadcast_to(127 + 120 * np.sin((x + y + t) / 13), shape)
    write_video(path, np.stack([r, g, b], -1).astype(np.uint8), fps=24)  # [T, H, W, 3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--height", type=int, default=128)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="run under bf16 autocast instead of fp32")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, *rest = json.loads(a.child)
        fn = child_speed if kind == "speed" else child_stream
        print(json.dumps(fn(*rest)))
        return

    import torch

    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}")
    print(f"input: 1 x 3 x {a.frames} x {a.height} x {a.width}, random-init weights (speed does not depend on them)\n")
    rows = {}
    for model in ("cosmos-lite", "diffusers"):
        rows[(model, a.bf16)] = _run_child(["speed", model, a.frames, a.height, a.width, a.repeats, a.bf16])
    name = {"cosmos-lite": "cosmos-lite default-cv (4x8x8)", "diffusers": "diffusers AutoencoderKLCosmos (4x8x8)"}
    print(f"| model | dtype | params (M) | encode frames/s | decode frames/s | enc+dec s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for (model, bf16), r in rows.items():
        print(f"| {name[model]} | {'bf16 autocast' if bf16 else 'fp32'} | {r['params_m']:.1f} | {r['enc_fps']:.1f} | "
              f"{r['dec_fps']:.1f} | {r['total_s']:.2f} | {r['peak_mb']:.0f} |")
    ratio = rows[("diffusers", a.bf16)]["total_s"] / rows[("cosmos-lite", a.bf16)]["total_s"]
    print(f"\nspeed-up of cosmos-lite over AutoencoderKLCosmos, encode+decode, {'bf16' if a.bf16 else 'fp32'}: "
          f"{ratio:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        res = {}
        for n in (33, 257):
            path = Path(tmp) / f"clip{n}.mp4"
            _make_file(path, n, a.height, a.width)
            res[n] = _run_child(["stream", str(path), 16])
    print(f"\nstreaming encode_file of an mp4 ({a.height}x{a.width}, chunks of 16 frames, fp32):")
    print("| frames | latent | seconds | peak RSS MB |")
    print("|---|---|---|---|")
    for n, r in res.items():
        print(f"| {n} | {r['latent']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} |")
    print(f"\npeak memory ratio 257 / 33 frames: {res[257]['peak_mb'] / res[33]['peak_mb']:.3f}")


if __name__ == "__main__":
    main()
