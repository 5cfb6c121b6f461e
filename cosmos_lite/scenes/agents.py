"""Agents and their kinematics: background traffic, parked cars, walkers and the
scripted event agent(s).

Agents do not react to the ego car: their trajectories are a function of time
and the spec only. That keeps the world an honest oracle: replaying a scene
under other ego actions shows the same world, seen from a different car.

Vehicles with scripted manoeuvres (braking, lane changes, drifting) follow a
kinematic bicycle model in road (Frenet) coordinates, steered by a lane
tracking controller towards a scripted target offset; everything else moves
with constant or scripted velocity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .road import RoadGeometry
from .spec import COLORS, VEHICLE_KINDS, Scenario

# (length along heading, width, height) in m
DIMS = {
    "car": (4.4, 1.8, 1.5),
    "van": (5.0, 2.0, 2.2),
    "truck": (7.5, 2.5, 3.4),
    "pedestrian": (0.35, 0.55, 1.75),
    "child": (0.3, 0.42, 1.2),
    "cyclist": (1.75, 0.6, 1.75),
    "deer": (1.6, 0.45, 1.5),
    "dog": (0.9, 0.3, 0.6),
    "box": (0.6, 0.6, 0.5),
    "tire": (0.7, 0.7, 0.28),
}
STRIDE = {"pedestrian": 1.4, "child": 1.0, "cyclist": 2.1, "deer": 1.8, "dog": 1.1}
SUBSTEP = 0.05  # s, bicycle-model integration step (at most)
CROSSING_SPEED = 10.0  # m/s, typical speed of the vehicle running the crossing
CROSSING_RUN_UP = 10.0  # m down the side street (beyond the setback) where it starts


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


@dataclass
class VehicleScript:
    """A vehicle on the kinematic bicycle model, tracking a scripted lateral target."""

    s0: float
    d0: float
    v0: float
    direction: int  # +1 with the ego, -1 oncoming
    shifts: list[tuple[float, float, float]] = field(default_factory=list)  # (start, delta d, duration)
    accels: list[tuple[float, float, float]] = field(default_factory=list)  # (start, end, accel m/s^2)
    brake_from: float = math.inf  # brake lights on from this time

    def target(self, t: float) -> float:
        d = self.d0
        for t0, dd, dur in self.shifts:
            d += dd * smoothstep((t - t0) / dur)
        return d

    def accel(self, t: float) -> float:
        for t0, t1, a in self.accels:
            if t0 <= t < t1:
                return a
        return 0.0


@dataclass
class Script:
    kind: str
    role: str  # parked, traffic, oncoming, walker, event, setup
    color: tuple[float, float, float]
    is_event: bool = False
    start: float = 0.0  # exists from this time
    # constant velocity in road coordinates from (s0, d0) at time `start`
    s0: float = 0.0
    d0: float = 0.0
    vs: float = 0.0
    vd: float = 0.0
    heading: float = 0.0
    vehicle: VehicleScript | None = None
    swerve: tuple[float, float, float] | None = None  # (start, delta d, duration) on top of constant velocity
    decel: float = 0.0  # sliding debris: |deceleration| along s until it stops
    drop: float = 0.0  # falling debris: start height (m)
    hazard: bool = False  # hazard lights blinking
    until: float = math.inf  # the event agent: when its event is over (s), see event_window


@dataclass
class Tracks:
    """Per-frame agent states, arrays [T, N] (s, d road coordinates; heading relative to the road)."""

    kinds: tuple[str, ...]
    roles: tuple[str, ...]
    is_event: np.ndarray  # [N] bool
    colors: np.ndarray  # [N, 3]
    dims: np.ndarray  # [N, 3]
    s: np.ndarray
    d: np.ndarray
    z: np.ndarray
    heading: np.ndarray
    speed: np.ndarray
    vs: np.ndarray
    vd: np.ndarray
    exists: np.ndarray
    braking: np.ndarray
    hazard: np.ndarray
    phase: np.ndarray

    @property
    def n(self) -> int:
        return len(self.kinds)


def _role(kind: str, speed: float, heading: float) -> str:
    if kind in VEHICLE_KINDS:
        if speed == 0:
            return "parked"
        return "oncoming" if math.cos(heading) < 0 else "traffic"
    return "walker" if kind in ("pedestrian", "child") else "other"


def crossing_start(geom: RoadGeometry, side: str) -> float:
    """d where the crossing vehicle of an event on ``side`` starts (down the side street)."""
    return (1.0 if side == "left" else -1.0) * (geom.setback + CROSSING_RUN_UP)


def event_window(sc: Scenario, geom: RoadGeometry) -> tuple[float, float] | None:
    """(onset, end) in s of the scripted event, None for "none". It is over when its agent
    has crossed the road (crossings), stopped (lead brake, debris), moved back or into
    the lane (drift, cut-in, swerve) or the stopped car is revealed."""
    scripts = event_scripts(sc, geom)
    return (sc.event.onset, scripts[0].until) if scripts else None


def event_scripts(sc: Scenario, geom: RoadGeometry) -> list[Script]:
    """The scripted agents of the scenario's event; the first one is the event agent."""
    ev = sc.event
    if ev.kind == "none":
        return []
    sgn = 1.0 if ev.side == "left" else -1.0
    v_ego = sc.ego_speed
    s_on = v_ego * ev.onset  # where the ego would be at onset, cruising
    col = COLORS[ev.color]
    lane_d = geom.lane_center(sc.ego_lane)
    W = geom.lane_width
    L = DIMS[ev.actor][0]
    k = ev.kind
    out: list[Script] = []
    if k == "pedestrian_crossing":
        speed = ev.speed or (1.3 + 1.9 * ev.strength)
        s_p = s_on + ev.distance
        d0 = sgn * (geom.parking if ev.occluded else geom.curb + (0.7 * geom.sidewalk if geom.sidewalk else 1.5))
        out.append(Script(ev.actor, "event", col, True, ev.onset, s_p, d0, 0.0, -sgn * speed,
                          heading=-sgn * math.pi / 2, until=ev.onset + (abs(d0) + geom.curb) / speed))
        if ev.occluded:
            out.append(Script("van", "parked", COLORS["white"], s0=s_p - 3.4, d0=sgn * geom.parking))
    elif k == "animal_crossing":
        speed = ev.speed or ((5.0 + 4.0 * ev.strength) if ev.actor == "deer" else (3.5 + 3.0 * ev.strength))
        d0 = sgn * (geom.setback + 0.6 if geom.setting == "rural" else geom.curb + geom.sidewalk)
        out.append(Script(ev.actor, "event", col, True, ev.onset, s_on + ev.distance, d0, 0.0, -sgn * speed,
                          heading=-sgn * math.pi / 2, until=ev.onset + (abs(d0) + geom.curb) / speed))
    elif k == "lead_brake":
        v = ev.speed or v_ego
        s_c = s_on + ev.distance + L / 2 - v * ev.onset
        decel = 4.0 + 5.0 * ev.strength
        veh = VehicleScript(s_c, lane_d, v, 1, accels=[(ev.onset, math.inf, -decel)], brake_from=ev.onset)
        out.append(Script(ev.actor, "event", col, True, vehicle=veh, until=ev.onset + v / decel))
    elif k == "cut_in":
        v = ev.speed or v_ego + 1.5
        d0 = geom.lane_center(sc.ego_lane + (1 if ev.side == "right" else -1))
        s_c = s_on + ev.distance + L / 2 - v * ev.onset
        dur = 2.6 - 1.4 * ev.strength
        veh = VehicleScript(s_c, d0, v, 1, shifts=[(ev.onset, lane_d - d0, dur)],
                            accels=[(ev.onset + dur * 0.6, ev.onset + dur * 0.6 + 1.5, -1.0 - 3.0 * ev.strength)],
                            brake_from=ev.onset + dur * 0.6)
        out.append(Script(ev.actor, "event", col, True, vehicle=veh, until=ev.onset + max(dur, dur * 0.6 + 1.5)))
    elif k == "stopped_vehicle":
        s_stop = s_on + ev.distance + L / 2
        # a truck ahead hides it until it changes lane at onset
        reveal = 1.8 - 0.6 * ev.strength
        out.append(Script(ev.actor, "event", col, True, s0=s_stop, d0=lane_d, hazard=True, until=ev.onset + reveal))
        gap = min(0.4 * ev.distance, 20.0)
        other = geom.lane_center(1 - sc.ego_lane)
        veh = VehicleScript(s_on + gap + DIMS["truck"][0] / 2 - v_ego * ev.onset, lane_d, v_ego, 1,
                            shifts=[(ev.onset, other - lane_d, reveal)])
        out.append(Script("truck", "setup", COLORS["white"], vehicle=veh))
    elif k == "cyclist_swerve":
        v = ev.speed or 4.5
        d0 = lane_d + sgn * (W / 2 - 0.45)
        s_c = s_on + ev.distance - v * ev.onset
        dur = 1.0 - 0.4 * ev.strength
        out.append(Script(ev.actor, "event", col, True, s0=s_c, d0=d0, vs=v,
                          swerve=(ev.onset, -sgn * (0.8 + 1.3 * ev.strength), dur), until=ev.onset + dur))
    elif k == "debris":
        v = ev.speed or v_ego + 1.0
        Lt = DIMS["truck"][0]
        s_rear = s_on + ev.distance  # truck's tail at onset
        veh = VehicleScript(s_rear + Lt / 2 - v * ev.onset, lane_d, v, 1)
        out.insert(0, Script("truck", "setup", COLORS["blue"], vehicle=veh))
        decel, drop = (7.0 if ev.actor == "box" else 3.0), 1.2
        # over once it has landed and slid to a stop
        until = ev.onset + max(math.sqrt(2 * drop / 9.81), v / decel)
        out.insert(0, Script(ev.actor, "event", col, True, ev.onset, s_rear - 0.5, lane_d, v, 0.0,
                             decel=decel, drop=drop, until=until))
    elif k == "oncoming_drift":
        v = ev.speed or 11.0
        d0 = geom.lane_center(0, oncoming=True)
        s_c = s_on + ev.distance + L / 2 + v * ev.onset
        width = 1.0 + 2.0 * ev.strength
        veh = VehicleScript(s_c, d0, v, -1, shifts=[(ev.onset, -width, 1.6), (ev.onset + 2.6, width, 1.6)])
        out.append(Script(ev.actor, "event", col, True, vehicle=veh, until=ev.onset + 2.6 + 1.6))
    elif k == "crossing_vehicle":
        v = ev.speed or CROSSING_SPEED
        from_right = ev.side == "right"
        s_c = geom.cross_at + (1.75 if from_right else -1.75)
        d0 = crossing_start(geom, ev.side)
        out.append(Script(ev.actor, "event", col, True, ev.onset, s_c, d0, 0.0, -sgn * v,
                          heading=-sgn * math.pi / 2, until=ev.onset + (abs(d0) + geom.curb) / v))
    return out


def background_scripts(sc: Scenario) -> list[Script]:
    out = []
    for a in sc.agents:
        role = _role(a.kind, a.speed, a.heading)
        out.append(Script(a.kind, role, COLORS[a.color], s0=a.s, d0=a.d, vs=a.speed * math.cos(a.heading),
                          vd=a.speed * math.sin(a.heading), heading=a.heading))
    return out


def _simulate_vehicle(veh: VehicleScript, geom: RoadGeometry, times: np.ndarray, fps: float):
    """Integrate the bicycle model; returns arrays [T] of s, d, heading(rel road), speed, vs, vd, braking."""
    T = times.shape[0]
    out = np.zeros((7, T))
    s, d, psi, v = veh.s0, veh.d0, 0.0, veh.v0
    dirn = veh.direction
    n_sub = max(1, math.ceil((1.0 / fps) / SUBSTEP))
    dt = (1.0 / fps) / n_sub
    t = 0.0
    for i in range(T):
        out[:, i] = (s, d, psi if dirn > 0 else math.pi + psi, v, dirn * v * math.cos(psi),
                     dirn * v * math.sin(psi), times[i] >= veh.brake_from or veh.accel(times[i]) < -0.5)
        for _ in range(n_sub):
            # psi is relative to the road, so following the bend needs no extra term
            look = max(6.0, 1.2 * v)
            err = dirn * (veh.target(t) - d)
            ctrl = 2.0 * (err - look * psi) / (look * look)
            ctrl = max(-0.25, min(0.25, ctrl))
            a = veh.accel(t)
            s += dirn * v * math.cos(psi) * dt
            d += dirn * v * math.sin(psi) * dt
            psi += v * ctrl * dt
            v = max(0.0, v + a * dt)
            t += dt
        t = (i + 1) / fps  # re-anchor: no drift of the script clock over long clips
    return out


def simulate(sc: Scenario, geom: RoadGeometry, num_frames: int, fps: float) -> Tracks:
    """States of every agent at frames 0..num_frames-1."""
    scripts = event_scripts(sc, geom) + background_scripts(sc)
    times = np.arange(num_frames, dtype=np.float64) / fps
    T, N = num_frames, len(scripts)
    z = np.zeros((T, N))
    arr = {k: np.zeros((T, N)) for k in ("s", "d", "heading", "speed", "vs", "vd", "phase")}
    exists = np.zeros((T, N), dtype=bool)
    braking = np.zeros((T, N), dtype=bool)
    hazard = np.zeros((T, N), dtype=bool)
    for j, sp in enumerate(scripts):
        if sp.vehicle is not None:
            s, d, h, v, vs, vd, br = _simulate_vehicle(sp.vehicle, geom, times, fps)
            arr["s"][:, j], arr["d"][:, j], arr["heading"][:, j] = s, d, h
            arr["speed"][:, j], arr["vs"][:, j], arr["vd"][:, j] = v, vs, vd
            braking[:, j] = br > 0.5
            exists[:, j] = True
            continue
        tau = np.maximum(times - sp.start, 0.0)
        exists[:, j] = times >= sp.start - 1e-9
        vs = np.full(T, sp.vs)
        s_along = sp.s0 + sp.vs * tau
        if sp.decel > 0:  # slides to a stop
            t_stop = sp.vs / sp.decel
            tt = np.minimum(tau, t_stop)
            s_along = sp.s0 + sp.vs * tt - 0.5 * sp.decel * tt * tt
            vs = np.where(tau < t_stop, sp.vs - sp.decel * tau, 0.0)
        d = sp.d0 + sp.vd * tau
        vd = np.full(T, sp.vd)
        if sp.swerve is not None:
            t0, dd, dur = sp.swerve
            x = np.clip((times - t0) / dur, 0, 1)
            d = d + dd * x * x * (3 - 2 * x)
            vd = vd + np.where((x > 0) & (x < 1), dd * 6 * x * (1 - x) / dur, 0.0)
        if sp.drop > 0:
            z[:, j] = np.maximum(sp.drop - 4.905 * tau * tau, 0.0)
        arr["s"][:, j], arr["d"][:, j], arr["vs"][:, j], arr["vd"][:, j] = s_along, d, vs, vd
        arr["speed"][:, j] = np.hypot(vs, vd)
        arr["heading"][:, j] = sp.heading if sp.vd == 0 and sp.swerve is None else np.arctan2(vd, np.where(vs == 0, 1e-9, vs))
        if sp.vs == 0 and sp.vd == 0:
            arr["heading"][:, j] = sp.heading
        hazard[:, j] = sp.hazard
        stride = STRIDE.get(sp.kind)
        if stride:
            dist = np.hypot(s_along - sp.s0, d - sp.d0)
            arr["phase"][:, j] = 2 * math.pi * dist / stride
    return Tracks(
        kinds=tuple(sp.kind for sp in scripts),
        roles=tuple(sp.role for sp in scripts),
        is_event=np.array([sp.is_event for sp in scripts], dtype=bool),
        colors=np.array([sp.color for sp in scripts], dtype=np.float32).reshape(-1, 3),
        dims=np.array([DIMS[sp.kind] for sp in scripts], dtype=np.float64).reshape(-1, 3),
        s=arr["s"], d=arr["d"], z=z, heading=arr["heading"], speed=arr["speed"], vs=arr["vs"], vd=arr["vd"],
        exists=exists, braking=braking, hazard=hazard, phase=arr["phase"],
    )

