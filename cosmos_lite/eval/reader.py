"""Scene reader: what a driving clip shows, read the way a viewer would.

A small video CNN trained on the synthetic driving scenes (:mod:`cosmos_lite.scenes`)
against their ground truth. It judges generated clips against what the simulator
would show: per clip the weather, the lighting and the scripted edge-case event;
per frame which agent kinds can be seen and whether the event is under way. It
replaces the weather / lighting-only condition classifier.

Architecture (read top-down below): a 2-D encoder per frame (four stride-2 conv
stages, GroupNorm, SiLU; 64x96 -> 4x6), whose map is flattened (where an agent is
tells the events apart: a pedestrian on the road, not on the sidewalk; a car
drifting over the centre line) beside its spatial max (a small agent that one cell
holds) and the location head's maps (below), and projected to ``dim``; residual
1-D convs over frames mix time, so the per-frame heads (agent kinds, event
active) and the per-clip heads (weather, lighting, event; over the mean and max
of the frame features) share one representation. A 1x1 conv on the third stage's
map (1/8 of the working size) predicts where each agent kind is, and where the
event's agent is while the event is under way: that dense target (its rare
positive cells weighted up) is what teaches the encoder objects within a CPU
budget; with image-level labels alone every object head stayed at its prior for
the first 300 steps. Clips of any length T >= 1 and
any size are read: they are resized (antialiased, centre crop) to the working size.
It is trained with blur, down/up resampling and noise (see
:mod:`cosmos_lite.train.reader_task`) so that an autoencoder's softness alone
does not change its verdict, and with flat blank clips labelled "nothing there"
so that a generator failing to black is not credited with an event.

How far to trust it: ``cosmos_lite/eval/weights/scene-reader/metrics.json`` holds the
bundled weights' per-head accuracies on held-out test clips, direct 64x96 renders and
tokenizer round trips. Weather and lighting are reliable; the event and agent-kind
heads are weak at this CPU training scale (read the figures before leaning on them).

Labels it was trained on (what "visible" and "event" mean): an agent kind is
visible in a frame when one of its agents is at least 8 px tall at the working
size (``SceneClip.visible_kinds`` at the render size, scaled); the event is
the scripted one when its agent is at least 4 px tall in a frame where the
event is active, else ``"none"`` (an event hidden behind a building is not in
the clip for a viewer), and ``event_active`` is then the event's window.

Public API::

    from cosmos_lite.eval.reader import SceneReader, prompted_event_found

    reader = SceneReader.from_pretrained()          # bundled weights ("scene-reader")
    out = reader.read_clip(frames)                  # uint8 [T, H, W, 3], any size
    out["weather"], out["lighting"], out["event"]   # "rain", "night", "pedestrian_crossing"
    out["weather_probs"], out["lighting_probs"], out["event_probs"]   # {label: p}
    out["kinds_visible"]                            # {kind: bool}: seen in any frame
    out["kinds_per_frame"], out["kinds_probs"]      # bool / float [T, len(kinds)], columns out["kinds"]
    out["event_active"], out["event_active_probs"]  # bool / float [T]
    prompted_event_found(out, "pedestrian_crossing")   # bool, see below
    reader.features(frames)                         # float32 [2 * dim] clip embedding
    logits = reader(x)                              # x float [B, T, 3, 64, 96] in [-1, 1]

``features`` is the pooled vector the clip heads read. It stands in for FVD's I3D
features: fit a Gaussian to the features of a set of generated clips and one to
those of the true clips of the same scenes, and take the Fréchet distance between
them (:func:`cosmos_lite.eval.world.measures.frechet_distance`); 0 = the reader
cannot tell the sets apart.

Training (the lead adds a CLI later): :mod:`cosmos_lite.train.reader_task`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from cosmos_lite.pretrained import Pretrained, config_from_dict
from cosmos_lite.scenes import AGENT_KINDS, EVENTS, LIGHTINGS, WEATHERS
from cosmos_lite.scenes.spec import EVENT_ACTORS

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"  # instruments shipped with the package
THRESHOLD = 0.5  # probability at which a per-frame head says yes (kinds, event active)

# --------------------------------------------------------------------------- config


def _positive_int(owner: str, name: str, value: object, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{owner}.{name} must be an integer >= {low}, got {value!r}")


def check_size(owner: str, size: object) -> tuple[int, int]:
    """``size`` as an (H, W) tuple of integers in [16, 4096], or a clear error."""
    try:
        hw = tuple(size)  # type: ignore[arg-type]
    except TypeError:
        hw = ()
    if len(hw) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 4096 for v in hw):
        raise ValueError(f"{owner}.size must be (H, W) with integer sides in [16, 4096], got {size!r}")
    return hw  # type: ignore[return-value]


def check_temporal(owner: str, dim: int, norm_groups: int, blocks: int, kernel: int) -> None:
    """Shared checks of a :class:`TemporalMixer`'s settings."""
    _positive_int(owner, "dim", dim)
    _positive_int(owner, "norm_groups", norm_groups)
    _positive_int(owner, "temporal_blocks", blocks, low=0)
    _positive_int(owner, "temporal_kernel", kernel)
    if dim % norm_groups:
        raise ValueError(f"{owner}.dim {dim} must be a multiple of norm_groups {norm_groups}")
    if kernel % 2 == 0:
        raise ValueError(f"{owner}.temporal_kernel must be odd (centred on the frame), got {kernel}")


@dataclass(frozen=True)
class SceneReaderConfig:
    size: tuple[int, int] = (64, 96)  # (H, W) the reader runs at; clips are resized to it
    width: int = 24  # channels of the first conv stage; the stages have width * (1, 2, 3, 4)
    norm_groups: int = 8
    dim: int = 128  # per-frame feature width (the clip embedding has 2 * dim)
    temporal_blocks: int = 2  # residual 1-D conv blocks over frames
    temporal_kernel: int = 3  # frames each temporal conv sees (odd)
    weathers: tuple[str, ...] = WEATHERS
    lightings: tuple[str, ...] = LIGHTINGS
    events: tuple[str, ...] = EVENTS  # must hold "none": the answer for a clip without a visible event
    kinds: tuple[str, ...] = AGENT_KINDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", check_size("SceneReaderConfig", self.size))
        _positive_int("SceneReaderConfig", "width", self.width)
        check_temporal("SceneReaderConfig", self.dim, self.norm_groups, self.temporal_blocks, self.temporal_kernel)
        if self.width % self.norm_groups:
            raise ValueError(f"SceneReaderConfig.width {self.width} must be a multiple of norm_groups "
                             f"{self.norm_groups}")
        for name, least in (("weathers", 2), ("lightings", 2), ("events", 2), ("kinds", 1)):
            labels = tuple(getattr(self, name))
            if len(labels) < least or len(set(labels)) != len(labels) or not all(isinstance(v, str) for v in labels):
                raise ValueError(f"SceneReaderConfig.{name} must be at least {least} distinct strings, got {labels!r}")
            object.__setattr__(self, name, labels)
        if "none" not in self.events:
            raise ValueError("SceneReaderConfig.events must include 'none' (a clip without a visible event)")

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in (1, 2, 3, 4))

    @property
    def map_size(self) -> tuple[int, int]:
        """(h, w) of the encoder's output map."""
        return encoder_map_size(self.size)

    @property
    def where_size(self) -> tuple[int, int]:
        """(h, w) of the agent-location grid."""
        return encoder_map_size(self.size, WHERE_STAGE)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "SceneReaderConfig":
        return config_from_dict(cls, d)


# --------------------------------------------------------------------------- building blocks

STAGES = 4  # stride-2 conv stages of a frame encoder
WHERE_STAGE = 3  # the stage whose map the agent-location head reads (1/8 of the input)


def encoder_map_size(size: tuple[int, int], stages: int = STAGES) -> tuple[int, int]:
    """(h, w) after ``stages`` stride-2 stages: each halves, rounding up."""
    h, w = size
    for _ in range(stages):
        h, w = -(-h // 2), -(-w // 2)
    return h, w



def conv_stage(cin: int, cout: int, groups: int) -> nn.Sequential:
    """Halve H and W: stride-2 conv, then a conv, each with GroupNorm and SiLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
    )


class TemporalMixer(nn.Module):
    """Residual blocks of two 1-D convs over frames: ``[B, D, T] -> [B, D, T]``.

    Replicate padding: a clip's first and last frames see themselves beyond the ends
    rather than zeros, which would read as a cut to black."""

    def __init__(self, dim: int, blocks: int, kernel: int, groups: int):
        super().__init__()

        def conv() -> nn.Conv1d:
            return nn.Conv1d(dim, dim, kernel, padding=kernel // 2, padding_mode="replicate")

        self.blocks = nn.ModuleList(
            nn.Sequential(nn.GroupNorm(groups, dim), nn.SiLU(), conv(), nn.GroupNorm(groups, dim), nn.SiLU(), conv())
            for _ in range(blocks))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            h = h + block(h)
        return h


def check_clip_tensor(x: object, size: tuple[int, int], min_frames: int = 1) -> None:
    """``x`` must be float ``[B, T, 3, H, W]`` with (H, W) = ``size``, B >= 1, T >= min_frames."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"input must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"input must be a float tensor in [-1, 1], got dtype {x.dtype}")
    if x.ndim != 5 or x.shape[2] != 3 or x.shape[0] == 0:
        raise ValueError(f"input must have shape [B, T, 3, H, W] with B >= 1, got {list(x.shape)}")
    if x.shape[1] < min_frames:
        raise ValueError(f"input needs at least {min_frames} frame(s), got {x.shape[1]}")
    if tuple(x.shape[3:]) != tuple(size):
        raise ValueError(f"input frames must be {size[0]}x{size[1]} (the config size), got {x.shape[3]}x{x.shape[4]}; "
                         f"the numpy entry points resize")


def prepare_frames(frames: object, size: tuple[int, int], min_frames: int = 1) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float ``[1, T, 3, h, w]`` in [-1, 1] at ``size`` (antialiased
    resize with a centre crop to its aspect ratio), with clear errors for anything else."""
    from cosmos_lite.data.codec import frames_to_images
    from cosmos_lite.data.io import resize_frames

    if not isinstance(frames, np.ndarray):
        raise ValueError(f"frames must be a numpy uint8 array [T, H, W, 3], got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 [T, H, W, 3], got dtype {frames.dtype}")
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise ValueError(f"frames must have shape [T, H, W, 3] with T, H, W >= 1, got {list(frames.shape)}")
    if frames.shape[0] < min_frames:
        raise ValueError(f"frames must hold at least {min_frames} frames, got {frames.shape[0]}")
    return frames_to_images(resize_frames(frames, size, mode="crop"))[None]  # [1, T, 3, h, w]


# --------------------------------------------------------------------------- model


class ReaderLogits(NamedTuple):
    weather: torch.Tensor  # [B, len(weathers)]
    lighting: torch.Tensor  # [B, len(lightings)]
    event: torch.Tensor  # [B, len(events)]
    kinds: torch.Tensor  # [B, T, len(kinds)] per-frame visibility logits
    active: torch.Tensor  # [B, T] per-frame event-active logits
    where: torch.Tensor  # [B, T, len(kinds) + 1, h, w]: each kind, then the active event's agent, per grid cell


class SceneReader(Pretrained, nn.Module):
    """Per-frame conv encoder, temporal 1-D conv mixer, per-frame and per-clip heads."""

    config_class = SceneReaderConfig
    bundled_dir = BUNDLED_DIR
    default_name = "scene-reader"

    def __init__(self, config: SceneReaderConfig | None = None):
        super().__init__()
        self.config = cfg = config or SceneReaderConfig()
        chans = (3, *cfg.channels)
        self.encoder = nn.Sequential(*[conv_stage(chans[i], chans[i + 1], cfg.norm_groups) for i in range(STAGES)])
        self.where_head = nn.Conv2d(chans[WHERE_STAGE], len(cfg.kinds) + 1, 1)
        mh, mw = cfg.map_size
        gh, gw = cfg.where_size
        self.project = nn.Linear(chans[-1] * (mh * mw + 1) + (len(cfg.kinds) + 1) * gh * gw, cfg.dim)
        self.mixer = TemporalMixer(cfg.dim, cfg.temporal_blocks, cfg.temporal_kernel, cfg.norm_groups)
        self.norm = nn.LayerNorm(cfg.dim)
        self.kinds_head = nn.Linear(cfg.dim, len(cfg.kinds))
        self.active_head = nn.Linear(cfg.dim, 1)
        self.weather_head = nn.Linear(2 * cfg.dim, len(cfg.weathers))
        self.lighting_head = nn.Linear(2 * cfg.dim, len(cfg.lightings))
        self.event_head = nn.Linear(2 * cfg.dim, len(cfg.events))
        self.eval()

    # ------------------------------------------------------------------ forward

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (per-frame features ``[B, T, dim]``, clip features ``[B, 2 * dim]``, the location
        logits ``[B*T, K+1, h3, w3]``)."""
        check_clip_tensor(x, self.config.size)
        p = next(self.parameters())
        b, t = x.shape[:2]
        mid = self.encoder[:WHERE_STAGE](x.to(device=p.device, dtype=p.dtype).flatten(0, 1))  # [B*T, C3, h3, w3]
        where = self.where_head(mid)  # [B*T, K+1, h3, w3]
        maps = self.encoder[WHERE_STAGE:](mid)  # [B*T, C, h, w]
        # The location maps join the features: a pedestrian of a few pixels is one cell of the
        # third stage and nearly gone after the fourth, and which kind is where (on the road, over
        # the centre line) is what tells the events apart.
        cells = torch.cat([maps.flatten(1), maps.amax(dim=(2, 3)), where.sigmoid().flatten(1)],
                          dim=1)  # [B*T, C*h*w + C + (K+1)*h3*w3]
        h = self.project(cells).unflatten(0, (b, t))  # [B, T, dim]
        h = self.mixer(h.transpose(1, 2)).transpose(1, 2)  # mixed over frames, [B, T, dim]
        h = self.norm(h)
        return h, torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1), where

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` float ``[B, T, 3, H, W]`` in [-1, 1] at the config size -> (per-frame features ``[B, T, dim]``,
        clip features ``[B, 2 * dim]``: mean and max of those over frames)."""
        h, clip, _ = self._encode(x)
        return h, clip

    def forward(self, x: torch.Tensor) -> ReaderLogits:
        """``x`` float ``[B, T, 3, H, W]`` in [-1, 1] at the config size -> :class:`ReaderLogits`."""
        h, clip, where = self._encode(x)
        where = where.unflatten(0, x.shape[:2])  # [B, T, K+1, h3, w3]
        return ReaderLogits(self.weather_head(clip), self.lighting_head(clip), self.event_head(clip),
                            self.kinds_head(h), self.active_head(h).squeeze(-1), where)

    # ------------------------------------------------------------------ inference

    def prepare(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 ``[T, H, W, 3]`` -> float ``[1, T, 3, h, w]`` in [-1, 1] at the config size, on the
        model's device (a reader validated on a GPU during training)."""
        return prepare_frames(frames, self.config.size).to(next(self.parameters()).device)

    def _eval_mode(self, fn):
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                return fn()
        finally:
            self.train(was_training)

    def read_clip(self, frames: np.ndarray) -> dict:
        """Read one clip (uint8 ``[T, H, W, 3]``, T >= 1, any size): see the module docstring
        for the keys. Labels are the argmax of each clip head; per-frame booleans are the
        probabilities at :data:`THRESHOLD`."""
        x = self.prepare(frames)
        logits = self._eval_mode(lambda: self(x))
        cfg = self.config
        pw = logits.weather[0].float().softmax(-1).cpu().numpy()
        pl = logits.lighting[0].float().softmax(-1).cpu().numpy()
        pe = logits.event[0].float().softmax(-1).cpu().numpy()
        pk = logits.kinds[0].float().sigmoid().cpu().numpy()  # [T, K]
        pa = logits.active[0].float().sigmoid().cpu().numpy()  # [T]
        kinds = pk >= THRESHOLD
        return {
            "weather": cfg.weathers[int(pw.argmax())],
            "lighting": cfg.lightings[int(pl.argmax())],
            "event": cfg.events[int(pe.argmax())],
            "weather_probs": dict(zip(cfg.weathers, pw.tolist())),
            "lighting_probs": dict(zip(cfg.lightings, pl.tolist())),
            "event_probs": dict(zip(cfg.events, pe.tolist())),
            "kinds_visible": dict(zip(cfg.kinds, kinds.any(axis=0).tolist())),
            "kinds_per_frame": kinds,
            "kinds_probs": pk,
            "event_active": pa >= THRESHOLD,
            "event_active_probs": pa,
            "kinds": cfg.kinds,
        }

    def features(self, frames: np.ndarray) -> np.ndarray:
        """float32 ``[2 * dim]`` embedding of one clip (uint8 ``[T, H, W, 3]``): the mean and max
        over frames of the features the clip heads read (for a Fréchet distance, see above)."""
        x = self.prepare(frames)
        return self._eval_mode(lambda: self.embed(x)[1][0].float().cpu().numpy())


# --------------------------------------------------------------------------- verdict


def prompted_event_found(reader_out: dict, event_kind: str) -> bool:
    """Whether a clip the reader read (``read_clip``'s dict) shows the prompted ``event_kind``.

    The one definition used everywhere (training validation, the bundled weights' validity
    figures, the world-model evaluation): the clip's predicted event is the prompted one.
    For ``"none"`` that means no event was seen.

    The per-frame heads do not vote: "an agent of the event's kind is visible while some
    event is active" is true of most clips with any vehicle event (a car is nearly always
    in view), so it would credit a generator for a lead car braking when a cut-in was
    prompted (measured in cosmos_lite/eval/weights/scene-reader/metrics.json).
    """
    if not isinstance(reader_out, dict) or "event" not in reader_out:
        raise ValueError("reader_out must be the dict SceneReader.read_clip returns (it has no 'event')")
    if event_kind not in EVENT_ACTORS:
        raise ValueError(f"unknown event {event_kind!r}; choose one of {', '.join(EVENTS)}")
    return reader_out["event"] == event_kind
