"""WorldModel: the generator seam, save/load, batches, input checks, the guardrail around it,
and `cosmos-lite generate` / `train diffusion` end to end."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import tiny_world
from cosmos_lite.generators.diffusion import (
    DiffusionSettings,
)
from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
from cosmos_lite.tokenizer import VideoTokenizer

from cosmos_lite.cli import main
from cosmos_lite.data.io import read_video, write_video
from cosmos_lite.world import (
    GenerationBlocked,
    GenerationRequest,
    GeneratorSpec,
    WorldConfig,
    WorldModel,
    check_request,
)

SIZE = (32, 48)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    return tiny_world().save_pretrained(tmp_path_factory.mktemp("world") / "model")


class StubGuard:
    """Records calls; blocks at the chosen stage; can modify output frames."""

    def __init__(self, block: str | None = None, modify: bool = False):
        self.block, self.modify, self.calls = block, modify, []

    def _report(self, allowed: bool):
        return SimpleNamespace(allowed=allowed, reasons=[] if allowed else ["stub says no"],
                               to_dict=lambda: {"allowed": allowed})

    def check_request(self, prompt, video, actions, expected_frames, negative_prompt=None):
        self.calls.append(("request", prompt))
        return self._report(self.block != "request")

    def check_output(self, frames, condition_frames=None):
        self.calls.append(("output", frames.shape))
        if self.block == "output":
            return None, self._report(False)
        return (np.zeros_like(frames) if self.modify else frames), self._report(True)


def load(world_dir, guard=None) -> WorldModel:
    return WorldModel.from_pretrained(world_dir, guardrail=guard)


def gen(wm: WorldModel, **kw):
    settings = {k: kw.pop(k) for k in ("steps", "guidance", "solver", "negative_prompt") if k in kw}
    args = dict(prompt="night, heavy rain", num_frames=9, settings=DiffusionSettings(**{"steps": 2, **settings}),
                progress=False)
    args.update(kw)
    return wm.generate(**args)


def test_generate_shapes_report_and_any_frame_count(world_dir):
    wm = load(world_dir, StubGuard())
    clip = gen(wm)
    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (9, *SIZE, 3)
    assert clip.fps == 10.0
    assert {"seed", "settings", "generator", "timings", "guardrail_request", "guardrail_output"} <= set(clip.report)
    assert clip.report["settings"]["steps"] == 2 and clip.report["generator"] == "diffusion"
    # 7 is not 1 + 4k: padded to 9 inside, cropped back; 13 frames take a second rollout chunk
    assert gen(wm, num_frames=7).frames.shape[0] == 7
    assert gen(wm, num_frames=13).frames.shape[0] == 13


def test_seeded_generation_is_deterministic(world_dir):
    wm = load(world_dir, StubGuard())
    a, b, c = gen(wm, seed=3), gen(wm, seed=3), gen(wm, seed=4)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_prompt_video_actions_and_guidance_change_the_clip(world_dir):
    wm = load(world_dir, StubGuard())
    base = gen(wm).frames
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (7, *SIZE, 3), dtype=np.uint8)
    acts = np.zeros((9, 2), np.float32)
    acts[:, 0] = 2.0
    for name, clip in {"prompt": gen(wm, prompt="clear day, empty road"), "video": gen(wm, video=video),
                       "actions": gen(wm, actions=acts), "guidance": gen(wm, guidance=1.0),
                       "negative": gen(wm, negative_prompt="fog"), "solver": gen(wm, solver="euler"),
                       "steps": gen(wm, steps=3)}.items():
        assert not np.array_equal(clip.frames, base), name


def test_video_condition_uses_whole_latent_groups_from_arrays_and_files(world_dir, tmp_path):
    wm = load(world_dir, StubGuard())
    rng = np.random.default_rng(1)
    video = rng.integers(0, 255, (7, 64, 96, 3), dtype=np.uint8)  # other size: resized to the model's
    clip = gen(wm, video=video)
    assert clip.report["condition_frames"] == 5 and clip.report["condition_latents"] == 2
    path = write_video(tmp_path / "first.mkv", video, 10.0)
    from_file = gen(wm, video=path)
    assert from_file.report["condition_frames"] == 5
    assert gen(wm, video=video[:1]).report["condition_latents"] == 1


def test_bad_inputs_raise_clear_errors(world_dir):
    wm = load(world_dir, StubGuard())
    with pytest.raises(ValueError, match="actions: must be"):
        gen(wm, actions=np.zeros((9, 3)))
    with pytest.raises(ValueError, match="5 rows, the clip has 9 frames"):
        gen(wm, actions=np.zeros((5, 2)))
    bad = np.zeros((9, 2))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gen(wm, actions=bad)
    with pytest.raises(ValueError, match="invalid video: must be uint8"):
        gen(wm, video=np.zeros((3, *SIZE, 3), np.float32))
    with pytest.raises(ValueError, match="num_frames"):
        gen(wm, num_frames=0)
    with pytest.raises(ValueError, match="solver"):
        gen(wm, solver="ddim")
    with pytest.raises(TypeError, match="prompt"):
        gen(wm, prompt=None)
    with pytest.raises(FileNotFoundError, match="world.json"):
        WorldModel.from_pretrained(world_dir / "missing", guardrail=None)
    assert not wm.guardrail.calls  # every one of these failed before the guardrail or a model ran


@pytest.mark.parametrize("kw, message", [
    (dict(actions=np.full((9, 2), np.nan)), "invalid actions: hold NaN"),
    (dict(actions=np.zeros((9, 2, 1))), r"invalid actions: must be \[T, 2\]"),
    (dict(actions=[[0.0, 0.5]] * 9), "curvature 0.5 at frame 0 is outside"),
    (dict(actions=[[-20.0, 0.0]] * 9), "acceleration -20 at frame 0 is outside"),
    (dict(actions=torch.zeros(9, 2, dtype=torch.int64), num_frames=7), "9 rows"),
    (dict(video=np.zeros((5, 1, 1, 3), np.uint8)), "frames are 1x1, need at least 16x16"),
    (dict(num_frames=1), "invalid num_frames"),
    (dict(num_frames=True), "invalid num_frames"),
    (dict(num_frames=9.0), "invalid num_frames"),
    (dict(seed=1.5), "invalid seed"),
    (dict(seed=-1), "invalid seed"),
    (dict(prompt="night \udcff rain"), "not valid UTF-8"),
    (dict(generator="autoregressive"), "invalid generator 'autoregressive'"),
    (dict(settings=SimpleNamespace(steps=2)), "invalid settings"),
])
def test_invalid_requests_are_refused_before_any_model_runs(world_dir, kw, message):
    config = WorldConfig.load(world_dir)  # world.json alone: nothing is loaded
    request = {"prompt": "rain", **kw}
    with pytest.raises((ValueError, TypeError)) as err:
        check_request(config, request)
    assert err.match(message)


@pytest.mark.parametrize("kw, message", [
    (dict(steps=2.7), "steps must be an integer"), (dict(steps=0), "steps must be an integer"),
    (dict(guidance=0.0), "guidance must be a number in \\[1, 20\\]"), (dict(guidance=1000.0), "guidance"),
    (dict(solver="ddim"), "solver"), (dict(negative_prompt=3), "negative_prompt"),
])
def test_invalid_settings_are_clear_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        DiffusionSettings(**kw)


def test_int_actions_tensor_is_taken_like_the_list(world_dir):
    config = WorldConfig.load(world_dir)
    a = check_request(config, dict(prompt="rain", actions=torch.zeros(9, 2, dtype=torch.int64))).actions
    b = check_request(config, dict(prompt="rain", actions=[[0, 0]] * 9)).actions
    assert a.dtype == np.float32 and np.array_equal(a, b)


# ----------------------------------------------------------------------------- the seam


def test_save_load_gives_bit_identical_clips(world_dir, tmp_path):
    wm = load(world_dir, StubGuard())
    again = load(wm.save_pretrained(tmp_path / "copy"), StubGuard())
    assert json.loads((tmp_path / "copy" / "world.json").read_text()) == json.loads(
        (world_dir / "world.json").read_text())
    for kw in ({}, {"seed": 5, "actions": np.full((9, 2), 0.01, np.float32)}):
        assert np.array_equal(gen(wm, **kw).frames, gen(again, **kw).frames)


def test_a_second_generator_plugs_in_through_the_protocol(world_dir):
    """A stub generator (fixed latents) beside the DiT: WorldModel is unchanged, generate picks by name."""
    from cosmos_lite.generators.protocol import WorldGenerator

    base = load(world_dir, StubGuard())
    tok = base.tokenizers["diffusion"]

    class FixedLatents:
        kind, latents, settings_class = "fixed", "continuous", DiffusionSettings
        text_dim, action_dim = base.generator().text_dim, 2

        def __init__(self):
            self.seen = []

        def max_context_frames(self, t):
            return 1

        def work(self, batch, settings):
            return 1

        def sample(self, batch, settings, generators, callback=None):
            self.seen.append(batch)
            callback(0)
            return torch.zeros(batch.batch_size, *batch.latent_shape[:1], batch.num_latent_frames,
                               *batch.latent_shape[1:])

        def save_pretrained(self, directory, dtype=None):
            raise NotImplementedError

        @classmethod
        def from_pretrained(cls, directory):
            raise NotImplementedError

    stub = FixedLatents()
    assert isinstance(stub, WorldGenerator)
    spec = GeneratorSpec(name="fixed", kind="diffusion", tokenizer="-", size=SIZE, fps=5.0, frames=5)
    wm = WorldModel(WorldConfig(generators=(*base.config.generators, spec)),
                    {"diffusion": base.generator(), "fixed": stub}, {"diffusion": tok, "fixed": tok}, StubGuard())
    assert wm.generators == ("diffusion", "fixed")
    clip = wm.generate("rain", generator="fixed", num_frames=9, progress=False)
    # generate decodes one latent frame at a time (so a session's steps give the same bits)
    expect = tok.decode(torch.zeros(1, tok.config.latent_dim, 3, SIZE[0] // 8, SIZE[1] // 8), num_frames=9,
                        chunk_frames=1)
    from cosmos_lite.data.codec import video_to_frames

    assert np.array_equal(clip.frames, video_to_frames(expect)) and clip.fps == 5.0
    assert stub.seen[0].num_latent_frames == 3 and stub.seen[0].latent_shape == (16, 4, 6)
    assert np.array_equal(gen(wm).frames, gen(base).frames)  # the default is still the first generator


def test_generate_many_keeps_order_marks_blocked_and_equals_one_by_one(world_dir):
    from cosmos_lite.guardrail import GuardrailRunner

    wm = load(world_dir, StubGuard())
    s = DiffusionSettings(steps=2)
    reqs = [dict(prompt="rain, a car cuts in", seed=1, num_frames=9, settings=s),
            GenerationRequest(prompt="fog", seed=2, num_frames=9, settings=s),
            dict(prompt="snow, a deer crosses", seed=3, num_frames=9, settings=s),
            dict(prompt="clear, a truck", seed=4, num_frames=9, settings=DiffusionSettings(steps=3))]
    many = wm.generate_many(reqs, batch_size=8, progress=False)
    assert [c.report["seed"] for c in many] == [1, 2, 3, 4]
    assert [c.report["timings"]["batch_size"] for c in many] == [3, 3, 3, 1]  # shared settings: one batch
    for r, c in zip(reqs, many):
        one = wm.generate(**(r if isinstance(r, dict) else r.__dict__), progress=False)
        assert np.abs(one.frames.astype(int) - c.frames.astype(int)).max() <= 1  # batch numerics: within 1 level

    guarded = WorldModel(wm.config, {"diffusion": wm.generator()}, wm.tokenizers, GuardrailRunner())
    unsafe = json.loads((Path(__file__).parent / "data" / "prompts" / "unsafe.jsonl").read_text().splitlines()[0])
    out = guarded.generate_many([dict(prompt="rain, a car cuts in", seed=1, settings=s),
                                 dict(prompt=unsafe["text"], seed=2, settings=s),
                                 dict(prompt="fog", seed=3, settings=s)], progress=False)
    assert len(out) == 3 and out[1].blocked and out[1].frames is None and out[1].reasons
    assert out[1].report["blocked_stage"] == "request"
    assert all(c.report.get("guardrail_request", {}).get("allowed", True) for c in (out[0], out[2]))
    with pytest.raises(ValueError, match="nothing to save"):
        out[1].save("x.mp4")
    with pytest.raises(ValueError, match="request 1: invalid seed"):
        wm.generate_many([dict(prompt="a"), dict(prompt="b", seed=-3)])


def test_guardrail_gates_both_ends_and_fails_closed(world_dir):
    guard = StubGuard(block="request")
    wm = load(world_dir, guard)
    with pytest.raises(GenerationBlocked, match="request.*stub says no"):
        gen(wm)
    assert [c[0] for c in guard.calls] == ["request"]  # nothing was generated
    guard = StubGuard(block="output")
    with pytest.raises(GenerationBlocked, match="generated clip"):
        gen(load(world_dir, guard))
    modified = gen(load(world_dir, StubGuard(modify=True)))
    assert modified.frames.max() == 0  # the guardrail's version of the frames is what comes back


def test_real_guardrail_blocks_an_unsafe_prompt_before_generation(world_dir):
    from cosmos_lite.guardrail import GuardrailRunner

    row = json.loads((Path(__file__).parent / "data" / "prompts" / "unsafe.jsonl").read_text().splitlines()[0])
    wm = load(world_dir, GuardrailRunner())
    with pytest.raises(GenerationBlocked, match="request"):
        gen(wm, prompt=row["prompt"] if "prompt" in row else row["text"])


def test_real_guardrail_takes_actions_as_lists(world_dir):
    """JSON actions (lists, as `--actions` reads them) pass the real guardrail like arrays do."""
    from cosmos_lite.guardrail import GuardrailRunner

    wm = load(world_dir, GuardrailRunner())
    rows = [[0.5, 0.001]] * 9
    try:
        a = gen(wm, prompt="rain, a car cuts in", actions=rows, seed=1).frames
    except GenerationBlocked as err:  # an untrained model's clip may fail the output checks, never the request
        assert err.stage != "request", err
    else:
        b = gen(load(world_dir, StubGuard()), prompt="rain, a car cuts in", actions=np.asarray(rows), seed=1).frames
        assert a.shape == b.shape
    with pytest.raises(ValueError, match=r"\[T, A\] array of numbers"):
        gen(wm, actions=[[0.5, 0.001], [0.5]])


def test_turning_the_guardrail_off_is_logged(world_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="cosmos_lite.world"):
        wm = load(world_dir, None)
    assert "guardrail disabled" in caplog.text
    assert gen(wm).report["guardrail"] == "disabled"


# ----------------------------------------------------------------------------- CLI


def test_generate_cli_end_to_end(world_dir, tmp_path, capsys):
    acts = tmp_path / "actions.json"
    acts.write_text(json.dumps({"actions": [[0.5, 0.001]] * 9}))
    out, report = tmp_path / "clip.mp4", tmp_path / "report.json"
    rc = main(["generate", "--prompt", "dusk, fog", "--model", str(world_dir), "--frames", "9", "--steps", "2",
               "--generator", "diffusion", "--actions", str(acts), "-o", str(out), "--report", str(report),
               "--no-guardrail", "--no-progress"])
    assert rc == 0
    assert read_video(out)[0].shape == (9, *SIZE, 3)
    assert json.loads(report.read_text())["settings"]["steps"] == 2
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["-o", "{tmp}/clip.gif"], "must be .mp4"),
    (["-o", "{tmp}/c.mp4", "--actions", "{tmp}/nope.json"], "no such actions file"),
    (["-o", "{tmp}/c.mp4", "--actions", "{tmp}/bad.json"], "not valid JSON"),
    (["-o", "{tmp}/c.mp4", "--video", "{tmp}/nope.mp4"], "no such file"),
    (["-o", "{tmp}/c.mp4", "--frames", "9", "--actions", "{tmp}/short.json"], "2 rows, the clip has 9"),
    (["-o", "{tmp}/c.mp4", "--frames", "1"], "invalid num_frames"),
    (["-o", "{tmp}/c.mp4", "--guidance", "1000"], "guidance must be"),
    (["-o", "{tmp}/c.mp4", "--guidance", "0"], "guidance must be"),
    (["-o", "{tmp}/c.mp4", "--generator", "nope"], "invalid generator 'nope'"),
    (["-o", "{tmp}/c.mp4", "--video", "{tmp}/tiny.mkv"], "need at least 16x16"),
    (["-o", "{tmp}/c.mp4", "--actions", "{tmp}/nan.json", "--frames", "2"], "invalid actions: hold NaN"),
    (["-o", "{tmp}/c.mp4", "--report", "{tmp}/no/dir/r.json"], "does not exist"),
    (["-o", "{tmp}/no/dir/c.mp4"], "does not exist"),
])
def test_generate_cli_bad_inputs(world_dir, tmp_path, capsys, extra, message):
    (tmp_path / "bad.json").write_text("[[1, 2],")
    (tmp_path / "short.json").write_text("[[0, 0], [0, 0]]")
    (tmp_path / "nan.json").write_text("[[NaN, 0], [0, 0]]")
    write_video(tmp_path / "tiny.mkv", np.zeros((3, 2, 2, 3), np.uint8), 10.0, lossless=True)
    argv = ["generate", "--prompt", "rain", "--model", str(world_dir), "--steps", "1", "--no-guardrail",
            "--no-progress", *[a.replace("{tmp}", str(tmp_path)) for a in extra]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "blocked" not in err
    assert not (tmp_path / "c.mp4").exists()


def test_generate_cli_checks_inputs_before_loading_any_model(world_dir, tmp_path, monkeypatch):
    def no_loading(*a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(WorldModel, "from_pretrained", no_loading)
    assert main(["generate", "--prompt", "rain", "--model", str(world_dir), "--frames", "1",
                 "-o", str(tmp_path / "c.mp4")]) == 2


def test_train_diffusion_cli_on_tokenized_scenes_then_resume(world_dir, tmp_path, capsys):
    """scenes export -> tokenize (captions + actions ride along) -> train diffusion -> generate."""
    tok = str(world_dir / "diffusion" / "tokenizer")
    assert main(["scenes", "export", "--n", "2", "--frames", "9", "--size", "32x48", "--out",
                 str(tmp_path / "scenes"), "--lossless"]) == 0
    assert main(["tokenize", str(tmp_path / "scenes" / "manifest.jsonl"), "--tokenizer", tok, "--size", "32x48",
                 "--clip-frames", "9", "--out", str(tmp_path / "lat"), "--no-progress"]) == 0
    common = ["train", "diffusion", "--out", str(tmp_path / "run"), "--no-progress"]
    assert main([*common, "--data", str(tmp_path / "lat"), "--tokenizer", tok, "--preset", "test", "--frames", "9",
                 "--size", "32x48", "--steps", "4", "--batch-size", "2", "--val-clips", "1", "--ckpt-every", "2",
                 "--warmup-steps", "1"]) == 0
    metrics = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if m["kind"] == "train"][-1] == 4
    assert "val_loss" in [m for m in metrics if m["kind"] == "val"][-1]
    other_tok = tmp_path / "other-tok"
    VideoTokenizer(TOK_PRESETS["tiny-cv"]).save_pretrained(other_tok)
    for bad, message in ((["--tokenizer", str(other_tok), "--frames", "9", "--size", "32x48"], "weights sha256 differ"),
                         (["--tokenizer", tok, "--frames", "13", "--size", "32x48"], "holds 9-frame clips")):
        assert main(["train", "diffusion", "--out", str(tmp_path / "bad"), "--data", str(tmp_path / "lat"),
                     "--preset", "test", "--steps", "1", "--no-progress", *bad]) == 2
        assert message in capsys.readouterr().err
    assert main([*common, "--resume", "--steps", "6"]) == 0
    final = tmp_path / "run" / "final"
    assert {"world.json", "diffusion"} <= {p.name for p in final.iterdir()}
    assert {"config.json", "model.safetensors", "generator.json", "tokenizer"} <= {
        p.name for p in (final / "diffusion").iterdir()}
    clip = gen(WorldModel.from_pretrained(final, guardrail=None))
    assert clip.frames.shape == (9, *SIZE, 3)


def test_train_diffusion_cli_errors(tmp_path, capsys):
    assert main(["train", "diffusion", "--out", str(tmp_path / "r")]) == 2
    assert "--data is required" in capsys.readouterr().err
    assert main(["train", "diffusion", "--out", str(tmp_path / "r"), "--data", str(tmp_path / "none")]) == 2
    assert "no such" in capsys.readouterr().err


def test_latent_scale_in_generator_json_is_applied(world_dir, tmp_path):
    import shutil

    other = tmp_path / "w"
    shutil.copytree(world_dir, other)
    path = other / "diffusion" / "generator.json"
    cfg = json.loads(path.read_text())
    assert cfg["latent_scale"] == 0.5
    cfg["latent_scale"] = 1.0
    path.write_text(json.dumps(cfg))
    a = gen(load(world_dir, StubGuard())).frames
    b = gen(load(other, StubGuard())).frames
    assert not np.array_equal(a, b)


def test_train_diffusion_text_encoder_flag(world_dir, tmp_path, capsys):
    """--text-encoder takes any transformers encoder directory; its width must match the DiT's text_dim."""
    from cosmos_lite.pretrained import minilm_path
    from transformers import AutoTokenizer, BertConfig, BertModel

    enc = tmp_path / "tiny-bert"
    BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
              ).save_pretrained(enc)
    AutoTokenizer.from_pretrained(str(minilm_path()), local_files_only=True).save_pretrained(enc)
    argv = ["train", "diffusion", "--out", str(tmp_path / "run"), "--data", "scenes", "--preset", "test",
            "--tokenizer", str(world_dir / "diffusion" / "tokenizer"), "--frames", "9", "--size", "32x48", "--steps", "1",
            "--no-progress"]
    assert main([*argv, "--text-encoder", str(enc)]) == 2
    assert "gives 32-wide embeddings" in capsys.readouterr().err
    assert main([*argv, "--text-encoder", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err


def test_bundle_world_model_names_the_tokenizer_and_halves_the_weights(world_dir, tmp_path):
    """The packaged layout: fp16 generator, world.json pointing at a tokenizer elsewhere, same clips."""
    import shutil

    from safetensors import safe_open

    from cosmos_lite.train.bundle import bundle_world_model

    shipped_tok = tmp_path / "tok-fp16"
    VideoTokenizer.from_pretrained(world_dir / "diffusion" / "tokenizer").save_pretrained(shipped_tok,
                                                                                        dtype=torch.float16)
    # the run trained on the shipped (fp16-rounded) tokenizer: its own copy holds the same values
    run = tmp_path / "run-final"
    shutil.copytree(world_dir, run)
    VideoTokenizer.from_pretrained(shipped_tok).save_pretrained(run / "diffusion" / "tokenizer")

    out = bundle_world_model(run, tmp_path / "bundle", str(shipped_tok))
    assert sorted(p.name for p in (out / "diffusion").iterdir()) == ["config.json", "generator.json",
                                                                     "model.safetensors"]
    assert json.loads((out / "world.json").read_text())["generators"][0]["tokenizer"] == str(shipped_tok)
    with safe_open(str(out / "diffusion" / "model.safetensors"), "pt") as f:
        assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
    a, b = gen(load(run, StubGuard())).frames, gen(load(out, StubGuard())).frames
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0  # fp16 weights: same clip to rounding

    # a fine-tuned decoder keeps the latent space: accepted
    tuned = VideoTokenizer.from_pretrained(shipped_tok)
    with torch.no_grad():
        for p in tuned.decoder.parameters():
            p.add_(0.01)
    tuned.save_pretrained(tmp_path / "tuned-tok")
    assert bundle_world_model(run, tmp_path / "bundle-tuned", str(tmp_path / "tuned-tok")).is_dir()

    other = tmp_path / "other-tok"
    torch.manual_seed(1)
    VideoTokenizer(TOK_PRESETS["tiny-cv"]).save_pretrained(other)
    with pytest.raises(ValueError, match="not the tokenizer"):
        bundle_world_model(run, tmp_path / "bundle2", str(other))
    assert not (tmp_path / "bundle2").exists()
    with pytest.raises(FileNotFoundError, match="world.json"):
        bundle_world_model(tmp_path, tmp_path / "bundle3", str(shipped_tok))


def test_train_diffusion_init_from_a_world_model(world_dir, tmp_path, capsys):
    """--init-from starts the DiT from a world model's weights; another tokenizer's DiT is refused."""
    from dataclasses import replace

    from cosmos_lite.train.diffusion_task import DiffusionTask
    from cosmos_lite.train.recipes import diffusion_recipe

    base = diffusion_recipe("cpu")
    tok = str(world_dir / "diffusion" / "tokenizer")
    run = replace(base, preset="test", init_from=str(world_dir),
                  data=replace(base.data, source="scenes", tokenizer=tok, frames=9, size=SIZE))
    model = DiffusionTask(run).build_modules()["model"]
    want = WorldModel.from_pretrained(world_dir, guardrail=None).generator().dit.state_dict()
    assert all(torch.equal(v, want[k]) for k, v in model.state_dict().items())
    other = tmp_path / "other-tok"
    torch.manual_seed(3)
    VideoTokenizer(TOK_PRESETS["tiny-cv"]).save_pretrained(other)
    with pytest.raises(ValueError, match="another tokenizer"):
        DiffusionTask(replace(run, data=replace(run.data, tokenizer=str(other))))
    argv = ["train", "diffusion", "--out", str(tmp_path / "r"), "--init-from", str(world_dir), "--resume"]
    assert main(argv) == 2 and "--init-from starts a run" in capsys.readouterr().err


def test_negative_prompt_gets_the_light_check_not_the_violence_lexicon(world_dir):
    """'bleeding, lifeless, deformed' steers away from those: allowed; a slur in it still blocks."""
    from cosmos_lite.guardrail import GuardrailRunner

    wm = load(world_dir, GuardrailRunner())
    try:
        gen(wm, prompt="rain, a car cuts in", negative_prompt="bleeding, lifeless, deformed, blurry")
    except GenerationBlocked as err:  # an untrained model's clip may fail the output checks, never the request
        assert err.stage != "request", err


def test_bundle_world_model_joins_the_generators_of_several_runs(world_dir, tmp_path):
    """Two runs' world models become one with both generators, in order, each naming its own tokenizer."""
    from test_autoregressive import tiny_ar_world

    from cosmos_lite.train.bundle import bundle_world_model

    ar_dir = tiny_ar_world().save_pretrained(tmp_path / "ar")
    cv, dv = tmp_path / "cv", tmp_path / "dv"
    VideoTokenizer.from_pretrained(world_dir / "diffusion" / "tokenizer").save_pretrained(cv)
    VideoTokenizer.from_pretrained(ar_dir / "autoregressive" / "tokenizer").save_pretrained(dv)
    out = bundle_world_model([world_dir, ar_dir], tmp_path / "both", {"diffusion": str(cv), "autoregressive": str(dv)})
    specs = json.loads((out / "world.json").read_text())["generators"]
    assert [(s["name"], s["tokenizer"]) for s in specs] == [("diffusion", str(cv)), ("autoregressive", str(dv))]
    wm = load(out, StubGuard())
    assert list(wm.generators) == ["diffusion", "autoregressive"]
    with pytest.raises(ValueError, match="not the tokenizer"):
        bundle_world_model([world_dir, ar_dir], tmp_path / "bad", {"diffusion": str(dv), "autoregressive": str(dv)})
    with pytest.raises(ValueError, match="repeat"):
        bundle_world_model([ar_dir, ar_dir], tmp_path / "twice", str(dv))
    with pytest.raises(ValueError, match="no bundled tokenizer named"):
        bundle_world_model([world_dir, ar_dir], tmp_path / "half", {"diffusion": str(cv)})
    assert not any((tmp_path / n).exists() for n in ("bad", "twice", "half"))
