"""``cosmos-lite eval tokenizer`` / ``train tokenizer`` end to end on tiny models, and clear CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cosmos_lite.cli import main
from cosmos_lite.tokenizer import PRESETS, VideoTokenizer
from cosmos_lite.eval.tokenizer import h264_at_bpp, h264_roundtrip


pytestmark = pytest.mark.usefixtures("one_thread")


def test_eval_cli_writes_json_png_and_h264_comparison(tmp_path, capsys):
    torch.manual_seed(0)
    for preset in ("tiny-cv", "tiny-dv"):
        VideoTokenizer(PRESETS[preset]).save_pretrained(tmp_path / preset)
        out = tmp_path / f"eval-{preset}"
        rc = main(["eval", "tokenizer", "--tokenizer", str(tmp_path / preset), "--data", "scenes-test", "--n", "2",
                   "--frames", "5", "--size", "32x48", "--out", str(out)])
        assert rc == 0
        res = json.loads((out / "metrics.json").read_text())
        assert len(res["clips"]) == 2
        for row in res["clips"]:
            assert {"psnr", "ssim", "bpp", "h264_bpp", "h264_psnr", "h264_crf"} <= set(row)
            assert row["h264_over_budget"] or row["h264_bpp"] <= row["bpp"] + 1e-9
        bits = 16 * 16 if preset == "tiny-cv" else np.log2(64000)  # per latent position (2 x 4 x 6 of them)
        assert res["mean"]["bpp"] == pytest.approx(bits * 2 * 4 * 6 / (5 * 32 * 48))
        if preset == "tiny-dv":
            assert 0 < res["codebook"]["usage"] <= 1 and res["codebook"]["perplexity"] >= 1
        png = (out / "comparison.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 500
        printed = capsys.readouterr().out
        assert "H.264" in printed and "mean" in printed
        st = res["stutter"]  # 5 frames = frame 0 + one latent group of 4
        assert st["positions"] == 4 and all(len(st[f"{w}_profile"]) == 4 for w in ("true", "tokenizer", "h264"))
        assert st["tokenizer_deviation"] >= 0 and "stutter" in printed


def test_eval_tokenizer_stutter_sees_a_decoder_that_freezes_inside_each_group(tmp_path, monkeypatch):
    """A "decoder" that repeats each group's first frame scores far off the true profile; an exact one scores 0."""
    import cosmos_lite.eval.tokenizer as ev

    torch.manual_seed(0)
    VideoTokenizer(PRESETS["tiny-cv"]).save_pretrained(tmp_path / "tok")
    settings = ev.EvalSettings(data="scenes-test", n=2, frames=9, size=(32, 48), h264=False)
    original = ev.video_to_frames

    def decoded(video):  # scene clips are frames already: every call is the tokenizer's output
        frames = original(video).copy()
        frames[2:5] = frames[1]  # group 1 (frames 1-4) frozen on its first frame
        frames[6:9] = frames[5]  # group 2 (frames 5-8)
        return frames

    monkeypatch.setattr(ev, "video_to_frames", decoded)
    frozen = ev.evaluate(tmp_path / "tok", settings, tmp_path / "a")["stutter"]
    assert frozen["tokenizer_profile"][1:] == [0.0, 0.0, 0.0] and frozen["tokenizer_deviation"] > 0.25
    true = frozen["true_profile"]
    assert ev.stutter_deviation(np.asarray(true), np.asarray(true)) == 0.0 and min(true) > 0


def test_h264_rate_matching():
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(0, 255, (1, 8, 12, 3)).astype(np.uint8).repeat(4, 1).repeat(4, 2), 5, 0)
    hi, bits_hi = h264_roundtrip(frames, 5)
    lo, bits_lo = h264_roundtrip(frames, 45)
    assert hi.shape == frames.shape and bits_hi > bits_lo
    target = (bits_hi + bits_lo) / 2 / (5 * 32 * 48)
    r = h264_at_bpp(frames, target, 10.0)
    assert not r["over_budget"] and r["bpp"] <= target and 5 < r["crf"] <= 45


def test_train_cli_end_to_end_and_resume(tmp_path):
    out = tmp_path / "run"
    args = ["train", "tokenizer", "--preset", "tiny-dv", "--data", "scenes", "--out", str(out), "--steps", "2",
            "--batch-size", "1", "--frames", "5", "--size", "32x32", "--workers", "0", "--val-clips", "1",
            "--mixed-precision", "no", "--no-progress", "--ckpt-every", "1", "--val-every", "0", "--log-every", "1"]
    assert main(args) == 0
    tok = VideoTokenizer.from_pretrained(out / "final")
    assert tok.config.mode == "discrete"
    saved = json.loads((out / "config.json").read_text())
    assert saved["train"]["steps"] == 2 and saved["data"]["size"] == [32, 32]
    assert main(["train", "tokenizer", "--out", str(out), "--resume", "--steps", "3", "--no-progress"]) == 0
    recs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs if r["kind"] == "train"] == [1, 2, 3]


@pytest.mark.parametrize("argv, message", [
    (["eval", "tokenizer", "--tokenizer", "{tmp}/nope", "--data", "scenes-test", "--out", "{tmp}/o"], "no such tokenizer"),
    (["eval", "tokenizer", "--tokenizer", "{tmp}", "--data", "{tmp}/missing", "--out", "{tmp}/o"], "no such directory"),
    (["train", "tokenizer", "--preset", "tiny-cv", "--data", "scenes", "--out", "{tmp}/r", "--frames", "6",
      "--size", "32x32"], "1 + k*4"),
    (["train", "tokenizer", "--preset", "tiny-cv", "--data", "scenes", "--out", "{tmp}/r", "--size", "36x32"],
     "multiple of 8"),
    (["train", "tokenizer", "--preset", "bogus", "--data", "scenes", "--out", "{tmp}/r"], "unknown tokenizer preset"),
    (["train", "tokenizer", "--out", "{tmp}/r", "--resume"], "no checkpoint to resume"),
    (["train", "tokenizer", "--preset", "tiny-cv", "--data", "{tmp}/missing", "--out", "{tmp}/r"], "no such directory"),
    (["train", "tokenizer", "--preset", "tiny-cv", "--out", "{tmp}/r"], "--data is required"),
])
def test_bad_inputs_give_one_line_errors(tmp_path, capsys, argv, message):
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err


def test_bad_flag_values_are_rejected_by_argparse(tmp_path, capsys):
    for bad in (["--size", "12by3"], ["--steps", "0"], ["--lr", "-1"]):
        with pytest.raises(SystemExit) as exc:
            main(["train", "tokenizer", "--data", "scenes", "--out", str(tmp_path), *bad])
        assert exc.value.code == 2
    assert "HxW" in capsys.readouterr().err
