"""Pinhole dash camera fixed to the ego car, and the per-size pixel grids it implies.

Ego frame: x forward, y left, z up (m), origin on the ground below the camera.
The camera looks straight ahead (no pitch: vertical world edges stay vertical
in the image, so boxes can be drawn as slices); the horizon sits a little above
the image centre by offsetting the principal point, as a dash camera aimed
slightly down would show it.

A pixel (row v, column u) sees the ray (1, a[u], b[v]) * x, so everything about
the ground plane is separable per row / column and computed once per size.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

MOUNT_HEIGHT = 1.35  # m, camera above the road
HFOV_DEG = 72.0  # horizontal field of view
HORIZON_FRAC = 0.44  # horizon row as a fraction of the image height
NEAR = 0.6  # m, near clipping distance for drawn objects
FAR = 160.0  # m, draw distance for objects (fog/haze hides the rest)


@dataclass(frozen=True)
class Camera:
    height: int
    width: int

    @property
    def f(self) -> float:
        return (self.width / 2) / math.tan(math.radians(HFOV_DEG) / 2)

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def cy(self) -> float:
        return self.height * HORIZON_FRAC

    def project(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ego-frame points -> (u, v) pixel coordinates (continuous, pixel centres at +0.5)."""
        inv = self.f / x
        return self.cx - y * inv, self.cy - (z - MOUNT_HEIGHT) * inv


@dataclass(frozen=True)
class Grids:
    """Read-only per-size tables shared by every frame of that size."""

    cam: Camera
    a: np.ndarray  # [W] lateral slope of each column's ray (y / x), + left
    b: np.ndarray  # [H] vertical slope of each row's ray (z / x relative to the camera)
    hz: int  # first row whose ray hits the ground
    ground_x: np.ndarray  # [Hg, 1] forward distance of ground rows (Hg = H - hz)
    ground_y: np.ndarray  # [Hg, W] lateral offset of ground pixels
    fp_lat: np.ndarray  # [Hg, 1] lateral ground footprint of one pixel (m)
    fp_lon: np.ndarray  # [Hg, 1] longitudinal ground footprint of one pixel (m)
    inv_lat: np.ndarray  # [Hg, 1] 1 / fp_lat
    inv_lon: np.ndarray  # [Hg, 1] 1 / fp_lon
    rows: np.ndarray  # [H, 1] row centres
    wall_x: np.ndarray  # [K] sample distances for wall ray marching
    hood: np.ndarray  # [H, W] bool, the ego car's bonnet at the bottom of the frame
    hood_shade: np.ndarray  # [H, W] float32 highlight on the bonnet
    uu: np.ndarray  # [1, W] column centres
    radial: np.ndarray  # [H, W] distance from the image centre / half-diagonal (vignette)
    beam: np.ndarray  # [H, W] ego headlight pattern by direction (night)


def _ro(x: np.ndarray) -> np.ndarray:
    x.setflags(write=False)
    return x


@functools.lru_cache(maxsize=8)
def grids(height: int, width: int) -> Grids:
    cam = Camera(height, width)
    f, cx, cy = cam.f, cam.cx, cam.cy
    u = np.arange(width, dtype=np.float32) + 0.5
    v = np.arange(height, dtype=np.float32) + 0.5
    a = (cx - u) / f
    b = (cy - v) / f
    hz = int(np.searchsorted(-b, 1e-4))  # b decreases with v; first row clearly below the horizon
    bg = b[hz:]
    gx = np.minimum(MOUNT_HEIGHT / -bg, 2000.0).astype(np.float32)[:, None]
    gy = (gx * a[None, :]).astype(np.float32)
    fp_lat = (gx / f).astype(np.float32)
    # d x / d v = h f / (v - cy)^2 = x^2 / (h f)
    fp_lon = np.minimum(gx * gx / (MOUNT_HEIGHT * f), 1e4).astype(np.float32)

    # bonnet: a shallow arc across the bottom ~9 % of the frame
    un = (u - cx) / cx
    edge = height * (0.915 + 0.06 * un**2)
    hood = v[:, None] >= edge[None, :]
    shade = np.clip(1.0 - (v[:, None] - edge[None, :]) / (0.08 * height), 0, 1) ** 2
    shade = (0.35 * shade * np.exp(-((un[None, :] * 1.6) ** 2))).astype(np.float32)

    vv, uu = np.meshgrid(v, u, indexing="ij")
    radial = np.sqrt(((uu - cx) / cx) ** 2 + ((vv - height / 2) / (height / 2)) ** 2) / math.sqrt(2)
    # headlights: wide low beam, brightest straight ahead and slightly below the horizon
    ang = np.arctan(a)[None, :]
    beam = np.exp(-((ang / 0.42) ** 2)) * np.exp(-(np.maximum(b[:, None] + 0.02, 0) / 0.05) ** 2)

    return Grids(
        cam=cam,
        a=_ro(a.astype(np.float32)),
        b=_ro(b.astype(np.float32)),
        hz=hz,
        ground_x=_ro(gx),
        ground_y=_ro(gy),
        fp_lat=_ro(fp_lat),
        fp_lon=_ro(fp_lon),
        inv_lat=_ro((1.0 / fp_lat).astype(np.float32)),
        inv_lon=_ro((1.0 / fp_lon).astype(np.float32)),
        rows=_ro(v[:, None].astype(np.float32)),
        wall_x=_ro(np.geomspace(1.0, FAR * 1.5, 36).astype(np.float32)),
        hood=_ro(hood),
        hood_shade=_ro(shade),
        uu=_ro(u[None, :].astype(np.float32)),
        radial=_ro(radial.astype(np.float32)),
        beam=_ro(beam.astype(np.float32)),
    )
