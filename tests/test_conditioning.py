"""Shared generator conditioning: text embeddings (MiniLM, cached) and per-latent-frame actions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cosmos_lite.generators.conditioning import ActionEmbedding, TextEncoder, pool_actions

SHORT = "night, heavy rain"
LONG = "a pedestrian steps out between parked cars at dusk while a truck cuts in on an icy road"


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    enc = TextEncoder()
    enc.load()
    return enc


@pytest.fixture
def forward_calls(encoder: TextEncoder):
    calls = [0]

    def hook(module: nn.Module, args: object, output: object) -> None:
        calls[0] += 1

    handle = encoder.model.register_forward_hook(hook)
    yield calls
    handle.remove()


# ----------------------------------------------------------------------------- text


def test_dim_without_forward() -> None:
    enc = TextEncoder()
    assert enc.dim == 384
    assert enc._model is None  # the config alone answered


def test_encode_shapes_and_mask(encoder: TextEncoder) -> None:
    emb, mask = encoder.encode([SHORT, LONG])
    assert emb.dtype == torch.float32 and mask.dtype == torch.bool
    assert emb.shape[:2] == mask.shape and emb.shape[0] == 2 and emb.shape[2] == encoder.dim == 384
    n_short, n_long = mask.sum(1).tolist()
    assert n_long == emb.shape[1] > n_short >= 3  # padded to the longest, [CLS] ... [SEP]
    assert mask[0, :n_short].all() and not mask[0, n_short:].any()
    assert (emb[0, n_short:] == 0).all()
    assert torch.isfinite(emb).all()
    assert not emb.is_inference()


def test_truncated_to_max_length() -> None:
    enc = TextEncoder(max_length=8)
    emb, mask = enc.encode([LONG])
    assert emb.shape[1] == 8 and mask.all()


def test_output_usable_in_training(encoder: TextEncoder) -> None:
    emb, _ = encoder.encode([SHORT])
    proj = nn.Linear(encoder.dim, 4)
    proj(emb).sum().backward()  # would fail if emb were an inference tensor
    assert proj.weight.grad is not None


def test_cache_skips_the_model(encoder: TextEncoder, forward_calls: list[int]) -> None:
    encoder.clear_cache()
    calls = forward_calls
    e1, m1 = encoder.encode([SHORT, LONG])
    assert calls[0] == 1
    e2, m2 = encoder.encode([LONG, SHORT])
    assert calls[0] == 1
    assert torch.equal(e2[0], e1[1]) and torch.equal(e2[1], e1[0]) and torch.equal(m2, m1.flip(0))
    e2.zero_()  # callers get their own tensors: mutating one does not poison the cache
    assert torch.equal(encoder.encode([SHORT])[0][0], e1[0, : m1[0].sum()])


def test_mixed_cached_batch_equals_fresh_batch(encoder: TextEncoder) -> None:
    prompts = ["a truck cuts in", "", LONG, "fog on a mountain road at dawn", "a truck cuts in"]
    fresh = TextEncoder()
    ref_emb, ref_mask = fresh.encode(prompts)
    encoder.clear_cache()
    encoder.encode([prompts[2]])  # one cached, the rest fresh
    emb, mask = encoder.encode(prompts)
    assert torch.equal(mask, ref_mask)
    torch.testing.assert_close(emb, ref_emb, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(emb[0], emb[4])  # a repeated prompt is encoded once and reused


def test_prompts_differ_and_empty_prompt(encoder: TextEncoder) -> None:
    emb, mask = encoder.encode(["clear day on the highway", "night, heavy snow", ""])
    n = mask.sum(1).tolist()
    assert n[2] == 2  # "" -> [CLS] [SEP]
    assert not torch.allclose(emb[0, 0], emb[1, 0], atol=1e-3)
    assert torch.isfinite(emb[2, :2]).all() and emb[2, :2].abs().sum() > 0


def test_lru_bound() -> None:
    enc = TextEncoder(cache_size=2)
    enc.encode(["a", "b", "c"])
    assert len(enc._cache) == 2 and list(enc._cache) == ["b", "c"]
    enc.encode(["b"])
    enc.encode(["d"])
    assert list(enc._cache) == ["b", "d"]


def test_bad_inputs(encoder: TextEncoder, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="list or tuple of str"):
        encoder.encode(SHORT)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1 is int"):
        encoder.encode([SHORT, 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="empty"):
        encoder.encode([])
    missing = tmp_path / "no_such_model"
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        TextEncoder(missing)
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        TextEncoder(str(missing))
    with pytest.raises(FileNotFoundError, match="config.json"):
        TextEncoder(tmp_path)


# ----------------------------------------------------------------------------- actions


def test_pool_actions_values() -> None:
    a = torch.arange(9 * 2, dtype=torch.float32).reshape(1, 9, 2)  # frame f = (2f, 2f+1)
    a = torch.cat([a, -a])  # B = 2
    out = pool_actions(a, 4)
    assert out.shape == (2, 3, 2)
    expected = torch.tensor([[0.0, 1.0],               # frame 0 alone
                             [5.0, 6.0],               # mean of frames 1..4 = 2.5 -> (5, 6)
                             [13.0, 14.0]])            # mean of frames 5..8 = 6.5 -> (13, 14)
    assert torch.equal(out[0], expected) and torch.equal(out[1], -expected)
    assert torch.equal(pool_actions(a[:, :1], 4), a[:, :1])  # one frame: an image
    assert torch.equal(pool_actions(a, 1), a)


def test_pool_actions_errors() -> None:
    with pytest.raises(ValueError, match="1 \\+ k\\*4"):
        pool_actions(torch.zeros(1, 8, 2), 4)
    with pytest.raises(ValueError, match=r"\[B, T, A\]"):
        pool_actions(torch.zeros(9, 2), 4)
    bad = torch.zeros(1, 9, 2)
    bad[0, 3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        pool_actions(bad, 4)
    bad[0, 3, 1] = float("inf")
    with pytest.raises(ValueError, match="inf"):
        pool_actions(bad, 4)


def test_action_embedding() -> None:
    torch.manual_seed(0)
    emb = ActionEmbedding(action_dim=2, dim=16)
    a = torch.randn(3, 3, 2)  # per latent frame: pooled once, by the caller
    out = emb(a)
    assert out.shape == (3, 3, 16)
    assert (out == 0).all()  # an untrained branch adds nothing

    out.sum().backward()  # at init only the zero layer gets a gradient; it must not be stuck
    assert emb.mlp[2].weight.grad.abs().sum() > 0

    nn.init.normal_(emb.mlp[2].weight)
    emb.zero_grad()
    a2 = a.clone().requires_grad_(True)
    out = emb(a2)
    assert not torch.allclose(out, emb(torch.randn(3, 3, 2)))
    assert not torch.allclose(out[:, 1], out[:, 2])  # each latent frame its own action
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in emb.parameters())
    assert a2.grad is not None and a2.grad.abs().sum() > 0

    emb.reset_parameters()
    assert (emb(a) == 0).all()
    with pytest.raises(ValueError, match=r"\[B, T, 2\]"):
        emb(torch.zeros(1, 9, 3))


# ----------------------------------------------------------------------------- text tables


def test_text_table_lookup_equals_the_encoder(encoder: TextEncoder, tmp_path: Path) -> None:
    from cosmos_lite.generators.conditioning import save_text_table, text_table_info

    path = save_text_table(encoder, [LONG, SHORT, "", SHORT], tmp_path / "t.safetensors", extra={"why": "test"})
    assert text_table_info(path)["prompts"] == [LONG, SHORT, ""] and text_table_info(path)["extra"] == {"why": "test"}
    table = TextEncoder(path)
    assert table.is_table and table.dim == 384 and table._table is None  # the header alone answered
    emb, mask = table.encode([SHORT, "", LONG])
    ref, ref_mask = encoder.encode([SHORT, "", LONG])
    assert torch.equal(mask, ref_mask)
    assert torch.equal(emb, ref.half().float())  # the encoder's output, stored in float16
    assert emb.dtype == torch.float32 and not emb.is_inference()
    with pytest.raises(ValueError, match="prompt 'a cat' is not in the text table"):
        table.encode([SHORT, "a cat"])
    with pytest.raises(ValueError, match="made with max_length 64, asked for 8"):
        TextEncoder(path, max_length=8).encode([SHORT])
    with pytest.raises(ValueError, match="is a text table: it has no"):
        _ = table.config
    with pytest.raises(FileNotFoundError, match="text table not found"):
        TextEncoder(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable text table"):
        TextEncoder(tmp_path / "junk.safetensors").encode([SHORT])
    with pytest.raises(ValueError, match="must be a .safetensors file"):
        save_text_table(encoder, [SHORT], tmp_path / "t.bin")
