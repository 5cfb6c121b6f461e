"""Synthetic driving scenes: cosmos-lite's built-in, labelled dash-camera world.

A seeded procedural world seen from a pinhole camera on the ego car: roads
(straight, bends, crossings) with lane markings, sidewalks, buildings, trees,
lamps and parked cars; traffic, pedestrians, cyclists and animals; weather and
lighting; and one scripted edge-case event per scenario. It is the training
data for the bundled models, the demo data, and the ground truth for world
models: :func:`replay` renders the true continuation under any ego actions.

Public API::

    from cosmos_lite.scenes import Scenario, render, replay, CONDITIONS, EVENTS
    from cosmos_lite.scenes import ACTION_RANGE, BEHAVIOURS, Behaviour, ego_actions

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

    # ego behaviours and salient events (defaults: "keep", False = the scenes above)
    sc = Scenario.sample(2, split="train", duration=3.3, behaviour="mix", salient=True)
    sc.ego_behaviour                # Behaviour(kind="swerve_right", start=0.402, strength=0.95..., seed=0)
    sc = dataclasses.replace(sc, ego_behaviour=Behaviour("lane_change_left", start=1.0))
    ego_actions(sc, num_frames=33, fps=10.0)  # float32 [T, 2] == render(sc, 33, fps=10.0).actions
    ACTION_RANGE                    # {"acceleration": (-9.0, 3.0), "curvature": (-0.06, 0.06)}

    # labels for instruments (event reader, inverse dynamics)
    clip.visible_kinds(min_height=4)  # bool [T, len(AGENT_KINDS)]: kinds seen >= 4 px tall
    clip.event_active()             # bool [T]: from the event's onset until it is over
    clip.scenario.event.kind        # the event's name; clip.scenario.ego_behaviour.kind the manoeuvre

Actions: action t is held from frame t to frame t + 1, so frame t shows the
state before action t acts. Curvature, not wheel angle (angle = atan(wheelbase
* curvature)). Without ``actions`` a scripted driver keeps its lane and brakes
for hazards after a reaction time; the actions it took are returned.

Ego behaviours (``BEHAVIOURS``, ``Scenario.ego_behaviour``) make that driver
manoeuvre on top: ``lane_change_left/right`` (one lane width), ``swerve_left/right``
(out 0.6-1.5 m and back), ``drift_left/right`` (0.7-1.5 m off the lane centre,
slowly), ``hard_brake`` (6-8 m/s^2 for 1-2 s), ``accelerate`` (1.5-3 m/s^2),
``random`` (smooth sinusoidal perturbation of both actions) and ``veer_left/right``
(stops keeping its lane and holds a turn of 0.008-0.03 1/m off the road's line, open
loop, as a steering command alone would); it still brakes for hazards. Lateral
acceleration stays within 4 m/s^2 beyond following the road, braking never exceeds
stopping (speed >= 0), and every action of every behaviour lies in ``ACTION_RANGE``,
the training range. A behaviour is part of the spec, so
JSON round trips, :func:`replay` and exports stay exact; a scenario without one
writes the same JSON as before behaviours existed. ``Scenario.sample(...,
behaviour=name | "mix")`` draws one (mix: 30 % keep, 70 % spread evenly over the
others) from a random stream of its own, so the scene is unchanged;
``salient=True`` places the event near and in view, onset 20-60 % into the clip
(animals are deer, debris a box: a dog or a tyre is a few pixels at 128x192).

Conditions combine a weather (clear, rain, fog, snow; ``intensity`` 0..1) with
a lighting (day, dusk, night): ``CONDITIONS`` lists the words. ``EVENTS`` lists
the edge cases, each with an ``onset`` time. Same spec (incl. seed) + same
frame count, size and fps = bit-identical frames.

CLI: ``cosmos-lite scenes export ...`` (mp4 + JSONL manifest, parallel,
resumable; the ego behaviour and salient setting are export settings, and each
manifest row carries its ``behaviour`` and per-frame ``event_active``) and
``cosmos-lite scenes preview --out sheet.png``.
"""

from .driver import ACTION_RANGE, EgoState
from .render import AgentLabels, SceneClip, ego_actions, render, replay
from .spec import (
    AGENT_KINDS,
    BEHAVIOURS,
    CONDITIONS,
    EVENTS,
    LIGHTINGS,
    WEATHERS,
    AgentSpec,
    Behaviour,
    Event,
    Road,
    Scenario,
    split_of,
    split_seed,
)

__all__ = [
    "ACTION_RANGE",
    "AGENT_KINDS",
    "BEHAVIOURS",
    "CONDITIONS",
    "EVENTS",
    "LIGHTINGS",
    "WEATHERS",
    "AgentLabels",
    "AgentSpec",
    "Behaviour",
    "EgoState",
    "Event",
    "Road",
    "SceneClip",
    "Scenario",
    "ego_actions",
    "render",
    "replay",
    "split_of",
    "split_seed",
]
