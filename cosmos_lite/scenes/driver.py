"""The ego car: kinematic bicycle dynamics driven by per-frame actions, and a
scripted driver policy that keeps its lane, holds its cruise speed and brakes
for hazards after a reaction time, or performs the scenario's ego behaviour
(lane change, swerve, ... see behaviour.py) on top of that.

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
from .behaviour import Plan
from .road import RoadGeometry
from .spec import Scenario

EGO_HALF_WIDTH = 0.9
EGO_FRONT = 2.0  # m from the camera to the front bumper
EGO_REAR = 2.4  # m from the camera to the rear bumper
MAX_ACCEL, MAX_BRAKE = 3.0, -9.0
MAX_CURVATURE = 0.2
# The training range: every action the driver takes, with any behaviour, lies inside it
# (the scripted driver brakes at most MAX_BRAKE and steers close to the road's curvature,
# |k| <= 0.02 by Road's validation; behaviours are clipped to it), so actions outside it
# are out of distribution for models trained on these scenes.
ACTION_RANGE = {"acceleration": (MAX_BRAKE, MAX_ACCEL), "curvature": (-0.06, 0.06)}
MAX_LATERAL = 4.0  # m/s^2: a behaviour's lateral acceleration beyond following the road
HORIZON = 4.0  # s a manoeuvre looks ahead for road users in the space it moves into
CLEARANCE = 0.5  # m a manoeuvre keeps from other road users and the kerb


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
        self.plan = None if sc.ego_behaviour.kind == "keep" else Plan(sc.ego_behaviour, geom.lane_width)

    def act(self, i: int, st: EgoState) -> tuple[float, float]:
        if self.plan is not None:
            return self._perform(i, st)
        accel = min(min(max(0.8 * (self.sc.ego_speed - st.speed), -2.5), 1.5), self._hazard_limit(i, st))
        accel = min(max(accel, MAX_BRAKE), MAX_ACCEL)
        look = max(6.0, 1.2 * st.speed)
        kr = float(self.geom.kappa(st.s)) if self.geom.breaks else 0.0
        curv = kr + 2.0 * ((self.lane_d - st.d) - look * st.heading) / (look * look)
        return accel, min(max(curv, -MAX_CURVATURE), MAX_CURVATURE)

    def _perform(self, i: int, st: EgoState) -> tuple[float, float]:
        """The scripted driver with the behaviour's profiles; every action within its limits."""
        plan, t, v = self.plan, i / self.fps, st.speed
        cruise = min(max(0.8 * (self.sc.ego_speed + plan.extra_speed(t) - v), -2.5), 1.5)
        accel = min(plan.longitudinal(t, cruise), self._hazard_limit(i, st))
        # never ask for more braking than stopping within this frame: driver.step would clamp
        # the speed at 0 and the reported action would overstate what acted
        accel = max(accel, -v * self.fps)
        # a lateral manoeuvre goes only as far as the free space beside the ego (the kerb,
        # parked cars, traffic reaching it soon); it shrinks, and the ego moves back, as that closes
        amp = plan.offset
        if amp:
            lo, hi = self._free_space(i, st)
            amp = min(max(amp, lo - self.lane_d), hi - self.lane_d)
        x, x_rate, x_acc = plan.shape(t)
        o, o_rate, o_acc = amp * x, amp * x_rate, amp * x_acc + plan.steer_noise(t)
        vv = max(v, 1.0)
        look = max(6.0, 1.2 * v)
        kr = float(self.geom.kappa(st.s)) if self.geom.breaks else 0.0
        # feed the profile's lateral acceleration forward (d'' ~ v^2 (k - k_road)) and track its
        # offset and heading (atan(o' / v) ~ o' / v), so the manoeuvre is followed without lag
        dev = o_acc / (vv * vv) + 2.0 * ((self.lane_d + o - st.d) - look * (st.heading - o_rate / vv)) / (look * look)
        lim = MAX_LATERAL / (vv * vv)
        veer = plan.veer_curvature(t)
        curv = kr + min(max(dev if veer is None else veer, -lim), lim)
        (a_lo, a_hi), (k_lo, k_hi) = ACTION_RANGE["acceleration"], ACTION_RANGE["curvature"]
        return min(max(accel, a_lo), a_hi), min(max(curv, k_lo), k_hi)

    def _extents(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per agent at frame i: moving along the road (not across)?, half extents along s and d."""
        tr = self.tr
        along = np.abs(np.cos(tr.heading[i])) > 0.7
        L, Wd = tr.dims[:, 0], tr.dims[:, 1]
        return along, np.where(along, L, Wd) / 2, np.where(along, Wd, L) / 2

    def _free_space(self, i: int, st: EgoState) -> tuple[float, float]:
        """(lo, hi): where the ego's centre may go sideways: on the paved road, clear of the
        road users beside it or reaching it within HORIZON; always including its lane centre.
        Agents in its own lane or crossing are left to the hazard braking."""
        tr, half = self.tr, EGO_HALF_WIDTH + CLEARANCE
        lo, hi = -self.geom.curb + half, self.geom.curb - half
        if tr.n:
            along, ext_s, ext_d = self._extents(i)
            g0 = tr.s[i] - st.s
            g1 = g0 + (tr.vs[i] - st.speed) * HORIZON  # gap in HORIZON s at today's speeds
            near = (np.minimum(g0, g1) < ext_s + EGO_FRONT + CLEARANCE) & (np.maximum(g0, g1) > -(ext_s + EGO_REAR + CLEARANCE))
            use = tr.exists[i] & along & near
            d = tr.d[i]
            left, right = use & (d - ext_d > self.lane_d), use & (d + ext_d < self.lane_d)
            if left.any():
                hi = min(hi, float((d - ext_d)[left].min()) - half)
            if right.any():
                lo = max(lo, float((d + ext_d)[right].max()) + half)
        return min(lo, self.lane_d), max(hi, self.lane_d)

    def _hazard_limit(self, i: int, st: EgoState) -> float:
        """Acceleration allowed by the perceived agents ahead (IDM-like); inf if none is in the way.
        Also records when each agent was first seen, so it runs every frame."""
        tr, t = self.tr, i / self.fps
        limit = math.inf
        if tr.n:
            s, d = tr.s[i], tr.d[i]
            _, ext_s, ext_d = self._extents(i)
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
                    limit = float(a_int.min())
        return limit


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
