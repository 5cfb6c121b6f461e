"""Conditions: how weather and lighting change colours, visibility and particles.

A :class:`Look` collects every per-scenario constant the renderer needs; the
functions below apply the per-frame effects (fog by depth, night lighting from
the ego's headlights, low-sun glare, rain streaks and snowflakes as particles
in a world-anchored volume around the car, so they stream past as it drives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .camera import MOUNT_HEIGHT, Grids
from .spec import Scenario


@dataclass(frozen=True)
class Look:
    sky_top: np.ndarray  # [3]
    sky_horizon: np.ndarray
    haze: np.ndarray  # colour distant things fade to
    visibility: float  # m: fog factor = 1 - exp(-depth / visibility)
    ambient: float  # albedo multiplier (1 = clear day)
    tint: np.ndarray  # [3] colour of the light
    night: bool
    wet: float  # 0..1 wet road darkening and sheen
    snow: float  # 0..1 snow cover on the ground
    rain: float  # 0..1 rain streak density
    snowfall: float  # 0..1 snowflake density
    glare: float  # 0..1 low sun glare (dusk)
    sun_az: float  # rad, left of the road direction at s = 0
    sun_el: float
    palette: np.ndarray  # [6, 3] verge, sidewalk, asphalt, white paint, yellow paint, snow
    hood: np.ndarray  # [3] colour of the ego's bonnet


_VERGE = {"urban": (0.40, 0.38, 0.35), "suburban": (0.30, 0.42, 0.19), "rural": (0.36, 0.42, 0.21)}


def _c(*rgb: float) -> np.ndarray:
    return np.array(rgb, dtype=np.float32)


def look_for(sc: Scenario) -> Look:
    i = sc.intensity
    sky_top, sky_hor = _c(0.28, 0.48, 0.80), _c(0.70, 0.80, 0.92)
    haze = _c(0.74, 0.80, 0.88)
    vis, amb, wet, snow, rain, fall = 1200.0, 1.0, 0.0, 0.0, 0.0, 0.0
    overcast = 0.0
    if sc.weather == "rain":
        overcast = 1.0
        grey = _c(0.50, 0.52, 0.56)
        sky_top, sky_hor, haze = grey * 0.9, grey * 1.12, grey * 1.05
        vis, amb, wet, rain = 400.0 - 300.0 * i, 0.80 - 0.12 * i, 0.55 + 0.45 * i, 0.25 + 0.75 * i
    elif sc.weather == "fog":
        overcast = 1.0
        grey = _c(0.76, 0.77, 0.78)
        sky_top = sky_hor = haze = grey
        vis, amb = 110.0 - 90.0 * i, 0.92
    elif sc.weather == "snow":
        overcast = 1.0
        grey = _c(0.80, 0.82, 0.86)
        sky_top, sky_hor, haze = grey * 0.95, grey * 1.04, grey
        vis, amb, snow, fall = 320.0 - 230.0 * i, 0.98, 0.55 + 0.45 * i, 0.25 + 0.75 * i
    tint = _c(1.0, 1.0, 1.0)
    glare, night = 0.0, False
    rng = np.random.default_rng([sc.seed & 0xFFFFFFFF, sc.seed >> 32, 11])
    sun_az, sun_el = float(rng.uniform(-0.3, 0.3)), 0.035
    if sc.lighting == "dusk":
        dusk_top, dusk_hor = _c(0.20, 0.22, 0.42), _c(1.0, 0.62, 0.34)
        k = 1.0 - 0.7 * overcast
        sky_top = k * dusk_top + (1 - k) * sky_top * 0.55
        sky_hor = k * dusk_hor + (1 - k) * sky_hor * _c(0.9, 0.72, 0.6)
        haze = k * _c(0.85, 0.62, 0.46) + (1 - k) * haze * _c(0.8, 0.66, 0.56)
        amb *= 0.72
        tint = _c(1.10, 0.88, 0.70)
        glare = (0.45 + 0.55 * i) * k if sc.weather != "fog" else 0.15
    elif sc.lighting == "night":
        night = True
        glow = _c(0.11, 0.08, 0.06) if sc.road.setting == "urban" else _c(0.03, 0.035, 0.06)
        sky_top, sky_hor = _c(0.008, 0.01, 0.025), glow
        haze = glow * 0.9 + (0.05 if overcast else 0.0)
        amb = 0.10 + (0.06 if sc.weather == "snow" else 0.0)
        tint = _c(0.85, 0.9, 1.05)
    palette = np.stack([
        _c(*_VERGE[sc.road.setting]), _c(0.56, 0.55, 0.52), _c(0.27, 0.27, 0.29),
        _c(0.86, 0.86, 0.82), _c(0.86, 0.68, 0.14), _c(0.93, 0.94, 0.97),
    ])
    if wet:
        palette[:3] *= np.array([0.8, 0.72, 0.55], dtype=np.float32)[:, None] ** wet
    return Look(sky_top, sky_hor, haze, vis, amb, tint, night, wet, snow, rain, fall, glare, sun_az, sun_el,
                palette, _c(0.10, 0.11, 0.13))


def sky_rows(look: Look, rows: np.ndarray, cy: float) -> np.ndarray:
    """Planar sky colour per row [3, H, 1]: zenith colour high up, horizon colour near it."""
    t = np.clip(rows / max(cy, 1.0), 0, 1) ** 1.6  # [H, 1]
    return (look.sky_top[:, None, None] + t[None] * (look.sky_horizon - look.sky_top)[:, None, None]).astype(np.float32)


def apply_fog(rgb: np.ndarray, depth: np.ndarray, look: Look) -> None:
    """Depth-based fade to the haze colour. Sky pixels have depth inf: exp(-inf) = 0 would
    turn the sky into haze, so the sky keeps the colour it was drawn with (its own look)."""
    f = np.exp(np.minimum(depth, np.float32(3e4)) * np.float32(-1.0 / look.visibility))  # transmittance
    f[depth > 1e4] = 1.0
    for c in range(3):
        rgb[c] *= f
        rgb[c] += (1.0 - f) * look.haze[c]


def night_light(rgb: np.ndarray, depth: np.ndarray, g: Grids, look: Look) -> None:
    """Ambient moonlight plus the ego's low beams (direction pattern x distance falloff)."""
    dep = np.minimum(depth, np.float32(1e4))
    q = dep * np.float32(1 / 24.0)
    # low beams light the road and what stands on it, not the upper floors
    z = MOUNT_HEIGHT + g.b[:, None] * dep
    height = np.minimum(np.maximum(1.3 - 0.45 * z, 0.0), 1.0)
    light = look.ambient + (1.9 * g.beam) * height / (1.0 + q * q)
    rgb *= light


@dataclass(frozen=True)
class Particles:
    x: np.ndarray  # positions in a 24 x 20 x 6 m volume ahead of the car (world-anchored, wrapped)
    y: np.ndarray
    z: np.ndarray
    phase: np.ndarray
    snow: bool


def make_particles(sc: Scenario, look: Look, height: int, width: int) -> Particles | None:
    density = look.rain if look.rain else look.snowfall
    if density <= 0:
        return None
    rng = np.random.default_rng([sc.seed & 0xFFFFFFFF, sc.seed >> 32, 13, height, width])
    n = int(density * (0.022 if look.rain else 0.014) * height * width) + 8
    return Particles(rng.uniform(0, 24, n), rng.uniform(-10, 10, n), rng.uniform(0, 6, n),
                     rng.uniform(0, 2 * math.pi, n), snow=not look.rain)


def draw_particles(rgb: np.ndarray, p: Particles, g: Grids, look: Look, t: float, s_e: float, d_e: float) -> None:
    H, W = rgb.shape[1:]
    cam = g.cam
    x = 0.8 + np.mod(p.x - s_e, 24.0)
    y = np.mod(p.y - d_e + 10.0, 20.0) - 10.0
    if p.snow:
        z = np.mod(p.z - 1.1 * t, 6.0)
        y = y + 0.3 * np.sin(1.7 * t + p.phase)
    else:
        z = np.mod(p.z - 9.0 * t, 6.0)
    inv = cam.f / x
    u = cam.cx - y * inv
    v = cam.cy - (z - MOUNT_HEIGHT) * inv
    ok = (u >= 0) & (u < W) & (v >= 0) & (v < H)
    u, v, inv = u[ok].astype(np.int32), v[ok].astype(np.int32), inv[ok]
    if u.size == 0:
        return
    if p.snow:
        col = np.array([0.95, 0.95, 0.97], dtype=np.float32)[:, None] * (0.35 if look.night else 1.0)
        size = np.clip(0.045 * inv, 1, 3).astype(np.int32)
        vv, uu = [v], [u]
        for dy in range(3):
            for dx in range(3):
                if dy or dx:
                    m = (size > dy) & (size > dx)
                    vv.append(np.minimum(v[m] + dy, H - 1))
                    uu.append(np.minimum(u[m] + dx, W - 1))
        vv, uu = np.concatenate(vv), np.concatenate(uu)
        rgb[:, vv, uu] = 0.15 * rgb[:, vv, uu] + 0.85 * col
    else:
        col = np.array([0.78, 0.80, 0.84], dtype=np.float32)[:, None] * (0.45 if look.night else 1.0)
        length = np.clip(0.35 * inv, 2, H / 5).astype(np.int32)
        steps = np.arange(int(length.max()))
        vv = v[:, None] + steps[None, :]
        uu = u[:, None] + (steps[None, :] * 0.12).astype(np.int32)
        m = (steps[None, :] < length[:, None]) & (vv < H) & (uu < W)
        vv, uu = vv[m], uu[m]
        rgb[:, vv, uu] = 0.55 * rgb[:, vv, uu] + 0.45 * col


def draw_glare(rgb: np.ndarray, g: Grids, look: Look, heading: float) -> None:
    """Low sun ahead: disc, bloom and a veil that washes out contrast."""
    cam = g.cam
    az = look.sun_az - heading
    if abs(az) > 1.2:
        return
    us = cam.cx - cam.f * math.tan(az)
    vs = cam.cy - cam.f * math.tan(look.sun_el)
    scale = 1.0 / cam.width
    r2 = ((g.uu - us) * scale) ** 2 + ((g.rows - vs) * scale) ** 2
    sun = (1.0, 0.86, 0.62)
    bloom = look.glare * (1.6 * np.exp(-r2 * 900.0) + 0.45 * np.exp(-np.sqrt(r2) * 6.0)) + 0.12 * look.glare
    rgb *= 1.0 - 0.18 * look.glare
    for c in range(3):
        rgb[c] += bloom * sun[c]
