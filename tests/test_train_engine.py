"""The training engine on a tiny tokenizer: loss falls, kill + resume is exact, checkpoints are pickle-free."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from cosmos_lite.train.checkpoint import flatten_optimizer, list_checkpoints, unflatten_optimizer
from cosmos_lite.train.config import DataConfig, TokenizerLossConfig, TokenizerRunConfig, TrainConfig
from cosmos_lite.train.engine import fit
from cosmos_lite.train.tokenizer_task import TokenizerTask, evaluate_reconstruction


pytestmark = pytest.mark.usefixtures("one_thread")


def _run(preset="tiny-cv", **train) -> TokenizerRunConfig:
    t = TrainConfig(steps=6, batch_size=2, lr=3e-3, warmup_steps=1, num_workers=0, mixed_precision="no",
                    val_every=0, ckpt_every=0, log_every=1, progress=False, ema_decay=0.99)
    return TokenizerRunConfig(preset=preset, train=replace(t, **train),
                              data=DataConfig(frames=5, size=(32, 32), val_clips=2, stats_clips=2),
                              loss=TokenizerLossConfig())


def test_tiny_training_lowers_loss_and_raises_psnr(tmp_path):
    run = _run(steps=14, lr=4e-3)
    task = TokenizerTask(run)
    torch.manual_seed(run.train.seed)
    before = evaluate_reconstruction(task.build_modules()["model"], task.val_clips(), torch.device("cpu"))
    res = fit(task, run.train, tmp_path / "run", run.to_dict())
    losses = list(res.losses.values())
    assert len(losses) == 14 and all(map(lambda v: v == v, losses))
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4
    after = res.validations[-1]
    assert after["psnr"] > before["psnr"] + 1.0
    # artifacts: metrics log, config, checkpoint, exported EMA tokenizer with latent stats
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs if r["kind"] == "train"] == list(range(1, 15))
    assert {"loss", "lr", "l1", "ssim_loss", "temporal", "sec_per_step"} <= set(recs[0])
    assert json.loads((tmp_path / "run" / "config.json").read_text())["preset"] == "tiny-cv"
    from cosmos_lite.tokenizer import VideoTokenizer

    tok = VideoTokenizer.from_pretrained(tmp_path / "run" / "final")
    assert tok.config.latent_mean is not None and len(tok.config.latent_std) == 16
    with torch.no_grad():
        z = tok.encode(torch.stack(task.stats_clips()))
    assert abs(float(z.mean())) < 0.2 and 0.7 < float(z.std()) < 1.3  # stats normalise the latents


def test_kill_and_resume_matches_unbroken_run(tmp_path):
    # Discrete + adversarial stage + grad accumulation: every piece of state must survive.
    run = _run("tiny-dv", steps=6, batch_size=1, grad_accum=2, ckpt_every=3, keep_checkpoints=5)
    run = replace(run, loss=replace(run.loss, adv_start_step=2))
    full = fit(TokenizerTask(run), run.train, tmp_path / "a", run.to_dict())
    part = fit(TokenizerTask(run), run.train, tmp_path / "b", run.to_dict(), stop_at=3)
    assert sorted(part.losses) == [1, 2, 3] and [c.name for c in list_checkpoints(tmp_path / "b")] == ["step_00000003"]
    with pytest.raises(ValueError, match="--resume"):
        fit(TokenizerTask(run), run.train, tmp_path / "b", run.to_dict())
    rest = fit(TokenizerTask(run), run.train, tmp_path / "b", run.to_dict(), resume=True)
    assert sorted(rest.losses) == [4, 5, 6]
    for s in (1, 2, 3):
        assert part.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    for s in (4, 5, 6):
        assert rest.losses[s] == pytest.approx(full.losses[s], abs=1e-6)
    a = load_file(str(tmp_path / "a" / "checkpoints" / "step_00000006" / "ema.safetensors"))
    b = load_file(str(tmp_path / "b" / "checkpoints" / "step_00000006" / "ema.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    raw = load_file(str(tmp_path / "b" / "checkpoints" / "step_00000006" / "model.safetensors"))
    assert any(not torch.equal(raw[k], b[k]) for k in raw)  # EMA is not the raw weights
    # the metrics log holds each step once, in order, after the resume
    steps = [json.loads(ln)["step"] for ln in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
             if json.loads(ln)["kind"] == "train"]
    assert steps == [1, 2, 3, 4, 5, 6]
    ckpt = tmp_path / "b" / "checkpoints" / "step_00000006"
    assert {p.name for p in ckpt.iterdir()} >= {"model.safetensors", "disc.safetensors", "ema.safetensors",
                                               "optim_model.safetensors", "optim_disc.json", "rng.safetensors",
                                               "state.json"}
    assert not list(ckpt.glob("*.pt")) and not list(ckpt.glob("*.bin"))


def test_optimizer_state_round_trips_through_safetensors_and_json(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.8, 0.95))
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    tensors, meta = flatten_optimizer(opt.state_dict())
    meta = json.loads(json.dumps(meta))  # must be JSON-able
    opt2 = torch.optim.AdamW(model.parameters(), lr=5.0)
    opt2.load_state_dict(unflatten_optimizer(tensors, meta))
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s2["param_groups"][0]["lr"] == 1e-3 and tuple(s2["param_groups"][0]["betas"]) == (0.8, 0.95)
    for pid in s1["state"]:
        for k, v in s1["state"][pid].items():
            assert torch.equal(v, s2["state"][pid][k])


def test_run_config_json_round_trip_and_validation():
    run = _run()
    again = TokenizerRunConfig.from_json(run.to_json())
    assert again == run
    with pytest.raises(ValueError, match="unknown"):
        TokenizerRunConfig.from_dict({**run.to_dict(), "train": {"stepz": 3}})
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="1 \\+ k\\*4"):
        TokenizerTask(replace(run, data=replace(run.data, frames=6)))
    with pytest.raises(ValueError, match="unknown tokenizer preset"):
        TokenizerTask(replace(run, preset="nope"))


@pytest.mark.parametrize("preset", ["tiny-cv", "tiny-dv"])
def test_decoder_finetune_keeps_the_latent_space_and_sharpens_the_decoder(tmp_path, preset):
    """--finetune-decoder: encoder weights and latent stats (continuous) or token ids (FSQ) stay exactly
    the base's; the decoder learns."""
    from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

    torch.manual_seed(0)
    cfg = PRESETS[preset]
    if cfg.mode == "continuous":
        cfg = replace(cfg, latent_mean=tuple([0.1] * 16), latent_std=tuple([2.0] * 16))
    base_dir = tmp_path / "base"
    VideoTokenizer(cfg).save_pretrained(base_dir)
    base = VideoTokenizer.from_pretrained(base_dir)

    run = replace(_run(steps=8, lr=4e-3, ckpt_every=4), finetune_decoder=str(base_dir))
    assert TokenizerRunConfig.from_dict(run.to_dict()) == run  # survives --resume's round trip
    task = TokenizerTask(run)
    before = evaluate_reconstruction(base, task.val_clips(), torch.device("cpu"))
    res = fit(task, run.train, tmp_path / "run", run.to_dict())
    tuned = VideoTokenizer.from_pretrained(tmp_path / "run" / "final")

    assert tuned.config == base.config  # latent_mean / latent_std not re-measured
    b, t = base.state_dict(), tuned.state_dict()
    assert all(torch.equal(b[k], t[k]) for k in b if k.startswith("encoder."))
    assert any(not torch.equal(b[k], t[k]) for k in b if k.startswith("decoder."))
    assert res.validations[-1]["psnr"] > before["psnr"]
    clip = torch.stack(task.val_clips()[:1])
    with torch.no_grad():
        assert torch.equal(tuned.encode(clip), base.encode(clip))  # same latents: models trained on them still fit


def test_decoder_finetune_cli_errors(tmp_path, capsys):
    from cosmos_lite.cli import main
    from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

    VideoTokenizer(PRESETS["tiny-dv"]).save_pretrained(tmp_path / "dv")
    common = ["train", "tokenizer", "--data", "scenes", "--out", str(tmp_path / "r"), "--no-progress"]
    assert main([*common, "--finetune-decoder", str(tmp_path / "dv"), "--preset", "tiny-cv"]) == 2
    assert "drop --preset" in capsys.readouterr().err
    assert main([*common, "--finetune-decoder", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main([*common, "--finetune-decoder", str(tmp_path / "dv"), "--resume"]) == 2
    assert "--resume continues" in capsys.readouterr().err


def test_warm_start_seeds_a_discrete_tokenizer_from_a_continuous_one(tmp_path, capsys):
    """--warm-start: every tensor whose name and shape match is copied; only the latent projections start fresh."""
    from cosmos_lite.cli import main
    from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

    torch.manual_seed(0)
    VideoTokenizer(PRESETS["tiny-cv"]).save_pretrained(tmp_path / "cv")
    cv = VideoTokenizer.from_pretrained(tmp_path / "cv").state_dict()
    run = replace(_run("tiny-dv"), warm_start=str(tmp_path / "cv"))
    assert TokenizerRunConfig.from_dict(run.to_dict()) == run
    model = TokenizerTask(run).build_modules()["model"]
    assert model.config.mode == "discrete"
    dv = model.state_dict()
    same = [k for k in dv if dv[k].shape == cv[k].shape]
    assert all(torch.equal(dv[k], cv[k].float()) for k in same)
    fresh = sorted(k for k in dv if k not in same)
    assert fresh and all(k.startswith(("encoder.conv_out.", "decoder.conv_in.")) for k in fresh)
    assert f"{len(same)} tensors copied, {len(fresh)} fresh" in capsys.readouterr().out
    # without it, the same preset starts from random weights
    cold = TokenizerTask(_run("tiny-dv")).build_modules()["model"].state_dict()
    assert not all(torch.equal(cold[k], dv[k]) for k in same)
    common = ["train", "tokenizer", "--data", "scenes", "--out", str(tmp_path / "r"), "--no-progress"]
    assert main([*common, "--preset", "tiny-dv", "--warm-start", str(tmp_path / "cv"), "--resume"]) == 2
    assert "--warm-start" in capsys.readouterr().err


def test_bf16_autocast_needs_native_bf16_that_measures_faster(monkeypatch):
    """No bf16 flag: fp32, nothing timed. With the flag a timed matmul decides (on one Xeon with the flag
    bf16 was 1.8x slower than fp32); the answer is cached for the process."""
    from pathlib import Path

    from cosmos_lite.train import engine

    timed = []

    def seconds(dtype):
        timed.append(dtype)
        return speed[dtype]

    monkeypatch.setattr(engine, "_matmul_seconds", seconds)
    for flags, speed, expect in (("fpu avx2 avx512f", {}, False),
                                 ("fpu avx512f avx512_bf16", {torch.bfloat16: 1.0, torch.float32: 2.0}, True),
                                 ("fpu avx512f avx512_bf16", {torch.bfloat16: 1.8, torch.float32: 1.0}, False),
                                 ("fpu amx_bf16", {torch.bfloat16: 0.9, torch.float32: 1.0}, False)):  # < 20 %
        engine.cpu_has_fast_bf16.cache_clear()
        timed.clear()
        monkeypatch.setattr(Path, "read_text", lambda self, *a, _f=flags, **k: f"flags : {_f}")
        assert engine.cpu_has_fast_bf16() is expect, flags
        assert len(timed) == (2 if speed else 0)
        engine.cpu_has_fast_bf16()
        assert len(timed) == (2 if speed else 0)  # cached
    engine.cpu_has_fast_bf16.cache_clear()
