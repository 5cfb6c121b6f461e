"""Ego behaviours: how the ego driver departs from the scripted one.

The scripted driver keeps its lane, so its actions follow from the road and carry
little that a model must read from them. A :class:`~.spec.Behaviour` makes the ego
change lane, swerve out and back, drift off the lane centre, brake hard, accelerate,
wander at random, or veer away from its lane and keep turning. It is part of the spec
(``Scenario.ego_behaviour``), so render, replay and export stay exact.

This module only turns a behaviour into time profiles; :class:`~.driver.Driver`
applies them and stays closed-loop: a lateral manoeuvre moves its target (the lane
centre plus an offset o(t) = A x(t)) and feeds the profile's lateral acceleration
o''(t) forward, so the lane keeper follows the manoeuvre instead of fighting it; the
driver scales the amplitude A down to the free space beside it (kerb, parked cars,
oncoming traffic). A veer is the one open-loop manoeuvre: from its start the driver stops
keeping its lane and holds a curvature off the road's own, so the heading keeps changing
and the ego leaves its lane (and the road) the way a steering command alone would take
it; it exists so that models see what a held turn does to the picture. A longitudinal
manoeuvre replaces the cruise control, never the braking for hazards.

Magnitudes are those of ordinary to brisk driving: lateral acceleration of the
profiles at most 4 m/s^2 (the driver also caps it), braking 6-8 m/s^2,
acceleration 1.5-3 m/s^2.
"""

from __future__ import annotations

import math

import numpy as np

from .spec import Behaviour

RAMP = 0.5  # s over which the random perturbation fades in (no jump in the actions at its start)
_SWERVE_PEAK = 24.0  # max |b''| of the swerve bump b(x) = 64 x^3 (1 - x)^3 (b(1/2) = 1)


def _quintic(x: float) -> tuple[float, float, float]:
    """Smooth 0 -> 1 step on [0, 1] and its two derivatives (zero slope and curvature at both ends)."""
    if x <= 0.0:
        return 0.0, 0.0, 0.0
    if x >= 1.0:
        return 1.0, 0.0, 0.0
    return x**3 * (10 - 15 * x + 6 * x * x), 30 * x * x * (1 - x) ** 2, 60 * x * (1 - x) * (1 - 2 * x)


def _bump(x: float) -> tuple[float, float, float]:
    """0 -> 1 -> 0 on [0, 1] (out and back) and its two derivatives."""
    if not 0.0 < x < 1.0:
        return 0.0, 0.0, 0.0
    u, du = x * (1 - x), 1 - 2 * x
    return 64 * u**3, 192 * u * u * du, 192 * (2 * u * du * du - 2 * u * u)


class Plan:
    """A behaviour resolved into profiles of time t (s since frame 0)."""

    def __init__(self, beh: Behaviour, lane_width: float):
        self.kind, self.t0, k = beh.kind, beh.start, beh.strength
        side = 1.0 if beh.kind.endswith("_left") else -1.0
        self.offset = 0.0  # lateral: signed offset amplitude A (m, + left) of the profile
        self.veer = 0.0  # open loop: signed curvature (1/m, + left) held off the road's from t0
        if beh.kind.startswith("lane_change"):
            self.offset, self.dur = side * lane_width, 4.5 - 2.0 * k  # peak 5.77 W / T^2 <= 3.2 m/s^2
        elif beh.kind.startswith("swerve"):
            amp = 0.6 + 0.9 * k
            peak = 2.0 + 2.0 * k  # m/s^2, the duration follows from it
            self.offset, self.dur = side * amp, math.sqrt(_SWERVE_PEAK * amp / peak)
        elif beh.kind.startswith("drift"):
            self.offset, self.dur = side * (0.7 + 0.8 * k), 6.0 - 2.0 * k  # slow: peak <= 0.6 m/s^2
        elif beh.kind.startswith("veer"):
            # 0.008-0.03 1/m: from a slow departure to a turn as tight as a lane change's peak
            self.veer = side * (0.008 + 0.022 * k)
        # longitudinal: held acceleration (m/s^2) for a duration (s)
        elif beh.kind == "hard_brake":
            self.accel, self.dur = -(6.0 + 2.0 * k), 1.0 + 1.0 * k
        elif beh.kind == "accelerate":
            self.accel, self.dur = 1.5 + 1.5 * k, 1.5 + 1.5 * k
        elif beh.kind == "random":
            rng = np.random.default_rng([beh.seed & 0xFFFFFFFF, beh.seed >> 32, 11])
            # three sinusoids per action, periods 1.5-6 s; weights sum to 1, so the
            # amplitudes bound the perturbation (m/s^2, lateral and longitudinal)
            w = rng.uniform(0.3, 1.0, (2, 3))
            self.weights = w / w.sum(axis=1, keepdims=True) * np.array([[0.8 + 1.6 * k], [0.5 + 1.0 * k]])
            self.omega = 2 * np.pi / rng.uniform(1.5, 6.0, (2, 3))
            self.phase = rng.uniform(0, 2 * np.pi, (2, 3))
        else:
            raise ValueError(f"behaviour {beh.kind!r} has no plan (the scripted driver needs none)")

    def _noise(self, t: float, row: int) -> float:
        env = _quintic((t - self.t0) / RAMP)[0]
        if env == 0.0:
            return 0.0
        return env * float(np.dot(self.weights[row], np.sin(self.omega[row] * t + self.phase[row])))

    def shape(self, t: float) -> tuple[float, float, float]:
        """x(t), x'(t), x''(t) of the lateral profile (offset = A x); zero without one."""
        if self.offset == 0.0:
            return 0.0, 0.0, 0.0
        x, dx, ddx = (_bump if self.kind.startswith("swerve") else _quintic)((t - self.t0) / self.dur)
        return x, dx / self.dur, ddx / self.dur**2

    def veer_curvature(self, t: float) -> float | None:
        """The curvature (1/m) held off the road's at t, faded in over RAMP s (a steering wheel
        turned, not stepped); None while the driver still keeps its lane."""
        if self.veer == 0.0 or t < self.t0:
            return None
        return self.veer * _quintic((t - self.t0) / RAMP)[0]

    def steer_noise(self, t: float) -> float:
        """Lateral acceleration (m/s^2) added to the steering: felt, not aimed (the lane keeper
        still aims at the lane centre), so the ego wanders."""
        return self._noise(t, 0) if self.kind == "random" else 0.0

    def extra_speed(self, t: float) -> float:
        """Added to the cruise speed: after speeding up, the driver holds the new speed."""
        return self.accel * self.dur if self.kind == "accelerate" and t >= self.t0 else 0.0

    def longitudinal(self, t: float, cruise: float) -> float:
        """Acceleration wanted instead of the cruise control's ``cruise`` (before hazards)."""
        if self.kind == "random":
            return cruise + self._noise(t, 1)
        if self.kind in ("hard_brake", "accelerate") and self.t0 <= t < self.t0 + self.dur:
            return self.accel
        return cruise
