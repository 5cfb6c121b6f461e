"""Road geometry (centre-line curvature, lateral layout) and ground-plane shading.

The centre line's curvature is piecewise linear in ``s`` (a clothoid ramp into
a circular arc and back out), so heading and lateral offset have closed forms
(sums of ReLU powers): no numerical integration, any ``s`` in O(1).

Rendering works in a road-local frame at the ego's position: X along the road
tangent at ``s_ego``, Y to the left. The centre line there is Y = bend(X), the
small-angle double integral of curvature; a ground point's road coordinates are
``s = s_ego + X`` and ``d = Y - bend(X)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import Road

TRANSITION = 30.0  # m of clothoid into / out of a bend
DASH_PERIOD, DASH_LEN = 12.0, 4.0  # lane-divider dashes (m)
CROSS_WIDTH = 13.0  # cross street width at an intersection (m)

# lateral layout per setting: (shoulder / parking strip, sidewalk width, extra setback of the wall)
_LAYOUT = {
    "urban": (2.4, 3.2, 0.2),
    "suburban": (1.0, 1.8, 5.0),
    "rural": (0.9, 0.0, 8.0),
}


@dataclass(frozen=True)
class RoadGeometry:
    lane_width: float
    lanes: int
    edge: float  # |d| of the solid edge line
    curb: float  # |d| where the paved road ends
    sidewalk: float  # sidewalk width (0 = none)
    setback: float  # |d| of building fronts / tree lines
    breaks: tuple[float, ...]  # curvature = sum c_k relu(s - b_k)
    coefs: tuple[float, ...]
    cross_at: float | None  # centre of the crossing street (s), if any
    setting: str

    @classmethod
    def from_road(cls, road: Road) -> "RoadGeometry":
        shoulder, sidewalk, extra = _LAYOUT[road.setting]
        edge = road.lanes * road.lane_width
        curb = edge + shoulder
        breaks: tuple[float, ...] = ()
        coefs: tuple[float, ...] = ()
        if road.layout == "curve":
            k = road.curvature
            arc = min(0.75 / abs(k), 400.0)  # about a 45 degree turn, then straight again
            s0 = road.feature_at
            breaks = (s0, s0 + TRANSITION, s0 + arc, s0 + arc + TRANSITION)
            c = k / TRANSITION
            coefs = (c, -c, -c, c)
        return cls(
            lane_width=road.lane_width,
            lanes=road.lanes,
            edge=edge,
            curb=curb,
            sidewalk=sidewalk,
            setback=curb + sidewalk + extra,
            breaks=breaks,
            coefs=coefs,
            cross_at=road.feature_at if road.layout == "intersection" else None,
            setting=road.setting,
        )

    # ------------------------------------------------------------------ centre line

    def kappa(self, s):
        """Centre-line curvature at s (1/m, + left)."""
        if np.ndim(s) == 0:
            return sum(c * max(float(s) - b, 0.0) for b, c in zip(self.breaks, self.coefs))
        out = np.zeros_like(s)
        for b, c in zip(self.breaks, self.coefs):
            r = s - b
            out = out + c * 0.5 * (r + np.abs(r))
        return out

    def theta(self, s):
        """Road heading at s (rad, relative to the heading at s = 0)."""
        if np.ndim(s) == 0:
            return sum(c / 2 * max(float(s) - b, 0.0) ** 2 for b, c in zip(self.breaks, self.coefs))
        out = np.zeros_like(s)
        for b, c in zip(self.breaks, self.coefs):
            r = s - b
            r = 0.5 * (r + np.abs(r))
            out = out + (c / 2) * r * r
        return out

    def _k2(self, s):
        out = 0.0
        for b, c in zip(self.breaks, self.coefs):
            r = s - b
            r = (r + np.abs(r)) * 0.5  # relu; np.maximum with a scalar is slow
            out = out + (c / 6) * r * r * r
        return out

    def bend(self, s_ego: float, X):
        """Centre-line lateral offset at X metres ahead, in the road-local frame at s_ego."""
        if not self.breaks:
            return np.zeros_like(X) if isinstance(X, np.ndarray) else 0.0
        # python floats, so float32 pixel arrays stay float32
        k0, th = float(self._k2(s_ego)), float(self.theta(s_ego))
        return self._k2(s_ego + X) - k0 - th * X

    def bend_near(self, s_ego: float, X: np.ndarray, X0: np.ndarray) -> np.ndarray:
        """bend(X) for X close to a coarse grid X0 (broadcastable), by a first-order expansion
        around it: exact enough (error ~ curvature * (X - X0)^2 / 2) and far cheaper than the
        ReLU-cube sum per pixel."""
        if not self.breaks:
            return np.zeros_like(X)
        b0 = self.bend(s_ego, X0)
        slope = (self.theta(s_ego + X0) - float(self.theta(s_ego))).astype(X.dtype)
        return b0 + slope * (X - X0)

    def lane_center(self, lane: int, oncoming: bool = False) -> float:
        """d of a lane centre; lane 0 is next to the centre line."""
        d = (lane + 0.5) * self.lane_width
        return d if oncoming else -d

    @property
    def parking(self) -> float:
        """|d| of the parking strip centre."""
        return (self.edge + self.curb) / 2

    def in_crossing(self, s, margin: float = 0.0):
        if self.cross_at is None:
            return np.zeros_like(np.asarray(s), dtype=bool)
        return np.abs(np.asarray(s) - self.cross_at) < CROSS_WIDTH / 2 + margin


def _fmod(x: np.ndarray, p: float) -> np.ndarray:
    # np.mod on float32 is ~20x slower than this (it handles signs and infinities)
    return x - np.floor(x * (1.0 / p)) * p


def _box_cov(dist: np.ndarray, half: float, fp: np.ndarray, inv_fp: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Fraction of a pixel (footprint fp, centred at dist from a line's axis) covered by
    a line of half-width ``half``: an exact 1-D box filter, so thin far lines fade
    instead of flickering."""
    hi = np.minimum(dist + fp * 0.5, half * ones)
    lo = np.maximum(dist - fp * 0.5, -half * ones)
    return np.maximum((hi - lo) * inv_fp, 0 * ones)


def _dash_cov(s: np.ndarray, fp: np.ndarray, inv_fp: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Box-filtered square wave along s: dashes DASH_LEN long every DASH_PERIOD."""

    def integral(x):
        n = np.floor(x * (1 / DASH_PERIOD))
        return n * DASH_LEN + np.minimum(x - n * DASH_PERIOD, DASH_LEN * ones)

    half = fp * 0.5
    return (integral(s + half) - integral(s - half)) * inv_fp


def shade_ground(
    geom: RoadGeometry,
    palette: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    fp_lat: np.ndarray,
    fp_lon: np.ndarray,
    inv_lat: np.ndarray,
    inv_lon: np.ndarray,
    tex: np.ndarray,
    snow: float,
) -> np.ndarray:
    """Albedo of ground pixels (road coordinates s, d [Hg, W]) -> planar float32 [3, Hg, W].

    ``palette`` rows: verge, sidewalk, asphalt, white paint, yellow paint, snow.
    Arithmetic on float masks instead of np.where / fancy indexing: same result, faster.
    """
    f32 = np.float32
    ones = np.ones(d.shape, f32)
    ad = np.abs(d)
    road = ad < geom.curb
    walk = ad < geom.curb + geom.sidewalk
    crossing = None
    if geom.cross_at is not None:
        crossing = np.abs(s - geom.cross_at) < CROSS_WIDTH / 2
        cr = crossing & (ad < 80)
        road |= cr
        walk |= cr
    roadf = road.astype(f32)
    walkf = walk.astype(f32)

    # world-anchored texture: asphalt patches, paving slabs, grass tufts
    ci = ((s * 2.1).astype(np.int32) * 73 + (d * 2.1).astype(np.int32) * 151) & 1023
    noise = tex[ci]
    # darker wheel tracks in each lane (lane centre +-0.8 m)
    lw = geom.lane_width
    q = (np.abs(_fmod(d, lw) - lw / 2) - 0.8) * (1 / 0.35)
    track = np.maximum(ones - q * q, 0 * ones) * (ad < geom.edge)
    # fade the texture where a pixel covers many texture cells: it would only alias (flicker)
    amp = 0.05 * np.minimum(np.maximum(1.6 - fp_lon * 1.5, 0.0), 1.0)
    shade = 1.0 + amp * noise - 0.07 * track

    # lane lines at d = k * lane_width, |k| <= lanes: centre and edges solid, dividers dashed
    k = np.round(d * (1 / lw))
    ak = np.abs(k)
    cov = _box_cov(np.abs(d - k * lw), 0.08, fp_lat, inv_lat, ones)
    dash = _dash_cov(s, fp_lon, inv_lon, ones)
    solid = ((ak == geom.lanes) | (k == 0)).astype(f32)
    alpha = cov * (dash + solid * (1 - dash)) * (ak <= geom.lanes)
    yellow = (k == 0).astype(f32)
    if crossing is not None:
        alpha *= ~crossing
        # zebra crossings either side of the cross street, stop line on the ego side
        ds = s - geom.cross_at
        ads = np.abs(ds)
        band = (ads > CROSS_WIDTH / 2 + 0.8) & (ads < CROSS_WIDTH / 2 + 3.8) & (ad < geom.curb)
        stripes = _fmod(d, 1.2) < 0.6
        fade = np.minimum(np.maximum(1.6 - fp_lat * 2.0, 0.0), 1.0)
        stop = (ds > -(CROSS_WIDTH / 2 + 4.6)) & (ds < -(CROSS_WIDTH / 2 + 4.1)) & (d < 0) & (d > -geom.edge)
        alpha = np.maximum(alpha, (band & stripes | stop) * fade)
        yellow *= ~(band | stop)
    cover = None
    if snow > 0:
        # snow hides paint except where wheels cleared it
        on_road = snow * (0.9 - 0.75 * track)
        off_road = min(1.0, snow * 1.6)
        cover = off_road + roadf * (on_road - off_road) + (0.08 * snow) * noise
        cover = np.minimum(np.maximum(cover, 0 * ones), ones)
        alpha *= 1 - cover
    out = np.empty((3,) + d.shape, f32)
    P = palette
    for c in range(3):
        base = (P[0, c] + walkf * (P[1, c] - P[0, c]) + roadf * (P[2, c] - P[1, c])) * shade
        paint = P[3, c] + yellow * (P[4, c] - P[3, c])
        ch = base + alpha * (paint - base)
        if cover is not None:
            ch += cover * (P[5, c] - ch)
        out[c] = ch
    return out
