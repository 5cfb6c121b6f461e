"""Random scenarios: a seeded draw over roads, conditions, events and background agents.

Kept apart from spec.py so the spec stays a plain data definition. Every draw
is valid by construction (events get the roads they need) and the event is
placed so that it happens inside a clip of ``duration`` seconds.

The options only change what they are about: the ego behaviour comes from a
random stream of its own, and ``salient`` changes the event's onset, distance
and (for the kinds too small to see at 128x192) actor with the same number of
draws, so the rest of the scene is the one drawn without them.
"""

from __future__ import annotations

import math

import numpy as np

from .agents import CROSSING_SPEED, crossing_start
from .road import CROSS_WIDTH, RoadGeometry
from .spec import BEHAVIOURS, EVENT_ACTORS, EVENTS, AgentSpec, Behaviour, Event, Road

_CAR_COLORS = ("white", "silver", "gray", "black", "red", "blue", "green", "yellow", "orange", "brown")
_CAR_P = np.array([0.22, 0.17, 0.15, 0.16, 0.08, 0.09, 0.03, 0.03, 0.03, 0.04])
_SHIRTS = ("red", "blue", "green", "yellow", "orange", "white", "black", "gray")


def _pick(rng, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


# "mix": the scripted driver for 30 % of the clips, the manoeuvres share the rest evenly
_MIX_P = np.array([0.3] + [0.7 / (len(BEHAVIOURS) - 1)] * (len(BEHAVIOURS) - 1))
# salient events: actors tall enough to be seen clearly at 128x192 (a dog or a tyre is a few pixels)
_SALIENT_ACTOR = {"animal_crossing": "deer", "debris": "box"}


def sample_behaviour(seed: int, duration: float, behaviour: str) -> Behaviour:
    """The ego behaviour of scenario ``seed``: ``behaviour`` (a name or "mix") with drawn parameters."""
    if behaviour == "keep":
        return Behaviour()
    rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, 2])
    kind = _pick(rng, BEHAVIOURS, p=_MIX_P) if behaviour == "mix" else behaviour
    if kind == "keep":
        return Behaviour()
    # random perturbs from (nearly) the first frame; a manoeuvre starts 10-45 % into the clip
    start = float(rng.uniform(0.0, 0.15) if kind == "random" else rng.uniform(0.1, 0.45)) * duration
    strength = float(rng.uniform(0.2, 1.0))
    return Behaviour(kind, round(start, 3), strength, int(rng.integers(1, 2**62)) if kind == "random" else 0)


def sample_scenario(cls, seed: int, duration: float, behaviour: str = "keep", salient: bool = False):
    rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, 1])
    kind = _pick(rng, EVENTS, p=[0.06] + [0.94 / (len(EVENTS) - 1)] * (len(EVENTS) - 1))
    setting = _pick(rng, ("urban", "suburban", "rural"), p=[0.45, 0.3, 0.25])
    if kind == "crossing_vehicle":
        setting = setting if setting != "rural" else "suburban"
        layout = "intersection"
    else:
        opts = ("straight", "curve", "intersection") if setting != "rural" else ("straight", "curve")
        layout = _pick(rng, opts, p=[0.5, 0.3, 0.2] if setting != "rural" else [0.55, 0.45])
    if kind in ("cut_in", "stopped_vehicle"):
        lanes = 2
    elif setting == "urban":
        lanes = int(rng.integers(1, 3))
    else:
        lanes = 1
    ego_speed = float({"urban": rng.uniform(8, 13), "suburban": rng.uniform(9, 14), "rural": rng.uniform(13, 21)}[setting])
    side = _pick(rng, ("left", "right"), p=[0.35, 0.65])
    ego_lane = 0 if lanes == 1 else int(rng.integers(0, 2))
    if kind == "cut_in":
        ego_lane = 0 if side == "right" else 1
    onset = float((rng.uniform(0.2, 0.6) if salient else rng.uniform(0.25, 0.55)) * duration)
    s_on = ego_speed * onset
    strength = float(rng.uniform(0.3, 1.0))
    occluded = False
    speed = 0.0
    # salient: near enough that the agent is seen clearly before the clip ends
    # (distances in m at onset, from the ego's cruising position)
    if kind == "pedestrian_crossing":
        distance = (rng.uniform(0.9, 1.5) if salient else rng.uniform(1.4, 2.4)) * ego_speed + 4
        occluded = bool(rng.random() < 0.5)
    elif kind == "lead_brake":
        distance = rng.uniform(1.0, 1.6) * ego_speed + 4
    elif kind == "cut_in":
        distance = rng.uniform(6, 14)
    elif kind == "stopped_vehicle":
        distance = rng.uniform(16, 26) if salient else rng.uniform(40, 65)
    elif kind == "cyclist_swerve":
        u = rng.uniform(1.2, 2.2)
        # salient: the swerve starts 6-14 m ahead of the ego (at 1.2-2.2 s of headway the cyclist's
        # tallest view was 6.7 px of a 64x96 frame (median of 40 test scenes), 14 px now)
        distance = (u - 1.2) * 8 + 6 if salient else u * ego_speed + 3
        side = "right"
    elif kind == "animal_crossing":
        distance = (rng.uniform(0.9, 1.5) if salient else rng.uniform(1.6, 2.6)) * ego_speed + 5
    elif kind == "debris":
        if salient:
            # a slow truck (the ego follows it at its following gap), so the box slides only a
            # few metres and the ego comes close enough to see it before the clip ends
            speed = 0.5 * ego_speed
            distance = rng.uniform(0.8, 1.2) * speed + 4.5
        else:
            distance = rng.uniform(1.2, 1.8) * ego_speed + 6
    elif kind == "oncoming_drift":
        distance = rng.uniform(18, 32) if salient else rng.uniform(35, 60)
    elif kind == "crossing_vehicle":
        if salient:
            # it comes from far down the side street: run it fast enough to be on the ego's
            # lane 1.5 s after onset (at most 16 m/s), when the cruising ego is 8-15 m short
            geom = RoadGeometry.from_road(Road(setting, "straight", lanes))
            lateral = abs(crossing_start(geom, side) - geom.lane_center(ego_lane))
            speed = min(max(lateral / 1.5, CROSSING_SPEED), 16.0)
            distance = ego_speed * lateral / speed + rng.uniform(8, 15)
        else:
            distance = rng.uniform(1.8, 2.6) * ego_speed + 6
    else:
        distance = 20.0
    actor = _pick(rng, EVENT_ACTORS[kind])
    if kind == "animal_crossing" and setting == "rural":
        actor = "deer" if rng.random() < 0.75 else "dog"
    if salient:
        actor = _SALIENT_ACTOR.get(kind, actor)
    color = _pick(rng, _CAR_COLORS, p=_CAR_P) if actor in ("car", "van", "truck") else _pick(rng, _SHIRTS)
    if actor in ("deer", "dog", "box", "tire"):
        color = "brown" if actor != "tire" else "black"
    feature_at = float(rng.uniform(15, 70))
    if layout == "intersection":
        feature_at = s_on + distance if kind == "crossing_vehicle" else float(rng.uniform(35, 35 + ego_speed * duration))
    curvature = 0.0
    if layout == "curve":
        curvature = float(rng.uniform(1 / 260, 1 / 90) * (1 if rng.random() < 0.5 else -1))
        feature_at = float(rng.uniform(5, 45))
    road = Road(setting, layout, lanes, 3.5, curvature, float(feature_at))
    event = Event(kind, round(onset, 3) if kind != "none" else 0.0, side, float(distance), speed, strength,
                  actor if kind != "none" else "", color, occluded)

    weather = _pick(rng, ("clear", "rain", "fog", "snow"), p=[0.4, 0.22, 0.18, 0.2])
    lighting = _pick(rng, ("day", "dusk", "night"), p=[0.55, 0.2, 0.25])
    intensity = float(rng.uniform(0.3, 1.0)) if weather != "clear" else float(rng.uniform(0.3, 1.0)) * (lighting == "dusk")
    agents = _background(rng, road, kind, event, ego_speed, ego_lane, duration)
    return cls(
        seed=seed, weather=weather, intensity=intensity, lighting=lighting, road=road, event=event,
        ego_speed=ego_speed, ego_lane=ego_lane, reaction=float(rng.uniform(0.4, 1.0)), agents=tuple(agents),
        ego_behaviour=sample_behaviour(seed, duration, behaviour),
    )


def _background(rng, road: Road, kind: str, ev: Event, v_ego: float, ego_lane: int, duration: float) -> list[AgentSpec]:
    geom = RoadGeometry.from_road(road)
    out: list[AgentSpec] = []
    reach = v_ego * duration + 120.0
    s_ev = v_ego * ev.onset + ev.distance

    def clear_of_event(s: float) -> bool:
        # keep parked cars away from where the event happens (they would hide or block it)
        return kind == "none" or abs(s - s_ev) > 9.0

    def clear_of_crossing(s: float) -> bool:
        return geom.cross_at is None or abs(s - geom.cross_at) > CROSS_WIDTH / 2 + 6

    # parked cars along the kerb
    density = {"urban": 0.5, "suburban": 0.3, "rural": 0.0}[road.setting]
    for sgn in (1.0, -1.0):
        s = float(rng.uniform(-8, 6))
        while s < reach and density > 0:
            if rng.random() < density and clear_of_event(s) and clear_of_crossing(s):
                k = _pick(rng, ("car", "car", "car", "van"))
                out.append(AgentSpec(k, round(s, 2), sgn * geom.parking, 0.0, 0.0, _pick(rng, _CAR_COLORS, p=_CAR_P)))
            s += float(rng.uniform(6.5, 12.0))
    # oncoming traffic
    for _ in range(int(rng.integers(1, 4))):
        s = float(rng.uniform(40, reach + 60))
        lane = int(rng.integers(0, road.lanes))
        k = _pick(rng, ("car", "car", "car", "van", "truck"))
        out.append(AgentSpec(k, round(s, 2), geom.lane_center(lane, oncoming=True), float(rng.uniform(8, 15)),
                             math.pi, _pick(rng, _CAR_COLORS, p=_CAR_P)))
    # a car far ahead in the ego lane (only where it cannot interfere with the event)
    if kind in ("none", "oncoming_drift", "animal_crossing") and rng.random() < 0.6:
        out.append(AgentSpec(_pick(rng, ("car", "van")), round(float(rng.uniform(35, 60)), 2),
                             geom.lane_center(ego_lane), v_ego + float(rng.uniform(0.5, 2.5)), 0.0,
                             _pick(rng, _CAR_COLORS, p=_CAR_P)))
    # adjacent-lane traffic on multi-lane roads
    if road.lanes == 2 and kind not in ("cut_in", "stopped_vehicle") and rng.random() < 0.6:
        out.append(AgentSpec("car", round(float(rng.uniform(15, 45)), 2), geom.lane_center(1 - ego_lane),
                             v_ego + float(rng.uniform(-1.0, 2.0)), 0.0, _pick(rng, _CAR_COLORS, p=_CAR_P)))
    # people walking on the sidewalks
    if geom.sidewalk > 0:
        for _ in range(int(rng.integers(0, 5 if road.setting == "urban" else 3))):
            sgn = 1.0 if rng.random() < 0.5 else -1.0
            heading = 0.0 if rng.random() < 0.5 else math.pi
            s = float(rng.uniform(5, reach * 0.7))
            if clear_of_event(s):
                out.append(AgentSpec(_pick(rng, ("pedestrian", "pedestrian", "child")), round(s, 2),
                                     sgn * (geom.curb + geom.sidewalk * float(rng.uniform(0.3, 0.8))),
                                     float(rng.uniform(0.9, 1.6)), heading, _pick(rng, _SHIRTS)))
    return out



