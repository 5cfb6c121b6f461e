"""Roadside scenery: building fronts / tree lines (ray-cast per column) and sprites
(trees, street lamps, utility poles).

Scenery is generated in 100 m blocks, each from its own seed (scenario seed,
block index), so what stands at a given ``s`` never depends on how long the
clip is or where rendering starts (replay from frame t sees the same street).

Building fronts are two vertical surfaces at |d| = setback following the road.
Every image column's ray hits at most one of them first, so the wall pass is
a per-column ray march (W x K samples) plus a per-pixel mask built from 1-D
arrays: cheap, perspective-correct, with correct occlusion on bends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .road import CROSS_WIDTH, RoadGeometry

BLOCK = 100.0
FACE_DEPTH = 12.0  # m, how deep buildings are (their end faces show in gaps)

WALL_BUILDING, WALL_HOUSE, WALL_TREES = 0, 1, 2
SPRITE_TREE, SPRITE_LAMP, SPRITE_POLE = 0, 1, 2

_FACADES = np.array(
    [
        (0.62, 0.55, 0.46), (0.55, 0.33, 0.26), (0.50, 0.50, 0.50), (0.70, 0.68, 0.63),
        (0.42, 0.40, 0.38), (0.66, 0.58, 0.42), (0.48, 0.42, 0.40), (0.58, 0.60, 0.62),
    ],
    dtype=np.float32,
)
_HOUSES = np.array(
    [(0.78, 0.74, 0.62), (0.70, 0.72, 0.74), (0.80, 0.70, 0.58), (0.62, 0.68, 0.60), (0.74, 0.64, 0.64)],
    dtype=np.float32,
)
_TREES = np.array([(0.13, 0.25, 0.10), (0.16, 0.28, 0.12), (0.10, 0.20, 0.09), (0.18, 0.27, 0.10)], dtype=np.float32)


@dataclass(frozen=True)
class Scenery:
    # walls per side, index 0 = left (+d), 1 = right (-d); sorted by start
    starts: tuple[np.ndarray, np.ndarray]
    ends: tuple[np.ndarray, np.ndarray]
    heights: tuple[np.ndarray, np.ndarray]
    kinds: tuple[np.ndarray, np.ndarray]
    colors: tuple[np.ndarray, np.ndarray]
    # sprites
    sp_s: np.ndarray
    sp_d: np.ndarray
    sp_kind: np.ndarray
    sp_size: np.ndarray
    sp_color: np.ndarray  # [n, 3]


def _block(seed: int, k: int, geom: RoadGeometry):
    """Walls and sprites with s in [k*BLOCK, (k+1)*BLOCK)."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, 7, k + 100_000])
    lo, hi = k * BLOCK, (k + 1) * BLOCK
    walls = []  # (side, start, end, height, kind, color)
    sprites = []  # (s, d, kind, size, color)
    setting = geom.setting
    for side in (0, 1):
        sgn = 1.0 if side == 0 else -1.0
        s = lo - rng.uniform(0, 6)
        while s < hi:
            if setting == "urban":
                length, gap = rng.uniform(9, 28), (0.0 if rng.random() < 0.55 else rng.uniform(2, 6))
                walls.append((side, s, s + length, rng.uniform(7, 24), WALL_BUILDING, _FACADES[rng.integers(len(_FACADES))]))
            elif setting == "suburban":
                length, gap = rng.uniform(8, 14), rng.uniform(6, 16)
                walls.append((side, s, s + length, rng.uniform(4.5, 7.5), WALL_HOUSE, _HOUSES[rng.integers(len(_HOUSES))]))
                for _ in range(int(rng.integers(0, 3))):
                    sprites.append((s + length + rng.uniform(1, max(gap - 1, 1.5)), sgn * (geom.setback - rng.uniform(1, 3)),
                                    SPRITE_TREE, rng.uniform(0.8, 1.3), _TREES[rng.integers(len(_TREES))]))
            else:
                length, gap = rng.uniform(25, 90), rng.uniform(4, 40)
                walls.append((side, s, s + length, rng.uniform(7, 13), WALL_TREES, _TREES[rng.integers(len(_TREES))]))
            s += length + gap
        # street furniture along the kerb
        if setting == "urban":
            s = lo + rng.uniform(0, 25)
            while s < hi:
                sprites.append((s, sgn * (geom.curb + 0.5), SPRITE_LAMP, 1.0, (0.30, 0.31, 0.33)))
                s += 25.0
            s = lo + rng.uniform(0, 12)
            while s < hi:
                if rng.random() < 0.4:
                    sprites.append((s, sgn * (geom.curb + 1.4), SPRITE_TREE, rng.uniform(0.6, 0.9), _TREES[rng.integers(len(_TREES))]))
                s += rng.uniform(9, 16)
        elif setting == "suburban":
            s = lo + rng.uniform(0, 35)
            while s < hi:
                sprites.append((s, sgn * (geom.curb + 0.4), SPRITE_LAMP, 0.9, (0.32, 0.33, 0.35)))
                s += 35.0
        elif side == 1:
            s = lo + rng.uniform(0, 40)
            while s < hi:
                sprites.append((s, sgn * (geom.curb + 2.5), SPRITE_POLE, 1.0, (0.33, 0.27, 0.20)))
                s += 40.0
            s = lo + rng.uniform(0, 20)
            while s < hi:
                if rng.random() < 0.6:
                    sprites.append((s, sgn * (geom.curb + rng.uniform(3, 6)), SPRITE_TREE, rng.uniform(0.9, 1.5), _TREES[rng.integers(len(_TREES))]))
                s += rng.uniform(12, 30)
    return walls, sprites


def build_scenery(seed: int, geom: RoadGeometry, s_min: float, s_max: float) -> Scenery:
    walls, sprites = [], []
    for k in range(int(math.floor(s_min / BLOCK)), int(math.floor(s_max / BLOCK)) + 1):
        w, sp = _block(seed, k, geom)
        walls += w
        sprites += sp
    if geom.cross_at is not None:
        # keep the cross street open: cut walls and sprites back to its corners
        c0 = geom.cross_at - CROSS_WIDTH / 2 - geom.sidewalk
        c1 = geom.cross_at + CROSS_WIDTH / 2 + geom.sidewalk
        cut = []
        for side, a, b, h, kind, col in walls:
            if b <= c0 or a >= c1:
                cut.append((side, a, b, h, kind, col))
            else:
                if a < c0:
                    cut.append((side, a, c0, h, kind, col))
                if b > c1:
                    cut.append((side, c1, b, h, kind, col))
        walls = cut
        sprites = [sp for sp in sprites if not (c0 - 1 < sp[0] < c1 + 1)]
    out = {}
    for side in (0, 1):
        ws = sorted((w for w in walls if w[0] == side), key=lambda w: w[1])
        # clip overlaps (a block's last building meets the next block's first)
        for i in range(len(ws) - 1):
            if ws[i][2] > ws[i + 1][1]:
                ws[i] = ws[i][:2] + (ws[i + 1][1],) + ws[i][3:]
        out[side] = ws
    sp = sorted(sprites, key=lambda x: x[0])

    def col(side, i):
        return np.array([w[i] for w in out[side]], dtype=np.float64)

    return Scenery(
        starts=(col(0, 1), col(1, 1)),
        ends=(col(0, 2), col(1, 2)),
        heights=(col(0, 3), col(1, 3)),
        kinds=(col(0, 4).astype(np.int8), col(1, 4).astype(np.int8)),
        colors=tuple(np.array([w[5] for w in out[s]], dtype=np.float32).reshape(-1, 3) for s in (0, 1)),
        sp_s=np.array([x[0] for x in sp], dtype=np.float64),
        sp_d=np.array([x[1] for x in sp], dtype=np.float64),
        sp_kind=np.array([x[2] for x in sp], dtype=np.int8),
        sp_size=np.array([x[3] for x in sp], dtype=np.float64),
        sp_color=np.array([x[4] for x in sp], dtype=np.float32).reshape(-1, 3),
    )


@dataclass
class WallHits:
    x: np.ndarray  # [W] forward distance of the wall each column sees (inf: none)
    height: np.ndarray  # [W]
    color: np.ndarray  # [W, 3]
    kind: np.ndarray  # [W]
    facade: np.ndarray  # [W] coordinate along the facade (m), for windows
    face: np.ndarray  # [W] bool: an end face (perpendicular to the road)


def wall_hits(scn: Scenery, geom: RoadGeometry, a: np.ndarray, xs: np.ndarray,
              s_e: float, d_e: float, psi: float) -> WallHits:
    W = a.shape[0]
    c, sn = math.cos(psi), math.sin(psi)
    dir_x = c - a * sn
    dir_y = sn + a * c
    X = xs[None, :] * dir_x[:, None]
    d = d_e + xs[None, :] * dir_y[:, None] - geom.bend_near(s_e, X, xs[None, :])
    D = geom.setback
    hit_l = d >= D
    hit = hit_l | (d <= -D)
    has = hit.any(axis=1)
    k = hit.argmax(axis=1)
    k0 = np.maximum(k - 1, 0)
    cols = np.arange(W)
    d0, d1 = d[cols, k0], d[cols, k]
    left = hit_l[cols, k]
    target = np.where(left, D, -D)
    den = d1 - d0
    frac = np.where((k > 0) & (np.abs(den) > 1e-6), np.clip((target - d0) / np.where(den == 0, 1, den), 0, 1), 0.0)
    x_hit = xs[k0] + frac * (xs[k] - xs[k0])
    slope = np.abs(den) / np.maximum(xs[k] - xs[k0], 1e-3)  # |dd/dx| along the ray near the hit
    s_hit = s_e + x_hit * dir_x

    x_out = np.full(W, np.inf, dtype=np.float32)
    h_out = np.zeros(W, dtype=np.float32)
    c_out = np.zeros((W, 3), dtype=np.float32)
    k_out = np.zeros(W, dtype=np.int8)
    f_out = np.zeros(W, dtype=np.float32)
    face = np.zeros(W, dtype=bool)
    for side, sel in ((0, has & left), (1, has & ~left)):
        starts = scn.starts[side]
        if not sel.any() or starts.size == 0:
            continue
        sh = s_hit[sel]
        idx = np.searchsorted(starts, sh, side="right") - 1
        idx_c = np.maximum(idx, 0)
        inside = (idx >= 0) & (sh < scn.ends[side][idx_c])
        # rays through a gap may meet the end face of the next building
        nxt = np.minimum(idx + 1, starts.size - 1)
        ds = starts[nxt] - sh
        dx = dir_x[sel]
        xf = x_hit[sel] + ds / np.maximum(dx, 1e-3)
        depth_in = (xf - x_hit[sel]) * slope[sel]
        open_street = geom.in_crossing(sh, margin=geom.sidewalk + 1.0)
        use_face = ~inside & (idx + 1 < starts.size) & (ds > 0) & (depth_in < FACE_DEPTH) & (dx > 0.05) & ~open_street
        j = np.where(inside, idx_c, nxt)
        ok = inside | use_face
        xw = np.where(inside, x_hit[sel], xf)
        tgt = np.flatnonzero(sel)
        x_out[tgt] = np.where(ok, xw, np.inf)
        h_out[tgt] = scn.heights[side][j]
        c_out[tgt] = scn.colors[side][j] * np.where(use_face, 0.78, 1.0)[:, None]
        k_out[tgt] = scn.kinds[side][j]
        f_out[tgt] = np.where(inside, sh - starts[idx_c], depth_in)
        face[tgt] = use_face
    tl = k_out == WALL_TREES
    if tl.any():
        sw = s_hit[tl]
        h_out[tl] += 1.6 * np.sin(0.9 * sw) + 1.1 * np.sin(2.7 * sw + 1.0) + 0.6 * np.sin(6.1 * sw)
    return WallHits(x_out, h_out, c_out, k_out, f_out, face)
