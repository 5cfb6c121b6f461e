"""The ego car: kinematic bicycle dynamics driven by per-frame actions, and a
scripted driver policy that keeps its lane, holds its cruise speed and brakes
for hazards after a reaction time.

Actions are float32 [T, 2] per video frame: (longitudinal acceleration in m/s^2,
path curvature in 1/m, + = left). Curvature rather than wheel angle because it
is what the bicycle model integrates and needs no wheelbase to interpret
(wheel angle = atan(wheelbase * curvature)). Action i is held from frame i to
frame i + 1, so frame i shows the state before action i acts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .agents import SUBSTEP, Tracks
from .road import RoadGeometry
from .spec import Scenario

EGO_HALF_WIDTH = 0.9
EGO_FRONT = 2.0  # m from the camera to the front bumper
MAX_ACCEL, MAX_BRAKE = 3.0, -9.0
MAX_CURVATURE = 0.2


@dataclass(frozen=True)
class EgoState:
    """Ego state in road coordinates: s, d (m), heading relative to the road (rad), speed (m/s)."""

    s: float
    d: float
    heading: float
    speed: float

    def as_array(self) -> np.ndarray:
        return np.array([self.s, self.d, self.heading, self.speed], dtype=np.float64)


def initial_state(sc: Scenario, geom: RoadGeometry) -> EgoState:
    return EgoState(0.0, geom.lane_center(sc.ego_lane), 0.0, sc.ego_speed)


def step(state: EgoState, accel: float, curvature: float, fps: float, geom: RoadGeometry) -> EgoState:
    """Advance one frame interval holding (accel, curvature); speed never goes below 0."""
    s, d, psi, v = state.s, state.d, state.heading, state.speed
    n_sub = max(1, math.ceil((1.0 / fps) / SUBSTEP))
    dt = (1.0 / fps) / n_sub
    for _ in range(n_sub):
        kr = float(geom.kappa(s)) if geom.breaks else 0.0
        s += v * math.cos(psi) * dt
        d += v * math.sin(psi) * dt
        psi += v * (curvature - kr) * dt
        v = max(0.0, v + accel * dt)
    return EgoState(s, d, psi, v)


class Driver:
    """Scripted policy. Remembers when each agent was first seen, so it is run from frame 0."""

    def __init__(self, sc: Scenario, geom: RoadGeometry, tracks: Tracks, fps: float):
        self.sc, self.geom, self.tr, self.fps = sc, geom, tracks, fps
        self.lane_d = geom.lane_center(sc.ego_lane)
        self.seen = np.full(tracks.n, np.inf)

    def act(self, i: int, st: EgoState) -> tuple[float, float]:
        tr, t = self.tr, i / self.fps
        accel = min(max(0.8 * (self.sc.ego_speed - st.speed), -2.5), 1.5)
        if tr.n:
            s, d = tr.s[i], tr.d[i]
            along = np.abs(np.cos(tr.heading[i])) > 0.7
            L, Wd = tr.dims[:, 0], tr.dims[:, 1]
            ext_s = np.where(along, L, Wd) / 2
            ext_d = np.where(along, Wd, L) / 2
            gap = s - st.s - ext_s - EGO_FRONT
            d_now = d - st.d
            ahead = tr.exists[i] & (gap > -1.0) & (gap < 90.0) & (np.abs(d_now) < 20)
            self.seen = np.where(ahead & np.isinf(self.seen), t, self.seen)
            perceived = ahead & (t >= self.seen + self.sc.reaction)
            if perceived.any():
                tau = np.clip(gap / np.maximum(st.speed - tr.vs[i], 0.5), 0, 4)
                d_pred = d_now + tr.vd[i] * tau
                corridor = EGO_HALF_WIDTH + ext_d + 0.35
                conflict = perceived & (
                    (np.abs(d_now) < corridor) | (np.abs(d_pred) < corridor) | (np.sign(d_now) != np.sign(d_pred))
                )
                if conflict.any():
                    v, vl = st.speed, np.maximum(tr.vs[i][conflict], 0.0)
                    s_star = 2.5 + 0.9 * v + v * (v - vl) / (2 * math.sqrt(1.5 * 4.0))
                    a_int = 1.5 * (1 - (s_star / np.maximum(gap[conflict], 0.1)) ** 2)
                    accel = min(accel, float(a_int.min()))
        accel = min(max(accel, MAX_BRAKE), MAX_ACCEL)
        look = max(6.0, 1.2 * st.speed)
        kr = float(self.geom.kappa(st.s)) if self.geom.breaks else 0.0
        curv = kr + 2.0 * ((self.lane_d - st.d) - look * st.heading) / (look * look)
        return accel, min(max(curv, -MAX_CURVATURE), MAX_CURVATURE)


def drive(
    sc: Scenario,
    geom: RoadGeometry,
    tracks: Tracks,
    fps: float,
    num_frames: int,
    actions: np.ndarray | None = None,
    start: EgoState | None = None,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ego states [T, 4] (s, d, heading, speed) at frames first..first+T-1 and the float32
    actions [T, 2] taken there (the policy's when ``actions`` is None, which needs first == 0)."""
    st = start if start is not None else initial_state(sc, geom)
    policy = Driver(sc, geom, tracks, fps) if actions is None else None
    if policy is not None and first != 0:
        raise ValueError("the scripted driver runs from frame 0; pass actions to continue from a later frame")
    states = np.zeros((num_frames, 4))
    taken = np.zeros((num_frames, 2), dtype=np.float32)
    for i in range(num_frames):
        states[i] = st.as_array()
        if policy is not None:
            a = np.array(policy.act(first + i, st), dtype=np.float32)
        else:
            a = actions[i]
        taken[i] = a
        # apply exactly the float32 values we report, so replaying them reproduces the clip
        st = step(st, float(a[0]), float(a[1]), fps, geom)
    return states, taken


def state_at(states: np.ndarray, i: int) -> EgoState:
    return EgoState(*(float(x) for x in states[i]))
