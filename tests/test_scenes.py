"""Synthetic driving scenes: determinism, spec, captions, geometry, conditions, events, replay."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from cosmos_lite.scenes import (
    CONDITIONS,
    EVENTS,
    AgentSpec,
    Event,
    Road,
    Scenario,
    render,
    replay,
)
from cosmos_lite.scenes.caption import CONDITION_WORDS, EVENT_WORDS

SIZE = (64, 96)
FPS = 10.0


def base(**changes) -> Scenario:
    """A calm urban straight with no agents, to vary one thing at a time."""
    sc = Scenario(seed=3, road=Road("urban", "straight", 1), ego_speed=10.0)
    return dataclasses.replace(sc, **changes)


# --------------------------------------------------------------------------- spec


def test_lists_cover_the_issue():
    assert {"clear", "rain", "fog", "snow", "night", "dusk"} <= set(CONDITIONS)
    assert len([e for e in EVENTS if e != "none"]) >= 8


def test_same_spec_renders_bit_identical_frames():
    sc = Scenario.sample(11, duration=2.0)
    a = render(sc, 20, SIZE, FPS)
    b = render(Scenario.from_json(sc.to_json()), 20, SIZE, FPS)
    assert a.frames.dtype == np.uint8 and a.frames.shape == (20, *SIZE, 3)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.actions, b.actions) and a.actions.dtype == np.float32 and a.actions.shape == (20, 2)
    assert a.speed.shape == (20,) and a.caption == b.caption
    c = render(dataclasses.replace(sc, seed=sc.seed + 1), 20, SIZE, FPS)
    assert not np.array_equal(a.frames, c.frames)


@pytest.mark.parametrize("seed", range(12))
def test_json_round_trip_is_exact(seed):
    sc = Scenario.sample(seed, split="train", duration=3.0)
    text = sc.to_json()
    back = Scenario.from_json(text)
    assert back == sc and back.to_json() == text
    assert json.loads(text)["seed"] == sc.seed


def test_splits_use_disjoint_seeds():
    from cosmos_lite.scenes import split_of

    seeds = {split: {Scenario.sample(i, split=split).seed for i in range(20)} for split in ("train", "val", "test")}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["val"] & seeds["test"])
    assert all(split_of(s) == split for split, ss in seeds.items() for s in ss)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: base(weather="hail"), "unknown weather 'hail'"),
        (lambda: base(lighting="noon"), "unknown lighting"),
        (lambda: base(event=Event("alien_landing")), "unknown event"),
        (lambda: base(intensity=1.5), "intensity must be in"),
        (lambda: base(ego_speed=-3), "ego_speed"),
        (lambda: base(event=Event("cut_in", onset=1.0)), "2 lanes"),
        (lambda: base(event=Event("crossing_vehicle", onset=1.0)), "intersection"),
        (lambda: base(event=Event("lead_brake", onset=1.0, actor="deer")), "cannot use actor"),
        (lambda: Road("urban", "curve", 1, 3.5, 0.0), "curvature must be non-zero"),
        (lambda: base(agents=(AgentSpec("spaceship", 10.0, 0.0),)), "unknown agent kind"),
        (lambda: Scenario.from_json('{"seed": 1, "wether": "rain"}'), "unknown field(s) wether"),
        (lambda: Scenario.from_json("{not json"), "not valid JSON"),
        (lambda: Scenario.sample(-1, split="train"), "split seed must be"),
        (lambda: Scenario.sample(0, split="holdout"), "unknown split"),
    ],
)
def test_bad_specs_are_rejected_clearly(make, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(fps=-10.0), "fps must be a positive"),
        (dict(fps=float("nan")), "fps must be a positive"),
        (dict(size=(8, 96)), "height must be an integer in"),
        (dict(size=(64,)), "size must be"),
        (dict(num_frames=0), "num_frames"),
        (dict(num_frames=5), "onset 1 s is beyond the clip"),
        (dict(actions=np.zeros((20, 3))), "shape"),
        (dict(actions=np.full((20, 2), np.nan)), "finite"),
    ],
)
def test_bad_render_arguments_are_rejected(kwargs, words):
    sc = base(event=Event("lead_brake", onset=1.0, distance=15.0))
    args = dict(num_frames=20, size=SIZE, fps=FPS)
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        render(sc, **args)


def test_renders_any_size():
    sc = Scenario.sample(5, duration=1.0)
    for size in ((17, 33), (48, 48), (40, 120)):
        clip = render(sc, 10, size, FPS)
        assert clip.frames.shape == (10, *size, 3)


# --------------------------------------------------------------------------- captions


@pytest.mark.parametrize("seed", range(30))
def test_caption_names_conditions_and_event(seed):
    from cosmos_lite.scenes.caption import caption

    sc = Scenario.sample(seed, duration=4.0)
    text = caption(sc)
    low = text.lower()
    for cond in sc.conditions:
        assert any(w in low for w in CONDITION_WORDS[cond]), (cond, text)
    assert any(w in low for w in EVENT_WORDS[sc.event.kind]), (sc.event.kind, text)
    assert str(int(round(sc.ego_speed * 3.6 / 5) * 5)) in text or "km/h" not in text


def test_captions_vary_in_wording():
    from cosmos_lite.scenes.caption import caption

    texts = {caption(dataclasses.replace(base(event=Event("lead_brake", onset=1.0)), seed=s)) for s in range(12)}
    assert len(texts) >= 4


# --------------------------------------------------------------------------- geometry


def _paint_column(frames: np.ndarray) -> float:
    """Mean image column of lane paint (bright white / yellow) below the horizon."""
    h = frames.shape[1]
    ground = frames[:, int(h * 0.5): int(h * 0.88)].astype(np.int32)
    paint = (ground[..., 0] > 150) & (ground[..., 1] > 120) & (np.abs(ground[..., 0] - ground[..., 1]) < 70)
    cols = np.nonzero(paint)[2]
    assert cols.size > 20
    return float(cols.mean())


def test_steering_left_moves_the_road_right_in_the_image():
    sc = base(road=Road("rural", "straight", 1))
    T = 12
    straight = render(sc, T, SIZE, FPS, actions=np.zeros((T, 2), np.float32))
    left = render(sc, T, SIZE, FPS, actions=np.tile(np.float32([0.0, 0.03]), (T, 1)))
    right = render(sc, T, SIZE, FPS, actions=np.tile(np.float32([0.0, -0.03]), (T, 1)))
    assert np.array_equal(straight.frames[0], left.frames[0])  # action t acts after frame t
    c0, cl, cr = (_paint_column(c.frames[-3:]) for c in (straight, left, right))
    assert cl > c0 + 3 and cr < c0 - 3, (c0, cl, cr)
    # and the ego really turned: heading grows to the left
    assert left.ego[-1, 2] > 0.05 and right.ego[-1, 2] < -0.05


def test_road_curving_left_bends_markings_left():
    sc = base(road=Road("rural", "curve", 1, 3.5, 1 / 60, -40.0))  # already in the bend at s = 0
    straight = base(road=Road("rural", "straight", 1))
    acts = np.zeros((4, 2), np.float32)  # no steering: the car goes straight, the road bends
    assert _paint_column(render(sc, 4, SIZE, FPS, actions=acts).frames[:1]) < _paint_column(
        render(straight, 4, SIZE, FPS, actions=acts).frames[:1]) - 2


# --------------------------------------------------------------------------- conditions


def _stats(frames: np.ndarray) -> dict:
    f = frames.astype(np.float64)
    lum = f.mean(axis=-1)
    # local contrast: mean absolute difference between neighbouring pixels (edges fade in fog)
    edges = np.abs(np.diff(lum, axis=1)).mean() + np.abs(np.diff(lum, axis=2)).mean()
    return {"mean": lum.mean(), "edges": edges, "warm": (f[..., 0] - f[..., 2]).mean(),
            "sat": (f.max(-1) - f.min(-1)).mean()}


def test_each_condition_moves_image_statistics_the_expected_way():
    sc = base()
    clear = _stats(render(sc, 3, SIZE, FPS).frames)

    def stats(**kw):
        return _stats(render(dataclasses.replace(sc, **kw), 3, SIZE, FPS).frames)

    fog, night = stats(weather="fog", intensity=0.8), stats(lighting="night")
    rain, snow, dusk = stats(weather="rain", intensity=0.8), stats(weather="snow", intensity=0.8), stats(lighting="dusk")
    assert fog["edges"] < 0.75 * clear["edges"]  # fog lowers contrast
    assert night["mean"] < 0.6 * clear["mean"]  # night is dark
    assert rain["mean"] < clear["mean"] and rain["sat"] < clear["sat"]  # rain darkens and greys
    assert snow["mean"] > clear["mean"] + 10 and snow["sat"] < clear["sat"]  # snow brightens and whitens
    assert dusk["warm"] > clear["warm"] + 10  # dusk is orange
    # intensity is monotone
    assert stats(weather="fog", intensity=1.0)["edges"] < stats(weather="fog", intensity=0.3)["edges"]


# --------------------------------------------------------------------------- events


ENTRY_EVENTS = [  # the event agent enters the scene (or comes out from cover) at onset
    Event("pedestrian_crossing", onset=1.0, side="right", distance=18.0),
    Event("pedestrian_crossing", onset=1.0, side="left", distance=20.0, occluded=True),
    Event("animal_crossing", onset=1.0, side="right", distance=22.0, actor="deer"),
    Event("debris", onset=1.0, distance=18.0, actor="box"),
    Event("stopped_vehicle", onset=1.0, distance=45.0),
    Event("crossing_vehicle", onset=0.8, side="right", distance=25.0),
]


def _scene_for(ev: Event) -> Scenario:
    lanes = 2 if ev.kind in ("cut_in", "stopped_vehicle") else 1
    layout = "intersection" if ev.kind == "crossing_vehicle" else "straight"
    road = Road("urban", layout, lanes, 3.5, 0.0, 10.0 * (ev.onset + 0.0) + ev.distance)
    return base(road=road, event=ev)


@pytest.mark.parametrize("ev", ENTRY_EVENTS, ids=lambda e: e.kind + ("_occluded" if e.occluded else ""))
def test_event_agent_appears_only_after_onset(ev):
    sc = _scene_for(ev)
    T = 30
    clip = render(sc, T, SIZE, FPS)
    j = int(np.flatnonzero(clip.agents.is_event)[0])
    onset_frame = int(np.ceil(ev.onset * FPS))
    vis, pix = clip.agents.visible[:, j], clip.agents.pixels[:, j]
    assert not vis[:onset_frame].any() and pix[:onset_frame].sum() == 0
    assert vis[onset_frame:].any(), pix
    # boxes exist only while the agent does (a hidden one still has its geometric box)
    assert np.isnan(clip.agents.box[~clip.agents.exists[:, j], j]).all()


@pytest.mark.parametrize("ev", [ENTRY_EVENTS[0], ENTRY_EVENTS[2]], ids=["pedestrian", "deer"])
def test_event_shows_in_pixels_only_after_onset(ev):
    """Same scene without the event: identical frames before onset, different after."""
    sc = _scene_for(ev)
    T = 30
    with_ev = render(sc, T, SIZE, FPS, actions=np.zeros((T, 2), np.float32))
    without = render(dataclasses.replace(sc, event=Event()), T, SIZE, FPS, actions=np.zeros((T, 2), np.float32))
    onset_frame = int(np.ceil(ev.onset * FPS))
    assert np.array_equal(with_ev.frames[:onset_frame], without.frames[:onset_frame])
    diff = (with_ev.frames[onset_frame:] != without.frames[onset_frame:]).any(axis=-1).sum(axis=(1, 2))
    assert diff.max() > 10


def test_behaviour_events_start_at_onset():
    # lead vehicle: brake lights only from onset
    sc = _scene_for(Event("lead_brake", onset=1.0, distance=15.0, strength=1.0))
    clip = render(sc, 30, SIZE, FPS)
    j = int(np.flatnonzero(clip.agents.is_event)[0])
    assert not clip.agents.braking[:10, j].any() and clip.agents.braking[10:, j].all()
    assert clip.agents.visible[:, j].all()
    # the scripted driver reacts: it slows down after the onset (plus reaction time)
    assert clip.speed[-1] < clip.speed[10] - 2
    # cut-in / swerve / drift: the event agent moves sideways only after onset
    for ev in (Event("cut_in", onset=1.0, distance=10.0, side="right"),
               Event("cyclist_swerve", onset=1.0, distance=15.0),
               Event("oncoming_drift", onset=1.0, distance=40.0)):
        clip = render(_scene_for(ev), 30, SIZE, FPS, actions=np.zeros((30, 2), np.float32))
        j = int(np.flatnonzero(clip.agents.is_event)[0])
        y = clip.agents.position[:, j, 1]
        assert abs(y[9] - y[0]) < 0.05 and abs(y[-1] - y[9]) > 0.5, (ev.kind, y)


@pytest.mark.parametrize("seed", range(8))
def test_sampled_events_fit_and_render(seed):
    sc = Scenario.sample(seed, duration=3.0)
    clip = render(sc, 30, (32, 48), FPS)
    assert clip.agents.position.shape[0] == 30
    if sc.event.kind != "none":
        assert 0 < sc.event.onset < 3.0
        assert clip.agents.is_event.sum() == 1


# --------------------------------------------------------------------------- replay


def test_replay_with_original_actions_equals_original_frames():
    sc = Scenario.sample(21, duration=3.0)
    clip = render(sc, 30, SIZE, FPS)
    t = 12
    again = replay(sc, t, clip.actions[t:], SIZE, FPS)
    assert again.start_frame == t and np.array_equal(again.frames, clip.frames[t:])
    assert np.array_equal(again.agents.pixels, clip.agents.pixels[t:])
    via_state = replay(sc, t, clip.actions[t:], SIZE, FPS, state=clip.ego_state(t))
    assert np.array_equal(via_state.frames, clip.frames[t:])
    # other actions: same first frame (the state at t), different future
    swerve = clip.actions[t:].copy()
    swerve[:, 1] += 0.05
    other = replay(sc, t, swerve, SIZE, FPS)
    assert np.array_equal(other.frames[0], clip.frames[t])
    assert not np.array_equal(other.frames[3:], clip.frames[t + 3:])
    assert other.ego[-1, 2] > clip.ego[-1, 2] + 0.05


def test_replay_rejects_bad_arguments():
    sc = Scenario.sample(2, duration=2.0)
    with pytest.raises(ValueError, match="from_frame"):
        replay(sc, -1, np.zeros((3, 2)), SIZE, FPS)
    with pytest.raises(ValueError, match="shape"):
        replay(sc, 2, np.zeros((3,)), SIZE, FPS)
