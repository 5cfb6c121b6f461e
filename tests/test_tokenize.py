"""``cosmos-lite tokenize``: a messy folder, round trips, resume after a kill, two processes, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmos_lite.cli import main
from cosmos_lite.data.codec import frames_to_video
from cosmos_lite.data.io import read_video, write_video
from cosmos_lite.data.shards import ERRORS, MANIFEST, SHARD_DIR, TokenShards
from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos
from cosmos_lite.tokenizer import PRESETS, VideoTokenizer

SIZE = (32, 48)
BASE = dict(size=SIZE, clip_frames=9, stride=4, shard_size=3, batch_size=2)


def _frames(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """A gradient with a moving square: cheap, and different in every frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // w, yy * 255 // h, np.full((h, w), seed * 40 % 255)], -1).astype(np.uint8)
    out = np.repeat(base[None], n, 0)
    for t in range(n):
        x = (t * 3) % (w - 8)
        out[t, h // 3 : h // 3 + 8, x : x + 8] = rng.integers(0, 255, 3)
    return out


def _write_mpeg4_avi(path: Path, frames: np.ndarray, fps: int) -> None:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")))
        c.mux(s.encode(None))


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Tiny convs on 2 shared cores: OpenMP threads waiting on each other cost 10-50x (measured);
    # one thread keeps these tests fast and does not change what they check.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tok")
    v = root / "videos"
    (v / "sub").mkdir(parents=True)
    write_video(v / "a.mp4", _frames(17, 32, 48, 1), 10)  # H.264: 3 clips at stride 4
    write_video(v / "sub" / "b.mkv", _frames(13, 40, 56, 2), 15, lossless=True)  # FFV1, other size: 2 clips
    _write_mpeg4_avi(v / "c.avi", _frames(12, 36, 52, 3), 24)  # MPEG-4 Part 2, other fps: 1 clip
    write_video(v / "short.mp4", _frames(5, 32, 48, 4), 10)  # shorter than a clip
    (v / "corrupt.mp4").write_bytes((v / "a.mp4").read_bytes()[:1800])  # truncated bytes
    (v / "empty.mp4").write_bytes(b"")
    (v / "notes.mp4").write_text("this is not a video\n")
    # Probes fine (header intact), breaks after 10 frames: 1 of its 3 clips survives.
    write_video(v / "trunc.mkv", _frames(17, 32, 48, 5), 10, lossless=True)
    raw = (v / "trunc.mkv").read_bytes()
    (v / "trunc.mkv").write_bytes(raw[: int(len(raw) * 0.6)])
    torch.manual_seed(0)
    VideoTokenizer(PRESETS["tiny-cv"]).save_pretrained(root / "tiny-cv")
    VideoTokenizer(PRESETS["tiny-dv"]).save_pretrained(root / "tiny-dv")
    good = root / "good"
    good.mkdir()
    for name in ("a.mp4", "sub/b.mkv", "c.avi"):
        (good / Path(name).name).write_bytes((v / name).read_bytes())
    return root


def _run(data: Path, inputs: list, out: Path, tok: str = "tiny-cv", **opts) -> object:
    options = TokenizeOptions(**{**BASE, **opts})
    return tokenize_videos([str(i) for i in inputs], out, data / tok, options, progress=False)


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def _shard_tensors(out: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return {p.name: next(iter(load_file(str(p)).values())) for p in sorted((out / SHARD_DIR).glob("*.safetensors"))}


@pytest.fixture(scope="module")
def messy(data, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("messy")
    return out, _run(data, [data / "videos"], out)


# --------------------------------------------------------------------------- a messy folder


def test_messy_folder_keeps_good_clips_and_lists_bad_files(data, messy):
    out, summary = messy
    rows = _rows(out)
    got = [(Path(r["file"]).name, r["start"]) for r in rows]
    assert got == [("a.mp4", 0), ("a.mp4", 4), ("a.mp4", 8), ("c.avi", 0), ("b.mkv", 0), ("b.mkv", 4),
                   ("trunc.mkv", 0)]
    assert [r["clip"] for r in rows] == [0, 1, 2, 3, 4, 5, 6]  # trunc.mkv's clips 7, 8 are lost
    assert all(r["frames"] == 9 and r["size"] == [32, 48] for r in rows)
    assert {Path(r["file"]).name: r["fps"] for r in rows} == {"a.mp4": 10, "c.avi": 24, "b.mkv": 15, "trunc.mkv": 10}
    errors = {Path(e["file"]).name: e for e in map(json.loads, (out / ERRORS).read_text().splitlines())}
    assert len((out / ERRORS).read_text().splitlines()) == len(errors) == 5  # one line per bad file
    assert "empty file" in errors["empty.mp4"]["reason"]
    assert "not a readable video" in errors["notes.mp4"]["reason"]
    assert "not a readable video" in errors["corrupt.mp4"]["reason"]
    assert "too short" in errors["short.mp4"]["reason"] and "needs 9" in errors["short.mp4"]["reason"]
    assert errors["trunc.mkv"]["stage"] == "decode" and errors["trunc.mkv"]["clips"] == 2
    assert all("\n" not in e["reason"] for e in errors.values())
    assert summary.complete and summary.in_manifest == 7 and summary.errors == 5 and summary.shards == 3

    shards = _shard_tensors(out)
    assert list(shards) == ["shard-00000.safetensors", "shard-00001.safetensors", "shard-00002.safetensors"]
    assert [tuple(t.shape) for t in shards.values()] == [(3, 16, 3, 4, 6), (3, 16, 3, 4, 6), (1, 16, 3, 4, 6)]
    assert all(t.dtype == torch.bfloat16 for t in shards.values())
    job = json.loads((out / "tokenize.json").read_text())
    assert job["tokenizer"]["sha256"] == hashlib.sha256((data / "tiny-cv" / "model.safetensors").read_bytes()).hexdigest()
    assert job["tokenizer"]["config"]["mode"] == "continuous" and job["options"]["clip_frames"] == 9
    assert not list((out / SHARD_DIR).glob(".*"))  # no temp files left


def test_rerun_of_a_finished_job_does_nothing(data, messy):
    out, _ = messy
    before = {p: p.stat().st_mtime_ns for p in (out / SHARD_DIR).iterdir()}
    again = _run(data, [data / "videos"], out, batch_size=3, workers=0)  # runtime options may change
    assert again.encoded == 0 and again.shards_written == 0 and again.complete
    assert "nothing to do" in again.describe()
    assert {p: p.stat().st_mtime_ns for p in (out / SHARD_DIR).iterdir()} == before


@pytest.mark.parametrize("change, expect", [
    (dict(stride=8), "stride: 4 -> 8"),
    (dict(size=(32, 32)), "size"),
    (dict(fps=5.0), "fps"),
])
def test_rerun_with_other_options_is_refused(data, messy, change, expect):
    out, _ = messy
    with pytest.raises(ValueError, match="different settings") as err:
        _run(data, [data / "videos"], out, **change)
    assert expect in str(err.value)


def test_rerun_with_other_weights_is_refused(data, messy, tmp_path):
    out, _ = messy
    torch.manual_seed(1)
    VideoTokenizer(PRESETS["tiny-cv"]).save_pretrained(tmp_path / "other")
    with pytest.raises(ValueError, match="tokenizer.sha256 differs"):
        tokenize_videos([data / "videos"], out, tmp_path / "other", TokenizeOptions(**BASE), progress=False)


# --------------------------------------------------------------------------- round trips


def _direct(tok: VideoTokenizer, row: dict, resize_mode: str = "crop") -> torch.Tensor:
    frames, _ = read_video(row["file"], start=row["start"], num_frames=row["frames"], size=tuple(row["size"]),
                           resize_mode=resize_mode, fps=row["fps"])
    with torch.inference_mode():
        return tok.encode(frames_to_video(frames))[0]


def test_token_shards_match_direct_encode_continuous(data, messy):
    out, _ = messy
    ds = TokenShards(out)
    tok = VideoTokenizer.from_pretrained(data / "tiny-cv")
    assert len(ds) == 7
    for i in (0, 3, 4, 6):
        item = ds[i]
        assert item["latents"].dtype == torch.bfloat16 and item["latents"].shape == (16, 3, 4, 6)
        ref = _direct(tok, ds.rows[i])
        torch.testing.assert_close(item["latents"].float(), ref.to(torch.bfloat16).float(), atol=2e-2, rtol=2e-2)
        assert item["clip"] == i and item["caption"] == "" and item["actions"].shape == (9, 0)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4, num_workers=1)))
    assert batch["latents"].shape == (4, 16, 3, 4, 6)


def test_discrete_ids_are_uint16_and_match_direct_encode(data, tmp_path):
    from safetensors import safe_open

    summary = _run(data, [data / "good"], tmp_path, tok="tiny-dv")
    assert summary.complete and summary.in_manifest == 6
    with safe_open(str(tmp_path / SHARD_DIR / "shard-00000.safetensors"), "pt") as f:
        assert list(f.keys()) == ["ids"] and f.get_slice("ids").get_dtype() == "U16"
    assert json.loads((tmp_path / "tokenize.json").read_text())["storage"] == {"key": "ids", "dtype": "uint16"}
    ds = TokenShards(tmp_path)
    tok = VideoTokenizer.from_pretrained(data / "tiny-dv")
    for i in range(len(ds)):
        ids = ds[i]["ids"]
        assert ids.dtype == torch.int64 and ids.shape == (3, 4, 6)
        ref = _direct(tok, ds.rows[i])
        assert (ids == ref).float().mean() > 0.99  # batching may move a value across an FSQ rounding edge
    assert int(ids.max()) < tok.config.vocab_size


def test_latent_dtype_flag_is_refused_for_discrete(data, tmp_path):
    with pytest.raises(ValueError, match="latent_dtype applies to continuous"):
        _run(data, [data / "good"], tmp_path, tok="tiny-dv", latent_dtype="float16")


# --------------------------------------------------------------------------- manifests


def test_manifest_inputs_carry_captions_and_actions(data, tmp_path):
    vids = tmp_path / "v"
    vids.mkdir()
    write_video(vids / "x.mp4", _frames(34, 32, 48, 7), 20)  # 34 frames at 20 fps -> 17 at 10 fps
    write_video(vids / "y.mp4", _frames(9, 32, 48, 8), 10)
    ax = [[i * 0.5, -i * 0.01] for i in range(34)]
    ay = [[1.0, float(i)] for i in range(9)]
    (tmp_path / "m.jsonl").write_text(
        json.dumps({"file": "v/x.mp4", "caption": "rain, truck cuts in", "actions": ax}) + "\n"
        + json.dumps({"file": "v/missing.mp4", "caption": "gone"}) + "\n")
    (tmp_path / "m.csv").write_text(f'path,caption,actions\nv/y.mp4,"night, pedestrian","{json.dumps(ay)}"\n')
    out = tmp_path / "out"
    s = _run(data, [tmp_path / "m.jsonl", tmp_path / "m.csv"], out, fps=10.0, stride=8)
    rows = _rows(out)
    assert [(Path(r["file"]).name, r["start"]) for r in rows] == [("x.mp4", 0), ("x.mp4", 8), ("y.mp4", 0)]
    assert rows[0]["caption"] == "rain, truck cuts in" and rows[2]["caption"] == "night, pedestrian"
    assert rows[1]["actions"] == [ax[2 * i] for i in range(8, 17)]  # resampled to 10 fps with the frames
    assert rows[2]["actions"] == ay and rows[0]["fps"] == 10.0
    errors = [json.loads(line) for line in (out / ERRORS).read_text().splitlines()]
    assert len(errors) == 1 and "missing.mp4" in errors[0]["file"] and "no such file" in errors[0]["reason"]
    assert s.errors == 1
    item = TokenShards(out)[1]
    assert item["caption"] == "rain, truck cuts in" and item["actions"].shape == (9, 2)
    torch.testing.assert_close(item["actions"], torch.tensor(rows[1]["actions"]))


def test_manifest_with_too_few_actions_is_a_bad_file(data, tmp_path):
    write_video(tmp_path / "z.mp4", _frames(9, 32, 48, 9), 10)
    (tmp_path / "m.jsonl").write_text(json.dumps({"video": "z.mp4", "actions": [[0.0, 0.0]] * 5}) + "\n")
    s = _run(data, [tmp_path / "m.jsonl"], tmp_path / "out")
    assert s.in_manifest == 0 and s.errors == 1
    assert "5 action rows" in (tmp_path / "out" / ERRORS).read_text()


# --------------------------------------------------------------------------- options change what is written


def test_options_change_the_output(data, tmp_path):
    good = [data / "good"]
    base = _run(data, good, tmp_path / "base")
    ref = _shard_tensors(tmp_path / "base")
    ref_rows = _rows(tmp_path / "base")

    # clip length and stride: which clips exist
    _run(data, good, tmp_path / "long", clip_frames=13, stride=None)
    assert [(Path(r["file"]).name, r["start"]) for r in _rows(tmp_path / "long")] == [("a.mp4", 0), ("b.mkv", 0)]
    # shard size: how they are grouped; storage dtype
    s = _run(data, good, tmp_path / "shard1", shard_size=1, latent_dtype="float16")
    assert s.shards == 6 and len(list((tmp_path / "shard1" / SHARD_DIR).glob("*.safetensors"))) == 6
    assert all(t.dtype == torch.float16 for t in _shard_tensors(tmp_path / "shard1").values())
    # pad vs crop: a 40x56 mkv padded into 32x48 is not the cropped one (decoded inline, one clip a batch)
    _run(data, good, tmp_path / "pad", resize_mode="pad", workers=0, batch_size=1)
    padded = TokenShards(tmp_path / "pad")
    i = next(i for i, r in enumerate(padded.rows) if r["file"].endswith("b.mkv"))
    tok = VideoTokenizer.from_pretrained(data / "tiny-cv")
    torch.testing.assert_close(padded[i]["latents"].float(), _direct(tok, padded.rows[i], "pad").to(torch.bfloat16).float(),
                               atol=2e-2, rtol=2e-2)
    assert not torch.allclose(padded[i]["latents"].float(), TokenShards(tmp_path / "base")[i]["latents"].float(), atol=0.05)
    # compute dtype: bf16 model is close to, not equal to, fp32
    _run(data, good, tmp_path / "bf16", dtype="bfloat16")
    for name, t in _shard_tensors(tmp_path / "bf16").items():
        assert not torch.equal(t, ref[name])
        torch.testing.assert_close(t.float(), ref[name].float(), atol=0.15, rtol=0.1)
    # batch size, workers: how fast, not what (same clips, same latents up to float noise)
    for sub, opts in (("b4", dict(batch_size=4, workers=2)),):
        _run(data, good, tmp_path / sub, **opts)
        assert _rows(tmp_path / sub) == ref_rows
        for name, t in _shard_tensors(tmp_path / sub).items():
            torch.testing.assert_close(t.float(), ref[name].float(), atol=2e-2, rtol=2e-2)
    assert base.in_manifest == 6


# --------------------------------------------------------------------------- resume


def test_stop_after_some_shards_then_resume_equals_unbroken(data, messy, tmp_path):
    unbroken, _ = messy
    out = tmp_path / "out"
    seen = []
    first = tokenize_videos([data / "videos"], out, data / "tiny-cv", TokenizeOptions(**BASE), max_shards=1,
                            progress=False, on_shard=seen.append)
    assert seen == [0] and not first.complete and not (out / MANIFEST).exists()
    second = _run(data, [data / "videos"], out)
    assert second.shards_skipped == 1 and second.shards_written == 2 and second.complete
    assert (out / MANIFEST).read_text() == (unbroken / MANIFEST).read_text()
    assert (out / ERRORS).read_text() == (unbroken / ERRORS).read_text()
    a, b = _shard_tensors(out), _shard_tensors(unbroken)
    assert list(a) == list(b)
    for name in a:
        torch.testing.assert_close(a[name].float(), b[name].float(), atol=2e-2, rtol=2e-2)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cosmos_lite", *args]


def test_killed_at_a_random_point_then_resumed_equals_unbroken(data, tmp_path):
    args = ["tokenize", str(data / "videos"), "--tokenizer", str(data / "tiny-cv"), "--size", "32x48",
            "--clip-frames", "9", "--stride", "2", "--shard-size", "1", "--batch-size", "1", "--no-progress"]
    unbroken = tmp_path / "unbroken"
    assert main([*args, "--out", str(unbroken)]) == 0
    n_shards = len(list((unbroken / SHARD_DIR).glob("*.safetensors")))
    assert n_shards >= 14

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*args, "--out", str(out)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    kill_after = random.randint(1, n_shards // 2)  # a random point in the first half of the work
    try:
        deadline = time.monotonic() + 60
        while len(list((out / SHARD_DIR).glob("shard-*.safetensors"))) < kill_after:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no shards written within 60 s"
            time.sleep(0.002)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its decoding workers
        proc.wait(timeout=30)
    done = len(list((out / SHARD_DIR).glob("shard-*.safetensors")))
    assert 1 <= done < n_shards and not (out / MANIFEST).exists()
    assert main([*args, "--out", str(out)]) == 0
    assert (out / MANIFEST).read_text() == (unbroken / MANIFEST).read_text()
    assert (out / ERRORS).read_text() == (unbroken / ERRORS).read_text()
    assert not list((out / SHARD_DIR).glob(".*"))


# --------------------------------------------------------------------------- two processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_equal_one(data, messy, tmp_path):
    unbroken, _ = messy
    out = tmp_path / "two"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "cosmos_lite", "tokenize", str(data / "videos"),
           "--out", str(out), "--tokenizer", str(data / "tiny-cv"), "--size", "32x48", "--clip-frames", "9",
           "--stride", "4", "--shard-size", "3", "--batch-size", "2", "--no-progress"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    # each process wrote its own shards: 0 and 2 on rank 0, 1 on rank 1
    import re

    assert sorted(re.findall(r"encoded \d+ clips into (\d+) shards", res.stdout)) == ["1", "2"], res.stdout
    assert (out / MANIFEST).read_text() == (unbroken / MANIFEST).read_text()
    assert (out / ERRORS).read_text() == (unbroken / ERRORS).read_text()
    a, b = _shard_tensors(out), _shard_tensors(unbroken)
    assert list(a) == list(b)
    for name in a:
        torch.testing.assert_close(a[name].float(), b[name].float(), atol=2e-2, rtol=2e-2)


# --------------------------------------------------------------------------- CLI


def test_cli_end_to_end_tokenize_and_detokenize(data, tmp_path, capsys):
    from cosmos_lite.data.io import probe_video

    out = tmp_path / "tokens"
    assert main(["tokenize", str(data / "good"), "--out", str(out), "--tokenizer", str(data / "tiny-dv"),
                 "--size", "32x48", "--clip-frames", "9", "--stride", "4", "--no-progress"]) == 0
    assert "encoded 6 clips into 1 shards" in capsys.readouterr().out
    assert main(["detokenize", str(out), "--index", "0", "5", "--out", str(tmp_path / "mp4")]) == 0
    paths = capsys.readouterr().out.split()
    assert [Path(p).name for p in paths] == ["clip-000000.mp4", "clip-000005.mp4"]
    info = probe_video(paths[1])
    assert (info.num_frames, info.height, info.width, info.fps) == (9, 32, 48, 24.0)
    # the shards say which weights made them; others are refused
    assert main(["detokenize", str(out), "--index", "0", "--out", str(tmp_path / "x"),
                 "--tokenizer", str(data / "tiny-cv")]) == 2
    assert "not the tokenizer these shards were made with" in capsys.readouterr().err
    assert main(["detokenize", str(out), "--index", "6", "--out", str(tmp_path / "x")]) == 2
    assert "out of range" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--clip-frames", "10"], "clip_frames must be 1 + k*4"),
    (["--size", "30x48"], "multiple of the tokenizer's spatial compression 8"),
    (["--device", "cuda"], "CUDA is not available"),
    (["--device", "toaster"], "not a torch device"),
    (["--tokenizer", "/nonexistent/tok"], "no tokenizer there"),
    (["MISSING_INPUT"], "no such file or directory"),
])
def test_cli_bad_input_gives_one_clear_error(data, tmp_path, capsys, extra, message):
    args = {"--size": "32x48", "--clip-frames": "9", "--tokenizer": str(data / "tiny-cv")}
    inputs = [str(data / "good")]
    rest = list(extra)
    while rest:
        if rest[0].startswith("--"):
            args[rest[0]] = rest[1]
            rest = rest[2:]
        else:
            inputs = [str(tmp_path / rest.pop(0))]
    argv = ["tokenize", *inputs, "--out", str(tmp_path / "o"), "--no-progress"] + [x for kv in args.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cosmos-lite tokenize: error:") and message in err
    assert not (tmp_path / "o" / SHARD_DIR).exists()


def test_cli_rejects_malformed_numbers(data, tmp_path, capsys):
    base = ["tokenize", str(data / "good"), "--out", str(tmp_path), "--tokenizer", str(data / "tiny-cv")]
    for bad in (["--size", "32by48"], ["--size", "32x48", "--batch-size", "0"], ["--size", "32x48", "--fps", "-3"]):
        with pytest.raises(SystemExit) as exc:
            main(base + bad)
        assert exc.value.code == 2
    assert "HxW" in capsys.readouterr().err
