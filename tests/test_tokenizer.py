"""The causal video tokenizer: causality, FSQ, streaming, shapes, persistence, learning."""

from __future__ import annotations

import json
import math

import pytest
import torch

from cosmos_lite.tokenizer import (
    PRESETS,
    StreamDecoder,
    StreamEncoder,
    TokenizerConfig,
    VideoTokenizer,
    fsq_indices_to_codes,
    fsq_quantize,
)


def _model(name: str, seed: int = 0) -> VideoTokenizer:
    torch.manual_seed(seed)
    tok = VideoTokenizer(PRESETS[name]).eval()
    # The decoder head starts at zero (a grey frame); give it weights so outputs carry signal.
    torch.nn.init.normal_(tok.decoder.conv_out.spatial.conv.weight, std=0.05)
    return tok


def _video(t: int, h: int, w: int, b: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, t, h, w, generator=g) * 2 - 1


def _time_axis(mode: str) -> int:
    return 2 if mode == "continuous" else 1


@pytest.mark.parametrize("name", ["tiny-cv", "tiny-dv"])
def test_causality_future_frames_do_not_change_past_latents(name):
    tok = _model(name)
    t = tok.config.temporal_compression
    video = _video(1 + 5 * t, 32, 48)
    cut = 1 + 2 * t  # frames [0, cut) feed latent frames [0, 3)
    changed = video.clone()
    changed[:, :, cut:] = _video(video.shape[2] - cut, 32, 48, seed=1)
    with torch.no_grad():
        z, z2 = tok.encode(video), tok.encode(changed)
    axis = _time_axis(tok.config.mode)
    n_past = 1 + (cut - 1) // t
    assert torch.equal(z.narrow(axis, 0, n_past), z2.narrow(axis, 0, n_past))
    assert not torch.equal(z.narrow(axis, n_past, 1), z2.narrow(axis, n_past, 1))


def test_decoder_is_causal_too():
    tok = _model("tiny-cv")
    z = torch.randn(1, 16, 5, 4, 6)
    z2 = z.clone()
    z2[:, :, 3:] = torch.randn(1, 16, 2, 4, 6)
    with torch.no_grad():
        v, v2 = tok.decode(z), tok.decode(z2)
    n = 1 + 2 * 4  # latent frames 0..2 decode to frames 0..8
    assert torch.equal(v[:, :, :n], v2[:, :, :n])
    assert not torch.equal(v[:, :, n:], v2[:, :, n:])


@pytest.mark.parametrize("name", ["tiny-cv", "tiny-dv", "default-cv"])
def test_frame_and_size_contract(name):
    tok = _model(name)
    cfg = tok.config
    t, s = cfg.temporal_compression, cfg.spatial_compression
    with torch.no_grad():
        z = tok.encode(_video(1 + 3 * t, 2 * s, 3 * s, b=2))
    if cfg.mode == "continuous":
        assert z.shape == (2, cfg.latent_channels, 4, 2, 3) and z.dtype == torch.float32
    else:
        assert z.shape == (2, 4, 2, 3) and z.dtype == torch.int64
        assert int(z.min()) >= 0 and int(z.max()) < cfg.vocab_size


def test_single_frame_is_an_image():
    tok = _model("tiny-cv")
    img = _video(1, 32, 32)
    with torch.no_grad():
        z = tok.encode(img)
        out = tok.decode(z)
        # An image and the first frame of a video share latent frame 0.
        z_vid = tok.encode(torch.cat([img, _video(4, 32, 32, seed=3)], dim=2))
    assert z.shape[2] == 1 and out.shape == img.shape
    assert torch.allclose(z[:, :, 0], z_vid[:, :, 0], atol=1e-5)


def test_odd_frame_counts_and_sizes_are_padded_and_cropped_back():
    tok = _model("tiny-cv")
    video = _video(10, 30, 45)
    with torch.no_grad():
        z = tok.encode(video)
        out = tok.decode(z, num_frames=10, size=(30, 45))
    assert z.shape[2:] == (1 + math.ceil(9 / 4), 4, 6)
    assert out.shape == video.shape


@pytest.mark.parametrize("name", ["tiny-cv", "tiny-dv"])
def test_streaming_equals_full_pass(name):
    tok = _model(name)
    video = _video(1 + 12 * 4, 32, 32)
    with torch.no_grad():
        full = tok.encode(video)
        for chunk in (1, 7, 16):
            streamed = tok.encode(video, chunk_frames=chunk)
            assert (streamed.float() - full.float()).abs().max() < 1e-4, chunk
        dec_full = tok.decode(full)
        for chunk in (1, 3):
            dec = tok.decode(full, chunk_frames=chunk)
            assert (dec - dec_full).abs().max() < 1e-4, chunk


def test_stream_objects_push_and_flush_match_one_shot():
    tok = _model("tiny-cv")
    video = _video(23, 32, 32)  # not 1 + k*t: flush pads the tail
    with torch.no_grad():
        enc = StreamEncoder(tok)
        parts = [enc.push(video[:, :, i : i + 5]) for i in range(0, 23, 5)] + [enc.flush()]
        streamed = torch.cat([p for p in parts if p is not None], dim=2)
        assert (streamed - tok.encode(video)).abs().max() < 1e-4
        dec = StreamDecoder(tok)
        frames = torch.cat([dec.push(streamed[:, :, i : i + 2]) for i in range(0, streamed.shape[2], 2)], dim=2)
        assert (frames - tok.decode(streamed)).abs().max() < 1e-4


def test_decoding_one_latent_frame_at_a_time_is_exactly_causal_and_forks():
    """Per-latent-frame decoding runs the same kernels on the same shapes however long the clip is, so
    a prefix decodes to the very bits of the whole clip's start (generate and sessions rely on it);
    a forked stream continues like the original."""
    tok = _model("tiny-cv")
    with torch.no_grad():
        z = tok.encode(_video(1 + 5 * 4, 32, 32))
        full = tok.decode(z, chunk_frames=1)
        assert torch.equal(tok.decode(z[:, :, :3], chunk_frames=1), full[:, :, :9])
        dec = StreamDecoder(tok)
        head = torch.cat([dec.push(z[:, :, i : i + 1]) for i in range(3)], dim=2)
        fork = dec.fork()
        tail = dec.push(z[:, :, 3:4])
        assert torch.equal(torch.cat([head, tail], dim=2), full[:, :, :13])
        assert torch.equal(fork.push(z[:, :, 3:4]), tail)  # the fork kept the caches of frame 2
        assert not torch.equal(dec.push(z[:, :, 3:4]), tail)  # the original moved on


def test_temporal_attention_window_is_bounded():
    # With a window of w latent frames, latent frame i must not depend on frames
    # before i - w + 1 through attention; the full pass and streaming agree on it.
    cfg = TokenizerConfig(base_channels=16, channel_mult=(1, 2), num_res_blocks=1, latent_channels=4, attn_window=2)
    torch.manual_seed(0)
    tok = VideoTokenizer(cfg).eval()
    mid = tok.encoder.mid.attn_t
    x = torch.randn(1, 32, 6, 2, 2)
    x2 = x.clone()
    x2[:, :, 0] = torch.randn(1, 32, 2, 2)  # not a uniform shift: FrameNorm would remove that
    with torch.no_grad():
        y, y2 = mid(x, None), mid(x2, None)
    assert not torch.allclose(y[:, :, 1], y2[:, :, 1])  # inside the window
    assert torch.allclose(y[:, :, 2:], y2[:, :, 2:])  # outside it


def test_tiling_full_tile_is_exact_and_partial_tiles_blend():
    tok = _model("tiny-cv")
    video = _video(5, 64, 96)
    with torch.no_grad():
        full = tok.encode(video)
        assert torch.equal(tok.encode(video, tile_size=(64, 96)), full)
        tiled = tok.encode(video, tile_size=(32, 48))
        assert tiled.shape == full.shape and torch.isfinite(tiled).all()
        # Tiling composes with streaming: each tile carries its own cache.
        assert torch.allclose(tok.encode(video, tile_size=(32, 48), chunk_frames=2), tiled, atol=1e-5)
        out = tok.decode(tiled, tile_size=(32, 48))
    assert out.shape == video.shape


def test_fsq_codebook_size_and_index_round_trip():
    levels = (8, 8, 8, 5, 5, 5)
    assert TokenizerConfig(mode="discrete", fsq_levels=levels).vocab_size == 64_000
    ids = torch.arange(64_000).view(1, 64_000)
    codes = fsq_indices_to_codes(ids, levels)  # [1, 6, 64000]
    assert codes.shape == (1, 6, 64_000) and codes.abs().max() <= 1
    # Every code re-quantises to itself and maps back to its own index.
    L = torch.tensor(levels).view(1, -1, 1)
    bounded = codes * (L // 2)
    z = torch.atanh(((bounded + torch.where(L % 2 == 0, 0.5, 0.0)) / ((L - 1) * (1 + 1e-3) / 2)).clamp(-0.999999, 0.999999))
    z = z - torch.atanh(torch.where(L % 2 == 0, 0.5, 0.0) / ((L - 1) * (1 + 1e-3) / 2))
    q_codes, q_ids = fsq_quantize(z, levels)
    assert torch.equal(q_ids, ids)
    assert torch.allclose(q_codes, codes)
    tok = VideoTokenizer(TokenizerConfig(mode="discrete", fsq_levels=levels, base_channels=8, channel_mult=(1, 1)))
    assert torch.equal(tok.codes_to_indices(codes.view(1, 6, 64_000, 1, 1)).view(1, -1), ids)


def test_fsq_is_float32_under_bf16_autocast_and_passes_gradients():
    z = torch.randn(2, 4, 3, 5, 5, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        codes, ids = fsq_quantize(z.to(torch.bfloat16), (8, 5, 5, 5))
    assert codes.dtype == torch.float32 and ids.dtype == torch.int64
    codes.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_token_ids_round_trip_through_decode_inputs():
    tok = _model("tiny-dv")
    with torch.no_grad():
        ids = tok.encode(_video(9, 32, 32))
        codes = tok.indices_to_codes(ids)
        assert torch.equal(tok.codes_to_indices(codes), ids)
        # Shards store ids as uint16/int32; decoding them is identical.
        assert torch.equal(tok.decode(ids.to(torch.int32)), tok.decode(ids))


def test_save_load_identity(tmp_path):
    for name in ("tiny-cv", "tiny-dv"):
        tok = _model(name, seed=1)
        tok.save_pretrained(tmp_path / name)
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["config.json", "model.safetensors"]
        loaded = VideoTokenizer.from_pretrained(tmp_path / name)
        assert loaded.config == tok.config
        video = _video(9, 32, 32)
        with torch.no_grad():
            assert torch.equal(loaded.encode(video), tok.encode(video))


def test_half_precision_save_halves_the_file_and_loads_back_to_float32(tmp_path):
    tok = _model("tiny-cv", seed=1)
    tok.save_pretrained(tmp_path / "f32")
    tok.save_pretrained(tmp_path / "f16", dtype=torch.float16)
    size = lambda d: (tmp_path / d / "model.safetensors").stat().st_size  # noqa: E731
    assert size("f16") < 0.55 * size("f32")
    loaded = VideoTokenizer.from_pretrained(tmp_path / "f16")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    video = _video(5, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded.encode(video), tok.encode(video), atol=5e-2)


def test_latent_stats_are_part_of_the_config(tmp_path):
    cfg = TokenizerConfig(base_channels=16, channel_mult=(1, 2), num_res_blocks=1, latent_channels=2,
                          latent_mean=(0.5, -0.5), latent_std=(2.0, 4.0))
    torch.manual_seed(0)
    tok = VideoTokenizer(cfg).eval()
    tok.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["latent_std"] == [2.0, 4.0]
    raw = VideoTokenizer(TokenizerConfig(base_channels=16, channel_mult=(1, 2), num_res_blocks=1, latent_channels=2))
    raw.load_state_dict(tok.state_dict())
    video = _video(5, 32, 32)
    with torch.no_grad():
        z, z_raw = tok.encode(video), raw.eval().encode(video)
        assert torch.allclose(z, (z_raw - torch.tensor([0.5, -0.5]).view(1, 2, 1, 1, 1)) / torch.tensor([2.0, 4.0]).view(1, 2, 1, 1, 1), atol=1e-5)
        assert torch.allclose(tok.decode(z), raw.decode(z_raw), atol=1e-5)


def test_loading_is_strict(tmp_path):
    tok = _model("tiny-cv")
    tok.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["base_channels"] = 48
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="size mismatch"):
        VideoTokenizer.from_pretrained(tmp_path)
    cfg["base_channels"], cfg["bogus"] = 32, 1
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="unknown TokenizerConfig fields: \\['bogus'\\]"):
        VideoTokenizer.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        VideoTokenizer.from_pretrained(tmp_path / "nowhere")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_has_the_named_compression(name):
    cfg = PRESETS[name]
    with torch.device("meta"):  # shapes and parameter counts without allocating
        tok = VideoTokenizer(cfg)
        x = torch.empty(1, 3, 1 + 2 * cfg.temporal_compression, 2 * cfg.spatial_compression, cfg.spatial_compression)
        z = tok.encoder(haar_input(tok, x), None)
    assert z.shape == (1, cfg.latent_dim, 3, 2, 1)
    if name[:2] in ("CV", "DV", "CI", "DI"):
        t, s = (int(v) for v in name[2:].split("x")[:2]) if name[1] == "V" else (1, int(name[2:].split("x")[0]))
        assert (cfg.temporal_compression, cfg.spatial_compression) == (t, s)
        assert (cfg.mode == "discrete") == (name[0] == "D")
        if cfg.mode == "discrete":
            assert cfg.vocab_size == 64_000


def haar_input(tok, x):
    from cosmos_lite.tokenizer.model import haar_patchify

    return haar_patchify(x, tok.config.patch_t, tok.config.patch_size)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(temporal_compression=3), "temporal_compression must be a power of two"),
        (dict(spatial_compression=32, channel_mult=(1, 2)), "needs 3"),
        (dict(mode="discrete", fsq_levels=(1, 5)), "fsq_levels must be integers >= 2"),
        (dict(mode="foo"), "mode must be"),
        (dict(latent_channels=2, latent_std=(1.0,)), "latent_std needs 2 values"),
        (dict(latent_channels=1, latent_std=(0.0,)), "latent_std values must be positive"),
    ],
)
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenizerConfig(**kwargs)


def test_bad_inputs_give_clear_errors():
    tok = _model("tiny-cv")
    with pytest.raises(ValueError, match=r"\[B, 3, T, H, W\]"):
        tok.encode(torch.zeros(3, 9, 32, 32))
    with pytest.raises(ValueError, match="NaN"):
        tok.encode(torch.full((1, 3, 5, 32, 32), float("nan")))
    with pytest.raises(ValueError, match=r"in \[-1, 1\].*127.5"):
        tok.encode(torch.full((1, 3, 5, 32, 32), 200.0))
    with pytest.raises(ValueError, match="float"):
        tok.encode(torch.zeros(1, 3, 5, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="T = 1 \\+ k\\*4"):
        tok(torch.zeros(1, 3, 6, 32, 32))
    with pytest.raises(ValueError, match=r"latent must have shape \[B, 16"):
        tok.decode(torch.zeros(1, 4, 2, 4, 4))
    with pytest.raises(ValueError, match="only for a discrete"):
        tok.indices_to_codes(torch.zeros(1, 2, 4, 4, dtype=torch.long))
    dv = _model("tiny-dv")
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 64000\)"):
        dv.decode(torch.full((1, 2, 4, 4), 70_000))


@pytest.mark.parametrize("name", ["tiny-cv", "tiny-dv"])
def test_tiny_model_overfits_one_clip(name):
    torch.manual_seed(0)
    tok = VideoTokenizer(PRESETS[name])
    T, H, W = 5, 16, 16
    t = torch.arange(T).view(T, 1, 1).float()
    y = torch.arange(H).view(1, H, 1).float()
    x = torch.arange(W).view(1, 1, W).float()
    blob = torch.exp(-((x - W / 4 - 2 * t) ** 2 + (y - H / 2) ** 2) / 40)  # moves 2 px per frame
    clip = torch.stack([blob, (x / W).expand(T, H, W), (y / H).expand(T, H, W) * 0.5 + 0.2 * torch.sin(t / 3)])
    clip = clip[None] * 2 - 1  # [1, 3, 5, 16, 16]
    steps = 120
    opt = torch.optim.Adam(tok.parameters(), lr=2e-3)
    # Warm up, then anneal: a constant rate this high keeps bouncing around 0.07.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    losses = []
    for _ in range(steps):
        rec, _ = tok(clip)
        loss = (rec - clip).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert min(losses[-10:]) < losses[0] / 10, (losses[0], losses[-10:])
    # Every frame is learned, the first (an image of its own) and the last included.
    with torch.no_grad():
        per_frame = (tok(clip)[0] - clip).abs().mean(dim=(0, 1, 3, 4))
    assert per_frame.max() < 3 * per_frame.mean(), per_frame


def test_streaming_with_temporal_down_and_upsampling():
    # 8x temporal = Haar patch 4 plus one learned 2x stage, whose chunk alignment streaming must respect.
    cfg = TokenizerConfig(temporal_compression=8, base_channels=16, channel_mult=(1, 2, 2), num_res_blocks=1,
                          latent_channels=4, attn_window=3)
    torch.manual_seed(0)
    tok = VideoTokenizer(cfg).eval()
    torch.nn.init.normal_(tok.decoder.conv_out.spatial.conv.weight, std=0.05)
    video = _video(1 + 4 * 8, 32, 32)
    with torch.no_grad():
        full = tok.encode(video)
        assert full.shape == (1, 4, 5, 4, 4)
        assert (tok.encode(video, chunk_frames=5) - full).abs().max() < 1e-4
        dec = tok.decode(full)
        assert dec.shape == video.shape
        assert (tok.decode(full, chunk_frames=1) - dec).abs().max() < 1e-4


def test_bf16_weights_encode_on_cpu():
    tok = _model("tiny-cv").to(torch.bfloat16)
    video = _video(9, 32, 32)
    with torch.no_grad():
        z = tok.encode(video.to(torch.bfloat16))
    assert z.dtype == torch.bfloat16 and torch.isfinite(z.float()).all()


def test_zero_chunk_frames_is_rejected():
    tok = _model("tiny-cv")
    with pytest.raises(ValueError, match="chunk_frames must be positive, got 0"):
        tok.encode(_video(5, 32, 32), chunk_frames=0)
    with pytest.raises(ValueError, match="chunk_frames must be positive, got 0"):
        tok.decode(torch.zeros(1, 16, 2, 4, 4), chunk_frames=0)
