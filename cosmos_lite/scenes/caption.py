"""Natural-language captions from a scenario, with seeded wording variety.

Every caption names the conditions (``CONDITION_WORDS``) and the event
(``EVENT_WORDS``) with at least one of the listed words, so text-conditioned
models see the labels and tests can check them.
"""

from __future__ import annotations

import numpy as np

from .spec import Scenario

CONDITION_WORDS = {
    "clear": ("clear",),
    "rain": ("rain",),
    "fog": ("fog",),
    "snow": ("snow",),
    "night": ("night",),
    "dusk": ("dusk",),
}

EVENT_WORDS = {
    "none": ("cruises", "drives", "normal"),
    "pedestrian_crossing": ("pedestrian", "child"),
    "lead_brake": ("brakes", "braking"),
    "cut_in": ("cuts in", "cut-in", "merges"),
    "stopped_vehicle": ("stopped", "stationary"),
    "cyclist_swerve": ("cyclist",),
    "animal_crossing": ("deer", "dog", "animal"),
    "debris": ("falls", "debris", "drops"),
    "oncoming_drift": ("oncoming",),
    "crossing_vehicle": ("crossing", "intersection", "junction"),
}

_INTENSITY = {
    "rain": (("light rain", "drizzle-like light rain"), ("steady rain", "moderate rain"), ("heavy rain", "pouring rain")),
    "fog": (("light fog", "thin fog"), ("fog", "moderate fog"), ("dense fog", "thick fog")),
    "snow": (("light snow", "a few snowflakes and light snow"), ("snow", "steady snow"), ("heavy snow", "a snowstorm with heavy snow")),
}
_LIGHT = {
    "day": ("", "daytime", "in daylight"),
    "dusk": ("dusk", "at dusk with low sun glare", "dusk, sun low ahead"),
    "night": ("night", "at night", "nighttime"),
}
_ROAD = {
    ("urban", "straight"): ("a city street", "an urban street", "a downtown street"),
    ("urban", "curve"): ("a curving city street", "an urban street with a bend"),
    ("urban", "intersection"): ("a city street approaching an intersection", "an urban crossing"),
    ("suburban", "straight"): ("a suburban road", "a residential street"),
    ("suburban", "curve"): ("a bending suburban road", "a curving residential street"),
    ("suburban", "intersection"): ("a suburban road with a junction ahead", "a residential crossing"),
    ("rural", "straight"): ("a country road", "a rural two-lane road"),
    ("rural", "curve"): ("a winding country road", "a rural road with a bend"),
    ("rural", "intersection"): ("a country road with a junction",),
}
_SIDE = {"left": ("on the left", "from the left"), "right": ("on the right", "from the right")}


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def _event_phrase(sc: Scenario, rng: np.random.Generator) -> str:
    ev = sc.event
    side_on, side_from = _SIDE[ev.side]
    actor = ev.actor
    col = ev.color
    k = ev.kind
    if k == "none":
        return _pick(rng, ("the car cruises with no incident", "normal driving, nothing unusual happens",
                           "the car drives along calmly"))
    if k == "pedestrian_crossing":
        who = "a child" if actor == "child" else _pick(rng, ("a pedestrian", "a pedestrian in a " + col + " top"))
        if actor == "child":
            who = _pick(rng, ("a child", "a small child"))
        verb = _pick(rng, ("steps out", "walks into the road", "darts into the road" if ev.strength > 0.6 else "steps into the road"))
        where = f"from behind a parked van {side_on}" if ev.occluded else side_from
        return f"{who} {verb} {where}"
    if k == "lead_brake":
        return _pick(rng, (f"the {col} {actor} ahead brakes hard", f"a {col} {actor} in front suddenly brakes",
                           f"sudden braking by the {actor} ahead"))
    if k == "cut_in":
        return _pick(rng, (f"a {col} {actor} cuts in {side_from}", f"a {col} {actor} from the {ev.side} lane cuts in close",
                           f"a {actor} merges abruptly {side_from} (cut-in)"))
    if k == "stopped_vehicle":
        return _pick(rng, (f"a truck ahead changes lane and reveals a stopped {col} {actor} in the lane",
                           f"a stopped {actor} with hazard lights blocks the lane behind a truck",
                           f"a stationary {col} {actor} appears in the lane as the truck ahead moves over"))
    if k == "cyclist_swerve":
        return _pick(rng, (f"a cyclist ahead swerves into the lane {side_from}", f"the cyclist {side_on} suddenly swerves into the lane"))
    if k == "animal_crossing":
        a = "a deer" if actor == "deer" else "a dog"
        return _pick(rng, (f"{a} runs across the road {side_from}", f"{a} darts out {side_from}",
                           f"an animal ({actor}) crosses the road {side_from}"))
    if k == "debris":
        thing = "a box" if actor == "box" else "a tyre"
        return _pick(rng, (f"{thing} falls off the truck ahead and lies in the lane",
                           f"the truck ahead drops {thing}, debris on the road",
                           f"debris: {thing} falls from the truck in front"))
    if k == "oncoming_drift":
        return _pick(rng, (f"an oncoming {col} {actor} drifts into the lane", f"an oncoming {actor} crosses the centre line",
                           f"the oncoming {actor} drifts over the centre line towards the car"))
    if k == "crossing_vehicle":
        return _pick(rng, (f"a {col} {actor} runs the intersection {side_from}",
                           f"a {actor} shoots across the crossing {side_from}",
                           f"cross traffic: a {actor} enters the junction {side_from}"))
    raise ValueError(f"no caption for event {k!r}")


def _conditions(sc: Scenario, rng: np.random.Generator) -> str:
    parts = []
    light = _pick(rng, _LIGHT[sc.lighting][1:] if sc.weather == "clear" and sc.lighting != "day" else _LIGHT[sc.lighting])
    if sc.lighting != "day" and not light:
        light = sc.lighting
    if light:
        parts.append(light)
    if sc.weather == "clear":
        parts.append(_pick(rng, ("clear weather", "clear sky")) if sc.lighting == "day" else "clear")
    else:
        level = 0 if sc.intensity < 0.4 else (1 if sc.intensity < 0.75 else 2)
        parts.append(_pick(rng, _INTENSITY[sc.weather][level]))
    return ", ".join(parts)


def caption(sc: Scenario) -> str:
    rng = np.random.default_rng([sc.seed & 0xFFFFFFFF, sc.seed >> 32, 17])
    cond = _conditions(sc, rng)
    event = _event_phrase(sc, rng)
    road = _pick(rng, _ROAD[(sc.road.setting, sc.road.layout)])
    kmh = int(round(sc.ego_speed * 3.6 / 5.0) * 5)
    templates = (
        "{cond}; {event} while the car drives at {kmh} km/h on {road}",
        "{Cond} on {road}: {event}, ego speed about {kmh} km/h",
        "dashcam view of {road}, {cond}. {Event}",
        "{Road}, {cond}, driving at {kmh} km/h; {event}",
        "{cond}, {road}. {Event} as the car approaches at {kmh} km/h",
    )
    text = _pick(rng, templates).format(
        cond=cond, Cond=cond[:1].upper() + cond[1:], event=event, Event=event[:1].upper() + event[1:],
        road=road, Road=road[:1].upper() + road[1:], kmh=kmh,
    )
    return text[:1].upper() + text[1:] + "."
