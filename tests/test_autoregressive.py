"""The autoregressive world model: network, KV cache, losses, decoding, the generator seam and training
(tiny shapes, CPU, one thread)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from cosmos_lite.generators.autoregressive import (
    PRESETS,
    ARConfig,
    ARGeneratorConfig,
    ARSettings,
    ARTransformer,
    AutoregressiveGenerator,
    DecodeSettings,
    ar_loss,
    corrupt,
    draw,
    draw_ids,
    filter_logits,
    masked_counts,
    rollout,
    token_loss,
    training_mask,
)
from cosmos_lite.generators.conditioning import Conditioning
from cosmos_lite.generators.diffusion import DiffusionSettings
from cosmos_lite.generators.protocol import GeneratorInput, WorldGenerator

H, W = 2, 3  # ids per latent frame in the network tests
S = H * W
LEVELS = (4, 3, 2)  # vocab 24: every id is drawn often enough to matter, and digits differ in size

pytestmark = pytest.mark.usefixtures("one_thread")


def randomized(model: ARTransformer, seed: int = 0) -> ARTransformer:
    """Unit-gain random weights everywhere (the action embedding's zero output layer included): an
    untrained network whose every input visibly changes what it decodes."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 2:  # Linear [out, in]: std 1/sqrt(in); the digit tables: std 1
                std = 1.0 if name == "digit_embed.weight" else 1 / math.sqrt(p.shape[1])
                p.copy_(torch.randn(p.shape, generator=g) * std)
            elif name in ("mask_embed", "frame_embed") or p.abs().sum() == 0:
                p.copy_(torch.randn(p.shape, generator=g))
    return model.eval()


def tiny(seed: int = 0, **kw) -> ARTransformer:
    return randomized(untrained(seed, **kw), seed)


def untrained(seed: int = 0, **kw) -> ARTransformer:
    """A fresh tiny model with the training initialisation."""
    torch.manual_seed(seed)
    return ARTransformer(ARConfig(**{"fsq_levels": LEVELS, "dim": 64, "depth": 2, "num_heads": 2, **kw}))


def conds(b: int = 2, t: int = 4, seed: int = 1) -> tuple[Conditioning, Conditioning]:
    """A conditional branch (text, actions) and an unconditional one (other text, actions dropped)."""
    g = torch.Generator().manual_seed(seed)
    acts = torch.randn(b, t, 2, generator=g) * torch.tensor([2.0, 0.002])
    mask = torch.ones(b, 5, dtype=torch.bool)
    mask[-1, 3:] = False  # one padded prompt
    return (Conditioning(torch.randn(b, 5, 384, generator=g), mask, acts),
            Conditioning(torch.randn(b, 2, 384, generator=g), torch.ones(b, 2, dtype=torch.bool), acts,
                         torch.zeros(b, dtype=torch.bool)))


def ids_of(b: int, t: int, vocab: int = math.prod(LEVELS), seed: int = 2) -> torch.Tensor:
    return torch.randint(0, vocab, (b, t, H, W), generator=torch.Generator().manual_seed(seed))


def seeds(n: int, base: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(base + i) for i in range(n)]


# ----------------------------------------------------------------------------- config and network


@pytest.mark.parametrize("kw, message", [
    (dict(fsq_levels=(8, 1)), "fsq_levels must be integers >= 2"),
    (dict(fsq_levels=()), "fsq_levels"),
    (dict(head="joint", fsq_levels=(8, 8, 8, 8, 8, 8)), "exceeds 65536"),
    (dict(head="softmax"), "head must be"),
    (dict(within_frame="zigzag"), "within_frame"),
    (dict(action_input="concat"), "action_input"),
    (dict(dim=64, num_heads=3), "not divisible"),
    (dict(dim=12, num_heads=2), "head_dim"),
    (dict(action_dim=3), "action_scale"),
])
def test_config_errors_are_clear(kw, message):
    with pytest.raises(ValueError, match=message):
        ARConfig(**kw)
    with pytest.raises(TypeError, match="ARConfig"):
        ARTransformer({"dim": 64})
    with pytest.raises(ValueError, match="unknown ARConfig fields: vocab"):
        ARConfig.from_dict({"vocab": 1000})


def test_presets_build_and_heads_change_the_output_width():
    with torch.device("meta"):
        counts = {n: sum(p.numel() for p in ARTransformer(c).parameters()) for n, c in PRESETS.items()}
        joint = ARTransformer(dataclasses.replace(PRESETS["small"], head="joint", fsq_levels=(8, 5, 5, 5)))
    assert counts["test"] < 5e5 < counts["small"] < 1e7 < counts["base"] < 3e7
    assert PRESETS["small"].num_logits == 8 + 8 + 8 + 5 + 5 + 5 and joint.head.out_features == 1000
    assert tiny().head.out_features == sum(LEVELS) and tiny(head="joint").head.out_features == 24


@pytest.mark.parametrize("within", ["bidirectional", "causal"])
def test_logits_with_and_without_the_kv_cache_are_equal(within):
    model = tiny(within_frame=within)
    c, _ = conds(2, 4)
    ids = ids_of(2, 4)
    queries = torch.where(torch.rand(ids.shape, generator=torch.Generator().manual_seed(3)) < 0.5,
                          model.config.mask_id, ids)
    if within == "bidirectional":
        full = model(ids[:, :-1], c.text, c.text_mask, c.actions, queries=queries)  # the training pass
        # one frame at a time: a query pass, then the frame committed to the cache
        cache, steps = model.new_cache(), []
        for t in range(4):
            steps.append(model(None, c.text, c.text_mask, c.actions[:, t:t + 1], queries=queries[:, t:t + 1],
                               start_frame=t, cache=cache))
            assert model(ids[:, t:t + 1], c.text, c.text_mask, c.actions[:, t:t + 1], start_frame=t,
                         cache=cache) is None
        # fused: one pass commits frame t - 1 and queries frame t (how the decoder runs)
        cache, fused = model.new_cache(), [model(None, c.text, c.text_mask, c.actions[:, :1], queries=queries[:, :1],
                                                 cache=model.new_cache())]
        for t in range(1, 4):
            fused.append(model(ids[:, t - 1:t], c.text, c.text_mask, c.actions[:, t - 1:t + 1],
                               queries=queries[:, t:t + 1], start_frame=t - 1, cache=cache))
        for inc in (steps, fused):
            assert torch.allclose(full, torch.cat(inc, 1), atol=1e-5)
    else:
        full = model(ids, c.text, c.text_mask, c.actions)  # teacher-forced next-id logits, aligned
        slots, S1 = model.frame_slots(ids), S + 1
        cache, out = model.new_cache(), []
        for p in range(slots.shape[1]):  # raster: one slot per pass
            out.append(model.forward_slots(slots[:, p:p + 1], p, (H, W), c.text, c.text_mask,
                                           c.actions[:, p // S1:p // S1 + 1], cache=cache))
        raster = torch.cat(out, 1).reshape(2, 4, S1, -1)[:, :, :-1].reshape(full.shape)
        assert torch.allclose(full, raster, atol=1e-5)
        # a query pass (not committed) with ids 0..2 known gives their teacher-forced logits for ids 0..3
        q = ids[:, 2:3].clone().flatten(2)
        q[:, :, 3:] = model.config.mask_id
        out = model(ids[:, :2], c.text, c.text_mask, c.actions[:, :3], queries=q.reshape(2, 1, H, W))
        assert torch.allclose(out[:, 0].flatten(1, 2)[:, :4], full[:, 2].flatten(1, 2)[:, :4], atol=1e-5)


def test_frames_are_causal_and_within_frame_attention_follows_the_config():
    c, _ = conds(1, 3)
    ids = ids_of(1, 3)
    later = ids.clone()
    later[:, 2] = (later[:, 2] + 1) % 24
    for within in ("bidirectional", "causal"):
        model = tiny(within_frame=within)
        run = (lambda x: model(x[:, :-1], c.text, c.text_mask, c.actions, queries=x)) if within == "bidirectional" \
            else (lambda x: model(x, c.text, c.text_mask, c.actions))
        a, b = run(ids), run(later)
        assert torch.equal(a[:, :2], b[:, :2]), within  # frames 0, 1 never see frame 2
        one = ids.clone()
        one[0, 1, 0, 1] = (one[0, 1, 0, 1] + 1) % 24  # id 1 of frame 1
        d = (run(one)[0, 1] - a[0, 1]).abs().amax(-1).flatten()  # [S]
        if within == "causal":
            assert (d[:2] == 0).all() and (d[2:] > 0).all()  # only later ids of the frame see it
        else:
            assert (d > 0).all()


def test_every_condition_changes_the_logits_and_action_input_modes_differ():
    c, _ = conds(1, 3)
    ids = ids_of(1, 3)
    outs = {}
    for mode in ("token", "add"):
        model = tiny(action_input=mode)

        def run(text=c.text, mask=c.text_mask, actions=c.actions, action_mask=None):
            return model(ids[:, :-1], text, mask, actions, action_mask, queries=ids)

        base = run()
        outs[mode] = base
        other_mask = c.text_mask.clone()
        other_mask[0, 1] = False
        for name, out in {"text": run(text=c.text + 0.1), "text_mask": run(mask=other_mask),
                          "actions": run(actions=c.actions * 2), "no actions": run(actions=None),
                          "action_mask": run(action_mask=torch.zeros(1, dtype=torch.bool))}.items():
            assert not torch.allclose(out, base), (mode, name)
        assert torch.allclose(run(actions=None), run(action_mask=torch.zeros(1, dtype=torch.bool)))
    assert not torch.allclose(outs["token"], outs["add"])
    # the remaining network options: same seed, one field changed
    base = tiny()(ids[:, :-1], c.text, c.text_mask, c.actions, queries=ids)
    for kw in (dict(absolute_pos=False), dict(rope_theta=100.0), dict(action_scale=(1.0, 0.01)),
               dict(mlp_ratio=4.0)):
        assert not torch.allclose(tiny(**kw)(ids[:, :-1], c.text, c.text_mask, c.actions, queries=ids), base), kw
    assert ARConfig(dim=64, mlp_ratio=4.0).mlp_hidden == 256 and ARConfig(dim=64).mlp_hidden == 192


def test_bad_inputs_raise_clear_errors():
    model = tiny()
    c, _ = conds(1, 2)
    ids = ids_of(1, 2)
    call = lambda **kw: model(**{"ids": ids, "text": c.text, "text_mask": c.text_mask, "actions": c.actions[:, :2],
                                 **kw})
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 23\].*other FSQ levels"):
        call(ids=ids + 24)  # ids of a bigger vocabulary (another tokenizer)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 23\]"):
        call(ids=torch.full_like(ids, model.config.mask_id))  # [MASK] is for queries only
    with pytest.raises(TypeError, match="integer tensor"):
        call(ids=ids.float())
    with pytest.raises(ValueError, match=r"ids must be \[B, T, h, w\]"):
        call(ids=ids[0])
    with pytest.raises(ValueError, match=r"actions must be \[B, n, A\] = \[1, 2, 2\]"):
        call(actions=c.actions[:, :2, :1])
    with pytest.raises(ValueError, match=r"actions must be \[B, n, A\] = \[1, 3, 2\]"):
        call(queries=ids_of(1, 3))  # three queries span three frames: actions must too
    with pytest.raises(ValueError, match=r"text must be \[B, L, 384\]"):
        call(text=c.text[..., :100])
    with pytest.raises(ValueError, match="text_mask"):
        call(text_mask=c.text_mask[:, :2])
    with pytest.raises(ValueError, match="need the 3 clean frames"):
        call(queries=ids_of(1, 4), actions=None)
    with pytest.raises(ValueError, match="takes no actions"):
        tiny(action_dim=0, action_scale=())(ids, c.text, c.text_mask, c.actions[:, :2])
    with pytest.raises(ValueError, match="within_frame='causal'"):
        model.forward_slots(model.frame_slots(ids), 0, (H, W), c.text)


def test_save_load_identity_strict_and_half(tmp_path):
    from safetensors.torch import load_file, save_file

    model = tiny(3)
    model.save_pretrained(tmp_path / "m")
    loaded = ARTransformer.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config
    c, _ = conds(1, 2)
    ids = ids_of(1, 2)
    args = (ids[:, :1], c.text, c.text_mask, c.actions)
    assert torch.equal(model(*args, queries=ids), loaded(*args, queries=ids))
    state = load_file(str(tmp_path / "m" / "model.safetensors"))
    state.pop("head.weight")
    save_file(state, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ValueError, match="head.weight"):
        ARTransformer.from_pretrained(tmp_path / "m")
    model.save_pretrained(tmp_path / "h", dtype=torch.float16)
    half = ARTransformer.from_pretrained(tmp_path / "h")
    assert all(p.dtype == torch.float32 for p in half.parameters())
    assert torch.allclose(half(*args, queries=ids), model(*args, queries=ids), atol=1e-2)
    from cosmos_lite.generators.diffusion import DiT

    with pytest.raises(ValueError, match="holds a ARTransformer, not a DiT"):
        DiT.from_pretrained(tmp_path / "h")


# ----------------------------------------------------------------------------- losses


def test_losses_masks_and_z_loss():
    g = torch.Generator().manual_seed(0)
    mask = training_mask((64, 3, 20), generator=g)
    per_frame = mask.sum(-1)
    assert per_frame.min() >= 1 and per_frame.max() <= 20 and per_frame.float().std() > 2  # cosine ratios vary
    ids = torch.randint(0, 24, (4, 100))
    noisy = corrupt(ids, 0.3, 24, torch.Generator().manual_seed(0))
    assert 0.15 < (noisy != ids).float().mean() < 0.35 and torch.equal(corrupt(ids, 0.0, 24), ids)

    logits, targets = torch.randn(2, 5, sum(LEVELS)) * 3, torch.randint(0, 24, (2, 5))
    weight = torch.ones(2, 5, dtype=torch.bool)
    plain, logs = token_loss(logits, targets, weight, LEVELS, True, 0.0)
    with_z, logs_z = token_loss(logits, targets, weight, LEVELS, True, 1e-4)
    assert math.isclose(float(with_z - plain), 1e-4 * logs_z["z_loss"], rel_tol=1e-3)  # float32 rounding at 10
    # the factorized log-likelihood of an id is the sum of its digits' (one joint softmax per id agrees)
    digits = [logits[..., :4].log_softmax(-1), logits[..., 4:7].log_softmax(-1), logits[..., 7:].log_softmax(-1)]
    joint = (digits[0][..., :, None, None] + digits[1][..., None, :, None] + digits[2][..., None, None, :])
    joint = joint.permute(0, 1, 4, 3, 2).reshape(2, 5, 24)  # id = d0 + 4 d1 + 12 d2
    ref, _ = token_loss(joint, targets, weight, LEVELS, False, 0.0)
    assert torch.allclose(plain, ref, atol=1e-5)
    only = weight.clone()
    only[:, 2:] = False  # the weight selects which ids count
    part, _ = token_loss(logits, targets, only, LEVELS, True, 0.0)
    assert torch.allclose(part, token_loss(logits[:, :2], targets[:, :2], weight[:, :2], LEVELS, True, 0.0)[0])

    model = tiny()
    c, _ = conds(2, 3)
    ids = ids_of(2, 3)
    for within in ("bidirectional", "causal"):
        m = tiny(within_frame=within)
        run = lambda noise: ar_loss(m, ids, c, z_loss=1e-4, context_noise=noise,
                                    generator=torch.Generator().manual_seed(5))[0]
        assert torch.equal(run(0.0), run(0.0)) and not torch.equal(run(0.0), run(0.5)), within
    one = Conditioning(c.text, c.text_mask, c.actions[:, :1])
    loss, logs = ar_loss(model, ids[:, :1], one, z_loss=1e-4, context_noise=0.1)  # one frame: text-to-image
    assert torch.isfinite(loss) and set(logs) == {"ce", "z_loss", "acc"}


# ----------------------------------------------------------------------------- drawing ids


def test_filters_draw_and_settings():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    assert torch.isinf(filter_logits(logits, 2, 1.0))[0].tolist() == [False, False, True, True]
    p = logits.softmax(-1)[0]  # 0.61, 0.22, 0.14, 0.03
    assert torch.isinf(filter_logits(logits, 0, 0.7))[0].tolist() == [False, False, True, True]
    assert torch.isinf(filter_logits(logits, 0, float(p[0]) - 1e-3))[0].tolist() == [False, True, True, True]
    us = torch.linspace(0, 0.999, 200)
    rows = logits.expand(200, -1)
    for kw, allowed in ((dict(temperature=1.0), {0, 1, 2, 3}), (dict(top_k=2), {0, 1}), (dict(top_k=1), {0}),
                        (dict(temperature=0.0), {0}), (dict(top_p=0.5), {0})):
        idx, logp = draw(rows, us, DecodeSettings(**kw))
        assert set(idx.tolist()) == allowed, kw
        assert torch.isfinite(logp).all()
    idx, _ = draw(rows, us, DecodeSettings())  # inverse CDF: u below p_0 gives id 0, and so on
    assert torch.equal(idx, (us[:, None] >= p.cumsum(0)[None, :-1]).sum(-1))
    # temperature sharpens: fewer draws away from the argmax
    assert (draw(rows, us, DecodeSettings(temperature=0.5))[0] != 0).sum() < (idx != 0).sum()
    # factorized: digits drawn per FSQ dimension combine into the id
    big = torch.full((1, sum(LEVELS)), -9.0)
    big[0, [2, 4 + 1, 7 + 1]] = 9.0  # digits (2, 1, 1) -> id 2 + 1*4 + 1*12 = 18
    ids, conf = draw_ids(big, torch.rand(1, 3), LEVELS, True, DecodeSettings())
    assert ids.tolist() == [18] and conf.item() > -1e-3

    for kw, message in ((dict(temperature=-1), "temperature"), (dict(top_k=1.5), "top_k"), (dict(top_p=0), "top_p"),
                        (dict(decode_steps=0), "decode_steps"), (dict(guidance=0.5), "guidance"),
                        (dict(negative_prompt=3), "negative_prompt"), (dict(temperature=float("nan")), "temperature")):
        with pytest.raises(ValueError, match=message):
            ARSettings(**kw)


def test_cosine_schedule_reveals_at_least_one_id_per_step():
    assert masked_counts(96, 8)[-1] == 0 and len(masked_counts(96, 8)) == 8
    counts = [96, *masked_counts(96, 8)]
    revealed = [a - b for a, b in zip(counts, counts[1:])]
    assert min(revealed) >= 1 and revealed[0] < revealed[-1]  # few confident ids first (cosine), most at the end
    assert masked_counts(6, 6) == [5, 4, 3, 2, 1, 0]  # one id per step
    assert masked_counts(6, 50) == [5, 4, 3, 2, 1, 0]  # no more steps than ids


# ----------------------------------------------------------------------------- rollouts


@pytest.mark.parametrize("guidance", [1.0, 2.5])
def test_parallel_decoding_with_one_token_per_step_equals_raster_decoding(guidance):
    model = tiny(within_frame="causal")
    c, u = conds(2, 4)
    st = DecodeSettings(steps=S, guidance=guidance)
    for context in (None, ids_of(2, 1)):
        raster = rollout(model, context, 4, (H, W), c, u, st, seeds(2), window=3)
        parallel = rollout(model, context, 4, (H, W), c, u, st, seeds(2), window=3, decode="parallel")
        assert torch.equal(raster, parallel)
    with pytest.raises(ValueError, match="one id per step"):
        rollout(model, None, 2, (H, W), c, u, DecodeSettings(steps=2), seeds(2), window=3, decode="parallel")
    with pytest.raises(ValueError, match="raster decoding needs"):
        rollout(tiny(), None, 2, (H, W), c, u, st, seeds(2), window=3, decode="raster")


@pytest.mark.parametrize("within, head", [("bidirectional", "factorized"), ("causal", "factorized"),
                                          ("bidirectional", "joint")])
def test_rollout_cache_equals_recompute_and_a_batch_equals_one_by_one(within, head):
    model = tiny(within_frame=within, head=head)
    c, u = conds(2, 4)
    ctx = ids_of(2, 1)
    for guidance in (1.0, 3.0):
        st = DecodeSettings(steps=3, guidance=guidance)
        out = rollout(model, ctx, 4, (H, W), c, u, st, seeds(2), window=3)
        assert out.shape == (2, 4, H, W) and out.dtype == torch.int64 and torch.equal(out[:, :1], ctx)
        assert torch.equal(out, rollout(model, ctx, 4, (H, W), c, u, st, seeds(2), window=3, use_cache=False))
        one = [rollout(model, ctx[i:i + 1], 4, (H, W), *[Conditioning(*(None if v is None else v[i:i + 1]
                                                                        for v in dataclasses.astuple(x)))
                                                       for x in (c, u)], st, seeds(1, i), window=3)
               for i in range(2)]
        assert torch.equal(out, torch.cat(one))


def test_seeded_rollouts_are_deterministic_and_every_knob_matters():
    model = tiny()
    c, u = conds(1, 5)
    base_st = DecodeSettings(steps=3)

    def go(st=base_st, seed=0, cond=c, uncond=u, window=4, context=None):
        return rollout(model, context, 5, (H, W), cond, uncond, st, seeds(1, seed), window=window)

    base = go()
    assert torch.equal(base, go())
    u_other = Conditioning(u.text + 1.0, u.text_mask, u.actions, u.action_mask)
    for name, out in {"seed": go(seed=9), "temperature": go(DecodeSettings(steps=3, temperature=0.3)),
                      "top_k": go(dataclasses.replace(base_st, top_k=3)),
                      "top_p": go(dataclasses.replace(base_st, top_p=0.3)),
                      "steps": go(dataclasses.replace(base_st, steps=1)),
                      "guidance": go(dataclasses.replace(base_st, guidance=4.0)),
                      "negative prompt": go(dataclasses.replace(base_st, guidance=4.0), uncond=u_other),
                      "window": go(window=1), "context": go(context=ids_of(1, 1)),
                      "actions": go(cond=Conditioning(c.text, c.text_mask, c.actions * 3))}.items():
        assert not torch.equal(out, base), name
    with pytest.raises(ValueError, match="exceed the window"):
        go(window=1, context=ids_of(1, 2))
    with pytest.raises(ValueError, match="actions cover 5 latent frames, the rollout 6"):
        rollout(model, None, 6, (H, W), c, u, base_st, seeds(1), window=4)
    with pytest.raises(ValueError, match="2 generators for a batch of 1"):
        rollout(model, None, 5, (H, W), c, u, base_st, seeds(2), window=4)


def test_long_rollouts_keep_only_the_window_in_the_cache(monkeypatch):
    from cosmos_lite.generators.autoregressive.model import KVCache

    seen = []
    commit = KVCache.commit

    def spy(self, frames):
        commit(self, frames)
        if len(frames):  # a pass that committed a frame
            seen.append(sorted(set(self.frames.tolist())))

    monkeypatch.setattr(KVCache, "commit", spy)
    model = tiny()
    c, u = conds(1, 7)
    out = rollout(model, None, 7, (H, W), c, u, DecodeSettings(steps=2), seeds(1), window=2)
    assert out.shape == (1, 7, H, W)
    # frame t's first step commits frame t - 1 beside frame t - 2: older frames are gone
    assert seen[0] == [0] and seen[1:] == [[t - 2, t - 1] for t in range(2, 7)]


def test_tiny_model_overfits_one_token_clip_and_samples_it_back():
    """A tiny model trained on one clip regenerates it greedily: from text alone and from its first frame."""
    vocab = math.prod(LEVELS)
    clip = ids_of(1, 3, vocab, seed=7)
    c, _ = conds(1, 3)
    for within in ("bidirectional", "causal"):
        model = untrained(within_frame=within).train()
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        batch = Conditioning(c.text.expand(8, -1, -1), c.text_mask.expand(8, -1), c.actions.expand(8, -1, -1))
        for _ in range(150):
            loss, _ = ar_loss(model, clip.expand(8, -1, -1, -1), batch, z_loss=1e-4, context_noise=0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        st = DecodeSettings(temperature=0.0, steps=S if within == "causal" else 3)
        assert torch.equal(rollout(model, None, 3, (H, W), c, None, st, seeds(1), window=2), clip), within
        top1 = DecodeSettings(top_k=1, steps=st.steps)
        assert torch.equal(rollout(model, clip[:, :1], 3, (H, W), c, None, top1, seeds(1), window=2), clip), within


# ----------------------------------------------------------------------------- the generator seam


def tiny_ar_world(size=(32, 48), frames=9, guardrail=None):
    """An untrained tiny autoregressive world model on the tiny discrete tokenizer."""
    from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
    from cosmos_lite.tokenizer import VideoTokenizer

    from cosmos_lite.world import GeneratorSpec, WorldConfig, WorldModel

    torch.manual_seed(0)
    tok = VideoTokenizer(TOK_PRESETS["tiny-dv"])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # the decoder's zero-initialised output layer would decode every clip to grey
        for p in tok.parameters():
            if p.abs().sum() == 0:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    model = randomized(ARTransformer(dataclasses.replace(PRESETS["test"], fsq_levels=tok.config.fsq_levels)))
    spec = GeneratorSpec(name="autoregressive", kind="autoregressive", tokenizer="autoregressive/tokenizer",
                         size=size, fps=10.0, frames=frames)
    gen = AutoregressiveGenerator(model, ARGeneratorConfig(window_latents=2, context_latents=2))
    return WorldModel(WorldConfig(generators=(spec,)), {"autoregressive": gen}, {"autoregressive": tok}, guardrail)


@pytest.fixture(scope="module")
def ar_world_dir(tmp_path_factory):
    return tiny_ar_world().save_pretrained(tmp_path_factory.mktemp("ar-world") / "model")


def test_generator_satisfies_the_protocol_and_its_config_is_checked(ar_world_dir, tmp_path):
    gen = AutoregressiveGenerator.from_pretrained(ar_world_dir / "autoregressive")
    assert isinstance(gen, WorldGenerator) and gen.kind == "autoregressive" and gen.latents == "discrete"
    assert gen.text_dim == 384 and gen.action_dim == 2 and gen.fsq_levels == (8, 8, 8, 5, 5, 5)
    assert gen.max_context_frames(4) == 5
    assert json.loads((ar_world_dir / "autoregressive" / "generator.json").read_text()) == {
        "window_latents": 2, "context_latents": 2}
    with pytest.raises(ValueError, match="context_latents <= window_latents"):
        ARGeneratorConfig(window_latents=2, context_latents=3)
    with pytest.raises(ValueError, match="unknown generator.json fields: chunk"):
        ARGeneratorConfig.from_dict({"chunk": 3})
    with pytest.raises(FileNotFoundError, match="missing generator.json"):
        AutoregressiveGenerator.from_pretrained(tmp_path)
    with pytest.raises(TypeError, match="ARTransformer"):
        AutoregressiveGenerator(object(), ARGeneratorConfig())
    # token ids of another vocabulary (a tokenizer with other FSQ levels) are refused, not decoded as noise
    text = torch.zeros(1, 3, 384)
    mask = torch.ones(1, 3, dtype=torch.bool)
    batch = GeneratorInput(text, mask, text, mask, torch.full((1, 1, 4, 6), 64000), None, 3, (4, 6))
    with pytest.raises(ValueError, match="other FSQ levels"):
        gen.sample(batch, ARSettings(decode_steps=2), seeds(1))
    calls = []
    ok = dataclasses.replace(batch, context=torch.zeros(1, 1, 4, 6, dtype=torch.long))
    gen.sample(ok, ARSettings(decode_steps=2), seeds(1), callback=calls.append)
    assert len(calls) == gen.work(ok, ARSettings(decode_steps=2)) == 2 * 2


def test_world_model_generates_batches_and_round_trips(ar_world_dir, tmp_path):
    from cosmos_lite.world import WorldModel

    wm = WorldModel.from_pretrained(ar_world_dir, guardrail=None)
    assert wm.generators == ("autoregressive",)
    st = ARSettings(decode_steps=3, temperature=0.8, top_k=20)
    clip = wm.generate("night, heavy rain", generator="autoregressive", num_frames=9, settings=st, progress=False)
    assert clip.frames.shape == (9, 32, 48, 3) and clip.frames.dtype == np.uint8
    assert clip.report["settings"]["decode_steps"] == 3 and clip.report["generator"] == "autoregressive"
    again = wm.generate("night, heavy rain", num_frames=9, settings=st, progress=False)
    assert np.array_equal(clip.frames, again.frames)
    acts = np.zeros((9, 2), np.float32)
    acts[:, 0] = 2.0
    video = np.random.default_rng(0).integers(0, 255, (7, 32, 48, 3), dtype=np.uint8)
    for name, kw in {"seed": dict(seed=1), "prompt": dict(prompt="clear day"), "actions": dict(actions=acts),
                     "video": dict(video=video), "guidance": dict(settings=dataclasses.replace(st, guidance=3.0)),
                     "top_p": dict(settings=dataclasses.replace(st, top_p=0.5))}.items():
        out = wm.generate(**{"prompt": "night, heavy rain", "num_frames": 9, "settings": st, "progress": False, **kw})
        assert not np.array_equal(out.frames, clip.frames), name
    assert wm.generate("rain", video=video, num_frames=9, settings=st, progress=False).report["condition_latents"] == 2
    guided = dataclasses.replace(st, guidance=3.0)
    assert not np.array_equal(wm.generate("rain", num_frames=9, settings=guided, progress=False).frames,
                              wm.generate("rain", num_frames=9, settings=dataclasses.replace(
                                  guided, negative_prompt="fog, night"), progress=False).frames)

    reqs = [dict(prompt="rain, a car cuts in", seed=1, num_frames=9, settings=st),
            dict(prompt="fog", seed=2, num_frames=9, settings=st),
            dict(prompt="snow, a deer crosses the road", seed=3, num_frames=9, settings=st, actions=acts),
            dict(prompt="dusk", seed=4, num_frames=9, settings=st, actions=acts)]
    many = wm.generate_many(reqs, batch_size=8, progress=False)
    assert [c.report["timings"]["batch_size"] for c in many] == [2, 2, 2, 2]
    for r, c in zip(reqs, many):
        one = wm.generate(**r, progress=False)
        assert np.abs(one.frames.astype(int) - c.frames.astype(int)).max() <= 1  # same ids; decode numerics

    copy = WorldModel.from_pretrained(wm.save_pretrained(tmp_path / "copy"), guardrail=None)
    for kw in ({}, {"seed": 5, "actions": np.full((13, 2), 0.5, np.float32)}):
        a = wm.generate("rain", num_frames=13, settings=st, progress=False, **kw)
        b = copy.generate("rain", num_frames=13, settings=st, progress=False, **kw)
        assert np.array_equal(a.frames, b.frames) and a.frames.shape[0] == 13
    with pytest.raises(TypeError, match="takes ARSettings"):
        wm.generate("rain", settings=DiffusionSettings(), progress=False)


# ----------------------------------------------------------------------------- training


def test_training_task_runs_through_the_engine_and_exports_a_loadable_world_model(tmp_path):
    from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
    from cosmos_lite.tokenizer import VideoTokenizer

    from cosmos_lite.train.autoregressive_task import (
        ARLossConfig,
        ARRunConfig,
        ARTask,
        TokenDataConfig,
        build_ar_run_config,
        world_model_of,
    )
    from cosmos_lite.train.config import TrainConfig
    from cosmos_lite.train.engine import fit
    from cosmos_lite.world import WorldModel

    torch.manual_seed(0)
    VideoTokenizer(TOK_PRESETS["tiny-dv"]).save_pretrained(tmp_path / "tok")
    run = ARRunConfig(preset="test", train=TrainConfig(steps=3, batch_size=2, num_workers=0, warmup_steps=1,
                                                       val_every=0, ckpt_every=0, progress=False, log_every=1),
                      data=TokenDataConfig(tokenizer=str(tmp_path / "tok"), frames=9, size=(32, 48), val_clips=1),
                      loss=ARLossConfig(context_noise=0.1))
    assert ARRunConfig.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    result = fit(ARTask(run), run.train, tmp_path / "run", run.to_dict())
    assert result.step == 3 and all(math.isfinite(v) for v in result.losses.values())
    assert result.losses[1] == pytest.approx(math.log(64000), rel=0.05)  # the factorized head starts near uniform
    assert {"val_loss", "val_ce", "val_acc"} <= set(result.validations[-1])
    wm = WorldModel.from_pretrained(result.final_dir, guardrail=None)
    assert json.loads((result.final_dir / "autoregressive" / "generator.json").read_text())["window_latents"] == 2
    clip = wm.generate("rain", num_frames=9, settings=ARSettings(decode_steps=2), progress=False)
    assert clip.frames.shape == (9, 32, 48, 3)

    # caption and action dropout: with p = 1 a step sees "" and no actions, whatever the batch says
    task = ARTask(run)
    modules = task.build_modules()
    sample = task.train_stream(0, 2, 0, 1).sample(0)
    batch = {"ids": sample["ids"][None].repeat(2, 1, 1, 1), "caption": [sample["caption"]] * 2,
             "actions": sample["actions"][None].repeat(2, 1, 1)}
    blank = {**batch, "caption": ["", ""], "actions": batch["actions"] * 7}

    def step(b, **loss):
        task.run = dataclasses.replace(run, loss=dataclasses.replace(run.loss, context_noise=0.0, **loss))
        torch.manual_seed(0)  # the same dropout draws and masks in every call
        return float(task.training_step(modules, b, 0).loss.detach())

    assert step(batch) != step(batch, text_dropout=1.0) != step(batch, action_dropout=1.0)
    assert step(batch, text_dropout=1.0, action_dropout=1.0) == step(blank, text_dropout=1.0, action_dropout=1.0)

    causal = ARTask(dataclasses.replace(run, within_frame="causal", head="joint"))
    model = causal.build_modules()["model"]
    assert model.config.within_frame == "causal" and model.config.head == "joint" and causal.find_unused_parameters
    VideoTokenizer(TOK_PRESETS["tiny-cv"]).save_pretrained(tmp_path / "cv")
    with pytest.raises(ValueError, match="needs a discrete"):
        ARTask(dataclasses.replace(run, data=dataclasses.replace(run.data, tokenizer=str(tmp_path / "cv"))))
    with pytest.raises(ValueError, match="frames must be 1 \\+ k\\*4"):
        ARTask(dataclasses.replace(run, data=dataclasses.replace(run.data, frames=8)))
    with pytest.raises(ValueError, match="FSQ levels"):
        world_model_of(tiny(), VideoTokenizer(TOK_PRESETS["tiny-dv"]), run)

    args = argparse.Namespace(resume=False, out=str(tmp_path / "run2"), recipe="cpu", preset="test", data="scenes",
                              tokenizer=str(tmp_path / "tok"), text_encoder=None, frames=9, size=(32, 48), fps=None,
                              val_clips=1, within_frame="causal", head=None, z_loss=0.0, context_noise=None,
                              text_dropout=0.2, action_dropout=None, random_start=None, init_from=None)
    built = build_ar_run_config(args, {"steps": 2, "batch_size": None})
    assert (built.preset, built.within_frame, built.head, built.train.steps, built.loss.z_loss,
            built.loss.text_dropout, built.data.frames) == ("test", "causal", "factorized", 2, 0.0, 0.2, 9)
    resumed = build_ar_run_config(argparse.Namespace(**{**vars(args), "resume": True, "out": str(tmp_path / "run"),
                                                        "frames": None, "preset": None, "within_frame": None,
                                                        "z_loss": None, "text_dropout": None}), {})
    assert resumed == run

    # --init-from: the transformer starts from a world model's AR weights (training adds up across runs)
    started = ARTask(dataclasses.replace(run, init_from=str(result.final_dir))).build_modules()["model"]
    want = WorldModel.from_pretrained(result.final_dir, guardrail=None).generator().model.state_dict()
    assert all(torch.equal(v, want[k]) for k, v in started.state_dict().items())
    assert not all(torch.equal(v, want[k]) for k, v in ARTask(run).build_modules()["model"].state_dict().items())
    torch.manual_seed(3)
    VideoTokenizer(TOK_PRESETS["tiny-dv"]).save_pretrained(tmp_path / "other-tok")
    with pytest.raises(ValueError, match="another tokenizer"):
        ARTask(dataclasses.replace(run, init_from=str(result.final_dir),
                                   data=dataclasses.replace(run.data, tokenizer=str(tmp_path / "other-tok"))))
    with pytest.raises(ValueError, match="not the 'test' preset with within_frame='causal'"):
        ARTask(dataclasses.replace(run, init_from=str(result.final_dir), within_frame="causal"))
    with pytest.raises(ValueError, match="--init-from starts a run"):
        build_ar_run_config(argparse.Namespace(**{**vars(args), "resume": True, "init_from": "bundled"}), {})


def test_training_on_a_tokenize_directory_of_ids(tmp_path):
    """scenes export -> tokenize with a discrete tokenizer -> the AR task streams ids, captions and actions."""
    from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
    from cosmos_lite.tokenizer import VideoTokenizer

    from cosmos_lite.cli import main
    from cosmos_lite.train.autoregressive_task import ARRunConfig, ARTask, TokenDataConfig
    from cosmos_lite.train.config import TrainConfig
    from cosmos_lite.train.engine import fit

    torch.manual_seed(0)
    tok = VideoTokenizer(TOK_PRESETS["tiny-dv"])
    tok.save_pretrained(tmp_path / "tok")
    assert main(["scenes", "export", "--n", "2", "--frames", "9", "--size", "32x48", "--out",
                 str(tmp_path / "scenes"), "--lossless"]) == 0
    assert main(["tokenize", str(tmp_path / "scenes" / "manifest.jsonl"), "--tokenizer", str(tmp_path / "tok"),
                 "--size", "32x48", "--clip-frames", "9", "--out", str(tmp_path / "ids"), "--no-progress"]) == 0
    from cosmos_lite.data.streams import ShardStream

    row = ShardStream(tmp_path / "ids", "ids", 0, 0, 2).sample(0)
    assert row["ids"].dtype == torch.int64 and row["ids"].shape == (3, 4, 6) and row["actions"].shape == (9, 2)
    assert isinstance(row["caption"], str) and row["caption"]
    data = TokenDataConfig(source=str(tmp_path / "ids"), tokenizer=str(tmp_path / "tok"), frames=9, size=(32, 48),
                           val_clips=1)
    run = ARRunConfig(preset="test", data=data, train=TrainConfig(steps=2, batch_size=2, num_workers=0, warmup_steps=1,
                                                                  val_every=0, ckpt_every=0, progress=False))
    assert fit(ARTask(run), run.train, tmp_path / "run", run.to_dict()).step == 2
    with pytest.raises(ValueError, match="holds 9-frame clips"):
        ARTask(dataclasses.replace(run, data=dataclasses.replace(data, frames=13)))
    # shorter clips are the first frames of the stored ones: exactly their encoding (causal tokenizer)
    short = ShardStream(tmp_path / "ids", "ids", 0, 0, 2, frames=5).sample(0)
    assert torch.equal(short["ids"], row["ids"][:2]) and torch.equal(short["actions"], row["actions"][:5])
    from cosmos_lite.tokenizer import VideoTokenizer

    tok = VideoTokenizer.from_pretrained(tmp_path / "tok")
    clip = torch.rand(1, 3, 9, 32, 48) * 2 - 1
    with torch.no_grad():
        assert torch.equal(tok.encode(clip[:, :, :5])[0], tok.encode(clip)[0, :2])
    with pytest.raises(ValueError, match="cannot cut 7-frame clips"):
        ShardStream(tmp_path / "ids", "ids", 0, 0, 2, frames=7)

    # random_start: windows from any latent frame, ids and (pooled) actions exactly those of the window
    from cosmos_lite.generators.conditioning import pool_actions
    from cosmos_lite.data.shards import TokenShards

    shards = TokenShards(tmp_path / "ids")
    fixed = ShardStream(tmp_path / "ids", "ids", 0, 0, 2, frames=5)
    moving = ShardStream(tmp_path / "ids", "ids", 0, 0, 2, frames=5, random_start=True)
    starts = set()
    for n in range(12):
        a, b = fixed.sample(n), moving.sample(n)
        full = next(r for r in (shards[i] for i in range(len(shards))) if torch.equal(r["ids"][:2], a["ids"]))
        o = next(o for o in range(2) if torch.equal(full["ids"][o:o + 2], b["ids"]))
        starts.add(o)
        assert b["actions"].shape == (5, 2) and b["caption"] == full["caption"]
        pooled = pool_actions(full["actions"][None], 4)[0]  # [3, A]: the stored clip's latent frames
        assert torch.allclose(pool_actions(b["actions"][None], 4)[0], pooled[o:o + 2])
    assert starts == {0, 1}  # without random_start every window starts at 0 (the loop above found it)
    with pytest.raises(ValueError, match="random_start must be true or false"):
        ShardStream(tmp_path / "ids", "ids", 0, 0, 2, frames=5, random_start="yes")
    with pytest.raises(ValueError, match="random_start cuts windows"):
        TokenDataConfig(source="scenes", random_start=True)
    assert ARTask(dataclasses.replace(run, data=dataclasses.replace(data, frames=5, random_start=True))) \
        .train_stream(0, 2, 0, 1).random_start


def test_cli_train_autoregressive_then_generate_with_it(tmp_path, capsys):
    """`cosmos-lite train autoregressive` -> RUN/final -> `cosmos-lite generate --generator autoregressive`."""
    from cosmos_lite.cli import main
    from cosmos_lite.data.io import read_video
    from cosmos_lite.tokenizer import PRESETS as TOK_PRESETS
    from cosmos_lite.tokenizer import VideoTokenizer

    torch.manual_seed(0)
    VideoTokenizer(TOK_PRESETS["tiny-dv"]).save_pretrained(tmp_path / "tok")
    assert main(["train", "autoregressive", "--out", str(tmp_path / "run"), "--data", "scenes", "--preset", "test",
                 "--tokenizer", str(tmp_path / "tok"), "--frames", "9", "--size", "32x48", "--steps", "2",
                 "--batch-size", "2", "--val-clips", "1", "--workers", "0", "--warmup-steps", "1",
                 "--no-progress"]) == 0
    final = tmp_path / "run" / "final"
    out = tmp_path / "clip.mp4"
    argv = ["generate", "--model", str(final), "--generator", "autoregressive", "--prompt", "rain, a truck",
            "-o", str(out), "--frames", "9", "--no-guardrail", "--no-progress"]
    assert main([*argv, "--decode-steps", "2", "--temperature", "0.5", "--top-k", "4"]) == 0
    assert read_video(out)[0].shape == (9, 32, 48, 3)
    capsys.readouterr()
    assert main([*argv, "--steps", "3"]) == 2  # a diffusion knob given to the autoregressive generator
    assert "--steps does not apply to the autoregressive generator" in capsys.readouterr().err

    # --init-from starts a second run from the first one's weights; --random-start needs tokenized clips
    common = ["--data", "scenes", "--preset", "test", "--tokenizer", str(tmp_path / "tok"), "--frames", "9",
              "--size", "32x48", "--steps", "1", "--batch-size", "2", "--val-clips", "1", "--workers", "0",
              "--warmup-steps", "1", "--lr", "1e-9", "--no-progress"]
    assert main(["train", "autoregressive", "--out", str(tmp_path / "run2"), "--init-from", str(final), *common]) == 0
    from safetensors.torch import load_file

    first, second = (load_file(str(d / "final" / "autoregressive" / "model.safetensors"))
                     for d in (tmp_path / "run", tmp_path / "run2"))
    # a 1e-9 step from the first run's weights (a fresh start would differ by whole init scales)
    assert all(torch.allclose(first[k].float(), second[k].float(), atol=1e-6) for k in first)
    capsys.readouterr()
    assert main(["train", "autoregressive", "--out", str(tmp_path / "run3"), "--random-start", *common]) == 2
    assert "random_start cuts windows out of longer tokenized clips" in capsys.readouterr().err


def test_progress_total_counts_only_the_frames_after_the_context():
    """generate's progress bar total is the work left after the first frames (it ended short before)."""
    wm = tiny_ar_world()
    video = np.random.default_rng(0).integers(0, 255, (5, 32, 48, 3), dtype=np.uint8)
    st = ARSettings(decode_steps=2)
    req = wm.check({"prompt": "rain", "video": video, "num_frames": 9, "settings": st})
    cond = wm._condition_frames(req)
    gen = wm.generator("autoregressive")
    assert gen.work(wm._shape_only(req, cond), st) == (3 - 2) * 2  # 3 latent frames, 2 given, 2 steps each
    assert gen.work(wm._shape_only(req, None), st) == 3 * 2
