"""The world model: tokenizer + diffusion DiT + text encoder, gated by the guardrail.

    wm = WorldModel.from_pretrained()          # bundled default, offline
    clip = wm.generate("night, heavy rain, a pedestrian steps out", num_frames=33, seed=0)
    clip.save("clip.mp4")

A model directory holds the DiT (``config.json`` + ``model.safetensors``) and
``world.json`` (:class:`WorldConfig`): which tokenizer (a directory inside the
model directory, or a bundled tokenizer name), and the size, frame rate and
clip length the DiT was trained at. Every clip passes the guardrail before and
after generation; without one, ``guardrail=None`` must be said explicitly and
is logged.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("cosmos_lite.world")

_DEFAULT = object()  # "build the default guardrail"


def bundled_world_model_dir() -> Path:
    """Where the bundled default ships (inside ``cosmos_lite.generators.diffusion``)."""
    from cosmos_lite.generators import diffusion

    return Path(diffusion.__file__).resolve().parent / "weights" / "default"


@dataclass(frozen=True)
class WorldConfig:
    """How a DiT is used: its tokenizer, and the clip geometry it was trained on."""

    tokenizer: str  # directory relative to the model directory, a path, or a bundled name ("default-cv")
    size: tuple[int, int]  # (H, W) of generated video
    fps: float
    frames: int  # training clip length (1 + k*t video frames): the rollout chunk
    context_latents: int = 2  # latent frames carried from one rollout chunk into the next
    latent_scale: float = 0.5  # the DiT works on tokenizer latent * latent_scale
    text_encoder: str | None = None  # transformers encoder name or path; None = bundled all-MiniLM-L6-v2

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(int(v) for v in self.size))
        if (len(self.size) != 2 or min(self.size) < 1 or self.fps <= 0 or self.frames < 2 or self.context_latents < 1
                or self.latent_scale <= 0):
            raise ValueError(f"invalid WorldConfig: {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorldConfig":
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown world.json fields: {', '.join(unknown)}")
        return cls(**d)


class GenerationBlocked(RuntimeError):
    """The guardrail refused the request or the generated clip; ``.report`` says why."""

    def __init__(self, stage: str, report: Any):
        self.stage, self.report = stage, report
        super().__init__(f"guardrail blocked the {stage}: {'; '.join(report.reasons) or 'no reason given'}")


@dataclass
class GeneratedClip:
    frames: np.ndarray  # uint8 [T, H, W, 3]
    fps: float
    report: dict[str, Any] = field(default_factory=dict)  # guardrail verdicts, timings, seed, settings

    def save(self, path: str | Path) -> Path:
        """Write the clip (mp4 / mkv / avi, atomically)."""
        from cosmos_lite.data.io import write_video

        write_video(path, self.frames, self.fps)
        return Path(path)


class WorldModel:
    """Conditioned rollouts: text, optional first frames, optional per-frame ego actions."""

    def __init__(self, dit, tokenizer, config: WorldConfig, guardrail: Any, text_encoder=None):
        from cosmos_lite.generators.conditioning import TextEncoder

        if tokenizer.config.mode != "continuous":
            raise ValueError("the diffusion world model needs a continuous tokenizer")
        if dit.config.latent_channels != tokenizer.config.latent_dim:
            raise ValueError(f"DiT takes {dit.config.latent_channels} latent channels, the tokenizer gives "
                             f"{tokenizer.config.latent_dim}")
        s = tokenizer.config.spatial_compression
        if config.size[0] % s or config.size[1] % s:
            raise ValueError(f"world.json size {config.size} is not a multiple of the tokenizer's spatial "
                             f"compression {s}")
        if guardrail is None:
            log.warning("WorldModel: guardrail disabled by the caller; generated clips are not checked")
        self.dit, self.tokenizer, self.config, self.guardrail = dit.eval(), tokenizer.eval(), config, guardrail
        self.text_encoder = text_encoder or TextEncoder(config.text_encoder)
        if self.text_encoder.dim != dit.config.text_dim:
            raise ValueError(f"the text encoder gives {self.text_encoder.dim}-wide embeddings, the DiT takes "
                             f"{dit.config.text_dim}")

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, guardrail: Any = _DEFAULT) -> "WorldModel":
        """Load a model directory (None = the bundled default). ``guardrail``: a
        ``GuardrailRunner`` (default: one with the default policy) or None to turn it off."""
        from cosmos_lite.generators.diffusion import DiT
        from cosmos_lite.tokenizer import VideoTokenizer

        d = bundled_world_model_dir() if path is None else Path(path)
        if not (d / "world.json").is_file():
            hint = " (this install has no bundled world model)" if path is None else ""
            raise FileNotFoundError(f"{d / 'world.json'} not found{hint}: pass a directory written by "
                                    "`cosmos-lite train diffusion` (RUN/final)")
        cfg = WorldConfig.from_dict(json.loads((d / "world.json").read_text()))
        tok_dir = d / cfg.tokenizer
        tokenizer = VideoTokenizer.from_pretrained(tok_dir if tok_dir.is_dir() else cfg.tokenizer)
        if guardrail is _DEFAULT:
            from cosmos_lite.guardrail import GuardrailRunner

            guardrail = GuardrailRunner()
        return cls(DiT.from_pretrained(d), tokenizer, cfg, guardrail)

    # ------------------------------------------------------------------ inputs

    def _condition_frames(self, video: Any) -> np.ndarray | None:
        """uint8 [n, H, W, 3] at the model's size, n = 1 + 4j <= what the DiT was trained to take."""
        from cosmos_lite.data.io import probe_video, read_video, resize_frames

        if video is None:
            return None
        t = self.tokenizer.config.temporal_compression
        most = 1 + (self.config.context_latents - 1) * t
        if isinstance(video, (str, Path)):
            frames, _ = read_video(video, num_frames=min(most, probe_video(video).num_frames), size=self.config.size)
        else:
            frames = np.asarray(video)
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
                raise ValueError(f"video must be uint8 [T, H, W, 3] with T >= 1, got {frames.dtype} {frames.shape}")
            if frames.shape[1:3] != self.config.size:
                frames = resize_frames(frames, self.config.size)
        k = min(self.config.context_latents, 1 + (len(frames) - 1) // t)  # condition latent frames
        return frames[: 1 + (k - 1) * t]

    def _actions(self, actions: Any, num_frames: int, padded: int):
        import torch

        if actions is None:
            return None
        a = torch.as_tensor(np.asarray(actions, dtype=np.float32))
        if a.ndim != 2 or a.shape[1] != self.dit.config.action_dim:
            raise ValueError(f"actions must be [T, {self.dit.config.action_dim}] (accel m/s^2, curvature 1/m) per "
                             f"frame, got shape {tuple(a.shape)}")
        if len(a) != num_frames:
            raise ValueError(f"actions give {len(a)} frames, the clip has {num_frames}")
        if not torch.isfinite(a).all():
            raise ValueError("actions hold NaN or inf")
        return torch.cat([a, a[-1:].expand(padded - num_frames, -1)])[None]  # [1, padded, A]

    # ------------------------------------------------------------------ generation

    def generate(self, prompt: str, video: Any = None, actions: Any = None, num_frames: int = 33, seed: int = 0,
                 steps: int = 24, guidance: float = 3.0, negative_prompt: str = "", solver: str = "dpm",
                 progress: bool = True) -> GeneratedClip:
        """Generate ``num_frames`` frames. ``video`` (uint8 [T, H, W, 3] or a file) gives the first
        frames (up to ``1 + (context_latents - 1) * t`` of them are used and start the clip);
        ``actions`` ([num_frames, A] per frame) steer the ego car. Raises :class:`GenerationBlocked`
        when the guardrail refuses the request or the result."""
        import torch
        from tqdm.auto import tqdm

        from cosmos_lite.data.codec import frames_to_video
        from cosmos_lite.generators.conditioning import pool_actions
        from cosmos_lite.generators.diffusion import Conditioning, SamplerSettings, rollout

        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
        settings = SamplerSettings(steps=steps, guidance=guidance, solver=solver)  # validates
        if actions is not None and not isinstance(actions, np.ndarray) and not torch.is_tensor(actions):
            # lists (JSON, the CLI) become one array here, so the guardrail and the model see the same thing
            try:
                actions = np.asarray(actions, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError("actions must be a [T, A] array of numbers (accel m/s^2, curvature 1/m per "
                                 "frame)") from None
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        cond_frames = self._condition_frames(video)
        report: dict[str, Any] = {"seed": seed, "steps": steps, "guidance": guidance, "solver": solver,
                                  "prompt": prompt, "negative_prompt": negative_prompt}
        if self.guardrail is not None:
            pre = self.guardrail.check_request(prompt=prompt, video=cond_frames, actions=actions,
                                               expected_frames=num_frames if actions is not None else None)
            report["guardrail_request"] = pre.to_dict()
            if not pre.allowed:
                raise GenerationBlocked("request", pre)
        else:
            report["guardrail"] = "disabled"

        tc = self.tokenizer.config
        t, s = tc.temporal_compression, tc.spatial_compression
        n_lat = 1 + -(-(max(num_frames, 1) - 1) // t)  # ceil: pad the clip to 1 + k*t frames
        padded = 1 + (n_lat - 1) * t
        act = self._actions(actions, num_frames, padded)
        H, W = self.config.size
        with torch.no_grad():
            cond_lat = None
            if cond_frames is not None:
                cond_lat = self.tokenizer.encode(frames_to_video(cond_frames)).float() * self.config.latent_scale
            text, mask = self.text_encoder.encode([prompt])
            neg, neg_mask = self.text_encoder.encode([negative_prompt])
            pooled = None if act is None else pool_actions(act, t)  # [1, n_lat, A]
            cond = Conditioning(text, mask, pooled, None)
            uncond = Conditioning(neg, neg_mask, pooled, None if pooled is None else torch.zeros(1, dtype=torch.bool))
            timings["prepare_s"] = time.perf_counter() - t0

            chunk = 1 + (self.config.frames - 1) // t
            k0 = 0 if cond_lat is None else cond_lat.shape[2]
            n_chunks = 1 + max(0, -(-(n_lat - chunk) // (chunk - self.config.context_latents)))
            bar = tqdm(total=n_chunks * steps, desc="generate", disable=not progress, leave=False)
            gen = torch.Generator().manual_seed(int(seed))
            t1 = time.perf_counter()
            lat = rollout(self.dit, cond_lat, n_lat, chunk, self.config.context_latents, cond, uncond, settings,
                          (tc.latent_dim, H // s, W // s), gen, callback=lambda i: bar.update(1))
            bar.close()
            timings["sample_s"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            video_out = self.tokenizer.decode(lat / self.config.latent_scale, num_frames=padded)  # [1, 3, T, H, W]
            timings["decode_s"] = time.perf_counter() - t2
        frames = ((video_out[0].permute(1, 2, 3, 0).float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
        frames = frames[:num_frames]
        report.update(condition_frames=0 if cond_frames is None else len(cond_frames), condition_latents=k0)

        if self.guardrail is not None:
            safe, post = self.guardrail.check_output(frames, condition_frames=cond_frames)
            report["guardrail_output"] = post.to_dict()
            if safe is None:
                raise GenerationBlocked("generated clip", post)
            frames = safe
        timings["total_s"] = time.perf_counter() - t0
        report["timings"] = timings
        return GeneratedClip(frames=frames, fps=self.config.fps, report=report)

