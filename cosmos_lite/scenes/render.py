"""Rendering a scenario into a labelled clip, and replaying it under new actions.

Per frame: sky -> ground plane (per pixel, from precomputed ray tables) ->
building fronts (per column ray march) -> objects far to near -> lighting ->
fog -> lamp glows -> bonnet -> rain / snow -> glare -> vignette. A frame is a
pure function of (scenario, time, ego state), which is what makes
:func:`replay` exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import draw
from .agents import Tracks, event_window, simulate
from .camera import FAR, MOUNT_HEIGHT, NEAR, Grids, grids
from .caption import caption as make_caption
from .driver import EgoState, drive, state_at
from .road import RoadGeometry, shade_ground
from .scenery import (
    SPRITE_LAMP,
    SPRITE_TREE,
    WALL_BUILDING,
    WALL_HOUSE,
    WALL_TREES,
    build_scenery,
    wall_hits,
)
from .spec import AGENT_KINDS, VEHICLE_KINDS, Scenario
from .weather import (
    Look,
    apply_fog,
    draw_glare,
    draw_particles,
    look_for,
    make_particles,
    night_light,
    sky_rows,
)

MAX_FRAMES = 100_000
FAR_SCENERY = 110.0  # m; trees and lamps further away are a pixel or two, lost in the haze


@dataclass(frozen=True, eq=False)
class AgentLabels:
    """Per-frame agent states. Arrays are [T, N] over frames and agents.

    position: ego frame (x forward, y left, z up; m) of the agent's box centre.
    box: (u0, v0, u1, v1) pixel box of the projected 3-D box, clipped to the image;
    NaN where the agent is behind the camera, absent or off-image.
    visible: at least one of its pixels is drawn (not absent, off-image, or hidden
    behind nearer objects / buildings; fog does not count). pixels: how many.
    """

    kinds: tuple[str, ...]
    roles: tuple[str, ...]  # parked, traffic, oncoming, walker, other, event, setup
    is_event: np.ndarray  # [N] bool: the event's agent
    exists: np.ndarray  # [T, N] bool
    position: np.ndarray  # [T, N, 3] float32
    box: np.ndarray  # [T, N, 4] float32
    visible: np.ndarray  # [T, N] bool
    pixels: np.ndarray  # [T, N] int32
    braking: np.ndarray  # [T, N] bool (brake lights on)

    def frame(self, t: int) -> list[dict]:
        """JSON-ready list of the agents present at frame t."""
        out = []
        for j in np.flatnonzero(self.exists[t]):
            out.append({
                "id": int(j), "kind": self.kinds[j], "role": self.roles[j], "event": bool(self.is_event[j]),
                "position": [round(float(v), 3) for v in self.position[t, j]],
                "box": None if np.isnan(self.box[t, j, 0]) else [round(float(v), 2) for v in self.box[t, j]],
                "visible": bool(self.visible[t, j]), "pixels": int(self.pixels[t, j]),
                "braking": bool(self.braking[t, j]),
            })
        return out


@dataclass(frozen=True, eq=False)
class SceneClip:
    """A rendered clip. Frame k of the clip is scene frame ``start_frame + k``."""

    scenario: Scenario
    frames: np.ndarray  # uint8 [T, H, W, 3]
    actions: np.ndarray  # float32 [T, 2]: (acceleration m/s^2, curvature 1/m, + left)
    speed: np.ndarray  # float32 [T] ego speed m/s
    ego: np.ndarray  # float64 [T, 4] ego (s, d, heading, speed) in road coordinates
    agents: AgentLabels
    caption: str
    fps: float
    start_frame: int = 0

    def ego_state(self, frame: int) -> EgoState:
        """Ego state at scene frame ``frame`` (for :func:`replay`)."""
        k = frame - self.start_frame
        if not 0 <= k < self.ego.shape[0]:
            raise ValueError(f"frame {frame} is outside this clip (frames {self.start_frame}..{self.start_frame + self.ego.shape[0] - 1})")
        return state_at(self.ego, k)

    def visible_kinds(self, min_height: float = 4.0) -> np.ndarray:
        """bool [T, len(AGENT_KINDS)]: which agent kinds can be seen in each frame.

        A kind counts when one of its agents has a box at least ``min_height`` px tall and
        at least ``min_height`` pixels drawn, so neither a speck in the distance nor a sliver
        peeking out from behind cover counts (a reader cannot see less than that).
        """
        if isinstance(min_height, bool) or not isinstance(min_height, (int, float, np.integer, np.floating)) or not (
            math.isfinite(min_height) and min_height >= 0
        ):
            raise ValueError(f"min_height must be a number of pixels >= 0, got {min_height!r}")
        lab = self.agents
        with np.errstate(invalid="ignore"):  # NaN boxes (off-image) compare False
            tall = (lab.box[..., 3] - lab.box[..., 1]) >= min_height
        seen = lab.visible & tall & (lab.pixels >= min_height)
        out = np.zeros((seen.shape[0], len(AGENT_KINDS)), bool)
        for j, kind in enumerate(lab.kinds):
            out[:, AGENT_KINDS.index(kind)] |= seen[:, j]
        return out

    def event_active(self) -> np.ndarray:
        """bool [T]: frames during the scripted event, from its onset until it is over (its
        agent has crossed, stopped, cut in, ... see :func:`~.agents.event_window`); all
        False for "none". The event's name is ``scenario.event.kind``."""
        window = event_window(self.scenario, RoadGeometry.from_road(self.scenario.road))
        times = (self.start_frame + np.arange(self.frames.shape[0])) / self.fps
        if window is None:
            return np.zeros(times.shape, bool)
        # the same tolerance as an entering agent's existence, so both start on one frame
        return (times >= window[0] - 1e-9) & (times < window[1] - 1e-9)


# --------------------------------------------------------------------------- validation


def _check_args(sc: Scenario, num_frames: int, size, fps: float) -> tuple[int, int, int, float]:
    if not isinstance(sc, Scenario):
        raise ValueError(f"expected a Scenario, got {type(sc).__name__}")
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or not 1 <= num_frames <= MAX_FRAMES:
        raise ValueError(f"num_frames must be an integer in [1, {MAX_FRAMES}], got {num_frames!r}")
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"size must be (height, width), got {size!r}") from None
    for name, v in (("height", h), ("width", w)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 16 <= v <= 4096:
            raise ValueError(f"size {name} must be an integer in [16, 4096], got {v!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) or not (
        math.isfinite(fps) and 0 < fps <= 1000
    ):
        raise ValueError(f"fps must be a positive number (at most 1000), got {fps!r}")
    return int(num_frames), int(h), int(w), float(fps)


def _check_actions(actions, n: int | None) -> np.ndarray:
    a = np.asarray(actions, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"actions must have shape [T, 2] (accel m/s^2, curvature 1/m), got {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"actions has {a.shape[0]} rows but the clip has {n} frames")
    if not np.isfinite(a).all():
        raise ValueError("actions must be finite")
    return a


# --------------------------------------------------------------------------- per-clip context


class _Context:
    """Everything constant over a clip: tables, colours, scenery, particles."""

    def __init__(self, sc: Scenario, g: Grids, tracks: Tracks, states: np.ndarray, fps: float):
        self.sc, self.g, self.tracks, self.fps = sc, g, tracks, fps
        self.geom = RoadGeometry.from_road(sc.road)
        self.look: Look = look_for(sc)
        look = self.look
        H, W = g.cam.height, g.cam.width
        rng = np.random.default_rng([sc.seed & 0xFFFFFFFF, sc.seed >> 32, 5])
        self.tex = rng.uniform(-1, 1, 1024).astype(np.float32)
        self.skyline_phase = rng.uniform(0, 2 * math.pi, 4)
        s_min = float(states[:, 0].min()) - 40.0
        s_max = float(states[:, 0].max()) + FAR + 40.0
        self.scenery = build_scenery(sc.seed, self.geom, s_min, s_max)
        self.particles = make_particles(sc, look, H, W)
        self.sky = np.ascontiguousarray(np.broadcast_to(sky_rows(look, g.rows, g.cam.cy), (3, H, W)))
        light = look.ambient * look.tint
        hood = (look.hood * light)[:, None, None] + g.hood_shade[None] * (look.sky_horizon * (0.5 if look.night else 1.0))[:, None, None]
        self.hood_idx = np.nonzero(g.hood)
        self.hood_rgb = hood[:, self.hood_idx[0], self.hood_idx[1]].astype(np.float32)
        self.vignette = (1.0 - 0.28 * g.radial**2).astype(np.float32)
        self.light = (look.ambient * look.tint).astype(np.float32)[:, None, None]
        hz = g.hz
        fres = np.exp(-(np.arange(H - hz, dtype=np.float32) / max(0.12 * H, 1.0)))[None, :, None]
        self.wet_sheen = ((0.35 * look.wet) * fres * look.sky_horizon[:, None, None]).astype(np.float32)
        self.agent_seed = [(sc.seed * 7919 + j * 104729) & 0xFFFF for j in range(tracks.n)]
        self.skyline_col = (np.array([0.36, 0.40, 0.47] if sc.road.setting == "urban" else [0.26, 0.33, 0.24],
                                     np.float32)[:, None, None])
        self.colors = tracks.colors[:, :, None, None].copy()
        self.sp_colors = self.scenery.sp_color[:, :, None, None] * (1.0 - 0.15 * look.snow) + 0.3 * look.snow * (
            self.scenery.sp_kind == SPRITE_TREE)[:, None, None, None]
        self.sp_colors = self.sp_colors.astype(np.float32)
        self.animal_colors = {"deer": draw.C(0.45, 0.30, 0.17), "dog": draw.C(0.50, 0.38, 0.24)}
        self.glass = draw.C(0.16, 0.20, 0.25)
        self.roof = draw.C(0.38, 0.22, 0.18)
        self.lit_window = draw.C(0.95, 0.78, 0.45)
        self.depth = np.empty((H, W), np.float32)
        self.occ = np.empty((H, W), np.float32)


def _to_ego(ctx: _Context, s: np.ndarray, d: np.ndarray, st: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s_e, d_e, psi = float(st[0]), float(st[1]), float(st[2])
    X = s - s_e
    Y = d + ctx.geom.bend(s_e, X)
    dy = Y - d_e
    c, sn = math.cos(psi), math.sin(psi)
    return X * c + dy * sn, -X * sn + dy * c


def _skyline(ctx: _Context, rgb: np.ndarray, depth: np.ndarray, road_heading: float) -> None:
    """Distant skyline / hills: fixed in world direction, so they pan as the car turns."""
    g, cam = ctx.g, ctx.g.cam
    az = np.arctan(g.a) + road_heading
    ph = ctx.skyline_phase
    if ctx.geom.setting == "urban":
        elev = 0.03 + 0.025 * (np.sin(7 * az + ph[0]) > 0.2) + 0.02 * (np.sin(17 * az + ph[1]) > 0.5)
    else:
        elev = 0.012 + 0.012 * (np.sin(3 * az + ph[2]) + 1) + 0.006 * np.sin(11 * az + ph[3])
    top = (cam.cy - cam.f * elev).astype(np.float32)
    r0 = max(int(top.min()), 0)
    if r0 >= g.hz:
        return
    sk = g.rows[r0:g.hz] >= top[None, :]
    np.copyto(rgb[:, r0:g.hz], ctx.skyline_col, where=sk)
    depth[r0:g.hz][sk] = 700.0


def _walls(ctx: _Context, rgb: np.ndarray, depth: np.ndarray, occ: np.ndarray, s_e: float, d_e: float,
           psi: float):
    """Building fronts / tree lines. Returns ((row0, row1, lit-window mask) at night or None,
    the wall depth per column)."""
    g, cam, look = ctx.g, ctx.g.cam, ctx.look
    H, W = cam.height, cam.width
    wh = wall_hits(ctx.scenery, ctx.geom, g.a, g.wall_x, s_e, d_e, psi)
    finite = np.isfinite(wh.x)
    if not finite.any():
        return None, wh.x
    xw = np.where(finite, wh.x, 1e9).astype(np.float32)
    vt = cam.cy - cam.f * (wh.height - MOUNT_HEIGHT) / xw
    vb = cam.cy + cam.f * MOUNT_HEIGHT / xw
    r0 = max(int(vt[finite].min()), 0)
    r1 = min(int(vb[finite].max()) + 1, H)
    if r1 <= r0:
        return None, wh.x
    m = (g.rows[r0:r1] >= vt) & (g.rows[r0:r1] < vb)
    z = MOUNT_HEIGHT + g.b[r0:r1, None] * xw[None, :]
    fc, kind, wht = wh.facade, wh.kind, wh.height
    bld = kind == WALL_BUILDING
    house = kind == WALL_HOUSE
    # windows: a grid in (facade coordinate, height); shop fronts on the ground floor
    fb = fc - np.floor(fc * (1 / 3.4)) * 3.4
    fh = fc - np.floor(fc * (1 / 4.6)) * 4.6
    f7 = fc - np.floor(fc * (1 / 7.0)) * 7.0
    wcol_b = (fb > 0.9) & (fb < 2.5) & bld
    wcol_h = (fh > 1.3) & (fh < 2.9) & house
    shop = bld & (f7 > 0.6) & (f7 < 6.2)
    zm = z - np.floor(z * (1 / 3.2)) * 3.2
    win = wcol_b & (zm > 1.0) & (zm < 2.3) & (z > 3.4) & (z < wht - 0.9)
    win |= wcol_h & (((z > 1.0) & (z < 2.2)) | ((z > 3.5) & (z < 4.4) & (wht > 6.0)))
    win |= shop & (z > 0.3) & (z < 2.7)
    roof = house & (z > wht - 1.6)
    # darker towards the ground (ambient occlusion); leafy stripes on tree lines
    shade = 0.82 + 0.18 * np.minimum(z * (1 / 6.0), 1.0)
    trees = kind == WALL_TREES
    if trees.any():
        shade = shade * (1.0 + trees * (0.22 * np.sin(fc * 5.1)) * np.sin(z * 3.3 + fc * 1.7))
    sub = rgb[:, r0:r1]
    for c in range(3):
        ch = wh.color[:, c] * shade
        np.copyto(sub[c], ch, where=m)
    np.copyto(sub, ctx.glass, where=win & m)
    np.copyto(sub, ctx.roof, where=roof & m)
    np.copyto(depth[r0:r1], xw, where=m)
    np.copyto(occ[r0:r1], xw, where=m)
    if look.night:
        # some windows are lit: a hash of (window column, floor)
        cell = ((fc * (1 / 3.4)).astype(np.int32) * 31 + (z * (1 / 3.2)).astype(np.int32) * 17) & 1023
        return (r0, r1, win & m & (ctx.tex[cell] > 0.45)), wh.x
    return None, wh.x


def _objects(ctx: _Context, cv: draw.Canvas, i: int, st: np.ndarray) -> None:
    """Scenery sprites and agents, far to near."""
    scn, look, geom, tr = ctx.scenery, ctx.look, ctx.geom, ctx.tracks
    s_e, psi = float(st[0]), float(st[2])
    xs, ys, halves, agent, index = [], [], [], [], []
    if scn.sp_s.size:
        lo, hi = np.searchsorted(scn.sp_s, [s_e - 5.0, s_e + FAR + 10.0])
        if hi > lo:
            sx, sy = _to_ego(ctx, scn.sp_s[lo:hi], scn.sp_d[lo:hi], st)
            # cull: behind, beyond draw distance, outside the view cone
            keep = np.flatnonzero((sx > NEAR) & (sx < FAR_SCENERY) & (np.abs(sy) < sx * 0.8 + 4))
            xs.append(sx[keep]), ys.append(sy[keep]), index.append(lo + keep)
            halves.append(np.where(scn.sp_kind[lo + keep] == SPRITE_TREE, 2.5, 2.0))
            agent.append(np.zeros(keep.size, bool))
    head = None
    if tr.n:
        ax, ay = _to_ego(ctx, tr.s[i], tr.d[i], st)
        head = tr.heading[i] + (geom.theta(tr.s[i]) - geom.theta(s_e) if geom.breaks else 0.0) - psi
        keep = np.flatnonzero(tr.exists[i] & (ax + tr.dims[:, 0] > NEAR) & (ax < FAR))
        xs.append(ax[keep]), ys.append(ay[keep]), index.append(keep)
        halves.append(tr.dims[keep, :2].max(axis=1) / 2 + 0.5)
        agent.append(np.ones(keep.size, bool))
    if not xs:
        return
    x_all, y_all, half = np.concatenate(xs), np.concatenate(ys), np.concatenate(halves)
    is_agent, idx = np.concatenate(agent), np.concatenate(index)
    if x_all.size == 0:
        return
    # could a building front hide part of it (on a bend)? Compare with the wall depth in the
    # columns of its two edges and centre; if so, draw it depth-tested
    k = cv.f / np.maximum(x_all - half, NEAR)
    cols = np.stack([cv.cx - (y_all + half) * k, cv.cx - y_all * k, cv.cx - (y_all - half) * k])
    cols = np.clip(cols, 0, cv.W - 1).astype(np.int64)
    hidden = (cv.occ_cols[cols] < (x_all + half)).any(axis=0)
    for j in np.argsort(-x_all, kind="stable"):
        x, y, k = float(x_all[j]), float(y_all[j]), int(idx[j])
        cv.test = bool(hidden[j])
        if not is_agent[j]:
            kind = scn.sp_kind[k]
            cv.ident = -1
            col = ctx.sp_colors[k]
            if kind == SPRITE_TREE:
                draw.tree(cv, x, y, float(scn.sp_size[k]), col)
            elif kind == SPRITE_LAMP:
                draw.lamp(cv, x, y, look.night, col)
            else:
                draw.pole(cv, x, y, col)
            continue
        kind = tr.kinds[k]
        L, Wd, Ht = tr.dims[k]
        h = float(head[k])
        ch, shh = math.cos(h), math.sin(h)
        cv.ident = k
        col = ctx.colors[k]
        if kind in VEHICLE_KINDS:
            facing = "rear" if ch > 0.7 else ("front" if ch < -0.7 else ("side+" if shh > 0 else "side-"))
            on = bool(tr.hazard[i, k]) and (i / ctx.fps) % 1.0 < 0.5  # hazard lights blink at 1 Hz
            draw.vehicle(cv, kind, x, y, L, Wd, Ht, facing, col, bool(tr.braking[i, k]), on, look.night)
        elif kind in ("pedestrian", "child"):
            draw.person(cv, x, y, Ht, float(tr.phase[i, k]), abs(shh) > 0.5, col, ctx.agent_seed[k])
        elif kind == "cyclist":
            draw.cyclist(cv, x, y, float(tr.phase[i, k]), abs(shh) > 0.7, col, look.night)
        elif kind in ("deer", "dog"):
            draw.animal(cv, kind, x, y, L, Ht, float(tr.phase[i, k]), abs(shh) > 0.5, ctx.animal_colors[kind],
                        1.0 if shh > 0 else -1.0, look.night)
        else:
            draw.debris(cv, kind, x, y, float(tr.z[i, k]), (L, Wd, Ht))


def _render_frame(ctx: _Context, i: int, st: np.ndarray, rgb: np.ndarray, ids: np.ndarray) -> None:
    """Render scene frame i seen from ego state st into the planar float buffer rgb [3, H, W]."""
    g, geom, look = ctx.g, ctx.geom, ctx.look
    H, W = g.cam.height, g.cam.width
    s_e, d_e, psi = float(st[0]), float(st[1]), float(st[2])
    c, sn = math.cos(psi), math.sin(psi)
    road_heading = float(geom.theta(s_e)) + psi

    np.copyto(rgb, ctx.sky)
    depth, occ = ctx.depth, ctx.occ
    depth.fill(np.inf)
    occ.fill(np.inf)
    ids.fill(-1)
    _skyline(ctx, rgb, depth, road_heading)

    # ground plane: road coordinates of every ground pixel from the per-size ray tables
    hz = g.hz
    xg, yg = g.ground_x, g.ground_y
    X = xg * c - yg * sn
    d = (d_e + xg * sn) + yg * c
    if geom.breaks:
        d -= geom.bend_near(s_e, X, xg)
    rgb[:, hz:] = shade_ground(geom, look.palette, s_e + X, d, g.fp_lat, g.fp_lon, g.inv_lat, g.inv_lon,
                               ctx.tex, look.snow)
    if look.wet:
        rgb[:, hz:] += ctx.wet_sheen  # wet asphalt mirrors the sky near the horizon
    depth[hz:] = xg

    lit, wall_cols = _walls(ctx, rgb, depth, occ, s_e, d_e, psi)
    cv = draw.Canvas(g, rgb, depth, ids, occ, wall_cols)
    _objects(ctx, cv, i, st)

    # light, fog, lamps
    if look.night:
        night_light(rgb, depth, g, look)
        rgb *= ctx.light / look.ambient
        if lit is not None:
            r0, r1, mask = lit
            np.copyto(rgb[:, r0:r1], ctx.lit_window, where=mask)
    elif look.ambient != 1.0 or (look.tint != 1.0).any():
        rgb *= ctx.light
    apply_fog(rgb, depth, look)
    if cv.lights:
        draw.glow(rgb, cv.lights, look.visibility)

    # bonnet, particles, glare, lens
    rgb[:, ctx.hood_idx[0], ctx.hood_idx[1]] = ctx.hood_rgb
    ids[g.hood] = -1
    if ctx.particles is not None:
        draw_particles(rgb, ctx.particles, g, look, i / ctx.fps, s_e, d_e)
    if look.glare > 0:
        draw_glare(rgb, g, look, road_heading)
    rgb *= ctx.vignette


def _labels(ctx: _Context, states: np.ndarray, rows: np.ndarray, pixels: np.ndarray) -> AgentLabels:
    tr, cam, geom = ctx.tracks, ctx.g.cam, ctx.geom
    T, N = states.shape[0], tr.n
    exists = tr.exists[rows]
    if N == 0:
        return AgentLabels(tr.kinds, tr.roles, tr.is_event.copy(), exists, np.zeros((T, 0, 3), np.float32),
                           np.zeros((T, 0, 4), np.float32), pixels > 0, pixels, tr.braking[rows])
    # everything as [T, N]: agents in the ego frame of each frame
    s_e, d_e, psi = (states[:, k:k + 1] for k in range(3))
    X = tr.s[rows] - s_e
    kb, th = geom._k2(s_e), geom.theta(s_e)
    bend = geom._k2(s_e + X) - kb - th * X if geom.breaks else 0.0
    dy = tr.d[rows] + bend - d_e
    c, sn = np.cos(psi), np.sin(psi)
    x, y = X * c + dy * sn, -X * sn + dy * c
    z0 = tr.z[rows]
    z1 = z0 + tr.dims[:, 2]
    along = np.abs(np.cos(tr.heading[rows] - psi)) > 0.7
    ex = np.where(along, tr.dims[:, 0], tr.dims[:, 1]) / 2
    ey = np.where(along, tr.dims[:, 1], tr.dims[:, 0]) / 2
    xn, xf = np.maximum(x - ex, NEAR), x + ex
    with np.errstate(divide="ignore", invalid="ignore"):
        us = np.stack([cam.cx - cam.f * yy / xx for xx in (xn, xf) for yy in (y - ey, y + ey)])
        vs = np.stack([cam.cy - cam.f * (zz - MOUNT_HEIGHT) / xx for xx in (xn, xf) for zz in (z0, z1)])
    box = np.stack([us.min(0).clip(0, cam.width), vs.min(0).clip(0, cam.height),
                    us.max(0).clip(0, cam.width), vs.max(0).clip(0, cam.height)], axis=-1)
    ok = exists & (xf > NEAR) & (box[..., 2] > box[..., 0]) & (box[..., 3] > box[..., 1])
    box[~ok] = np.nan
    pos = np.stack([x, y, (z0 + z1) / 2], axis=-1)
    return AgentLabels(
        kinds=tr.kinds, roles=tr.roles, is_event=tr.is_event.copy(), exists=exists,
        position=pos.astype(np.float32), box=box.astype(np.float32),
        visible=pixels > 0, pixels=pixels, braking=tr.braking[rows] & exists,
    )


def _render_rows(sc: Scenario, tracks: Tracks, states: np.ndarray, rows: np.ndarray, height: int, width: int,
                 fps: float) -> tuple[np.ndarray, AgentLabels]:
    g = grids(height, width)
    ctx = _Context(sc, g, tracks, states, fps)
    T = states.shape[0]
    frames = np.empty((T, height, width, 3), np.uint8)
    ids = np.empty((height, width), np.int16)
    buf = np.empty((3, height, width), np.float32)
    pixels = np.zeros((T, tracks.n), np.int32)
    for t in range(T):
        _render_frame(ctx, int(rows[t]), states[t], buf, ids)
        np.multiply(buf, 255.0, out=buf)
        buf += 0.5
        np.clip(buf, 0.0, 255.0, out=buf)
        q = buf.astype(np.uint8)
        for ch in range(3):  # planar -> interleaved, one strided copy per channel
            frames[t, :, :, ch] = q[ch]
        if tracks.n:
            sel = ids[ids >= 0]
            pixels[t] = np.bincount(sel, minlength=tracks.n)[: tracks.n]
    return frames, _labels(ctx, states, rows, pixels)


# --------------------------------------------------------------------------- public


def render(scenario: Scenario, num_frames: int = 32, size: tuple[int, int] = (128, 192), fps: float = 10.0,
           actions: np.ndarray | None = None) -> SceneClip:
    """Render ``num_frames`` frames of ``scenario`` at ``size`` = (H, W) and ``fps``.

    Without ``actions`` the scripted driver drives (and the actions it took are
    returned); with ``actions`` (float32 [T, 2]) the ego follows them exactly.
    """
    num_frames, h, w, fps = _check_args(scenario, num_frames, size, fps)
    scenario.check_clip(num_frames, fps)
    if actions is not None:
        actions = _check_actions(actions, num_frames)
    geom = RoadGeometry.from_road(scenario.road)
    tracks = simulate(scenario, geom, num_frames, fps)
    states, taken = drive(scenario, geom, tracks, fps, num_frames, actions=actions)
    frames, labels = _render_rows(scenario, tracks, states, np.arange(num_frames), h, w, fps)
    return SceneClip(scenario, frames, taken, states[:, 3].astype(np.float32), states, labels,
                     make_caption(scenario), fps, 0)


def ego_actions(scenario: Scenario, num_frames: int = 32, fps: float = 10.0) -> np.ndarray:
    """float32 [T, 2]: the actions the ego driver takes in ``scenario`` (scripted driver plus
    its ``ego_behaviour``), exactly ``render(scenario, num_frames, fps=fps).actions``, without
    drawing a frame. Deterministic: a function of the spec, frame count and fps."""
    num_frames, _, _, fps = _check_args(scenario, num_frames, (16, 16), fps)
    scenario.check_clip(num_frames, fps)
    geom = RoadGeometry.from_road(scenario.road)
    return drive(scenario, geom, simulate(scenario, geom, num_frames, fps), fps, num_frames)[1]


def replay(scenario: Scenario, from_frame: int, actions: np.ndarray, size: tuple[int, int] = (128, 192),
           fps: float = 10.0, state: EgoState | None = None) -> SceneClip:
    """The true continuation of ``scenario`` from frame ``from_frame`` under ``actions`` [T2, 2].

    The ego starts from ``state`` (e.g. ``clip.ego_state(from_frame)``) or, by
    default, from where the scripted driver had brought it at that frame. The
    result covers scene frames from_frame .. from_frame + T2 - 1; given the
    original actions it equals ``render(...)`` frames from_frame onwards. Frame
    from_frame itself never depends on ``actions`` (action k acts after frame k).
    """
    if isinstance(from_frame, bool) or not isinstance(from_frame, (int, np.integer)) or from_frame < 0:
        raise ValueError(f"from_frame must be an integer >= 0, got {from_frame!r}")
    acts = _check_actions(actions, None)
    if acts.shape[0] < 1:
        raise ValueError("actions must hold at least one frame")
    total, h, w, fps = _check_args(scenario, int(from_frame) + acts.shape[0], size, fps)
    if state is not None and not isinstance(state, EgoState):
        raise ValueError(f"state must be an EgoState, got {type(state).__name__}")
    geom = RoadGeometry.from_road(scenario.road)
    tracks = simulate(scenario, geom, total, fps)
    if state is None:
        prefix, _ = drive(scenario, geom, tracks, fps, int(from_frame) + 1)
        state = state_at(prefix, int(from_frame))
    states, taken = drive(scenario, geom, tracks, fps, acts.shape[0], actions=acts, start=state, first=int(from_frame))
    rows = np.arange(int(from_frame), total)
    frames, labels = _render_rows(scenario, tracks, states, rows, h, w, fps)
    return SceneClip(scenario, frames, taken, states[:, 3].astype(np.float32), states, labels,
                     make_caption(scenario), fps, int(from_frame))


__all__ = ["AgentLabels", "SceneClip", "ego_actions", "render", "replay"]
