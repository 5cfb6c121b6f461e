"""Inverse dynamics model (IDM): the ego actions a driving clip shows, read from its frames.

Judges whether a world model's clip follows the actions it was given: run the IDM on
the generated frames and compare with the commanded actions. Trained on the synthetic
driving scenes (:mod:`cosmos_lite.scenes`) against ``clip.actions``: per frame
(acceleration m/s^2, path curvature 1/m, + = left), action t held from frame t to t + 1.

What it looks at: curvature shows as yaw, a horizontal image motion of speed *
curvature per second, and acceleration as a change of the image's expansion between
consecutive frame pairs. So every frame pair (t, t + 1) is encoded as one image
(frame t, frame t + 1 and their difference: 9 channels) by four stride-2 conv stages
(GroupNorm, SiLU; 64x96 -> 4x6); the map is flattened, not pooled, because where a
motion is (left or right of the focus of expansion) is what tells turning from
speeding up. Residual 1-D convs over the pair features then read action t from pairs
t - k .. t + k: acceleration needs the next pair too, and speed (to turn yaw into
curvature) is best read over several. The last action acts after the last frame, so
nothing shows it: its pair feature is the last pair's, repeated (a continuation guess).

Targets are normalised: the network predicts ``(accel / accel_scale, curvature /
curvature_scale)`` (3 m/s^2 and 0.02 1/m by default, so :data:`~cosmos_lite.scenes.ACTION_RANGE`
spans about [-3, 1] and [-3, 3]: both heads see errors of similar size); :meth:`predict`
multiplies back to physical units.

Public API::

    from cosmos_lite.eval.idm import InverseDynamics

    idm = InverseDynamics.from_pretrained()     # bundled weights ("idm")
    actions = idm.predict(frames)               # uint8 [T, H, W, 3], T >= 2 -> float32 [T, 2]
    norm = idm(x)                               # x float [B, T, 3, h, w] in [-1, 1] -> [B, T, 2] normalised

Training (the lead adds a CLI later): :mod:`cosmos_lite.train.idm_task`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from cosmos_lite.eval.reader import (
    STAGES,
    TemporalMixer,
    check_clip_tensor,
    check_size,
    check_temporal,
    conv_stage,
    encoder_map_size,
    prepare_frames,
)
from cosmos_lite.pretrained import Pretrained, config_from_dict

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"  # instruments shipped with the package

# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class IDMConfig:
    size: tuple[int, int] = (64, 96)  # (H, W) the IDM runs at; clips are resized to it
    width: int = 24  # channels of the first conv stage; the stages have width * (1, 2, 3, 4)
    norm_groups: int = 8
    dim: int = 128  # per-pair feature width
    temporal_blocks: int = 3  # residual 1-D conv blocks over frame pairs
    temporal_kernel: int = 3  # pairs each temporal conv sees (odd)
    accel_scale: float = 3.0  # m/s^2 per unit of the normalised acceleration the network predicts
    curvature_scale: float = 0.02  # 1/m per unit of the normalised curvature

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", check_size("IDMConfig", self.size))
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise ValueError(f"IDMConfig.width must be an integer >= 1, got {self.width!r}")
        check_temporal("IDMConfig", self.dim, self.norm_groups, self.temporal_blocks, self.temporal_kernel)
        if self.width % self.norm_groups:
            raise ValueError(f"IDMConfig.width {self.width} must be a multiple of norm_groups {self.norm_groups}")
        for name in ("accel_scale", "curvature_scale"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise ValueError(f"IDMConfig.{name} must be a positive number, got {v!r}")
            object.__setattr__(self, name, float(v))

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in (1, 2, 3, 4))

    @property
    def scales(self) -> tuple[float, float]:
        """(accel, curvature) physical units per normalised unit."""
        return self.accel_scale, self.curvature_scale

    @property
    def map_size(self) -> tuple[int, int]:
        """(h, w) of the encoder's output map."""
        return encoder_map_size(self.size)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "IDMConfig":
        return config_from_dict(cls, d)


# --------------------------------------------------------------------------- model


class InverseDynamics(Pretrained, nn.Module):
    """Frame-pair conv encoder, temporal 1-D conv mixer, a linear head per frame."""

    config_class = IDMConfig
    bundled_dir = BUNDLED_DIR
    default_name = "idm"

    def __init__(self, config: IDMConfig | None = None):
        super().__init__()
        self.config = cfg = config or IDMConfig()
        chans = (9, *cfg.channels)
        self.encoder = nn.Sequential(*[conv_stage(chans[i], chans[i + 1], cfg.norm_groups) for i in range(STAGES)])
        mh, mw = cfg.map_size
        self.project = nn.Linear(chans[-1] * mh * mw, cfg.dim)
        self.mixer = TemporalMixer(cfg.dim, cfg.temporal_blocks, cfg.temporal_kernel, cfg.norm_groups)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, 2)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` float ``[B, T, 3, H, W]`` in [-1, 1] at the config size, T >= 2 ->
        normalised actions ``[B, T, 2]`` (accel / accel_scale, curvature / curvature_scale)."""
        check_clip_tensor(x, self.config.size, min_frames=2)
        p = next(self.parameters())
        x = x.to(device=p.device, dtype=p.dtype)
        b, t = x.shape[:2]
        pairs = torch.cat([x[:, :-1], x[:, 1:], x[:, 1:] - x[:, :-1]], dim=2)  # [B, T-1, 9, H, W]
        maps = self.encoder(pairs.flatten(0, 1))  # [B*(T-1), C, h, w]
        h = self.project(maps.flatten(1)).unflatten(0, (b, t - 1))  # [B, T-1, dim]
        h = torch.cat([h, h[:, -1:]], dim=1)  # the last action has no next frame: repeat the last pair, [B, T, dim]
        h = self.mixer(h.transpose(1, 2)).transpose(1, 2)  # [B, T, dim]
        return self.head(self.norm(h))

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """Actions of one clip: uint8 ``[T, H, W, 3]`` (T >= 2, any size; resized to the config
        size) -> float32 ``[T, 2]`` (acceleration m/s^2, curvature 1/m, + = left)."""
        # on the model's device: the IDM is validated on a GPU during training
        x = prepare_frames(frames, self.config.size, min_frames=2).to(next(self.parameters()).device)
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                out = self(x)[0].float().cpu().numpy()
        finally:
            self.train(was_training)
        return (out * np.asarray(self.config.scales, np.float32)).astype(np.float32)
