"""The plan: every item of a run fixed up front (prompt, seed, scene, settings), written as ``plan.json``.

A plan is a pure function of the catalog, ``--n``, ``--batch-size``, the world model's
files, the guardrail switch and the QC instruments, so a rerun can compare the plan it would
make with the one on disk and refuse a different one, listing the differences. The batch
size is part of it because it decides which requests are sampled together, and a batch
gives each clip up to one grey level off the clip one-by-one generation gives (float sums
in another order), so a resumed run must batch exactly as the first one did.

Item order ("spread order"): round-robin over the catalog's entries; entry ``e`` takes, in
its round ``j``, condition ``(e + j) % len(conditions)``; after a full pass over its
conditions it moves to its next seed, then its next scene (``count``). So the first items of
any catalog cover as many events and conditions as there are items, and ``--n`` keeps them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cosmos_lite.scenes import Behaviour, Scenario, render
from cosmos_lite.scenes.caption import _event_phrase, caption

from .catalog import Catalog, parse_condition

PLAN_FORMAT = 1
SCENE_SPLIT = "test"  # start states and wording come from scenes held out of every training export
START_FRAMES = 5  # frames of the simulator's clip given to the model as its start (1 + 4: two latent groups)
MAX_SCENE_DRAWS = 50_000  # per match; every event x weather x lighting turns up within a few thousand
RESAMPLE_PRIME = 1_000_000_007  # attempt k of an item uses seed + k * this: far from every other item's seed


@dataclass(frozen=True)
class PlanItem:
    """One clip to make: everything that decides it, so a rerun makes it again bit for bit."""

    id: str  # "0003-cut_in-night_rain": file names in clips/ and items/
    index: int  # position in the plan (spread order)
    entry: int  # the catalog's items[entry] it comes from
    event: str
    condition: str  # canonical "lighting, weather"
    replicate: int  # which matching scene of the event and condition (0 .. count-1)
    seed: int  # generation seed of the first attempt
    scene_seed: int  # SCENE_SPLIT seed of the simulator scene (prompt wording, start state)
    prompt: str
    start_state: bool
    behaviour: dict[str, Any] | None  # the start state's ego Behaviour (fields); None without a start state
    generator: str
    settings: dict[str, Any]  # the effective generator settings (every field)
    num_frames: int
    fps: float
    size: tuple[int, int]  # (H, W) of the generator

    def seed_of(self, attempt: int) -> int:
        return self.seed + attempt * RESAMPLE_PRIME

    def scenario(self) -> Scenario:
        """The simulator scene of this item, with its ego behaviour."""
        sc = Scenario.sample(self.scene_seed, split=SCENE_SPLIT, duration=self.num_frames / self.fps, salient=True)
        if self.behaviour is not None:
            sc = dataclasses.replace(sc, ego_behaviour=Behaviour(**self.behaviour))
        return sc

    def start(self) -> tuple[np.ndarray, np.ndarray]:
        """The start state: the first :data:`START_FRAMES` frames of the scene rendered at the
        generator's size and fps, and the actions of the whole clip ([num_frames, 2])."""
        clip = render(self.scenario(), self.num_frames, tuple(self.size), self.fps)
        return clip.frames[:START_FRAMES], clip.actions


@dataclass(frozen=True)
class Plan:
    catalog: Catalog
    model: dict[str, Any]  # fingerprint of the model directory and the generator's geometry
    batch_size: int  # items are made in fixed chunks of this many plan items (see run.py)
    guardrail: bool
    instruments: dict[str, str]  # QC instrument -> its class name, or "unavailable"
    items: tuple[PlanItem, ...]

    def to_dict(self) -> dict[str, Any]:
        d = {"format": PLAN_FORMAT, "catalog": self.catalog.to_dict(), "n": len(self.items), "model": self.model,
             "batch_size": self.batch_size, "guardrail": self.guardrail, "instruments": self.instruments,
             "items": [asdict(it) for it in self.items]}
        return json.loads(json.dumps(d))  # tuples -> lists: the form plan.json reads back as


def model_fingerprint(directory: str | Path) -> str:
    """sha256 over the relative paths and bytes of every file of a model directory (not its
    location: a copy of a model is the same model)."""
    root = Path(directory)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file() and not q.name.startswith(".")):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def spread_order(catalog: Catalog) -> list[tuple[int, int, int, int]]:
    """(entry, condition index, replicate, seed index) of every item, in spread order (module docstring)."""
    s = catalog.seeds_per_item
    units = [len(e.conditions) * e.count * s for e in catalog.items]
    order = []
    for j in range(max(units)):
        for e, entry in enumerate(catalog.items):
            if j < units[e]:
                c = len(entry.conditions)
                q = j // c
                order.append((e, (e + j) % c, q // s, q % s))
    return order


def make_settings(catalog: Catalog, kind: str):
    """The generator's settings object from the catalog's ``settings``."""
    from cosmos_lite.generators import settings_class

    cls = settings_class(kind)
    known = [f.name for f in dataclasses.fields(cls)]
    for name in catalog.settings:
        if name not in known:
            raise catalog.error(f"settings.{name}", f"unknown field for the {kind} generator; known: "
                                                    f"{', '.join(known)}")
    try:
        return cls(**catalog.settings)
    except (ValueError, TypeError) as err:
        raise catalog.error("settings", str(err)) from None


def build_plan(catalog: Catalog, config, model_id: str, n: int | None = None, batch_size: int = 8,
               guardrail: bool = True, instruments: dict[str, str] | None = None) -> Plan:
    """The plan of ``catalog`` for a world model with ``config`` (:class:`~cosmos_lite.world.WorldConfig`),
    capped at the first ``n`` items of the spread order. Raises ``ValueError`` naming the catalog
    field when the catalog does not fit the model."""
    try:
        spec = config.spec(catalog.generator)
    except ValueError as err:
        raise catalog.error("generator", str(err)) from None
    settings = asdict(make_settings(catalog, spec.kind))
    num_frames = catalog.frames if catalog.frames is not None else spec.frames
    order = spread_order(catalog)
    width = max(4, len(str(len(order) - 1)))  # from the whole catalog, so an id never depends on --n
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"invalid --n: must be a positive integer, got {n!r}")
        order = order[:n]
    scenes: dict[tuple[str, str, str], list[int]] = {}
    items = []
    for index, (e, c, replicate, k) in enumerate(order):
        entry = catalog.items[e]
        path = f"items[{e}]"
        if entry.start_state and num_frames <= START_FRAMES:
            raise catalog.error(f"{path}.start_state", f"needs clips longer than its {START_FRAMES} start frames; "
                                                       f"frames is {num_frames}")
        condition = entry.conditions[c]
        weather, lighting = parse_condition(condition)
        duration = num_frames / spec.fps
        scene_seed = _scene(scenes, entry.event, weather, lighting, replicate, duration, catalog, path)
        sc = Scenario.sample(scene_seed, split=SCENE_SPLIT, duration=duration, salient=True)
        behaviour = None
        if entry.start_state:
            beh = entry.behaviour
            if isinstance(beh, str):  # drawn per scene, from the scene's own behaviour stream
                beh = Scenario.sample(scene_seed, split=SCENE_SPLIT, duration=duration, behaviour=beh,
                                      salient=True).ego_behaviour
            sc = dataclasses.replace(sc, ego_behaviour=beh)
            try:
                sc.check_clip(num_frames, spec.fps)
            except ValueError as err:
                raise catalog.error(f"{path}.behaviour", str(err)) from None
            behaviour = asdict(beh)
        # a wording stream of its own (caption() uses stream 17): one phrase per scene, the same on every run
        rng = np.random.default_rng([sc.seed & 0xFFFFFFFF, sc.seed >> 32, 31])
        prompt = entry.prompt.format(condition=condition, event=entry.event.replace("_", " "),
                                     event_phrase=_event_phrase(sc, rng), caption=caption(sc))
        items.append(PlanItem(
            id=f"{index:0{width}d}-{entry.event}-{condition.replace(', ', '_')}", index=index, entry=e,
            event=entry.event, condition=condition, replicate=replicate, seed=catalog.seed + index,
            scene_seed=scene_seed, prompt=prompt, start_state=entry.start_state, behaviour=behaviour,
            generator=spec.name, settings=settings, num_frames=num_frames, fps=float(spec.fps),
            size=tuple(spec.size)))
    model = {"fingerprint": model_id, "generator": spec.name, "kind": spec.kind, "size": list(spec.size),
             "fps": spec.fps}
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"invalid --batch-size: must be a positive integer, got {batch_size!r}")
    return Plan(catalog=catalog, model=model, batch_size=batch_size, guardrail=guardrail, instruments=dict(instruments or {}),
                items=tuple(items))


def _scene(cache: dict, event: str, weather: str, lighting: str, replicate: int, duration: float,
           catalog: Catalog, path: str) -> int:
    """The SCENE_SPLIT seed of the ``replicate``-th scene (in seed order) showing ``event`` in that weather
    and lighting: deterministic, and the same whichever other items the plan holds."""
    found = cache.setdefault((event, weather, lighting, duration), [])
    k = found[-1] + 1 if found else 0
    tries = 0
    while len(found) <= replicate:
        sc = Scenario.sample(k, split=SCENE_SPLIT, duration=duration, salient=True)
        if (sc.event.kind, sc.weather, sc.lighting) == (event, weather, lighting):
            found.append(k)
            tries = 0
        tries += 1
        if tries > MAX_SCENE_DRAWS:
            raise catalog.error(path, f"no simulator scene shows {event} in {weather} / {lighting} within "
                                      f"{MAX_SCENE_DRAWS} draws")
        k += 1
    return found[replicate]


def plan_differences(old: dict[str, Any], new: dict[str, Any], most: int = 10) -> list[str]:
    """``"path: old (existing) vs new (requested)"`` for every leaf that differs (at most ``most``)."""
    a, b = _flatten(old), _flatten(new)
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k, "<absent>") != b.get(k, "<absent>")]
    lines = [f"{k}: {json.dumps(a.get(k, '<absent>'))} (existing) vs {json.dumps(b.get(k, '<absent>'))} (requested)"
             for k in keys[:most]]
    if len(keys) > most:
        lines.append(f"... and {len(keys) - most} more")
    return lines


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}
