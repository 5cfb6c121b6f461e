"""The scenario spec: a frozen, JSON-serialisable description of one driving clip.

Everything that decides what a clip shows lives here (road, weather, lighting,
the scripted edge-case event, the background agents and a seed for scenery and
particles), so a spec plus a frame count, size and fps is a complete recipe:
the same spec renders to the same bytes.

World coordinates are road-aligned (Frenet): ``s`` metres along the road from
the ego car's start, ``d`` metres to the left of the road's centre line. Lanes
are ``lane_width`` wide; the ego direction's lanes are at negative ``d``
(right-hand traffic), lane 0 being the one next to the centre line.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

SPEC_VERSION = 1

WEATHERS = ("clear", "rain", "fog", "snow")
LIGHTINGS = ("day", "dusk", "night")
# The condition vocabulary: a weather and a lighting combine ("night" + "rain").
CONDITIONS = ("clear", "rain", "fog", "snow", "night", "dusk")
EVENTS = (
    "none",
    "pedestrian_crossing",  # steps out, optionally from behind a parked van
    "lead_brake",  # lead vehicle brakes hard
    "cut_in",  # vehicle from the adjacent lane cuts in close
    "stopped_vehicle",  # lead vehicle changes lane and reveals a stopped car
    "cyclist_swerve",  # cyclist ahead swerves into the lane
    "animal_crossing",  # deer / dog runs across
    "debris",  # cargo falls off the truck ahead and lies in the lane
    "oncoming_drift",  # oncoming vehicle drifts over the centre line
    "crossing_vehicle",  # vehicle runs the crossing from a side street
)
# How the ego driver departs from the scripted one (see behaviour.py); "keep" is the scripted driver.
BEHAVIOURS = (
    "keep",  # keeps its lane and cruise speed, brakes for hazards
    "lane_change_left",  # moves one lane width over and stays there
    "lane_change_right",
    "swerve_left",  # quick out and back
    "swerve_right",
    "drift_left",  # slow drift off the lane centre, stays off it
    "drift_right",
    "hard_brake",  # brakes at 6-8 m/s^2 for 1-2 s, then resumes its cruise speed
    "accelerate",  # speeds up at 1.5-3 m/s^2 and holds the new speed
    "random",  # smooth random perturbation of both actions on top of the scripted driver
    "veer_left",  # stops keeping its lane and holds a turn off the road's line (a driver who veers away)
    "veer_right",
)
SETTINGS = ("urban", "suburban", "rural")
LAYOUTS = ("straight", "curve", "intersection")
SIDES = ("left", "right")

VEHICLE_KINDS = ("car", "van", "truck")
ANIMAL_KINDS = ("deer", "dog")
DEBRIS_KINDS = ("box", "tire")
AGENT_KINDS = VEHICLE_KINDS + ("pedestrian", "child", "cyclist") + ANIMAL_KINDS + DEBRIS_KINDS

# Which actor kinds each event may use (first = default).
EVENT_ACTORS: dict[str, tuple[str, ...]] = {
    "none": ("",),
    "pedestrian_crossing": ("pedestrian", "child"),
    "lead_brake": VEHICLE_KINDS,
    "cut_in": ("car", "van", "truck"),
    "stopped_vehicle": ("car", "van"),
    "cyclist_swerve": ("cyclist",),
    "animal_crossing": ANIMAL_KINDS,
    "debris": DEBRIS_KINDS,
    "oncoming_drift": VEHICLE_KINDS,
    "crossing_vehicle": ("car", "van"),
}

COLORS: dict[str, tuple[float, float, float]] = {
    "white": (0.86, 0.86, 0.84),
    "silver": (0.62, 0.64, 0.66),
    "gray": (0.36, 0.37, 0.39),
    "black": (0.09, 0.09, 0.10),
    "red": (0.70, 0.10, 0.09),
    "blue": (0.12, 0.24, 0.58),
    "green": (0.16, 0.40, 0.22),
    "yellow": (0.88, 0.72, 0.12),
    "orange": (0.86, 0.42, 0.10),
    "brown": (0.40, 0.26, 0.15),
}

# Seeds of the three splits come from disjoint ranges, so no scene can leak
# from train into val/test: split seed k maps to SPLIT_BASE[split] + k.
SPLIT_SIZE = 1_000_000_000
SPLIT_BASE = {"train": 0, "val": SPLIT_SIZE, "test": 2 * SPLIT_SIZE}


def split_seed(seed: int, split: str) -> int:
    """The global seed of clip ``seed`` (0 <= seed < 1e9) of ``split``."""
    if split not in SPLIT_BASE:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_BASE)}")
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < SPLIT_SIZE):
        raise ValueError(f"split seed must be an integer in [0, {SPLIT_SIZE}), got {seed!r}")
    return SPLIT_BASE[split] + int(seed)


def split_of(seed: int) -> str:
    """The split a global seed belongs to."""
    for name, base in SPLIT_BASE.items():
        if base <= seed < base + SPLIT_SIZE:
            return name
    raise ValueError(f"seed {seed} lies outside every split range [0, {3 * SPLIT_SIZE})")


# --------------------------------------------------------------------------- validation helpers


def _choice(what: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(repr(o) for o in options)}")


def _number(owner: object, name: str, lo: float, hi: float) -> None:
    """Coerce a numeric field to float (so JSON round trips compare equal) and range-check it."""
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{type(owner).__name__}.{name} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{type(owner).__name__}.{name} must be in [{lo:g}, {hi:g}], got {value!r}")
    object.__setattr__(owner, name, value)


def _integer(owner: object, name: str, lo: int, hi: int) -> None:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{type(owner).__name__}.{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{type(owner).__name__}.{name} must be in [{lo}, {hi}], got {value}")
    object.__setattr__(owner, name, int(value))


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Road:
    """Road layout. ``feature_at`` is where the bend starts or the crossing's centre lies (m)."""

    setting: str = "urban"  # urban: buildings, sidewalks, parked cars; suburban: houses, trees; rural: tree lines
    layout: str = "straight"
    lanes: int = 1  # lanes per direction
    lane_width: float = 3.5
    curvature: float = 0.0  # 1/m of the bend (+ left); only for layout "curve"
    feature_at: float = 60.0

    def __post_init__(self) -> None:
        _choice("road setting", self.setting, SETTINGS)
        _choice("road layout", self.layout, LAYOUTS)
        _integer(self, "lanes", 1, 2)
        _number(self, "lane_width", 2.5, 5.0)
        _number(self, "curvature", -0.02, 0.02)
        _number(self, "feature_at", -50.0, 5000.0)
        if self.layout == "curve" and abs(self.curvature) < 1e-4:
            raise ValueError("Road.curvature must be non-zero (|k| >= 1e-4 1/m) for layout 'curve'")
        if self.layout != "curve" and self.curvature != 0.0:
            raise ValueError(f"Road.curvature must be 0 for layout {self.layout!r}, got {self.curvature}")


@dataclass(frozen=True)
class Event:
    """The scripted edge case. ``onset`` (s) is when it starts; ``distance`` (m) is how far
    ahead of the ego (at its nominal cruise position) it happens at onset."""

    kind: str = "none"
    onset: float = 0.0
    side: str = "right"  # where the event agent is / comes from, seen from the ego
    distance: float = 20.0
    speed: float = 0.0  # event agent speed, m/s (walking pace, vehicle speed...); 0 = typical
    strength: float = 0.5  # 0..1: how violent (brake deceleration, swerve/drift width)
    actor: str = ""  # agent kind, one of EVENT_ACTORS[kind]
    color: str = "white"
    occluded: bool = False  # pedestrian steps out from behind a parked van

    def __post_init__(self) -> None:
        _choice("event", self.kind, EVENTS)
        _choice("event side", self.side, SIDES)
        _number(self, "onset", 0.0, 3600.0)
        _number(self, "distance", 0.0, 200.0)
        _number(self, "speed", 0.0, 40.0)
        _number(self, "strength", 0.0, 1.0)
        _choice("event color", self.color, tuple(COLORS))
        if not isinstance(self.occluded, bool):
            raise ValueError(f"Event.occluded must be true or false, got {self.occluded!r}")
        actors = EVENT_ACTORS[self.kind]
        if self.actor == "" and self.kind != "none":
            object.__setattr__(self, "actor", actors[0])
        if self.actor not in actors:
            raise ValueError(f"event {self.kind!r} cannot use actor {self.actor!r}; choose one of {actors}")
        if self.occluded and self.kind != "pedestrian_crossing":
            raise ValueError("Event.occluded is only meaningful for 'pedestrian_crossing'")
        if self.kind != "none" and self.distance < 5.0:
            raise ValueError(f"Event.distance must be at least 5 m ahead, got {self.distance}")


@dataclass(frozen=True)
class Behaviour:
    """The ego driver's manoeuvre, on top of the scripted driver. ``start`` (s) is when it
    begins; ``strength`` 0..1 how vigorous it is (lane change / swerve / drift: quicker or
    wider, brake / accelerate: harder and longer, random: larger); ``seed`` draws the
    ``random`` perturbation. The default, ``keep``, is the scripted driver itself."""

    kind: str = "keep"
    start: float = 0.0
    strength: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        _choice("ego behaviour", self.kind, BEHAVIOURS)
        _number(self, "start", 0.0, 3600.0)
        _number(self, "strength", 0.0, 1.0)
        _integer(self, "seed", 0, 2**63 - 1)
        # no dead knobs: a parameter that would change nothing is an error, not a silent no-op
        if self.kind == "keep" and (self.start, self.strength, self.seed) != (0.0, 0.5, 0):
            raise ValueError("Behaviour 'keep' is the scripted driver: it takes no start, strength or seed")
        if self.seed != 0 and self.kind != "random":
            raise ValueError(f"Behaviour.seed is only meaningful for 'random', not {self.kind!r}")


@dataclass(frozen=True)
class AgentSpec:
    """A background agent: parked or moving with constant velocity along its heading."""

    kind: str
    s: float  # m along the road from the ego's start
    d: float  # m left of the centre line
    speed: float = 0.0  # m/s
    heading: float = 0.0  # rad relative to the road: 0 with the ego, pi oncoming, +-pi/2 crossing
    color: str = "white"

    def __post_init__(self) -> None:
        _choice("agent kind", self.kind, AGENT_KINDS)
        _number(self, "s", -1000.0, 10000.0)
        _number(self, "d", -100.0, 100.0)
        _number(self, "speed", 0.0, 40.0)
        _number(self, "heading", -2 * math.pi, 2 * math.pi)
        _choice("agent color", self.color, tuple(COLORS))


@dataclass(frozen=True)
class Scenario:
    """One driving scene. Build one by hand, with :meth:`sample`, or from JSON."""

    seed: int  # scenery, textures, particles and caption wording
    weather: str = "clear"
    intensity: float = 0.5  # 0..1 strength of rain / fog / snow (and dusk glare)
    lighting: str = "day"
    road: Road = field(default_factory=Road)
    event: Event = field(default_factory=Event)
    ego_speed: float = 10.0  # m/s at frame 0, and the scripted driver's cruise speed
    ego_lane: int = 0  # lane of the ego direction, 0 = next to the centre line
    reaction: float = 0.6  # scripted driver's reaction time, s
    agents: tuple[AgentSpec, ...] = ()
    ego_behaviour: Behaviour = field(default_factory=Behaviour)  # the ego's manoeuvre; default: none

    def __post_init__(self) -> None:
        _integer(self, "seed", 0, 2**63 - 1)
        _choice("weather", self.weather, WEATHERS)
        _choice("lighting", self.lighting, LIGHTINGS)
        _number(self, "intensity", 0.0, 1.0)
        _number(self, "ego_speed", 0.0, 40.0)
        _number(self, "reaction", 0.0, 3.0)
        if not isinstance(self.road, Road):
            raise ValueError(f"Scenario.road must be a Road, got {type(self.road).__name__}")
        if not isinstance(self.event, Event):
            raise ValueError(f"Scenario.event must be an Event, got {type(self.event).__name__}")
        if not isinstance(self.ego_behaviour, Behaviour):
            raise ValueError(f"Scenario.ego_behaviour must be a Behaviour, got {type(self.ego_behaviour).__name__}")
        _integer(self, "ego_lane", 0, self.road.lanes - 1)
        agents = tuple(self.agents)
        for a in agents:
            if not isinstance(a, AgentSpec):
                raise ValueError(f"Scenario.agents must hold AgentSpec items, got {type(a).__name__}")
        object.__setattr__(self, "agents", agents)
        kind = self.event.kind
        if kind in ("cut_in", "stopped_vehicle") and self.road.lanes < 2:
            raise ValueError(f"event {kind!r} needs a road with 2 lanes per direction (Road.lanes=2)")
        if kind == "cut_in":
            # the cutter comes from the lane on event.side, which must exist
            other = self.ego_lane + (1 if self.event.side == "right" else -1)
            if not 0 <= other < self.road.lanes:
                raise ValueError(
                    f"cut_in from the {self.event.side} needs a same-direction lane on that side "
                    f"(ego_lane={self.ego_lane}, lanes={self.road.lanes})"
                )
        if kind == "crossing_vehicle" and self.road.layout != "intersection":
            raise ValueError("event 'crossing_vehicle' needs Road.layout='intersection'")

    # ------------------------------------------------------------------ derived

    @property
    def conditions(self) -> tuple[str, ...]:
        """Active condition names, e.g. ("night", "rain"); ("clear",) for a clear day."""
        out = tuple(x for x in (self.lighting,) if x != "day") + tuple(x for x in (self.weather,) if x != "clear")
        return out or ("clear",)

    def check_clip(self, num_frames: int, fps: float) -> None:
        """Raise ValueError if this scenario cannot be shown in a clip of that length."""
        duration = num_frames / fps
        if self.event.kind != "none" and self.event.onset >= duration:
            raise ValueError(
                f"event onset {self.event.onset:g} s is beyond the clip "
                f"({num_frames} frames at {fps:g} fps = {duration:g} s)"
            )
        beh = self.ego_behaviour
        if beh.kind != "keep" and beh.start >= duration:
            raise ValueError(
                f"ego behaviour {beh.kind!r} starts at {beh.start:g} s, beyond the clip "
                f"({num_frames} frames at {fps:g} fps = {duration:g} s)"
            )

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        out = asdict(self)
        out["agents"] = [asdict(a) for a in self.agents]
        out["version"] = SPEC_VERSION
        if self.ego_behaviour == Behaviour():
            # the scripted driver: written as before behaviours existed, so the JSON of every
            # scenario without one (and of every export made before) stays byte-identical
            del out["ego_behaviour"]
        return out

    def to_json(self) -> str:
        """Canonical JSON (sorted keys); floats are written with repr, so the round trip is exact."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Scenario":
        if not isinstance(data, dict):
            raise ValueError(f"scenario JSON must be an object, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise ValueError(f"unsupported scenario version {version!r} (this build reads {SPEC_VERSION})")
        _check_keys(cls, data, "scenario")
        road = data.get("road", {})
        event = data.get("event", {})
        _check_keys(Road, road, "road")
        _check_keys(Event, event, "event")
        behaviour = data.get("ego_behaviour", {})
        _check_keys(Behaviour, behaviour, "ego_behaviour")
        agents = data.get("agents", [])
        if not isinstance(agents, list):
            raise ValueError("scenario 'agents' must be a list")
        for i, a in enumerate(agents):
            _check_keys(AgentSpec, a, f"agents[{i}]")
        data["road"] = Road(**road)
        data["event"] = Event(**event)
        data["ego_behaviour"] = Behaviour(**behaviour)
        data["agents"] = tuple(AgentSpec(**a) for a in agents)
        if "seed" not in data:
            raise ValueError("scenario JSON lacks 'seed'")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "Scenario":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"scenario is not valid JSON: {err}") from None
        return cls.from_dict(data)

    # ------------------------------------------------------------------ sampling

    @classmethod
    def sample(cls, seed: int, split: str | None = None, duration: float = 4.0, *, behaviour: str = "keep",
               salient: bool = False) -> "Scenario":
        """A random, valid scenario. With ``split``, ``seed`` indexes that split's seed range.

        ``duration`` (s) bounds the event onset (25-55 % into the clip) and how much
        road ahead gets parked cars and traffic.

        ``behaviour`` gives the ego a manoeuvre: one of :data:`BEHAVIOURS` (its start and
        strength drawn per seed) or ``"mix"`` (30 % keep, 70 % spread evenly over the
        others). It is drawn from its own random stream, so the scene itself (road,
        weather, event, agents) is the same as with the default ``"keep"``.

        ``salient`` places the event where it can be seen clearly (near, in view, onset
        20-60 % into the clip; animals are deer, debris is a box) instead of anywhere
        plausible; the rest of the scene is drawn as without it.
        """
        from .sampling import sample_scenario

        if not (isinstance(duration, (int, float)) and 0.2 <= duration <= 600):
            raise ValueError(f"duration must be in [0.2, 600] s, got {duration!r}")
        _choice("ego behaviour", behaviour, BEHAVIOURS + ("mix",))
        if not isinstance(salient, bool):
            raise ValueError(f"salient must be true or false, got {salient!r}")
        global_seed = split_seed(seed, split) if split is not None else int(seed)
        if global_seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return sample_scenario(cls, global_seed, float(duration), behaviour, salient)


def _check_keys(cls: type, data: object, where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
