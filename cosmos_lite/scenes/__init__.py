"""Synthetic driving scenes: cosmos-lite's built-in, labelled dash-camera world.

A seeded procedural world seen from a pinhole camera on the ego car: roads
(straight, bends, crossings) with lane markings, sidewalks, buildings, trees,
lamps and parked cars; traffic, pedestrians, cyclists and animals; weather and
lighting; and one scripted edge-case event per scenario. It is the training
data for the bundled models, the demo data, and the ground truth for world
models: :func:`replay` renders the true continuation under any ego actions.

Public API::

    from cosmos_lite.scenes import Scenario, render, replay, CONDITIONS, EVENTS

    sc = Scenario.sample(7, split="train", duration=4.0)   # frozen, validated
    sc2 = Scenario.from_json(sc.to_json())                 # exact round trip
    clip = render(sc, num_frames=40, size=(128, 192), fps=10.0, actions=None)
    clip.frames     # uint8 [T, H, W, 3]
    clip.actions    # float32 [T, 2]: (acceleration m/s^2, curvature 1/m, + = left)
    clip.speed      # float32 [T] ego speed m/s
    clip.agents     # AgentLabels: per-frame 3-D position, image box, visible flag, pixels
    clip.caption    # "Night, heavy rain; a pedestrian steps out from behind a parked van ..."
    cont = replay(sc, from_frame=20, actions=new_actions, size=(128, 192), fps=10.0)
    # cont.frames[k] is scene frame 20 + k under new_actions (the world-model oracle);
    # with clip.actions[20:] it equals clip.frames[20:].

Actions: action t is held from frame t to frame t + 1, so frame t shows the
state before action t acts. Curvature, not wheel angle (angle = atan(wheelbase
* curvature)). Without ``actions`` a scripted driver keeps its lane and brakes
for hazards after a reaction time; the actions it took are returned.

Conditions combine a weather (clear, rain, fog, snow; ``intensity`` 0..1) with
a lighting (day, dusk, night): ``CONDITIONS`` lists the words. ``EVENTS`` lists
the edge cases, each with an ``onset`` time. Same spec (incl. seed) + same
frame count, size and fps = bit-identical frames.

CLI: ``cosmos-lite scenes export ...`` (mp4 + JSONL manifest, parallel,
resumable) and ``cosmos-lite scenes preview --out sheet.png``.
"""

from .driver import EgoState
from .render import AgentLabels, SceneClip, render, replay
from .spec import (
    AGENT_KINDS,
    CONDITIONS,
    EVENTS,
    LIGHTINGS,
    WEATHERS,
    AgentSpec,
    Event,
    Road,
    Scenario,
    split_of,
    split_seed,
)

__all__ = [
    "AGENT_KINDS",
    "CONDITIONS",
    "EVENTS",
    "LIGHTINGS",
    "WEATHERS",
    "AgentLabels",
    "AgentSpec",
    "EgoState",
    "Event",
    "Road",
    "SceneClip",
    "Scenario",
    "render",
    "replay",
    "split_of",
    "split_seed",
]
