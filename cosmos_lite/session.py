"""Closed-loop rollouts: a policy acts, the world model answers, step by step.

    session = wm.session("night, rain, a truck ahead", video=first_frames, actions=first_actions, seed=0)
    for _ in range(4):
        frames = session.step(policy(session.frames))     # actions [n, A] for the next n frames
    session.frames                                        # every frame so far (uint8 [T, H, W, 3])

A session holds the generator's rollout state between steps (diffusion: the latent
context and the noise generator; autoregressive: the KV cache and the ids so far; see ``SteppableGenerator`` in
``generators/protocol.py``), so a step costs one chunk, not a regeneration. Each
step's frames pass the guardrail's output checks, continuity with the frames before
included; a blocked step raises :class:`~cosmos_lite.world.GenerationBlocked` and
leaves the session where it was.

Stepping ``chunk - context`` latent frames at a time (:attr:`Session.step_frames`
video frames) with the same seed gives exactly the clip of one ``generate`` call
with the same actions: the chunks fall in the same places.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np


class Session:
    """A rollout of one request, advanced by :meth:`step`. Built by :meth:`WorldModel.session`."""

    def __init__(self, wm, prompt: str, video: Any = None, actions: Any = None, seed: int = 0,
                 generator: str | None = None, settings: Any = None):
        import torch

        from cosmos_lite.generators.protocol import SteppableGenerator
        from cosmos_lite.tokenizer import StreamDecoder
        from cosmos_lite.world import GenerationBlocked, GenerationRequest, _check_actions

        self.wm = wm
        spec = wm.config.spec(generator)
        gen = wm.generator(spec.name)
        if not isinstance(gen, SteppableGenerator):
            raise ValueError(f"invalid generator {spec.name!r}: it cannot roll out step by step")
        self.spec, self.gen, self.tok = spec, gen, wm.tokenizers[spec.name]
        self.t = self.tok.config.temporal_compression
        # the request as a whole-clip request of its first frames; policy checks are the guardrail's
        req = wm.check(GenerationRequest(prompt=prompt, video=video, num_frames=2, seed=seed, generator=spec.name,
                                         settings=settings))
        cond = wm._condition_frames(req)
        n_ctx = 0 if cond is None else len(cond)
        if actions is not None:
            if n_ctx == 0:
                raise ValueError("invalid actions: a text-to-world session has no first frames to act on; "
                                 "give the actions with the first step")
            actions = _check_actions(actions, spec, n_ctx)
        # the guardrail sees the prompt and the first frames of a clip that will grow (by at least a
        # latent group); actions are checked per step, by the same rules as generate's
        _, report, refusal = wm._admit(dataclasses.replace(req, num_frames=n_ctx + self.t))
        req = dataclasses.replace(req, actions=actions, num_frames=max(n_ctx, 1))
        if refusal is not None:
            raise GenerationBlocked("request", refusal)
        self.report, self.settings = report, req.settings
        self._actions = np.zeros((0, spec.action_dim), np.float32) if actions is None else actions
        self._steered = actions is not None
        with torch.no_grad():
            inp, seeds, _ = wm._inputs([(0, req, cond, report)], with_actions=False)
            # a text-to-world session starts from nothing: its first step makes latent frame 0 too
            inp = dataclasses.replace(inp, num_latent_frames=inp.context_frames)
            self.state = gen.start(inp, req.settings, seeds)
            self.latent_frames = inp.context_frames
            # decoded latent frame by latent frame, as generate decodes: a step decodes only its
            # own latents, and its frames are bit for bit those of the finished clip on any CPU
            self._stream = StreamDecoder(self.tok)
            self.frames = (np.zeros((0, *spec.size, 3), np.uint8) if cond is None
                           else self._decode(self._stream, inp.context, 0)[:n_ctx])
        self._last = cond

    @property
    def step_frames(self) -> int:
        """Video frames per step at which stepping equals one ``generate`` call (diffusion: one chunk;
        autoregressive: any whole latent group)."""
        return self.gen.step_latents * self.t

    def step(self, actions: Any = None, num_frames: int | None = None) -> np.ndarray:
        """Generate the next frames: one per row of ``actions`` ([n, A]; n a multiple of the
        tokenizer's temporal compression, +1 for the first step of a text-to-world session), or
        ``num_frames`` without actions. Returns those frames (uint8 [n, H, W, 3])."""
        import torch

        from cosmos_lite.generators.conditioning import pool_actions
        from cosmos_lite.world import GenerationBlocked, _check_actions, _is_int

        first = self.latent_frames == 0
        if actions is not None:
            if not self._steered and len(self.frames):
                raise ValueError("invalid actions: this session started without actions; start it with the "
                                 "actions of its first frames to steer it")
            a = np.asarray(actions) if not torch.is_tensor(actions) else actions
            n = len(a) if num_frames is None else num_frames
            a = _check_actions(a, self.spec, n)
            self._steered = True
        else:
            if self._steered:
                raise ValueError("invalid actions: this session is steered; give actions for every step")
            if not _is_int(num_frames) or num_frames < 1:
                raise ValueError(f"invalid num_frames: give actions or a positive frame count, got {num_frames!r}")
            n, a = num_frames, None
        if (n - (1 if first else 0)) % self.t or n < (1 if first else self.t):
            raise ValueError(f"invalid step: {n} frames; a step adds whole latent groups of {self.t} frames"
                             + (" (plus 1 for the first frame of a text-to-world session)" if first else ""))
        new_lat = (n - 1) // self.t + 1 if first else n // self.t
        target = self.latent_frames + new_lat
        pooled = None
        if a is not None:
            all_a = np.concatenate([self._actions, a])
            pooled = pool_actions(torch.from_numpy(all_a)[None], self.t)  # [1, target, A]
        # a blocked step restores the state (its noise generator moves on: a retry draws new noise)
        snapshot, stream = copy.copy(self.state), self._stream.fork()
        with torch.no_grad():
            latents = self.gen.extend(self.state, target, pooled)
        frames = self._decode(stream, latents, self.latent_frames)[:n]  # the condition frames are whole groups
        report: dict = {}
        safe, refusal = self.wm._check_output(frames, self._last, report)
        if refusal is not None:
            self.state = snapshot  # leave the session where it was
            raise GenerationBlocked("generated clip", refusal)
        self.latent_frames, self._stream = target, stream
        if a is not None:
            self._actions = all_a
        self.frames = np.concatenate([self.frames, safe])
        self._last = self.frames[-(1 + self.t):]
        return safe

    def _decode(self, stream, latents, start: int) -> np.ndarray:
        """The frames of latent frames ``start:`` (uint8 [n, H, W, 3]), pushed one at a time through
        ``stream``, which holds the decoder's causal caches of the frames before."""
        import torch

        from cosmos_lite.data.codec import video_to_frames

        t_axis = 2 if latents.ndim == 5 else 1  # latents [B, C, T, h, w] or ids [B, T, h, w]
        with torch.no_grad():
            parts = [stream.push(latents.narrow(t_axis, i, 1)) for i in range(start, latents.shape[t_axis])]
            return video_to_frames(torch.cat(parts, dim=2))  # [B, 3, n, H, W] -> [n, H, W, 3]
