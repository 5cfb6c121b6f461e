"""DiT speed: cosmos-lite's diffusion DiT vs diffusers' CosmosTransformer3DModel at the same shape.

    python benchmarks/dit_speed.py [--preset small|base] [--size 64x96|128x192] [--frames 33]
                                   [--batch 2] [--iters 10] [--warmup 2] [--threads N]
                                   [--device cpu|cuda] [--peak-tflops 989] [--cosmos-timestep both|frame|sample]
                                   [--bf16]

Two measurements per model, same inputs, same process, iterations interleaved
(ours, theirs, ours, theirs, ...) so that load on a shared box hits both alike;
each figure is the median over ``--iters`` timed iterations:

- fwd+bwd (one training step without the optimizer): forward, mean-square loss
  on the output, backward; samples/s = batch / seconds.
- sampling: one forward under ``torch.no_grad()``; forwards/s = batched calls/s.
  The default batch of 2 is the cond + uncond pair of one classifier-free
  guidance step of the bundled world model, so forwards/s = sampler steps/s.

diffusers' model is configured to the same width, depth, heads, head dim, MLP
ratio, patch size, latent channels, text width, AdaLN-LoRA rank and token
count. Matching choices:

- input channels: our DiT takes 16 latent channels and appends the condition
  mask as a 17th internally. CosmosTransformer3DModel concatenates
  ``condition_mask`` ([B, 1, T, H, W]) itself, so it gets ``in_channels=17``
  (16 latents + condition mask, as Cosmos-Predict2 Video2World counts it) and
  ``concat_padding_mask=False``: the padding-mask channel has no counterpart in
  ours (and its resize needs torchvision). Patch embedding input is 17*1*2*2
  = 68 on both sides.
- noise level: ours takes ``c_noise [B, T]`` (one per latent frame; condition
  frames carry their own). The diffusers equivalent is ``timestep [B, 1, T, 1, 1]``
  (what its Cosmos-Predict2 Video2World pipeline passes); it then expands the
  time embedding to every token, so its AdaLN-LoRA runs per token rather than
  per frame. By default (``--cosmos-timestep both``) a second diffusers row runs
  it with one timestep per sample (``[B]``): cheaper, but it cannot give
  condition frames their own noise level. Ratios are printed against both.
- ``extra_pos_embed_type=None`` (ours has RoPE only, like Cosmos-Predict2),
  ``rope_scale=(1, 1, 1)`` (ours: theta 10000 on every axis, no NTK scaling),
  ``max_size`` at least the latent size. Differences left as the APIs fix them:
  diffusers has no biases in attention-out / MLP; ours has biases; both use
  exact GELU; ours also embeds actions (the product configuration).

Weights are random (ours starts from its adaLN-Zero init); speed does not
depend on their values.

FLOPs: "model GFLOP per forward" is counted analytically for the shared architecture
(matmuls + attention, 2 FLOPs per MAC, AdaLN-LoRA once per latent frame,
backward = 2x forward); achieved GFLOP/s and MFU use it for both models, so
their ratio equals the throughput ratio. "executed GFLOP/fwd" is what each
implementation runs, counted with torch.utils.flop_counter.FlopCounterMode
(math attention, so that attention is counted on CPU too).

On CPU everything runs in fp32 unless ``--bf16`` (bf16 autocast, the training
precision on CPUs with native bf16, AVX512-BF16 or AMX; on AVX2-only CPUs it is
emulated and ~100x slower); on CUDA always under bf16 autocast, and MFU assumes
``--peak-tflops`` dense bf16 (989 for an H100 SXM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from cosmos_lite.generators.diffusion.model import DiT, PRESETS, DiTConfig

DEFAULT_MAX_SIZE = (128, 240, 240)


def cpu_name() -> str:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} ({os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()})"


def build_ours(cfg: DiTConfig) -> torch.nn.Module:
    return DiT(cfg)


def build_theirs(cfg: DiTConfig, latent_thw: tuple[int, int, int]) -> torch.nn.Module:
    from diffusers import CosmosTransformer3DModel

    return CosmosTransformer3DModel(
        in_channels=cfg.latent_channels + 1,  # latents + condition mask (passed as condition_mask)
        out_channels=cfg.latent_channels,
        num_attention_heads=cfg.num_heads,
        attention_head_dim=cfg.head_dim,
        num_layers=cfg.depth,
        mlp_ratio=cfg.mlp_ratio,
        text_embed_dim=cfg.text_dim,
        adaln_lora_dim=cfg.adaln_lora_dim,
        max_size=tuple(max(a, b) for a, b in zip(DEFAULT_MAX_SIZE, latent_thw)),
        patch_size=cfg.patch_size,
        rope_scale=(1.0, 1.0, 1.0),
        concat_padding_mask=False,
        extra_pos_embed_type=None,
    )


def model_flops(cfg: DiTConfig, B: int, T: int, H: int, W: int, L: int, per_token_adaln: bool = False) -> float:
    """Analytic forward FLOPs (2 per multiply-add) of the shared architecture: patch embed, per block
    self-attention (QKV/out projections + QK^T and AV), cross-attention (Q/out on tokens, K/V on the
    text), MLP, AdaLN-LoRA (per latent frame, or per token when ``per_token_adaln``), final layer."""
    pt, ph, pw = cfg.patch_size
    t, h, w = T // pt, H // ph, W // pw
    N, D, r, p = t * h * w, cfg.dim, cfg.adaln_lora_dim, pt * ph * pw
    hidden = int(D * cfg.mlp_ratio)
    mod_rows = N if per_token_adaln else t
    block = (4 * N * D * D + 2 * N * N * D  # self-attention
             + 2 * N * D * D + 2 * L * cfg.text_dim * D + 2 * N * L * D  # cross-attention
             + 2 * N * D * hidden  # MLP
             + 3 * mod_rows * (D * r + r * 3 * D))  # AdaLN-LoRA x3
    macs = N * (cfg.latent_channels + 1) * p * D + cfg.depth * block + N * D * cfg.latent_channels * p
    macs += mod_rows * 2 * D * D  # final AdaLN shift/scale (ours: full rank; diffusers: LoRA, about as big)
    return 2.0 * B * macs


def make_inputs(cfg: DiTConfig, B: int, T: int, H: int, W: int, L: int, device: str) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(B, cfg.latent_channels, T, H, W, generator=g)
    c_noise = torch.rand(B, T, generator=g) * 3.5 - 2.0  # EDM c_noise = log(sigma) / 4
    cond_mask = torch.zeros(B, T, dtype=torch.bool)
    cond_mask[:, :1] = True  # first latent frame given (Video2World)
    text = torch.randn(B, L, cfg.text_dim, generator=g)
    text_mask = torch.ones(B, L, dtype=torch.bool)
    text_mask[1:, L // 2:] = False  # the uncond (empty-ish) prompt is shorter
    actions = torch.randn(B, T, cfg.action_dim, generator=g) * torch.tensor(cfg.action_scale)
    d = dict(x=x, c_noise=c_noise, cond_mask=cond_mask, text=text, text_mask=text_mask, actions=actions)
    return {k: v.to(device) for k, v in d.items()}


def call_ours(model, inp: dict) -> torch.Tensor:
    return model(inp["x"], inp["c_noise"], inp["cond_mask"], inp["text"], inp["text_mask"], inp["actions"])


def make_call_theirs(per_frame: bool):
    def call(model, inp: dict) -> torch.Tensor:
        x = inp["x"]
        B, _, T, H, W = x.shape
        cm = inp["cond_mask"].to(x.dtype)[:, None, :, None, None].expand(B, 1, T, H, W)
        ts = inp["c_noise"][:, None, :, None, None] if per_frame else inp["c_noise"].mean(1)
        return model(x, ts, inp["text"], attention_mask=inp["text_mask"], condition_mask=cm,
                     return_dict=False)[0]

    return call


def executed_flops(model, call, inp: dict, autocast) -> float:
    with FlopCounterMode(display=False) as fc, torch.no_grad(), autocast(), sdpa_kernel(SDPBackend.MATH):
        call(model, inp)
    return float(fc.get_total_flops())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", choices=list(PRESETS), help="our DiT preset (default small)")
    ap.add_argument("--size", default="64x96", help="video HxW; the latent is H/8 x W/8 (default 64x96)")
    ap.add_argument("--frames", type=int, default=33, help="video frames; latent frames = 1 + (frames-1)/4")
    ap.add_argument("--text-tokens", type=int, default=12)
    ap.add_argument("--batch", type=int, default=2, help="2 = cond + uncond of one CFG step")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations per measurement (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--peak-tflops", type=float, default=989.0,
                    help="dense bf16 peak of the GPU for MFU (H100 SXM: 989)")
    ap.add_argument("--cosmos-timestep", default="both", choices=["frame", "sample", "both"],
                    help="diffusers timestep: per latent frame [B,1,T,1,1] (like ours), per sample [B], or both rows")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast on CPU too (CUDA always uses it)")
    a = ap.parse_args()

    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch.cuda.is_available() is False")
    vh, vw = (int(s) for s in a.size.lower().split("x"))
    if vh % 16 or vw % 16 or (a.frames - 1) % 4:
        raise SystemExit("--size must be multiples of 16 (8x tokenizer, 2x patch) and --frames 1 + 4k")
    B, T, H, W, L = a.batch, 1 + (a.frames - 1) // 4, vh // 8, vw // 8, a.text_tokens
    cfg = PRESETS[a.preset]
    pt, ph, pw = cfg.patch_size
    n_tok = (T // pt) * (H // ph) * (W // pw)

    cuda = a.device == "cuda"
    bf16 = cuda or a.bf16

    def autocast():
        return torch.autocast(a.device, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    def sync():
        if cuda:
            torch.cuda.synchronize()

    torch.manual_seed(0)
    models = {"ours": (build_ours(cfg).to(a.device), call_ours)}
    variants = {"frame": ["frame"], "sample": ["sample"], "both": ["frame", "sample"]}[a.cosmos_timestep]
    if pt != 1 and "frame" in variants:  # diffusers maps a [B, 1, T, 1, 1] timestep to token frames only for p_t = 1
        print(f"patch_size {cfg.patch_size}: diffusers takes per-frame timesteps only with p_t = 1; per sample only")
        variants = ["sample"]
    theirs = build_theirs(cfg, (T, H, W)).to(a.device)
    for v in variants:
        models[f"diffusers/{v}"] = (theirs, make_call_theirs(v == "frame"))
    inp = make_inputs(cfg, B, T, H, W, L, a.device)

    # sanity: same output shape
    with torch.no_grad():
        for name, (m, call) in models.items():
            out = call(m, inp)
            assert out.shape == inp["x"].shape, (name, out.shape)

    dev_name = torch.cuda.get_device_name() if cuda else cpu_name()
    prec = "bf16 autocast" if bf16 else "fp32"
    print(f"machine: {dev_name}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, {prec}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"preset {a.preset}: dim {cfg.dim}, depth {cfg.depth}, heads {cfg.num_heads} x {cfg.head_dim}, "
          f"mlp x{cfg.mlp_ratio:g}, AdaLN-LoRA rank {cfg.adaln_lora_dim}, patch {cfg.patch_size}, "
          f"text width {cfg.text_dim}")
    print(f"input: latent [{B}, {cfg.latent_channels}, {T}, {H}, {W}] ({a.frames} frames of {vh}x{vw}), "
          f"{n_tok} tokens/sample, text {L} tokens; {a.iters} timed iterations after {a.warmup} warm-up, median\n")

    # ---- timing, interleaved
    times = {name: {"train": [], "sample": []} for name in models}

    def train_step(m, call):
        m.train()
        with autocast():
            out = call(m, inp)
        loss = out.float().square().mean()
        loss.backward()
        for p in m.parameters():
            p.grad = None

    def sample_step(m, call):
        m.eval()
        with torch.no_grad(), autocast():
            call(m, inp)

    names = list(models)
    for i in range(a.warmup + a.iters):
        order = names if i % 2 == 0 else names[::-1]
        for kind, fn in (("train", train_step), ("sample", sample_step)):
            for name in order:
                m, call = models[name]
                sync()
                t0 = time.perf_counter()
                fn(m, call)
                sync()
                if i >= a.warmup:
                    times[name][kind].append(time.perf_counter() - t0)

    # ---- FLOPs
    mf = model_flops(cfg, B, T, H, W, L)
    rows = {}
    for name, (m, call) in models.items():
        tr, sa = statistics.median(times[name]["train"]), statistics.median(times[name]["sample"])
        rows[name] = dict(
            params=sum(p.numel() for p in m.parameters()) / 1e6,
            exec_gflop=executed_flops(m, call, inp, autocast) / 1e9,
            train_sps=B / tr, sample_fps=1 / sa,
            train_gflops=3 * mf / tr / 1e9, sample_gflops=mf / sa / 1e9,
        )

    label = {"ours": f"cosmos-lite DiT '{a.preset}' (+ actions)",
             "diffusers/frame": "diffusers CosmosTransformer3DModel (timestep per frame)",
             "diffusers/sample": "diffusers CosmosTransformer3DModel (timestep per sample)"}
    mfu_cols = " fwd+bwd MFU | sampling MFU |" if cuda else ""
    print(f"| model | params (M) | executed GFLOP/fwd | fwd+bwd samples/s | sampling forwards/s | "
          f"fwd+bwd GFLOP/s | sampling GFLOP/s |{mfu_cols}")
    print("|---|---|---|---|---|---|---|" + ("---|---|" if cuda else ""))
    for name, r in rows.items():
        mfu = ""
        if cuda:
            peak = a.peak_tflops * 1e3
            mfu = f" {100 * r['train_gflops'] / peak:.1f}% | {100 * r['sample_gflops'] / peak:.1f}% |"
        print(f"| {label[name]} | {r['params']:.2f} | {r['exec_gflop']:.2f} | {r['train_sps']:.2f} | "
              f"{r['sample_fps']:.2f} | {r['train_gflops']:.1f} | {r['sample_gflops']:.1f} |{mfu}")
    for name in names[1:]:
        tr = rows["ours"]["train_sps"] / rows[name]["train_sps"]
        sa = rows["ours"]["sample_fps"] / rows[name]["sample_fps"]
        what = name.replace("/", ", timestep per ")
        print(f"| **ratio ours / {what}** | | | **{tr:.2f}** | **{sa:.2f}** | | |" + (" | |" if cuda else ""))
    fastest = []
    for name in names[1:]:
        tr = min(times[name]["train"]) / min(times["ours"]["train"])
        sa = min(times[name]["sample"]) / min(times["ours"]["sample"])
        fastest.append(f"vs {name}: fwd+bwd {tr:.2f}, sampling {sa:.2f}")
    print("\nsame ratios from each model's fastest iteration instead of the median: " + "; ".join(fastest))
    print(f"model GFLOP per forward (analytic, shared architecture, batch {B}): {mf / 1e9:.2f}; "
          f"fwd+bwd = 3x. Ratios >= 1.0: ours is no slower. Load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
