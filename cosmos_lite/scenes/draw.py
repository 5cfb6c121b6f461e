"""Drawing primitives and the look of every object kind.

Buffers are planar (colour float32 [3, H, W]): numpy runs per-channel loops
over contiguous rows, several times faster than on an interleaved last axis.

Objects are drawn far to near (painter's order) as axis-aligned boxes in the
ego frame: camera-facing rectangles are array slices, side faces are
trapezoids with vertical edges (one row range per column). Each write also
stores the object's depth (for fog and lighting) and, for agents, its id, so
visibility labels come from the pixels actually drawn. Objects that a
building front might hide (on a bend) are drawn with a depth test against it.
Small (distant) objects get fewer parts: detail below a pixel costs time and
only adds aliasing.
"""

from __future__ import annotations

import math

import numpy as np

from .camera import MOUNT_HEIGHT, NEAR, Grids


def C(r: float, g: float, b: float) -> np.ndarray:
    """A colour shaped (3, 1, 1) to broadcast over planar slices."""
    return np.array((r, g, b), dtype=np.float32).reshape(3, 1, 1)


GLASS = C(0.10, 0.12, 0.15)
WINDSHIELD = C(0.20, 0.24, 0.29)
DARK = C(0.05, 0.05, 0.055)
TYRE = C(0.04, 0.04, 0.04)
CHASSIS = C(0.16, 0.16, 0.17)
PLATE = C(0.85, 0.85, 0.80)
RED_OFF, RED_ON = C(0.45, 0.04, 0.04), C(1.0, 0.12, 0.08)
AMBER = C(1.0, 0.62, 0.10)
HEAD = C(1.0, 0.97, 0.88)
SKIN = (C(0.87, 0.70, 0.56), C(0.62, 0.45, 0.33), C(0.42, 0.29, 0.20))
PANTS = (C(0.15, 0.17, 0.25), C(0.25, 0.22, 0.18), C(0.10, 0.10, 0.11))
HAIR = C(0.12, 0.09, 0.07)
HELMET = C(0.9, 0.9, 0.9)
BIKE = C(0.6, 0.1, 0.1)
TRUNK = C(0.26, 0.19, 0.12)
LAMP_DAY, LAMP_NIGHT = C(0.75, 0.76, 0.74), C(1.0, 0.86, 0.58)
EYES = C(0.9, 0.95, 0.7)
CARDBOARD, CARDBOARD_TOP, TAPE = C(0.58, 0.42, 0.24), C(0.72, 0.58, 0.38), C(0.75, 0.68, 0.55)
RUBBER = C(0.16, 0.16, 0.16)


class Canvas:
    """Per-frame buffers: colour [3, H, W], depth [H, W], agent ids [H, W], wall depth [H, W]."""

    def __init__(self, g: Grids, rgb: np.ndarray, depth: np.ndarray, ids: np.ndarray, occ: np.ndarray,
                 occ_cols: np.ndarray):
        cam = g.cam
        self.rgb, self.depth, self.ids = rgb, depth, ids
        # occ: depth of building fronts only. Objects are drawn far to near, so the only
        # thing that can hide part of an object drawn later is a wall (on a bend).
        self.occ, self.occ_cols = occ, occ_cols
        self.H, self.W = rgb.shape[1:]
        self.f, self.cx, self.cy = cam.f, cam.cx, cam.cy
        self.ident = -1
        self.test = False
        self.lights: list[tuple[float, float, float, float, np.ndarray, float]] = []

    # ------------------------------------------------------------------ primitives

    def _fill(self, i0: int, i1: int, j0: int, j1: int, color: np.ndarray, x: float) -> None:
        if self.test:
            m = self.occ[i0:i1, j0:j1] > x
            np.copyto(self.rgb[:, i0:i1, j0:j1], color, where=m)
            np.copyto(self.depth[i0:i1, j0:j1], np.float32(x), where=m)
            if self.ident >= 0:
                np.copyto(self.ids[i0:i1, j0:j1], np.int16(self.ident), where=m)
        else:
            self.rgb[:, i0:i1, j0:j1] = color
            self.depth[i0:i1, j0:j1] = x
            if self.ident >= 0:
                self.ids[i0:i1, j0:j1] = self.ident

    def rect(self, x: float, y0: float, y1: float, z0: float, z1: float, color: np.ndarray) -> bool:
        """Camera-facing rectangle at depth x, lateral [y0, y1] (y0 < y1), height [z0, z1]."""
        if x < NEAR:
            return False
        k = self.f / x
        a, b = self.cx - y1 * k, self.cx - y0 * k
        top, bot = self.cy - (z1 - MOUNT_HEIGHT) * k, self.cy - (z0 - MOUNT_HEIGHT) * k
        if b - a < 0.4 or bot - top < 0.4:
            return False
        # round to pixel edges; anything at least ~half a pixel wide covers one pixel
        j0, j1 = int(a + 0.5), int(b + 0.5)
        i0, i1 = int(top + 0.5), int(bot + 0.5)
        if j1 <= j0:
            j1 = j0 + 1
        if i1 <= i0:
            i1 = i0 + 1
        j0, j1 = max(j0, 0), min(j1, self.W)
        i0, i1 = max(i0, 0), min(i1, self.H)
        if j1 <= j0 or i1 <= i0 or a > self.W or top > self.H:
            return False
        self._fill(i0, i1, j0, j1, color, x)
        return True

    def light(self, x: float, y0: float, y1: float, z0: float, z1: float, color: np.ndarray, glow: float) -> None:
        """A lamp: drawn now, and again after lighting and fog as an emissive glow of strength ``glow``."""
        self.rect(x, y0, y1, z0, z1, color)
        if glow > 0 and x >= NEAR:
            k = self.f / x
            u, v = self.cx - (y0 + y1) / 2 * k, self.cy - ((z0 + z1) / 2 - MOUNT_HEIGHT) * k
            if -4 <= u < self.W + 4 and -4 <= v < self.H + 4:
                self.lights.append((u, v, max(0.7, (y1 - y0) * k * 0.8), x, color, glow))

    def side(self, y: float, x0: float, x1: float, z0: float, z1: float, color: np.ndarray) -> None:
        """Quad in the vertical plane y = const between depths x0 < x1 (a side face)."""
        self.flank(y, x0, x1, ((z0, z1, color, x0, x1),))

    def flank(self, y: float, x0: float, x1: float, bands) -> None:
        """Several quads in the plane y = const, spanning depths within [x0, x1], in one pass:
        ``bands`` = ((z0, z1, colour, xa, xb), ...), later bands drawn over earlier ones."""
        x0 = max(x0, NEAR)
        if x1 <= x0 or abs(y) < 1e-3:
            return
        ua, ub = self.cx - self.f * y / x0, self.cx - self.f * y / x1
        lo, hi = min(ua, ub), max(ua, ub)
        if hi - lo < 0.6:
            return
        j0, j1 = max(int(lo + 0.5), 0), min(int(hi + 0.5), self.W)
        if j1 <= j0:
            return
        den = self.cx - 0.5 - np.arange(j0, j1, dtype=np.float32)
        den[np.abs(den) < 1e-3] = 1e-3
        xc = np.minimum(np.maximum(self.f * y / den, x0), x1)  # depth seen by each column
        kk = self.f / xc
        zmax = max(b[1] for b in bands)
        i0 = max(int(self.cy - (zmax - MOUNT_HEIGHT) * float(kk.max()) + 0.5), 0)
        i1 = min(int(self.cy + MOUNT_HEIGHT * float(kk.max()) + 0.5), self.H)
        if i1 <= i0:
            return
        # height of the plane seen by each pixel
        z = MOUNT_HEIGHT + (self.cy - 0.5 - np.arange(i0, i1, dtype=np.float32))[:, None] / kk
        rgb = self.rgb[:, i0:i1, j0:j1]
        any_m = None
        for z0, z1, color, xa, xb in bands:
            m = (z >= z0) & (z < z1)
            if xa > x0 or xb < x1:
                m &= (xc >= xa) & (xc <= xb)
            if self.test:
                m &= self.occ[i0:i1, j0:j1] > xc
            np.copyto(rgb, color, where=m)
            any_m = m if any_m is None else any_m | m
        np.copyto(self.depth[i0:i1, j0:j1], xc, where=any_m)
        if self.ident >= 0:
            np.copyto(self.ids[i0:i1, j0:j1], np.int16(self.ident), where=any_m)

    def ellipse(self, x: float, yc: float, zc: float, ry: float, rz: float, color: np.ndarray) -> None:
        if x < NEAR:
            return
        k = self.f / x
        u, v, ru, rv = self.cx - yc * k, self.cy - (zc - MOUNT_HEIGHT) * k, ry * k, rz * k
        if ru < 3.5 or rv < 3.5:  # too small for a round shape: a plus of two rectangles
            self.rect(x, yc - ry, yc + ry, zc - rz * 0.6, zc + rz * 0.6, color)
            self.rect(x, yc - ry * 0.6, yc + ry * 0.6, zc - rz, zc + rz, color)
            return
        j0, j1 = max(int(u - ru + 0.5), 0), min(int(u + ru + 0.5), self.W)
        i0, i1 = max(int(v - rv + 0.5), 0), min(int(v + rv + 0.5), self.H)
        if j1 <= j0 or i1 <= i0:
            return
        uu = (np.arange(j0, j1, dtype=np.float32) + (0.5 - u)) / ru
        vv = (np.arange(i0, i1, dtype=np.float32)[:, None] + (0.5 - v)) / rv
        m = uu * uu + vv * vv <= 1.0
        if self.test:
            m &= self.occ[i0:i1, j0:j1] > x
        np.copyto(self.rgb[:, i0:i1, j0:j1], color, where=m)
        np.copyto(self.depth[i0:i1, j0:j1], np.float32(x), where=m)

    def shadow(self, x0: float, x1: float, y0: float, y1: float, k: float) -> None:
        """Darken the ground under an object (contact shadow)."""
        x0 = max(x0, NEAR)
        if x1 <= x0:
            return
        f = self.f
        i0, i1 = int(self.cy + f * MOUNT_HEIGHT / x1 + 0.5), int(self.cy + f * MOUNT_HEIGHT / x0 + 0.5)
        xm = (x0 + x1) / 2
        j0, j1 = int(self.cx - y1 * f / xm + 0.5), int(self.cx - y0 * f / xm + 0.5)
        i0, i1, j0, j1 = max(i0, 0), min(i1, self.H), max(j0, 0), min(j1, self.W)
        if i1 > i0 and j1 > j0:
            self.rgb[:, i0:i1, j0:j1] *= k

    def pixels_tall(self, x: float, height: float) -> float:
        return self.f * height / max(x, NEAR)


# --------------------------------------------------------------------------- object looks


def vehicle(cv: Canvas, kind: str, x: float, y: float, length: float, width: float, height: float,
            facing: str, color: np.ndarray, braking: bool, hazard_on: bool, night: bool) -> None:
    """facing: 'rear' (same direction), 'front' (oncoming), 'side+' / 'side-' (crossing towards +y / -y)."""
    along = facing in ("rear", "front")
    ex, ey = (length / 2, width / 2) if along else (width / 2, length / 2)
    xn, xf = x - ex, x + ex
    if xf < NEAR:
        return
    y0, y1 = y - ey, y + ey
    h = height
    px = cv.pixels_tall(max(xn, NEAR), h)
    side_col = color * 0.72
    if px < 4.5:  # a blob, with its lamps at night
        cv.rect(xn, y0, y1, 0.0, h, color)
        if night and xn >= NEAR:
            lamp = RED_OFF if facing == "rear" else HEAD
            cv.light(xn - 0.01, y0, y0 + 0.3, 0.6, 0.9, lamp, 0.5 if facing == "rear" else 1.2)
            cv.light(xn - 0.01, y1 - 0.3, y1, 0.6, 0.9, lamp, 0.5 if facing == "rear" else 1.2)
        elif braking or hazard_on:
            cv.rect(xn - 0.01, y0, y1, 0.6, 0.9, RED_ON if braking else AMBER)
        return
    detail = px >= 14.0
    if detail:
        cv.shadow(xn - 0.1, xf + 0.3, y0 - 0.15, y1 + 0.15, 0.55)
    ys = y0 if y0 > 0 else (y1 if y1 < 0 else None)  # the flank we can see, if off to one side
    if ys is not None:
        if along and kind == "truck":
            box = (xn, xf - 2.2) if facing == "rear" else (xn + 2.2, xf)
            cab = (xf - 2.2, xf) if facing == "rear" else (xn, xn + 2.2)
            bands = [(0.0, 0.95, DARK, xn, xf), (0.95, h, side_col, box[0], box[1]),
                     (0.95, h * 0.8, side_col, cab[0], cab[1])]
        elif along:
            bands = [(0.0, 0.3, DARK, xn, xf), (0.3, 0.6 * h if kind != "van" else 0.95 * h, side_col, xn, xf)]
            if kind != "van":
                bands.append((0.6 * h, 0.95 * h, GLASS, xn + 0.2 * length, xf - 0.15 * length))
        else:
            bands = [(0.0, 0.3, DARK, xn, xf), (0.3, 0.62 * h, side_col, xn, xf)]
        if detail and along:
            for wc in (xn + 0.2 * length, xf - 0.2 * length):
                bands.append((0.0, 0.62, TYRE, wc - 0.34, wc + 0.34))
        cv.flank(ys, xn, xf, bands)
    if xn < NEAR:
        return
    if not along:
        _flank(cv, x, xn, y0, y1, length, h, color, facing, night, detail)
        return
    cv.rect(xn, y0 + 0.05, y1 - 0.05, 0.0, 0.25, DARK)
    if detail:
        for wy in (y0 + 0.02, y1 - 0.27):
            cv.rect(xn, wy, wy + 0.25, 0.0, 0.36, TYRE)
    if kind == "truck" and facing == "rear":
        cv.rect(xn, y0, y1, 0.95, h, color)
        if detail:
            cv.rect(xn, y - 0.03, y + 0.03, 1.0, h - 0.1, color * 0.6)
        cv.rect(xn, y0 + 0.1, y1 - 0.1, 0.4, 0.62, CHASSIS)
        lamp_z, inset = (0.62, 0.9), 0.05
    else:
        body_top = h * (0.95 if kind == "van" else 0.6)
        cv.rect(xn, y0, y1, 0.25, body_top, color)
        if kind != "van":
            cv.rect(xn, y0 + 0.13 * width, y1 - 0.13 * width, body_top, h, color)
        if facing == "rear":
            gz = (0.62 * h, 0.88 * h) if kind == "van" else (0.64 * h, 0.92 * h)
            cv.rect(xn, y0 + 0.2 * width, y1 - 0.2 * width, gz[0], gz[1], GLASS)
        else:
            gz = (0.6 * h, 0.94 * h) if kind != "truck" else (0.55 * h, 0.85 * h)
            cv.rect(xn, y0 + 0.14 * width, y1 - 0.14 * width, gz[0], gz[1], WINDSHIELD)
            if detail:
                cv.rect(xn, y - 0.3 * width, y + 0.3 * width, 0.3, 0.5 * (0.6 * h if kind != "truck" else 1.2), DARK)
        lamp_z, inset = (0.45 * min(h, 1.5) + 0.05, 0.58 * min(h, 1.5) + 0.08), 0.04
    if facing == "rear":
        if detail:
            cv.rect(xn, y - 0.26, y + 0.26, 0.33, 0.46, PLATE)
        red = RED_ON if braking else RED_OFF
        glow = 1.0 if braking else (0.45 if night else 0.0)
        for ly in (y0 + inset, y1 - inset - 0.3):
            cv.light(xn - 0.01, ly, ly + 0.3, lamp_z[0], lamp_z[1], red, glow)
            if hazard_on:
                cv.light(xn - 0.02, ly, ly + 0.3, lamp_z[0] - 0.12, lamp_z[0], AMBER, 0.9)
    else:
        glow = 1.6 if night else 0.0
        for ly in (y0 + inset, y1 - inset - 0.32):
            cv.light(xn - 0.01, ly, ly + 0.32, lamp_z[0], lamp_z[1] - 0.02, HEAD, glow)


def _flank(cv: Canvas, x: float, xn: float, y0: float, y1: float, length: float, h: float, color: np.ndarray,
           facing: str, night: bool, detail: bool) -> None:
    """A crossing vehicle seen side-on."""
    fwd = 1.0 if facing == "side+" else -1.0
    cv.rect(xn, y0 + 0.1, y1 - 0.1, 0.0, 0.3, DARK)
    cv.rect(xn, y0, y1, 0.3, 0.62 * h, color)
    cv.rect(xn, y0 + 0.2 * length, y1 - 0.15 * length, 0.62 * h, 0.95 * h, color)
    cv.rect(xn, y0 + 0.25 * length, y1 - 0.2 * length, 0.64 * h, 0.9 * h, GLASS)
    if detail:
        for wc in (y0 + 0.2 * length, y1 - 0.2 * length):
            cv.rect(xn, wc - 0.34, wc + 0.34, 0.0, 0.64, TYRE)
    front, back = (y1, y0) if fwd > 0 else (y0, y1)
    fa, fb = sorted((front, front - fwd * 0.15))
    ba, bb = sorted((back, back + fwd * 0.12))
    cv.light(xn - 0.01, fa, fb, 0.6, 0.78, HEAD, 1.4 if night else 0.0)
    cv.light(xn - 0.01, ba, bb, 0.6, 0.78, RED_OFF, 0.5 if night else 0.0)


def person(cv: Canvas, x: float, y: float, height: float, phase: float, crossing: bool, shirt: np.ndarray,
           seed: int) -> None:
    k = height / 1.75
    if cv.pixels_tall(x, height) < 4.0:
        cv.rect(x, y - 0.2 * k, y + 0.2 * k, 0.0, height, shirt)
        return
    skin, pants = SKIN[seed % 3], PANTS[(seed // 3) % 3]
    sw = math.sin(phase)
    cv.shadow(x - 0.25, x + 0.25, y - 0.35, y + 0.35, 0.7)
    if crossing:  # legs scissor sideways
        off = 0.2 * k * sw
        for o in (off, -off):
            cv.rect(x, y + o - 0.065 * k, y + o + 0.065 * k, 0.0, 0.5 * height, pants)
    else:  # seen from behind / in front: feet lift in turn
        lift = 0.07 * k
        cv.rect(x, y - 0.15 * k, y - 0.02 * k, lift * max(sw, 0.0), 0.5 * height, pants)
        cv.rect(x, y + 0.02 * k, y + 0.15 * k, lift * max(-sw, 0.0), 0.5 * height, pants)
    cv.rect(x, y - 0.2 * k, y + 0.2 * k, 0.49 * height, 0.82 * height, shirt)
    if crossing:
        a = -0.14 * k * sw
        cv.rect(x, y + a - 0.05 * k, y + a + 0.05 * k, 0.5 * height, 0.8 * height, shirt * 0.85)
    cv.rect(x, y - 0.09 * k, y + 0.09 * k, 0.83 * height, 0.97 * height, skin)
    cv.rect(x, y - 0.1 * k, y + 0.1 * k, 0.93 * height, height, HAIR)


def cyclist(cv: Canvas, x: float, y: float, phase: float, crossing: bool, shirt: np.ndarray, night: bool) -> None:
    if cv.pixels_tall(x, 1.75) < 4.0:
        cv.rect(x, y - 0.2, y + 0.2, 0.0, 1.75, shirt)
        return
    cv.shadow(x - 0.4, x + 0.4, y - 0.3, y + 0.3, 0.7)
    if crossing:
        for wy in (y - 0.55, y + 0.55):
            cv.rect(x, wy - 0.34, wy + 0.34, 0.0, 0.68, TYRE)
        cv.rect(x, y - 0.5, y + 0.5, 0.45, 0.55, BIKE)
        cv.rect(x, y - 0.2, y + 0.05, 0.55, 1.0, PANTS[0])
    else:
        cv.rect(x, y - 0.035, y + 0.035, 0.0, 0.68, TYRE)
        p = 0.12 * math.sin(phase)
        cv.rect(x, y - 0.14, y - 0.04, 0.35 + p, 0.95, PANTS[0])
        cv.rect(x, y + 0.04, y + 0.14, 0.35 - p, 0.95, PANTS[0])
        cv.light(x - 0.05, y - 0.04, y + 0.04, 0.75, 0.82, RED_ON if night else RED_OFF, 0.6 if night else 0.0)
    cv.rect(x, y - 0.19, y + 0.19, 0.95, 1.45, shirt)
    cv.rect(x, y - 0.1, y + 0.1, 1.45, 1.62, SKIN[0])
    cv.rect(x, y - 0.12, y + 0.12, 1.6, 1.74, HELMET)


def animal(cv: Canvas, kind: str, x: float, y: float, length: float, height: float, phase: float,
           crossing: bool, color: np.ndarray, fwd: float, night: bool) -> None:
    dark = color * 0.6
    shoulder = 0.68 * height
    if cv.pixels_tall(x, height) < 4.0:
        cv.rect(x, y - length / 2 if crossing else y - 0.2, y + length / 2 if crossing else y + 0.2, 0.0, shoulder, color)
        return
    cv.shadow(x - 0.3, x + 0.3, y - length / 2, y + length / 2, 0.7)
    if crossing:
        y0, y1 = y - length / 2, y + length / 2
        sw = 0.12 * length * math.sin(phase)
        for lx, o in ((y0 + 0.15 * length, sw), (y0 + 0.3 * length, -sw), (y1 - 0.3 * length, sw), (y1 - 0.15 * length, -sw)):
            cv.rect(x, lx + o - 0.04, lx + o + 0.04, 0.0, shoulder * 0.62, dark)
        cv.rect(x, y0 + 0.05 * length, y1 - 0.08 * length, shoulder * 0.58, shoulder, color)
        head_y = y1 if fwd > 0 else y0
        nk = head_y - fwd * 0.15 * length
        na, nb = sorted((nk, nk - fwd * 0.12))
        cv.rect(x, na, nb, shoulder * 0.8, height * 0.92, color)
        hy0, hy1 = sorted((nk, nk + fwd * 0.28 * length))
        cv.rect(x, hy0, hy1, height * 0.78, height * 0.95, color)
        if kind == "deer":
            cv.rect(x, na, nb + 0.06, height * 0.95, height, dark)
        if night:  # eye shine in the headlights
            ey = hy1 - 0.08 if fwd > 0 else hy0 + 0.02
            cv.light(x - 0.05, ey, ey + 0.06, height * 0.86, height * 0.9, EYES, 0.5)
    else:
        w = 0.35 * length
        cv.rect(x, y - w / 2, y + w / 2, 0.0, shoulder * 0.6, dark)
        cv.rect(x, y - w / 2, y + w / 2, shoulder * 0.55, shoulder, color)
        cv.rect(x, y - w / 3, y + w / 3, shoulder * 0.8, height, color)


def debris(cv: Canvas, kind: str, x: float, y: float, z: float, size: tuple[float, float, float]) -> None:
    L, W, H = size
    xn, xf = x - L / 2, x + L / 2
    if kind == "box":
        cv.shadow(xn, xf, y - W / 2, y + W / 2, 0.6)
        if xn >= NEAR:
            # the top face, seen from above, spans the rows between its far and near edges
            k = cv.f / xn
            top_far = cv.cy - (z + H - MOUNT_HEIGHT) * cv.f / xf
            top_near = cv.cy - (z + H - MOUNT_HEIGHT) * k
            j0, j1 = max(int(cv.cx - (y + W / 2) * k + 0.5), 0), min(int(cv.cx - (y - W / 2) * k + 0.5), cv.W)
            i0, i1 = max(int(top_far + 0.5), 0), min(int(top_near + 0.5), cv.H)
            if j1 > j0 and i1 > i0:
                cv._fill(i0, i1, j0, j1, CARDBOARD_TOP, xn)
        cv.rect(xn, y - W / 2, y + W / 2, z, z + H, CARDBOARD)
        cv.rect(xn, y - 0.05, y + 0.05, z, z + H, TAPE)
    else:
        cv.rect(xn + 0.2, y - W / 2, y + W / 2, z, z + H, TYRE)
        cv.rect(xn + 0.2, y - W / 4, y + W / 4, z + H * 0.3, z + H * 0.7, RUBBER)


def tree(cv: Canvas, x: float, y: float, size: float, color: np.ndarray) -> None:
    px = cv.pixels_tall(x, size)
    if px < 2.0:  # far away: trunk and crown merge into one blob
        cv.rect(x, y - 1.5 * size, y + 1.5 * size, 1.0 * size, 5.5 * size, color)
        return
    cv.rect(x, y - 0.15 * size, y + 0.15 * size, 0.0, 2.6 * size, TRUNK)
    cv.ellipse(x, y, 4.0 * size, 1.9 * size, 2.0 * size, color)
    if px > 8:
        cv.ellipse(x - 0.1, y + 0.5 * size, 4.7 * size, 0.9 * size, 0.9 * size, color * 1.25)


def lamp(cv: Canvas, x: float, y: float, night: bool, color: np.ndarray) -> None:
    reach = -1.7 if y > 0 else 1.7  # the arm reaches over the road
    hy = y + reach
    if cv.pixels_tall(x, 0.2) >= 0.5:
        cv.rect(x, y - 0.09, y + 0.09, 0.0, 7.4, color)
        ya, yb = sorted((y, hy))
        cv.rect(x, ya, yb, 7.25, 7.4, color)
    cv.light(x, hy - 0.3, hy + 0.3, 7.05, 7.25, LAMP_NIGHT if night else LAMP_DAY, 1.0 if night else 0.0)


def pole(cv: Canvas, x: float, y: float, color: np.ndarray) -> None:
    if cv.pixels_tall(x, 0.24) < 0.4:
        return
    cv.rect(x, y - 0.12, y + 0.12, 0.0, 8.8, color)
    cv.rect(x, y - 1.0, y + 1.0, 8.2, 8.35, color)


_KERNELS: dict[int, np.ndarray] = {}


def _kernel(spread: float) -> np.ndarray:
    """Gaussian halo stamp for a spread quantised to 1/4 pixel (cached: no exp per lamp)."""
    key = max(int(spread * 4 + 0.5), 1)
    k = _KERNELS.get(key)
    if k is None:
        sp = key / 4
        r = int(sp * 2.2) + 1
        t = (np.arange(-r, r + 1, dtype=np.float32)) / sp
        k = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) * 2.0).astype(np.float32)
        k.setflags(write=False)
        _KERNELS[key] = k
    return k


def glow(rgb: np.ndarray, lights, fog_vis: float) -> None:
    """Additive halos around lamps, after lighting and fog (lamps are bright in any light)."""
    H, W = rgb.shape[1:]
    for u, v, rad, x, color, strength in lights:
        # fog scatters light: a wide, dim halo; clear air: a tight one
        spread = rad * (1.6 + 2.5 * min(x / fog_vis, 2.0))
        att = 0.6 * strength * math.exp(-x / (fog_vis * 1.5))
        k = _kernel(spread)
        r = k.shape[0] // 2
        ci, cj = int(v), int(u)
        i0, i1 = max(ci - r, 0), min(ci + r + 1, H)
        j0, j1 = max(cj - r, 0), min(cj + r + 1, W)
        if i1 <= i0 or j1 <= j0:
            continue
        rgb[:, i0:i1, j0:j1] += k[i0 - ci + r:i1 - ci + r, j0 - cj + r:j1 - cj + r] * (color * att)
