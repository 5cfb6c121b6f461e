"""The edge-case catalog: parsed and validated strictly, every error naming its JSON path.

The schema is documented in the package docstring (:mod:`cosmos_lite.edge_cases`), which
``cosmos-lite edge-cases --help`` prints. Everything here is checked without a world model;
what needs one (the generator name, its settings fields, the clip length) is checked when
the plan is built (:mod:`.plan`), with the same kind of message.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosmos_lite.scenes.spec import BEHAVIOURS, EVENTS, LIGHTINGS, WEATHERS, Behaviour

BUILTIN = "built-in catalog"
DEFAULT_PROMPT = "{condition}, {event_phrase}"
# what a prompt template may use (see the package docstring)
PROMPT_FIELDS = ("condition", "event", "event_phrase", "caption")
MAX_ATTEMPTS = 100  # resampling beyond this is a model problem, not bad luck
MAX_ITEMS = 100_000
MAX_SEED = 2**62  # item seeds grow by attempt * a large prime and must stay below 2**63

_CATALOG_KEYS = ("name", "generator", "settings", "frames", "seeds_per_item", "max_attempts", "seed", "items")
_ENTRY_KEYS = ("event", "conditions", "behaviour", "prompt", "start_state", "count")
_BEHAVIOUR_KEYS = ("kind", "start", "strength", "seed")


@dataclass(frozen=True)
class CatalogEntry:
    """One ``items[i]`` of a catalog: an event under some conditions, ``count`` scenes each."""

    event: str
    conditions: tuple[str, ...]  # canonical "lighting, weather" strings (see parse_condition)
    behaviour: str | Behaviour = "keep"  # a name: drawn per scene; a Behaviour: exactly this manoeuvre
    prompt: str = DEFAULT_PROMPT
    start_state: bool = False
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        beh = self.behaviour if isinstance(self.behaviour, str) else {
            "kind": self.behaviour.kind, "start": self.behaviour.start, "strength": self.behaviour.strength,
            "seed": self.behaviour.seed}
        return {"event": self.event, "conditions": list(self.conditions), "behaviour": beh, "prompt": self.prompt,
                "start_state": self.start_state, "count": self.count}


@dataclass(frozen=True)
class Catalog:
    """A parsed catalog (see the package docstring for the schema)."""

    name: str
    items: tuple[CatalogEntry, ...]
    generator: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # checked against the generator in plan.py
    frames: int | None = None
    seeds_per_item: int = 1
    max_attempts: int = 3
    seed: int = 0
    source: str = field(default=BUILTIN, compare=False)  # where it came from, for error messages

    def to_dict(self) -> dict[str, Any]:
        """The catalog as JSON, every default filled in (``--print-catalog``, ``plan.json``)."""
        return {"name": self.name, "generator": self.generator, "settings": dict(self.settings),
                "frames": self.frames, "seeds_per_item": self.seeds_per_item, "max_attempts": self.max_attempts,
                "seed": self.seed, "items": [e.to_dict() for e in self.items]}

    def error(self, path: str, problem: str) -> ValueError:
        """A ``ValueError`` naming this catalog's source and the JSON ``path``."""
        return ValueError(f"{self.source}: {path}: {problem}")


# --------------------------------------------------------------------------- conditions


def parse_condition(text: str) -> tuple[str, str]:
    """``"night, rain"`` -> ("rain", "night"): (weather, lighting). Words from
    :data:`cosmos_lite.scenes.CONDITIONS`, comma-separated, in any order, at most one weather
    and one lighting; a missing weather is clear, a missing lighting is day. ``ValueError``
    (without a path: callers add it) otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"must be a string like 'night, rain', got {_kind(text)}")
    words = [w.strip().lower() for w in text.split(",")]
    if not text.strip() or any(not w for w in words):
        raise ValueError(f"{text!r} is not a comma-separated list of condition words")
    known = WEATHERS + tuple(x for x in LIGHTINGS if x != "day")
    bad = [w for w in words if w not in known]
    if bad:
        raise ValueError(f"unknown condition word {bad[0]!r}; choose from {', '.join(known)} (day is the default "
                         "lighting, clear the default weather)")
    weathers = [w for w in words if w in WEATHERS]
    lightings = [w for w in words if w in LIGHTINGS]
    if len(weathers) > 1 or len(lightings) > 1:
        raise ValueError(f"{text!r} names {len(weathers)} weathers and {len(lightings)} lightings; a condition is at "
                         "most one of each")
    return (weathers[0] if weathers else "clear"), (lightings[0] if lightings else "day")


def condition_text(weather: str, lighting: str) -> str:
    """The canonical condition string: the lighting then the weather, as :attr:`Scenario.conditions`."""
    words = ([lighting] if lighting != "day" else []) + ([weather] if weather != "clear" else [])
    return ", ".join(words) or "clear"


# --------------------------------------------------------------------------- the built-in catalog


def spread_conditions() -> tuple[str, ...]:
    """Every weather x lighting, ordered so that any run of consecutive entries varies both
    (weather ``i % 4``, lighting ``i % 3``: the 12 pairs, night and dusk among the first few)."""
    n = len(WEATHERS) * len(LIGHTINGS)
    return tuple(condition_text(WEATHERS[i % len(WEATHERS)], LIGHTINGS[i % len(LIGHTINGS)]) for i in range(n))


def default_catalog() -> Catalog:
    """Every simulator event (but "none") under every weather x lighting, with a start state."""
    conditions = spread_conditions()
    return Catalog(name="builtin-edge-cases",
                   items=tuple(CatalogEntry(event=e, conditions=conditions, start_state=True)
                               for e in EVENTS if e != "none"))


# --------------------------------------------------------------------------- parsing


def load_catalog(path: str | Path | None) -> Catalog:
    """The catalog in ``path`` (``.json``, or ``.yaml`` / ``.yml``; None = the built-in one)."""
    if path is None:
        return default_catalog()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such catalog file")
    text = p.read_text(encoding="utf-8")
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{p}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml  # present with the transformers / accelerate stack; never a dependency of our own
        except ImportError:
            raise ValueError(f"{p}: reading YAML needs PyYAML, which is not installed; write the catalog as "
                             ".json") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(f"{p}: not valid YAML ({str(err).splitlines()[0]})") from None
    else:
        raise ValueError(f"{p}: a catalog is a .json (or .yaml / .yml) file, got {p.suffix or 'no suffix'!r}")
    return parse_catalog(data, source=str(p))


def parse_catalog(data: Any, source: str = BUILTIN) -> Catalog:
    """A :class:`Catalog` from parsed JSON, or a ``ValueError`` naming the source and the JSON path."""

    def err(path: str, problem: str) -> ValueError:
        return ValueError(f"{source}: {path}: {problem}")

    if not isinstance(data, dict):
        raise ValueError(f"{source}: the catalog must be a JSON object with 'name' and 'items', got {_kind(data)}")
    _known(data, _CATALOG_KEYS, "", err)
    if "name" not in data:
        raise err("name", "missing (a short name for this catalog)")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise err("name", f"must be a non-empty string, got {name!r}")
    generator = data.get("generator")
    if generator is not None and (not isinstance(generator, str) or not generator):
        raise err("generator", f"must be a generator name or null (the model's first), got {generator!r}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise err("settings", f"must be an object of generator settings (e.g. {{\"steps\": 24}}), got "
                              f"{_kind(settings)}")
    frames = data.get("frames")
    if frames is not None:
        frames = _int(frames, "frames", 2, 4096, err)
    seeds_per_item = _int(data.get("seeds_per_item", 1), "seeds_per_item", 1, 1000, err)
    max_attempts = _int(data.get("max_attempts", 3), "max_attempts", 1, MAX_ATTEMPTS, err)
    seed = _int(data.get("seed", 0), "seed", 0, MAX_SEED - MAX_ITEMS, err)
    if "items" not in data:
        raise err("items", "missing (a list of {\"event\": ..., \"conditions\": [...]} entries)")
    items = data["items"]
    if not isinstance(items, list) or not items:
        raise err("items", f"must be a non-empty list of entries, got {items!r}")
    entries = tuple(_entry(e, f"items[{i}]", err) for i, e in enumerate(items))
    total = sum(len(e.conditions) * e.count for e in entries) * seeds_per_item
    if total > MAX_ITEMS:
        raise err("items", f"expand to {total} clips, more than {MAX_ITEMS}; split the catalog")
    return Catalog(name=name, items=entries, generator=generator, settings=dict(settings), frames=frames,
                   seeds_per_item=seeds_per_item, max_attempts=max_attempts, seed=seed, source=source)


def _entry(d: Any, path: str, err) -> CatalogEntry:
    if not isinstance(d, dict):
        raise err(path, f"must be an object like {{\"event\": \"cut_in\", \"conditions\": [\"night\"]}}, got {_kind(d)}")
    _known(d, _ENTRY_KEYS, path + ".", err)
    if "event" not in d:
        raise err(f"{path}.event", f"missing; one of {', '.join(EVENTS)}")
    event = d["event"]
    if event not in EVENTS:
        raise err(f"{path}.event", f"unknown event {event!r}; choose one of {', '.join(EVENTS)}")
    if "conditions" not in d:
        raise err(f"{path}.conditions", "missing (a list like [\"night, rain\", \"dusk, fog\"])")
    conds = d["conditions"]
    if not isinstance(conds, list) or not conds:
        raise err(f"{path}.conditions", f"must be a non-empty list of condition strings, got {conds!r}")
    canonical = []
    for j, c in enumerate(conds):
        try:
            canonical.append(condition_text(*parse_condition(c)))
        except ValueError as e:
            raise err(f"{path}.conditions[{j}]", str(e)) from None
    dup = sorted({c for c in canonical if canonical.count(c) > 1})
    if dup:
        raise err(f"{path}.conditions", f"lists {dup[0]!r} twice (raise 'count' for more scenes)")
    behaviour = _behaviour(d.get("behaviour", "keep"), f"{path}.behaviour", err)
    prompt = d.get("prompt", DEFAULT_PROMPT)
    _template(prompt, f"{path}.prompt", err)
    start_state = d.get("start_state", False)
    if not isinstance(start_state, bool):
        raise err(f"{path}.start_state", f"must be true or false, got {start_state!r}")
    if behaviour != "keep" and not start_state:
        # the ego's manoeuvre reaches the model only as start-state actions: without them it would change nothing
        raise err(f"{path}.behaviour", "only applies with \"start_state\": true (the manoeuvre is given to the "
                                       "model as the start state's actions)")
    count = _int(d.get("count", 1), f"{path}.count", 1, MAX_ITEMS, err)
    return CatalogEntry(event=event, conditions=tuple(canonical), behaviour=behaviour, prompt=prompt,
                        start_state=start_state, count=count)


def _behaviour(value: Any, path: str, err) -> str | Behaviour:
    if isinstance(value, str):
        if value not in BEHAVIOURS:
            raise err(path, f"unknown ego behaviour {value!r}; choose one of {', '.join(BEHAVIOURS)}, or an object "
                            "{\"kind\": ..., \"start\": s, \"strength\": 0..1}")
        return value
    if not isinstance(value, dict):
        raise err(path, f"must be a behaviour name or an object {{\"kind\", \"start\", \"strength\", \"seed\"}}, got "
                        f"{_kind(value)}")
    _known(value, _BEHAVIOUR_KEYS, path + ".", err)
    if "kind" not in value:
        raise err(f"{path}.kind", f"missing; one of {', '.join(BEHAVIOURS)}")
    try:
        return Behaviour(**value)
    except ValueError as e:
        raise err(path, str(e)) from None


def _template(prompt: Any, path: str, err) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise err(path, f"must be a non-empty string, got {prompt!r}")
    try:
        parsed = list(string.Formatter().parse(prompt))
    except ValueError as e:
        raise err(path, f"not a valid template ({e}; write a literal brace as {{{{ or }}}})") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in PROMPT_FIELDS:
            raise err(path, f"unknown placeholder {{{name}}}; use {', '.join('{' + f + '}' for f in PROMPT_FIELDS)}")
        if spec or conv:
            raise err(path, f"placeholder {{{name}}} takes no format spec or conversion")


def _known(d: dict, keys: tuple[str, ...], prefix: str, err) -> None:
    unknown = [k for k in d if k not in keys]
    if unknown:
        raise err(f"{prefix}{unknown[0]}", f"unknown field; known: {', '.join(keys)}")


def _int(value: Any, path: str, lo: int, hi: int, err) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise err(path, f"must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise err(path, f"must be in [{lo}, {hi}], got {value}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value),
                                                                                        type(value).__name__)
