"""Scene-reader training: labelled scene clips rendered on the fly, degradations, losses, the engine task.

Data (shared with the inverse dynamics task, :mod:`.idm_task`): each training scene is
``Scenario.sample(seed, "train", duration, behaviour="mix", salient=True)`` with
probability ``salient_fraction``, else a plain scene (``behaviour=plain_behaviour``,
not salient: events far away, hidden, or absent). It is rendered at ``render_size``
(128x192) for ``render_frames`` frames at ``fps`` and resized to the model's working
size, the size the reader judges; ``direct_fraction`` of the scenes are rendered
straight at the working size instead, as the world models' training clips are (the
two differ by ~26 dB PSNR: aliasing). A sample is a random ``frames``-long window of
a scene, flipped left-right with p = 0.5 (``hflip``). Rendering is the cost on a CPU,
so every scene serves ``reuse`` samples: the stream walks windows of ``pool_scenes *
reuse`` samples, each showing ``pool_scenes`` scenes ``reuse`` times in a shuffled
order. Sample n is a pure function of (seed, n, rank), so a resumed run sees exactly
the samples an unbroken one would (the render cache only saves time).

Labels per window (what a viewer of the working-size clip can see, :class:`LabelConfig`):
an agent kind is visible in a frame when one of its agents is at least
``kinds_min_height`` (8) px tall at the working size (a 4 px blob is a vehicle, but
which kind nobody can tell: with 4 px the kind heads stayed at their prior); the
event is the scene's scripted one when its agent is at least ``event_min_height`` (4)
px tall in a frame of the window where the event is active, else "none", and the
per-frame event-active target is the event's window then (all False otherwise). The
location grid marks the cells the boxes of those agents cover.

Loss = CE(weather) + CE(lighting) + 2 CE(event) (label smoothing) + BCE(kinds per frame)
+ BCE(event active per frame) + 4 BCE(agent location per grid cell, positives weighted 10x:
the boxes of the visible agents of each kind, and of the event agent while the event is
under way), on clips degraded per clip (the same on every frame:
down/up resampling, blur, contrast / brightness / colour, noise, slight flicker).

Train (CPU, one thread; resume after a kill with ``--resume``): stage 1 from scratch,
stage 2 a short fine-tune with blank clips (``blank_fraction``), then the bundle::

    OMP_NUM_THREADS=1 cosmos-lite train reader --out runs/instruments/reader     # 2700 steps, ~25 min
    OMP_NUM_THREADS=1 cosmos-lite train reader --out runs/instruments/reader-ft \\
        --init-from runs/instruments/reader/final
    OMP_NUM_THREADS=1 python -c "from cosmos_lite.train.reader_task import bundle; \\
        bundle('runs/instruments/reader-ft')"   # fp16 weights + metrics.json into the package
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import IterableDataset

from cosmos_lite.data.codec import frames_to_images
from cosmos_lite.data.streams import _PositionStream, _sample_rng
from cosmos_lite.pretrained import read_config_json
from cosmos_lite.eval.reader import ReaderLogits, SceneReader, SceneReaderConfig, prompted_event_found
from cosmos_lite.scenes import AGENT_KINDS, BEHAVIOURS, EVENTS, Scenario, render
from cosmos_lite.scenes.spec import EVENT_ACTORS, VEHICLE_KINDS

from .config import TrainConfig, _reject_unknown, _sub
from .engine import StepOutput, fit

SCENE_SEEDS = 1_000_000_000  # Scenario.sample seeds per split
FOCUS_STRIDE = 104_729  # seed step of the redraws for focus_events (a prime: no early cycle)
BUNDLE_DIR = Path(__file__).resolve().parents[1] / "eval" / "weights"

# --------------------------------------------------------------------------- run config


@dataclass(frozen=True)
class InstrumentDataConfig:
    """Training and validation scenes of an instrument (scene reader or IDM)."""

    render_size: tuple[int, int] = (128, 192)  # (H, W) scenes are rendered at, then resized to the working size
    render_frames: int = 33  # frames rendered per scene (validation clips are whole scenes)
    frames: int = 17  # frames per training sample: a random window of the scene
    fps: float = 10.0
    salient_fraction: float = 0.5  # share of scenes with behaviour="mix", salient=True; the rest are plain
    plain_behaviour: str = "keep"  # ego behaviour of the plain scenes (a BEHAVIOURS name or "mix")
    direct_fraction: float = 0.25  # share of scenes rendered straight at the working size
    pool_scenes: int = 32  # scenes rendered per window of the stream
    reuse: int = 4  # samples (windows, flips, degradations) per rendered scene
    hflip: bool = True  # random left-right flip (p = 0.5); the IDM negates the curvature
    degrade: bool = True  # blur / resample / noise / colour degradations in the training step
    blank_fraction: float = 0.0  # reader: clips replaced by one flat colour (+ noise), labelled "nothing there"
    # share of the salient scenes redrawn (the next seeds) until their event is one of ``focus_events``:
    # more of the kinds an instrument misses
    focus_events: tuple[str, ...] = ()
    focus_fraction: float = 0.0
    val_clips: int = 48  # whole val-split scenes, every other one salient

    def __post_init__(self) -> None:
        size = tuple(self.render_size)
        if len(size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 4096 for v in size):
            raise ValueError(f"render_size must be (H, W) with integer sides in [16, 4096], got {self.render_size!r}")
        object.__setattr__(self, "render_size", size)
        for name, low in (("render_frames", 2), ("frames", 2), ("pool_scenes", 1), ("reuse", 1), ("val_clips", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if self.frames > self.render_frames:
            raise ValueError(f"frames ({self.frames}) must be at most render_frames ({self.render_frames})")
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)) or not 0 < self.fps <= 100:
            raise ValueError(f"fps must be a number in (0, 100], got {self.fps!r}")
        object.__setattr__(self, "focus_events", tuple(self.focus_events))
        unknown = [e for e in self.focus_events if e not in EVENTS or e == "none"]
        if unknown:
            raise ValueError(f"focus_events must be scripted events ({', '.join(EVENTS[1:])}), got {unknown}")
        if self.focus_fraction and not self.focus_events:
            raise ValueError("focus_fraction > 0 needs focus_events")
        for name in ("salient_fraction", "direct_fraction", "blank_fraction", "focus_fraction"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        if self.plain_behaviour not in BEHAVIOURS + ("mix",):
            raise ValueError(f"plain_behaviour must be one of {', '.join(BEHAVIOURS + ('mix',))}, "
                             f"got {self.plain_behaviour!r}")
        for name in ("hflip", "degrade"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")

    @property
    def duration(self) -> float:
        """Seconds a scene is sampled for: just long enough to hold ``render_frames`` (as scene_clip)."""
        return self.render_frames / self.fps + 1e-6


@dataclass(frozen=True)
class ReaderLossConfig:
    label_smoothing: float = 0.05  # on the three clip-level cross-entropies
    event_weight: float = 2.0  # weight of the event CE: the hardest head, and the one the evaluation leans on
    kinds_weight: float = 1.0  # weight of the per-frame agent-kind BCE
    active_weight: float = 1.0  # weight of the per-frame event-active BCE
    where_weight: float = 4.0  # weight of the per-cell agent-location BCE
    # A cell holds an agent ~1-2 % of the time: unweighted, the head settles on the prior of each cell
    # position and teaches the encoder nothing (measured: no object found after 300 steps); weighted,
    # it finds agents within 100 steps.
    where_pos_weight: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        for name in ("event_weight", "kinds_weight", "active_weight", "where_weight", "where_pos_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class LabelConfig:
    """What counts as visible, in pixels of the working size (boxes at least this tall, and
    at least this many pixels drawn: ``SceneClip.visible_kinds``'s rule, scaled)."""

    kinds_min_height: float = 8.0  # for the agent-kind and location labels
    event_min_height: float = 4.0  # for the event agent: is the event in the clip at all

    def __post_init__(self) -> None:
        for name in ("kinds_min_height", "event_min_height"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1000:
                raise ValueError(f"{name} must be a number of pixels in [0, 1000], got {v!r}")


@dataclass(frozen=True)
class ReaderRunConfig:
    """Everything one scene-reader training run depends on."""

    model: SceneReaderConfig = field(default_factory=SceneReaderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: InstrumentDataConfig = field(default_factory=InstrumentDataConfig)
    loss: ReaderLossConfig = field(default_factory=ReaderLossConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    # a trained reader (directory or bundled name) whose weights start this run (a fine-tune);
    # None = random init. Its config must equal ``model``.
    init_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return {"kind": "scene-reader", **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ReaderRunConfig":
        d = dict(d)
        kind = d.pop("kind", "scene-reader")
        if kind != "scene-reader":
            raise ValueError(f"run config is for a {kind!r} run, not a scene-reader run")
        _reject_unknown(cls, d, "ReaderRunConfig")
        return cls(model=SceneReaderConfig.from_dict(d.get("model", {})), train=_sub(TrainConfig, d.get("train", {})),
                   data=_sub(InstrumentDataConfig, d.get("data", {})), loss=_sub(ReaderLossConfig, d.get("loss", {})),
                   labels=_sub(LabelConfig, d.get("labels", {})), init_from=d.get("init_from"))


def reader_run_config(steps: int = 2700, batch_size: int = 8, **train: Any) -> ReaderRunConfig:
    """The CPU run of the bundled reader's first stage (one thread, bf16 where the CPU has it);
    ``train`` overrides TrainConfig fields."""
    t = TrainConfig(steps=steps, batch_size=batch_size, lr=2e-3, warmup_steps=40, min_lr_ratio=0.05,
                    weight_decay=0.01, clip_grad=1.0, ema_decay=0.99, mixed_precision="bf16", log_every=20,
                    val_every=300, ckpt_every=50, keep_checkpoints=2, num_workers=0, progress=False)
    return ReaderRunConfig(train=replace(t, **train))


# --------------------------------------------------------------------------- labelled scenes


@dataclass(frozen=True, eq=False)
class LabelledScene:
    """One rendered scene at the working size with its per-frame ground truth."""

    frames: np.ndarray  # uint8 [T, h, w, 3]
    actions: np.ndarray  # float32 [T, 2]
    kinds: np.ndarray  # bool [T, K]: agent kinds visible
    where: np.ndarray  # bool [T, K + 1, h, w]: grid cells a visible agent of each kind covers, then the event agent
    active: np.ndarray  # bool [T]: the event under way
    event_seen: np.ndarray  # bool [T]: the event under way and its agent visible
    weather: int
    lighting: int
    event: int  # index of the scripted event in the reader's events
    salient: bool
    scenario: Scenario


def scene_scenario(seed: int, split: str, salient: bool, data: InstrumentDataConfig) -> Scenario:
    """The scenario of scene ``seed`` of ``split``: salient (with a mixed ego behaviour) or plain."""
    if salient:
        return Scenario.sample(seed, split, data.duration, behaviour="mix", salient=True)
    return Scenario.sample(seed, split, data.duration, behaviour=data.plain_behaviour, salient=False)


def label_scene(sc: Scenario, data: InstrumentDataConfig, size: tuple[int, int], labels: SceneReaderConfig,
                rules: LabelConfig, direct: bool = False, salient: bool = False) -> LabelledScene:
    """Render ``sc`` (at ``data.render_size``, or at ``size`` when ``direct``), resize to ``size``, label it."""
    from cosmos_lite.data.io import resize_frames

    render_size = tuple(size) if direct else data.render_size
    clip = render(sc, data.render_frames, render_size, data.fps)
    frames = resize_frames(clip.frames, size, mode="crop") if render_size != tuple(size) else clip.frames
    # visibility is judged in render pixels; the thresholds are given in working-size pixels
    mh = rules.kinds_min_height * render_size[0] / size[0]
    mh_event = rules.event_min_height * render_size[0] / size[0]
    seen_kinds = clip.visible_kinds(min_height=mh)  # [T, len(AGENT_KINDS)]
    kinds = np.stack([seen_kinds[:, AGENT_KINDS.index(k)] if k in AGENT_KINDS else np.zeros(len(frames), bool)
                      for k in labels.kinds], axis=1)
    active = clip.event_active()
    lab = clip.agents
    seen = np.stack([agent_seen(clip, j, mh) for j in range(len(lab.kinds))], axis=1) if lab.kinds else \
        np.zeros((len(frames), 0), bool)  # [T, N]
    event_agent_seen = np.zeros(len(frames), bool)
    for j in np.flatnonzero(lab.is_event):
        event_agent_seen |= agent_seen(clip, j, mh_event)
    # the location grid: cells a seen agent's box covers (boxes in render pixels -> grid cells)
    gh, gw = labels.where_size
    sy, sx = gh / render_size[0], gw / render_size[1]
    where = np.zeros((len(frames), len(labels.kinds) + 1, gh, gw), bool)

    def cells(t: int, j: int) -> tuple[slice, slice]:
        u0, v0, u1, v1 = lab.box[t, j]
        return (slice(int(v0 * sy), max(int(np.ceil(v1 * sy)), int(v0 * sy) + 1)),
                slice(int(u0 * sx), max(int(np.ceil(u1 * sx)), int(u0 * sx) + 1)))

    for t, j in zip(*np.nonzero(seen)):
        if lab.kinds[j] in labels.kinds:
            where[(t, labels.kinds.index(lab.kinds[j]), *cells(t, j))] = True
    for t in np.flatnonzero(active & event_agent_seen):
        for j in np.flatnonzero(lab.is_event):
            if not np.isnan(lab.box[t, j, 0]):
                where[(t, -1, *cells(t, j))] = True
    return LabelledScene(frames=np.ascontiguousarray(frames), actions=clip.actions.astype(np.float32), kinds=kinds,
                         where=where, active=active, event_seen=active & event_agent_seen,
                         weather=labels.weathers.index(sc.weather), lighting=labels.lightings.index(sc.lighting),
                         event=labels.events.index(sc.event.kind), salient=salient, scenario=sc)


def agent_seen(clip, j: int, min_height: float) -> np.ndarray:
    """bool [T]: agent ``j`` of ``clip`` is visible by :meth:`SceneClip.visible_kinds`'s rule (its
    labels alone through that method, so the rule lives in one place)."""
    lab = clip.agents
    one = dataclasses.replace(lab, **{f: getattr(lab, f)[:, j:j + 1] for f in
                                      ("exists", "position", "box", "visible", "pixels", "braking")},
                              kinds=lab.kinds[j:j + 1], roles=lab.roles[j:j + 1], is_event=lab.is_event[j:j + 1])
    return dataclasses.replace(clip, agents=one).visible_kinds(min_height=min_height).any(axis=1)


def window_sample(scene: LabelledScene, start: int, length: int, flip: bool, none_index: int) -> dict[str, Any]:
    """The training sample of frames ``start .. start + length - 1`` of ``scene`` (flipped left-right)."""
    sl = slice(start, start + length)
    seen = bool(scene.event_seen[sl].any())
    frames = scene.frames[sl]
    where = scene.where[sl]
    actions = scene.actions[sl].copy()
    if flip:
        frames, where = frames[:, :, ::-1], where[..., ::-1]
        actions[:, 1] = -actions[:, 1]  # a mirrored world turns the other way
    return {
        "frames": torch.from_numpy(np.ascontiguousarray(frames)),
        "actions": torch.from_numpy(actions),
        "weather": torch.tensor(scene.weather),
        "lighting": torch.tensor(scene.lighting),
        "event": torch.tensor(scene.event if seen else none_index),
        "kinds": torch.from_numpy(scene.kinds[sl].astype(np.float32)),
        "where": torch.from_numpy(np.ascontiguousarray(where, dtype=np.float32)),
        "active": torch.from_numpy((scene.active[sl] & seen).astype(np.float32)),
        "scene": torch.tensor(1.0),  # 1 = a rendered scene; blank_clips sets 0 (no weather or lighting to read)
    }


class InstrumentStream(_PositionStream):
    """Endless labelled windows of train-split scenes (see the module docstring for the order)."""

    def __init__(self, data: InstrumentDataConfig, size: tuple[int, int], labels: SceneReaderConfig,
                 rules: LabelConfig, seed: int, start: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 split: str = "train"):
        super().__init__(seed, start, batch_size, rank, world_size)
        self.data, self.size, self.labels, self.rules, self.split = data, tuple(size), labels, rules, split
        self._cache: dict[int, LabelledScene] = {}
        self._window = -1

    def scene_index(self, index: int) -> int:
        """The stream's scene number of sample ``index``."""
        d = self.data
        span = d.pool_scenes * d.reuse
        window, slot = divmod(index, span)
        order = np.random.default_rng([self.seed, window, self.rank, 7]).permutation(span) % d.pool_scenes
        return window * d.pool_scenes + int(order[slot])

    def scene(self, m: int) -> LabelledScene:
        window = m // self.data.pool_scenes
        if window != self._window:  # a new window: the old scenes are never asked for again
            self._cache.clear()
            self._window = window
        if m not in self._cache:
            d = self.data
            seed = (self.seed * 7919 + m * self.world_size + self.rank) % SCENE_SEEDS
            u = np.random.default_rng([self.seed, m, self.rank, 11]).random(3)
            salient = bool(u[0] < d.salient_fraction)
            sc = scene_scenario(seed, self.split, salient, d)
            if salient and u[2] < d.focus_fraction:
                k = 0
                while sc.event.kind not in d.focus_events:  # a few draws: events are drawn evenly
                    k += 1
                    sc = scene_scenario((seed + k * FOCUS_STRIDE) % SCENE_SEEDS, self.split, True, d)
            self._cache[m] = label_scene(sc, d, self.size, self.labels, self.rules,
                                         direct=bool(u[1] < d.direct_fraction), salient=salient)
        return self._cache[m]

    def sample(self, index: int) -> dict[str, Any]:
        d = self.data
        scene = self.scene(self.scene_index(index))
        rng = _sample_rng(self.seed, index, self.rank)
        start = int(rng.integers(0, d.render_frames - d.frames + 1))
        flip = d.hflip and bool(rng.random() < 0.5)
        return window_sample(scene, start, d.frames, flip, self.labels.events.index("none"))


def fixed_scenes(split: str, n: int, data: InstrumentDataConfig, size: tuple[int, int], labels: SceneReaderConfig,
                 rules: LabelConfig, first_seed: int = 0, direct: bool = False) -> list[LabelledScene]:
    """Scenes ``first_seed ..`` of ``split``, whole; every other one (even seeds) salient: val / test sets."""
    return [label_scene(scene_scenario(s, split, s % 2 == 0, data), data, size, labels, rules,
                        direct=direct, salient=s % 2 == 0) for s in range(first_seed, first_seed + n)]


# --------------------------------------------------------------------------- degradations


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of ``x`` ``[N, C, H, W]`` with one ``sigma`` per image ``[N]`` (px)."""
    n, c, h, w = x.shape
    r = 3
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t[None] / sigma.to(x.dtype).clamp_min(1e-3)[:, None]) ** 2)  # [N, 2r+1]
    k = (k / k.sum(-1, keepdim=True)).repeat_interleave(c, 0)  # [N*C, 2r+1]
    y = x.reshape(1, n * c, h, w)  # one group per image channel
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), k[:, None, None, :], groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


def degrade_clips(x: torch.Tensor) -> torch.Tensor:
    """Degrade float ``[B, T, 3, H, W]`` clips in [-1, 1], one draw per clip applied to all its
    frames (per-frame draws would fake motion for the IDM): down/up resampling by 1.5-3x
    (p 0.35, an autoencoder's softness), Gaussian blur of 0.4-1.2 px (p 0.4), contrast
    and brightness +-8 %, a colour cast of +-3 %, noise of up to 0.06 (p 0.5) and a
    per-frame brightness flicker of up to 3 % (p 0.2, a generator's flicker). Uses
    torch's global RNG (the engine checkpoints it, so resumes stay exact)."""
    b, t, _, h, w = x.shape
    x = x.float()
    # Draws on the CPU generator, moved to the clips' device: the same stream on a CPU and a GPU.
    dev = x.device

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, *shape)

    def coin(p: float) -> torch.Tensor:
        return torch.rand(b) < p

    soft, factor = coin(0.35), u(1.5, 3.0)
    sigma = u(0.4, 1.2) * coin(0.4)
    out = []
    for i in range(b):
        clip = x[i]
        if soft[i]:
            f = float(factor[i])
            small = F.interpolate(clip, size=(max(4, round(h / f)), max(4, round(w / f))), mode="bilinear",
                                  antialias=True, align_corners=False)
            clip = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        if sigma[i] > 0:
            clip = gaussian_blur(clip, sigma[i].expand(t).to(dev))
        out.append(clip)
    x = torch.stack(out)  # [B, T, 3, H, W]
    mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
    x = (x - mean) * u(0.92, 1.08, 1, 1, 1, 1).to(dev) + mean  # contrast
    gain = u(0.92, 1.08, 1, 1, 1, 1) * u(0.97, 1.03, 1, 3, 1, 1)  # brightness and a slight colour cast
    flicker = 1 + u(-0.03, 0.03, t, 1, 1, 1) * coin(0.2)[:, None, None, None, None]
    x = (x + 1) * gain.to(dev) * flicker.to(dev) - 1  # scale light, not the [-1, 1] offset
    noise = u(0.0, 0.06, 1, 1, 1, 1) * coin(0.5)[:, None, None, None, None]
    x = x + noise.to(dev) * torch.randn(x.shape).to(dev)
    return x.clamp(-1, 1)


def batch_clips(frames: torch.Tensor, degrade: bool) -> torch.Tensor:
    """uint8 ``[B, T, H, W, 3]`` -> float ``[B, T, 3, H, W]`` in [-1, 1], degraded when asked."""
    x = frames_to_images(frames.flatten(0, 1)).unflatten(0, frames.shape[:2])  # [B, T, 3, H, W]
    return degrade_clips(x) if degrade else x


def blank_clips(x: torch.Tensor, batch: dict[str, torch.Tensor], fraction: float, none_index: int
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Replace ``fraction`` of the clips ``x`` ``[B, T, 3, H, W]`` in [-1, 1] (torch's global RNG) by
    one flat random colour (black, grey, white, tinted; noise of up to 0.05 on half of them),
    labelled as showing nothing: event ``none_index``, no agent, no event frame, no location, and
    ``scene`` 0 so that the weather and lighting terms skip them. Without them the reader found a
    cut-in in a black clip: a generator failing to black must not be credited with an event."""
    b = x.shape[0]
    blank = torch.rand(b) < fraction
    colour = torch.rand(b, 1, 3, 1, 1) * 2 - 1
    noise = torch.rand(b, 1, 1, 1, 1) * 0.05 * (torch.rand(b, 1, 1, 1, 1) < 0.5)
    flat = (colour + noise * torch.randn(x.shape)).clamp(-1, 1)
    if not blank.any():
        return x, batch
    out = dict(batch)
    keep = ~blank
    out["event"] = torch.where(blank, torch.full_like(batch["event"], none_index), batch["event"])
    for key in ("kinds", "active", "where"):
        out[key] = batch[key] * keep.view(-1, *[1] * (batch[key].dim() - 1)).to(batch[key].dtype)
    out["scene"] = batch["scene"] * keep.to(batch["scene"].dtype)
    return torch.where(blank.view(-1, 1, 1, 1, 1), flat, x.float()), out


# --------------------------------------------------------------------------- loss


def reader_loss(logits: ReaderLogits, batch: dict[str, torch.Tensor],
                cfg: ReaderLossConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss (float32) and its parts for the log."""
    ls = cfg.label_smoothing
    scene = batch["scene"].float()  # 0 for blank clips: they have no weather or lighting to read

    def scene_ce(logits_: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits_.float(), target, label_smoothing=ls, reduction="none")  # [B]
        return (ce * scene).sum() / scene.sum().clamp_min(1.0)

    parts = {
        "weather": scene_ce(logits.weather, batch["weather"]),
        "lighting": scene_ce(logits.lighting, batch["lighting"]),
        "event": F.cross_entropy(logits.event.float(), batch["event"], label_smoothing=ls),
        "kinds": F.binary_cross_entropy_with_logits(logits.kinds.float(), batch["kinds"].float()),
        "active": F.binary_cross_entropy_with_logits(logits.active.float(), batch["active"].float()),
        "where": F.binary_cross_entropy_with_logits(logits.where.float(), batch["where"].float(),
                                                    pos_weight=logits.where.new_tensor(cfg.where_pos_weight).float()),
    }
    total = parts["weather"] + parts["lighting"] + cfg.event_weight * parts["event"] \
        + cfg.kinds_weight * parts["kinds"] + cfg.active_weight * parts["active"] + cfg.where_weight * parts["where"]
    return total, {f"loss_{k}": float(v.detach()) for k, v in parts.items()}


# --------------------------------------------------------------------------- evaluation


def actor_rule_found(out: dict, event_kind: str) -> bool:
    """The looser verdict :func:`prompted_event_found` does not use, kept to measure it: the
    predicted event is the prompted one, or an actor kind of the prompted event is visible
    in a frame the reader calls event-active."""
    if out["event"] == event_kind:
        return True
    if event_kind == "none":
        return False
    cols = [out["kinds"].index(k) for k in EVENT_ACTORS[event_kind] if k in out["kinds"]]
    return bool((out["kinds_per_frame"][:, cols].any(axis=1) & out["event_active"]).any())


def evaluate_reader(model: SceneReader, scenes: list[LabelledScene]) -> dict[str, Any]:
    """Per-head accuracies of ``model`` on whole ``scenes`` (see the keys below)."""
    cfg = model.config
    none = cfg.events.index("none")
    rows = []
    for sc in scenes:
        out = model.read_clip(sc.frames)
        seen = bool(sc.event_seen.any())
        label = sc.event if seen else none
        row = {"weather": out["weather"] == cfg.weathers[sc.weather],
               "lighting": out["lighting"] == cfg.lightings[sc.lighting],
               "event": out["event"] == cfg.events[label],
               "kinds_frames": (out["kinds_per_frame"] == sc.kinds).mean(),
               "kinds_tp": int((out["kinds_per_frame"] & sc.kinds).sum()),
               "kinds_pred": int(out["kinds_per_frame"].sum()), "kinds_true": int(sc.kinds.sum()),
               "active_frames": (out["event_active"] == (sc.active & seen)).mean(),
               "salient": sc.salient, "scripted": sc.scenario.event.kind, "seen": seen, "pred": out["event"]}
        if sc.salient and sc.scenario.event.kind != "none":
            kind = sc.scenario.event.kind
            # a wrong prompt: the next event kind of the list (never "none"), for the false-found rate
            wrong = cfg.events[1 + (cfg.events.index(kind) % (len(cfg.events) - 1))]
            row.update(found=prompted_event_found(out, kind), found_wrong=prompted_event_found(out, wrong),
                       actor_found=actor_rule_found(out, kind), actor_found_wrong=actor_rule_found(out, wrong),
                       vehicle_event=EVENT_ACTORS[kind][0] in VEHICLE_KINDS)
        rows.append(row)

    def mean(key: str, where=lambda r: True) -> float:
        vals = [float(r[key]) for r in rows if key in r and where(r)]
        return float(np.mean(vals)) if vals else math.nan

    tp, pred, true = (sum(r[k] for r in rows) for k in ("kinds_tp", "kinds_pred", "kinds_true"))
    sal = [r for r in rows if "found" in r]
    per_event = {}
    for kind in cfg.events[1:]:
        rs = [r for r in sal if r["scripted"] == kind]
        if rs:
            per_event[kind] = {"n": len(rs), "found": float(np.mean([r["found"] for r in rs]))}
    return {
        "clips": len(rows), "salient_event_clips": len(sal),
        "weather_acc": mean("weather"), "lighting_acc": mean("lighting"),
        "event_acc": mean("event"),  # against the seen-event label, all clips
        "event_acc_salient": mean("event", lambda r: r["salient"]),
        "event_acc_plain": mean("event", lambda r: not r["salient"]),
        "found_rate": mean("found"),  # prompted_event_found on salient clips with an event
        "found_rate_wrong_prompt": mean("found_wrong"),
        "actor_rule_found_rate": mean("actor_found"),
        "actor_rule_found_rate_wrong_prompt": mean("actor_found_wrong"),
        "salient_events_seen": mean("seen", lambda r: "found" in r),
        "kinds_frame_acc": mean("kinds_frames"),
        "kinds_precision": tp / pred if pred else math.nan, "kinds_recall": tp / true if true else math.nan,
        "active_frame_acc": mean("active_frames"),
        "found_per_event": per_event,
    }


# --------------------------------------------------------------------------- task


class ReaderTask:
    """Trains a :class:`SceneReader` under the engine."""

    find_unused_parameters = False

    def __init__(self, run: ReaderRunConfig):
        if not isinstance(run, ReaderRunConfig):
            raise ValueError(f"ReaderTask needs a ReaderRunConfig, got {type(run).__name__}")
        self.run = run
        self._val: list[LabelledScene] | None = None

    def build_modules(self) -> dict[str, nn.Module]:
        model = SceneReader(self.run.model)
        if self.run.init_from is not None:
            start = SceneReader.from_pretrained(self.run.init_from)
            if start.config != self.run.model:
                raise ValueError(f"init_from {self.run.init_from}: its config differs from the run's model config")
            model.load_state_dict(start.state_dict(), strict=True)
        return {"model": model}

    def learning_rates(self, base_lr: float) -> dict[str, float]:
        return {"model": base_lr}

    def train_stream(self, start: int, batch_size: int, rank: int, world_size: int) -> IterableDataset:
        r = self.run
        return InstrumentStream(r.data, r.model.size, r.model, r.labels, r.train.seed, start, batch_size,
                                rank, world_size)

    def training_step(self, modules: dict[str, nn.Module], batch: dict[str, torch.Tensor], step: int) -> StepOutput:
        x = batch_clips(batch["frames"], self.run.data.degrade)
        x, batch = blank_clips(x, batch, self.run.data.blank_fraction, self.run.model.events.index("none"))
        loss, logs = reader_loss(modules["model"](x), batch, self.run.loss)
        return StepOutput(loss=loss, logs=logs)

    def val_scenes(self) -> list[LabelledScene]:
        if self._val is None:
            r = self.run
            self._val = fixed_scenes("val", r.data.val_clips, r.data, r.model.size, r.model, r.labels)
        return self._val

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        m = evaluate_reader(model, self.val_scenes())
        return {k: v for k, v in m.items() if isinstance(v, float)}

    def export(self, model: nn.Module, out_dir: Path) -> None:
        model.save_pretrained(out_dir)


def reader_finetune_config(init_from: str | Path, steps: int = 400, batch_size: int = 8,
                           **train: Any) -> ReaderRunConfig:
    """Stage 2 of the bundled reader: from the stage-1 weights ``init_from`` (and its architecture),
    with blank clips (10 %) at a quarter of the lr."""
    base = reader_run_config(steps, batch_size, **{"lr": 5e-4, "warmup_steps": 20, "val_every": 200, **train})
    # the architecture is the starting reader's (a wider stage 1 keeps its width through the stages)
    model = SceneReaderConfig.from_dict(read_config_json(init_from, SceneReader.__name__))
    return replace(base, model=model, data=replace(base.data, blank_fraction=0.1), init_from=str(init_from))


# the events the stage-2 reader missed (found 0-6 % on 200 test clips: BENCHMARKS.md, session 3)
FOCUS_EVENTS = ("pedestrian_crossing", "cyclist_swerve", "animal_crossing")


def reader_focus_config(init_from: str | Path, steps: int = 1200, batch_size: int = 8,
                        events: tuple[str, ...] = FOCUS_EVENTS, fraction: float = 0.5,
                        **train: Any) -> ReaderRunConfig:
    """Stage 3 (and later focus stages) of the bundled reader: stage 2's recipe from the weights
    ``init_from``, with a ``fraction`` of the salient scenes redrawn until their event is one of
    ``events`` (by default :data:`FOCUS_EVENTS`, half of them)."""
    base = reader_finetune_config(init_from, steps, batch_size, **{"val_every": 400, **train})
    return replace(base, data=replace(base.data, focus_events=tuple(events), focus_fraction=fraction))


def train_main(out: str | Path, steps: int | None = None, resume: bool = False, init_from: str | Path | None = None,
               focus: tuple[str, ...] | None = None, focus_fraction: float | None = None, **train: Any):
    """Train the reader into ``out`` (checkpoints, metrics.jsonl, ``final/``): stage 1 from scratch
    (2700 steps), or with ``init_from`` stage 2 (400 steps), or with ``init_from`` and ``focus`` (the
    events to draw more of; ``()`` = :data:`FOCUS_EVENTS`) a focus stage (1200 steps) with
    ``focus_fraction`` of the salient scenes redrawn (default: :func:`reader_focus_config`'s).
    ``resume`` continues a killed run from its newest checkpoint with its saved config (``steps`` /
    ``train`` override it)."""
    from .engine import resume_config

    if focus is not None and (resume or init_from is None):
        raise ValueError("focus is a later stage: it fine-tunes the reader given by init_from (not with resume)")
    if focus_fraction is not None and focus is None:
        raise ValueError("focus_fraction needs focus (the events to draw more of)")
    if resume:  # the checkpoint's settings; training flags (e.g. more steps) still override
        run = ReaderRunConfig.from_dict(resume_config(out))
        run = replace(run, train=replace(run.train, **({"steps": steps} if steps else {}), **train))
    elif init_from is not None and focus is not None:
        share = {} if focus_fraction is None else {"fraction": focus_fraction}
        run = reader_focus_config(init_from, steps or 1200, events=tuple(focus) or FOCUS_EVENTS, **share, **train)
    elif init_from is not None:
        run = reader_finetune_config(init_from, steps or 400, **train)
    else:
        run = reader_run_config(steps or 2700, **train)
    res = fit(ReaderTask(run), run.train, out, run.to_dict(), resume=resume)
    print(f"trained to step {res.step} in {res.seconds:.0f} s this session; final weights in {res.final_dir}",
          file=sys.stderr, flush=True)
    return res


# --------------------------------------------------------------------------- validity and bundle


def test_scenes(n: int, data: InstrumentDataConfig, size: tuple[int, int], labels: SceneReaderConfig,
                rules: LabelConfig | None = None, first_seed: int = 0, direct: bool = False,
                tokenizer: str | None = None) -> tuple[list[LabelledScene], dict[str, Any]]:
    """``n`` whole test-split scenes (:func:`fixed_scenes`: every other one salient) and a description
    of them. With ``tokenizer`` (a bundled name or directory) each clip is round-tripped through it
    first, ``decode(encode(frames_to_video(f)), num_frames=T)``: the ceiling a generator on that
    tokenizer can reach."""
    from cosmos_lite.data.codec import frames_to_video, video_to_frames

    scenes = fixed_scenes("test", n, data, size, labels, rules or LabelConfig(), first_seed, direct)
    if tokenizer is not None:
        from cosmos_lite.tokenizer import VideoTokenizer

        tok = VideoTokenizer.from_pretrained(tokenizer).eval()
        with torch.inference_mode():
            scenes = [dataclasses.replace(s, frames=video_to_frames(
                tok.decode(tok.encode(frames_to_video(s.frames)), num_frames=len(s.frames)))) for s in scenes]
    h, w = size
    rh, rw = data.render_size
    return scenes, {"split": "test", "first_seed": first_seed, "frames": data.render_frames, "fps": data.fps,
                    "render": f"{h}x{w} direct" if direct else f"{rh}x{rw} -> {h}x{w}", "tokenizer": tokenizer}


def validity(model: SceneReader, n: int = 200, first_seed: int = 0, tokenizer: str | None = None,
             direct: bool = False, data: InstrumentDataConfig | None = None, rules: LabelConfig | None = None,
             progress: bool = False) -> dict[str, Any]:
    """:func:`evaluate_reader` on ``n`` whole test-split scenes (every other one salient, 33
    frames at 10 fps, rendered at 128x192 and resized to the working size, or rendered at it
    when ``direct``), optionally round-tripped through ``tokenizer`` (see :func:`test_scenes`)."""
    t0 = time.perf_counter()
    scenes, about = test_scenes(n, data or InstrumentDataConfig(), model.config.size, model.config, rules,
                                first_seed, direct, tokenizer)
    out = {**evaluate_reader(model, scenes), **about, "seconds": round(time.perf_counter() - t0, 1)}
    if progress:
        print(json.dumps({k: v for k, v in out.items() if not isinstance(v, dict)}), file=sys.stderr, flush=True)
    return out


def bundle_instrument(model_class: type, run_dir: str | Path, dest: Path, measure, n: int) -> Path:
    """Save ``run_dir/final`` as fp16 at ``dest`` with ``metrics.json``: ``measure(model, n, **how)``
    of the fp16 weights (the ones that ship) on true test clips, direct renders and round trips
    through the bundled ``default-cv`` tokenizer."""
    from cosmos_lite.pretrained import fresh_temp_dir, swap_in, write_json

    model = model_class.from_pretrained(Path(run_dir) / "final")
    tmp = fresh_temp_dir(dest)
    model.save_pretrained(tmp, dtype=torch.float16)
    half = model_class.from_pretrained(tmp)
    metrics = {"parameters": sum(p.numel() for p in half.parameters()),
               "run_config": json.loads((Path(run_dir) / "config.json").read_text()),
               "test": measure(half, n, progress=True),
               "test_direct": measure(half, n, direct=True, progress=True),
               "test_tokenizer_default_cv": measure(half, n, tokenizer="default-cv", progress=True)}
    write_json(tmp / "metrics.json", metrics)
    return swap_in(tmp, dest)


def bundle(run_dir: str | Path, dest: str | Path | None = None, n: int = 200) -> Path:
    """Bundle a trained reader (default destination: the package's ``scene-reader``)."""
    return bundle_instrument(SceneReader, run_dir, Path(dest) if dest else BUNDLE_DIR / "scene-reader", validity, n)
