"""The diffusion world model's network, EDM preconditioning and samplers (tiny shapes, CPU)."""

from __future__ import annotations

import math

import pytest
import torch

from cosmos_lite.generators.diffusion import (
    PRESETS,
    Conditioning,
    DiT,
    DiTConfig,
    SamplerSettings,
    denoise,
    edm_loss_weight,
    edm_scalings,
    guided_denoise,
    rollout,
    sample,
    video2world_loss,
)
from cosmos_lite.generators.diffusion.model import apply_rope, rope_frequencies

C, H, W = 16, 4, 6

def _loss_kw() -> dict:
    from cosmos_lite.train.config import DiffusionLossConfig

    lc = DiffusionLossConfig()  # the one source of the training defaults
    return dict(p_mean=lc.p_mean, p_std=lc.p_std, sigma_cond_range=(lc.sigma_cond_min, lc.sigma_cond_max))


LOSS = _loss_kw()


pytestmark = pytest.mark.usefixtures("one_thread")


def randomized(model: DiT, seed: int = 0) -> DiT:
    """Give the zero-initialised output layers weights, so every input changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


def tiny(seed: int = 0) -> DiT:
    torch.manual_seed(seed)
    return randomized(DiT(PRESETS["test"]), seed)


def text_cond(b: int = 1, length: int = 5, seed: int = 1, actions_t: int | None = None) -> Conditioning:
    g = torch.Generator().manual_seed(seed)
    acts = None if actions_t is None else torch.randn(b, actions_t, 2, generator=g) * torch.tensor([2.0, 0.002])
    return Conditioning(torch.randn(b, length, 384, generator=g), torch.ones(b, length, dtype=torch.bool), acts)


# ----------------------------------------------------------------------------- EDM


def test_edm_scalings_identities():
    sigma = torch.logspace(-3, 2, 50, dtype=torch.float64)
    sd = 0.5
    c_skip, c_out, c_in, c_noise = edm_scalings(sigma, sd)
    # c_in normalises the noisy input x0 + sigma n (x0 with std sigma_data) to unit variance
    assert torch.allclose(c_in**2 * (sigma**2 + sd**2), torch.ones_like(sigma))
    # the effective target (x0 - c_skip x) / c_out has unit variance: c_skip^2 s^2 + (1 - c_skip)^2 sd^2 = c_out^2
    assert torch.allclose((1 - c_skip) ** 2 * sd**2 + c_skip**2 * sigma**2, c_out**2)
    assert torch.allclose(edm_loss_weight(sigma, sd) * c_out**2, torch.ones_like(sigma))
    assert torch.allclose(c_noise, sigma.log() / 4)
    assert c_skip[0] > 0.9999 and c_out[0] < 0.0021  # sigma -> 0: D(x) -> x
    assert c_skip[-1] < 1e-4  # sigma -> inf: D(x) -> c_out F


def test_effective_target_has_unit_variance():
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(200_000, generator=g) * 0.5
    for s in (0.05, 0.5, 5.0):
        sigma = torch.tensor(s)
        x = x0 + sigma * torch.randn(x0.shape, generator=g)
        c_skip, c_out, _, _ = edm_scalings(sigma)
        target = (x0 - c_skip * x) / c_out
        assert abs(float(target.std()) - 1.0) < 0.01


def test_denoise_with_the_ideal_network_recovers_the_clean_latent():
    x0 = torch.randn(1, C, 3, H, W)
    sigma = torch.tensor([[0.01, 1.0, 10.0]])
    x = x0 + sigma[:, None, :, None, None] * torch.randn_like(x0)
    s = sigma[:, None, :, None, None]
    c_skip, c_out, c_in, _ = edm_scalings(s)

    class Oracle(torch.nn.Module):
        def forward(self, xin, c_noise, cond_mask, text, text_mask, actions, action_mask):
            assert torch.allclose(xin, c_in * x)  # the network sees c_in * x
            assert torch.allclose(c_noise, sigma.log() / 4)
            return (x0 - c_skip * x) / c_out

    d = denoise(Oracle(), x, sigma, torch.zeros(1, 3, dtype=torch.bool), text_cond())
    assert torch.allclose(d, x0, atol=1e-5)


def test_loss_ignores_condition_frames():
    model = tiny()
    x0 = torch.randn(2, C, 3, H, W)
    cond = text_cond(2)
    torch.manual_seed(0)
    base, _ = video2world_loss(model, x0, torch.tensor([1, 2]), cond, **LOSS)
    changed = x0.clone()
    changed[0, :, 0] += 5.0  # a condition frame of sample 0 ...
    changed[1, :, 1] += 5.0  # ... and of sample 1
    torch.manual_seed(0)
    other, _ = video2world_loss(model, changed, torch.tensor([1, 2]), cond, **LOSS)
    # the condition frames feed the network (so the loss moves) but are never a target:
    # with a network that ignores its input, the loss would be identical
    assert torch.isfinite(base) and torch.isfinite(other)

    class Zero(torch.nn.Module):
        def forward(self, x, *a):
            return torch.zeros_like(x)

    torch.manual_seed(0)
    z1, _ = video2world_loss(Zero(), x0, torch.tensor([1, 2]), cond, **LOSS)
    torch.manual_seed(0)
    z2, _ = video2world_loss(Zero(), changed, torch.tensor([1, 2]), cond, **LOSS)
    assert torch.allclose(z1, z2)


# ----------------------------------------------------------------------------- network


def test_forward_shape_and_zero_init_output():
    model = DiT(PRESETS["test"]).eval()
    x = torch.randn(2, C, 3, H, W)
    out = model(x, torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.bool), text_cond(2).text)
    assert out.shape == x.shape
    assert out.abs().max() == 0  # adaLN-Zero style: an untrained DiT predicts 0


def test_every_input_changes_the_output():
    model = tiny()
    x = torch.randn(1, C, 3, H, W)
    c_noise = torch.zeros(1, 3)
    mask = torch.zeros(1, 3, dtype=torch.bool)
    cond = text_cond(1, actions_t=3)
    base = model(x, c_noise, mask, cond.text, cond.text_mask, cond.actions)
    other_text = text_cond(1, seed=7).text
    variants = {
        "noise level": model(x, c_noise + 0.5, mask, cond.text, cond.text_mask, cond.actions),
        "cond mask": model(x, c_noise, torch.ones_like(mask), cond.text, cond.text_mask, cond.actions),
        "text": model(x, c_noise, mask, other_text, cond.text_mask, cond.actions),
        "actions": model(x, c_noise, mask, cond.text, cond.text_mask, cond.actions * -1),
        "no actions": model(x, c_noise, mask, cond.text, cond.text_mask, None),
        "dropped actions": model(x, c_noise, mask, cond.text, cond.text_mask, cond.actions, torch.tensor([False])),
    }
    for name, out in variants.items():
        assert (out - base).abs().max() > 1e-4, name
    # dropping actions per sample equals giving none
    assert torch.allclose(variants["no actions"], variants["dropped actions"], atol=1e-6)


def test_masked_text_tokens_are_ignored():
    model = tiny()
    x = torch.randn(1, C, 3, H, W)
    cond = text_cond(1, length=4)
    padded = torch.cat([cond.text, torch.randn(1, 3, 384) * 10], dim=1)
    mask = torch.tensor([[True] * 4 + [False] * 3])
    a = model(x, torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), cond.text, cond.text_mask)
    b = model(x, torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), padded, mask)
    assert torch.allclose(a, b, atol=1e-5)


def test_rope_scores_depend_only_on_relative_position():
    cfg = PRESETS["test"]
    rot = rope_frequencies(cfg, 5, 4, 4, torch.device("cpu"))  # N = 80 positions, t-major
    q = torch.randn(cfg.head_dim).expand(1, 1, 80, -1)
    k = torch.randn(cfg.head_dim).expand(1, 1, 80, -1)
    rq, rk = apply_rope(q, rot)[0, 0], apply_rope(k, rot)[0, 0]

    def idx(t, h, w):
        return (t * 4 + h) * 4 + w

    s1 = rq[idx(1, 1, 2)] @ rk[idx(0, 0, 1)]
    s2 = rq[idx(4, 3, 3)] @ rk[idx(3, 2, 2)]  # same (1, 1, 1) offset elsewhere in the grid
    s3 = rq[idx(4, 3, 3)] @ rk[idx(3, 2, 1)]
    assert torch.allclose(s1, s2, atol=1e-4)
    assert not torch.allclose(s1, s3, atol=1e-4)
    assert torch.allclose(apply_rope(q, rot).norm(dim=-1), q.norm(dim=-1), atol=1e-5)  # a rotation


def test_bad_inputs_raise_clear_errors():
    model = tiny()
    text = text_cond(1).text
    with pytest.raises(ValueError, match="latent channels"):
        model(torch.randn(1, 8, 3, H, W), torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), text)
    with pytest.raises(ValueError, match="not divisible by the patch size"):
        model(torch.randn(1, C, 3, 5, W), torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), text)
    with pytest.raises(ValueError, match="c_noise and cond_mask"):
        model(torch.randn(1, C, 3, H, W), torch.zeros(1), torch.zeros(1, 3, dtype=torch.bool), text)
    with pytest.raises(ValueError, match="actions must be"):
        model(torch.randn(1, C, 3, H, W), torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), text,
              None, torch.zeros(1, 3, 3))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        DiTConfig(dim=64, num_heads=3)
    with pytest.raises(ValueError, match="action_scale"):
        DiTConfig(action_dim=3)
    with pytest.raises(TypeError, match="DiTConfig"):
        DiT({"dim": 64})


def test_presets_build_with_expected_sizes():
    with torch.device("meta"):
        counts = {name: sum(p.numel() for p in DiT(cfg).parameters()) for name, cfg in PRESETS.items()}
    assert counts["test"] < 1e6 < counts["small"] < counts["base"] < 2e7
    assert 6.5e9 < counts["cosmos-7b"] < 8e9
    assert 1.3e10 < counts["cosmos-14b"] < 1.6e10


def test_save_load_identity(tmp_path):
    model = tiny(3)
    model.save_pretrained(tmp_path / "m")
    loaded = DiT.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config
    x = torch.randn(1, C, 3, H, W)
    cond = text_cond(1, actions_t=3)
    args = (x, torch.full((1, 3), -0.3), torch.tensor([[True, False, False]]), cond.text, cond.text_mask, cond.actions)
    assert torch.equal(model(*args), loaded(*args))
    # strict: a missing tensor is an error, not a silent fresh init
    from safetensors.torch import load_file, save_file

    state = load_file(str(tmp_path / "m" / "model.safetensors"))
    state.pop("final.weight")
    save_file(state, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ValueError, match="final.weight"):
        DiT.from_pretrained(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="no such directory"):
        DiT.from_pretrained(tmp_path / "nowhere")
    # half-precision files (the bundled weights) load back into a float32 model
    model.save_pretrained(tmp_path / "h", dtype=torch.float16)
    half = DiT.from_pretrained(tmp_path / "h")
    assert all(p.dtype == torch.float32 for p in half.parameters())
    assert torch.allclose(half(*args), model(*args), atol=1e-2)


# ----------------------------------------------------------------------------- sampling


def test_guidance_one_is_the_conditional_prediction_and_w_extrapolates():
    model = tiny()
    x = torch.randn(1, C, 3, H, W)
    sigma = torch.tensor([[0.01, 2.0, 2.0]])
    mask = torch.tensor([[True, False, False]])
    cond, uncond = text_cond(1, length=6, actions_t=3), text_cond(1, length=2, seed=5, actions_t=3)
    uncond = Conditioning(uncond.text, uncond.text_mask, cond.actions, torch.tensor([False]))
    d_c = denoise(model, x, sigma, mask, cond)
    d_u = denoise(model, x, sigma, mask, uncond)
    assert torch.allclose(guided_denoise(model, x, sigma, mask, cond, uncond, 1.0), d_c)
    # batched branches (text padded to a common length) equal the separate passes
    assert torch.allclose(guided_denoise(model, x, sigma, mask, cond, uncond, 3.0), d_u + 3.0 * (d_c - d_u), atol=1e-4)


@pytest.mark.parametrize("solver", ["euler", "dpm"])
def test_seeded_sampling_is_deterministic_and_keeps_condition_frames(solver):
    model = tiny()
    first = torch.randn(1, C, 1, H, W)
    cond, uncond = text_cond(1, actions_t=3), text_cond(1, seed=9)
    uncond = Conditioning(uncond.text, uncond.text_mask, cond.actions, torch.tensor([False]))
    settings = SamplerSettings(steps=4, guidance=2.0, solver=solver)

    def run(seed):
        return sample(model, (1, C, 3, H, W), cond, uncond, settings, first, torch.Generator().manual_seed(seed))

    a, b, c = run(0), run(0), run(1)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert torch.equal(a[:, :, :1], first)  # condition frames pass through unchanged
    assert torch.isfinite(a).all()


def test_solvers_and_steps_change_the_result():
    model = tiny()
    cond = text_cond(1)

    def run(**kw):
        return sample(model, (1, C, 3, H, W), cond, None, SamplerSettings(**kw), None, torch.Generator().manual_seed(0))

    base = run(steps=4, solver="euler")
    assert not torch.allclose(base, run(steps=4, solver="dpm"))
    assert not torch.allclose(base, run(steps=6, solver="euler"))


@pytest.mark.parametrize("n", [3, 5, 8, 13])
def test_long_rollout_has_the_requested_length(n):
    model = tiny()
    first = torch.randn(1, C, 1, H, W)
    g = torch.Generator().manual_seed(0)
    cond = text_cond(1, actions_t=n)
    calls = []
    out = rollout(model, first, n, chunk=4, context=2, cond=cond, uncond=None, settings=SamplerSettings(steps=2),
                  latent_shape=(C, H, W), generator=g, callback=calls.append)
    assert out.shape == (1, C, n, H, W)
    assert torch.equal(out[:, :, :1], first)
    chunks = 1 + max(0, math.ceil((n - 4) / 2))
    assert len(calls) == 2 * chunks


def test_rollout_chunks_see_rising_condition_noise_and_their_action_window(monkeypatch):
    from cosmos_lite.generators.diffusion import sampling

    seen = []

    def fake_sample(model, shape, cond, uncond, settings, cond_latents, generator, sigma_cond, callback):
        seen.append((shape[2], None if cond_latents is None else cond_latents.shape[2], sigma_cond,
                     cond.actions[0, :, 0].tolist()))
        return torch.zeros(shape)

    monkeypatch.setattr(sampling, "sample", fake_sample)
    acts = torch.arange(7.0)[None, :, None].expand(1, 7, 2)
    cond = Conditioning(torch.zeros(1, 2, 384), None, acts)
    sampling.rollout(None, None, 7, 4, 1, cond, None, SamplerSettings(sigma_cond=0.01, sigma_cond_growth=0.1),
                     (C, H, W))
    assert [s[:2] for s in seen] == [(4, None), (4, 1)]
    assert [round(s[2], 4) for s in seen] == [0.01, 0.11]
    assert seen[0][3] == [0, 1, 2, 3] and seen[1][3] == [3, 4, 5, 6]


def test_sampler_settings_are_validated():
    with pytest.raises(ValueError, match="steps"):
        SamplerSettings(steps=0)
    with pytest.raises(ValueError, match="solver"):
        SamplerSettings(solver="heun")
    with pytest.raises(ValueError, match="guidance"):
        SamplerSettings(guidance=-1)


def test_tiny_dit_overfits_one_latent_clip_and_samples_it_back():
    """A tiny DiT trained on one clip (first latent frame given) samples that clip's future back."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    clip = torch.randn(1, C, 3, H, W, generator=g) * 0.5
    model = DiT(DiTConfig(dim=64, depth=2, num_heads=2, adaln_lora_dim=16))
    cond = text_cond(1)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = clip.expand(16, -1, -1, -1, -1)
    bcond = Conditioning(cond.text.expand(16, -1, -1), cond.text_mask.expand(16, -1))
    first_loss = None
    for step in range(300):
        loss, _ = video2world_loss(model, batch, torch.ones(16, dtype=torch.long), bcond, p_mean=-0.4, p_std=1.4,
                                   sigma_cond_range=LOSS["sigma_cond_range"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        first_loss = first_loss if first_loss is not None else loss.item()
    model.eval()
    out = sample(model, (1, C, 3, H, W), cond, None, SamplerSettings(steps=16, solver="euler"), clip[:, :, :1],
                 torch.Generator().manual_seed(1))
    err = float(((out - clip)[:, :, 1:] ** 2).mean())
    assert float(loss) < 0.2 * first_loss
    assert err < 0.1 * float(clip[:, :, 1:].var()), err


@pytest.mark.parametrize("solver", ["euler", "dpm"])
def test_private_scale_input_flag_still_silences_diffusers(solver, monkeypatch):
    """``mark_input_scaled`` sets diffusers' private ``is_scale_input_called``; if a diffusers
    release renames it, the scheduler warns on every step again and this test fails."""
    import importlib

    import torch

    from cosmos_lite.generators.diffusion.sampling import make_scheduler, mark_input_scaled

    def warnings_of(mark: bool) -> list[str]:
        sched = make_scheduler(SamplerSettings(steps=2, solver=solver))
        seen: list[str] = []
        logger = getattr(importlib.import_module(type(sched).__module__), "logger", None)
        if logger is not None:  # the DPM solver's module has no logger: it never warns about this
            monkeypatch.setattr(logger, "warning", lambda msg, *a, **k: seen.append(str(msg)))
        sched.set_timesteps(2)
        if mark:
            mark_input_scaled(sched)
        sched.step(torch.zeros(1, 2), sched.timesteps[0], torch.zeros(1, 2))
        return seen

    if solver == "euler":  # the check can see the warning (the DPM solver does not warn at all)
        assert any("scale_model_input" in w for w in warnings_of(mark=False))
    assert not any("scale_model_input" in w for w in warnings_of(mark=True))
