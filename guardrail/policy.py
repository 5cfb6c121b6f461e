"""The prompt policy: categories, blocked terms, allowlist and semantic prototypes.

The policy is data. The default ships as ``default_policy.json`` next to this
module; users load their own file or extend the default with extra terms::

    policy = default_policy().extended(Policy.from_dict(my_json))
    policy = default_policy().with_terms("weapons", words=("flamethrower",))

Term syntax (see ``blocklist.py``): a word is matched with simple inflections
("stab" also matches "stabbed", "stabbing"); a trailing ``*`` matches any
ending ("decapitat*"); a phrase is a list of such words separated by spaces or
hyphens, matched with any separators (or none) in between; ``patterns`` are raw
regular expressions run on the normalised text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_POLICY_FILE = "default_policy.json"


class PolicyError(ValueError):
    """A policy file or dict is malformed."""


@dataclass(frozen=True)
class Combination:
    """Blocks when a ``first`` term and a ``second`` term occur within ``window`` words.

    With ``ordered`` the first term must come first ("blow up the bus" but not
    "the bus blows up" after a crash).
    """

    first: tuple[str, ...]
    second: tuple[str, ...]
    window: int = 4
    ordered: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Combination:
        _check_keys(data, {"first", "second", "window", "ordered"}, where)
        window = int(data.get("window", 4))
        if window < 1:
            raise PolicyError(f"{where}.window: must be >= 1, got {window}")
        return cls(first=_str_tuple(data.get("first"), f"{where}.first"),
                   second=_str_tuple(data.get("second"), f"{where}.second"),
                   window=window, ordered=bool(data.get("ordered", False)))

    def to_dict(self) -> dict[str, Any]:
        return {"first": list(self.first), "second": list(self.second), "window": self.window,
                "ordered": self.ordered}


@dataclass(frozen=True)
class Category:
    """One kind of unsafe request and everything used to recognise it."""

    name: str
    description: str = ""
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    combinations: tuple[Combination, ...] = ()
    prototypes: tuple[str, ...] = ()
    # Cosine similarity to the nearest prototype at which the semantic check blocks.
    threshold: float = 0.6

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Category:
        where = f"categories.{name}"
        _check_keys(data, {"description", "words", "phrases", "patterns", "combinations",
                           "prototypes", "threshold"}, where)
        threshold = float(data.get("threshold", 0.6))
        if not 0.0 < threshold <= 1.0:
            raise PolicyError(f"{where}.threshold: must be in (0, 1], got {threshold}")
        patterns = _str_tuple(data.get("patterns", []), f"{where}.patterns")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PolicyError(f"{where}.patterns: {pattern!r} is not a valid regex: {exc}") from exc
        combos = data.get("combinations", [])
        if not isinstance(combos, list):
            raise PolicyError(f"{where}.combinations: expected a list")
        return cls(
            name=name,
            description=str(data.get("description", "")),
            words=_str_tuple(data.get("words", []), f"{where}.words"),
            phrases=_str_tuple(data.get("phrases", []), f"{where}.phrases"),
            patterns=patterns,
            combinations=tuple(Combination.from_dict(c, f"{where}.combinations[{i}]")
                               for i, c in enumerate(combos)),
            prototypes=_str_tuple(data.get("prototypes", []), f"{where}.prototypes"),
            threshold=threshold,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "words": list(self.words),
                "phrases": list(self.phrases), "patterns": list(self.patterns),
                "combinations": [c.to_dict() for c in self.combinations],
                "prototypes": list(self.prototypes), "threshold": self.threshold}


@dataclass(frozen=True)
class Policy:
    """Everything the prompt guard needs, loaded from JSON."""

    categories: tuple[Category, ...]
    # Driving-safety vocabulary: spans matching these are removed before the
    # blocklist runs, so "kill the engine" cannot trigger on "kill".
    allow_phrases: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = ()
    # Benign sentences near the unsafe ones (crashes, first aid, police work);
    # the semantic check blocks only when a prompt is closer to an unsafe
    # prototype than to these by at least ``semantic_margin``.
    safe_prototypes: tuple[str, ...] = ()
    semantic_margin: float = 0.05
    max_prompt_chars: int = 4000
    version: int = 1
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.categories)
        if len(set(names)) != len(names):
            raise PolicyError(f"categories: duplicate names in {names}")
        object.__setattr__(self, "_names", names)

    def category(self, name: str) -> Category:
        for cat in self.categories:
            if cat.name == name:
                return cat
        raise KeyError(f"policy has no category {name!r}; categories: {list(self._names)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        if not isinstance(data, dict):
            raise PolicyError("policy: expected a JSON object")
        _check_keys(data, {"version", "categories", "allowlist", "safe_prototypes",
                           "semantic_margin", "max_prompt_chars", "description"}, "policy")
        cats = data.get("categories", {})
        if not isinstance(cats, dict):
            raise PolicyError("categories: expected an object of name -> category")
        allow = data.get("allowlist", {})
        _check_keys(allow, {"phrases", "patterns"}, "allowlist")
        allow_patterns = _str_tuple(allow.get("patterns", []), "allowlist.patterns")
        for pattern in allow_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PolicyError(f"allowlist.patterns: {pattern!r} is not a valid regex: {exc}") from exc
        return cls(
            categories=tuple(Category.from_dict(name, c) for name, c in cats.items()),
            allow_phrases=_str_tuple(allow.get("phrases", []), "allowlist.phrases"),
            allow_patterns=allow_patterns,
            safe_prototypes=_str_tuple(data.get("safe_prototypes", []), "safe_prototypes"),
            semantic_margin=float(data.get("semantic_margin", 0.05)),
            max_prompt_chars=int(data.get("max_prompt_chars", 4000)),
            version=int(data.get("version", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version,
                "categories": {c.name: c.to_dict() for c in self.categories},
                "allowlist": {"phrases": list(self.allow_phrases), "patterns": list(self.allow_patterns)},
                "safe_prototypes": list(self.safe_prototypes),
                "semantic_margin": self.semantic_margin,
                "max_prompt_chars": self.max_prompt_chars}

    def extended(self, extra: Policy) -> Policy:
        """This policy plus ``extra``: terms are unioned, new categories added.

        For categories present in both, ``extra``'s threshold wins only when it
        is stricter (lower), so an extension can never loosen the default.
        """
        merged: dict[str, Category] = {c.name: c for c in self.categories}
        for cat in extra.categories:
            base = merged.get(cat.name)
            if base is None:
                merged[cat.name] = cat
                continue
            merged[cat.name] = replace(
                base,
                words=_union(base.words, cat.words),
                phrases=_union(base.phrases, cat.phrases),
                patterns=_union(base.patterns, cat.patterns),
                combinations=base.combinations + tuple(c for c in cat.combinations
                                                       if c not in base.combinations),
                prototypes=_union(base.prototypes, cat.prototypes),
                threshold=min(base.threshold, cat.threshold),
            )
        return replace(
            self,
            categories=tuple(merged.values()),
            allow_phrases=_union(self.allow_phrases, extra.allow_phrases),
            allow_patterns=_union(self.allow_patterns, extra.allow_patterns),
            safe_prototypes=_union(self.safe_prototypes, extra.safe_prototypes),
        )

    def with_terms(self, category: str, words: tuple[str, ...] = (),
                   phrases: tuple[str, ...] = ()) -> Policy:
        """Add blocked words or phrases to ``category`` (created if new)."""
        return self.extended(Policy(categories=(Category(name=category, words=tuple(words),
                                                         phrases=tuple(phrases), threshold=1.0),)))


def load_policy(path: str | Path, extend_default: bool = False) -> Policy:
    """Read a policy JSON file; with ``extend_default`` merge it into the default."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    policy = Policy.from_dict(data)
    return default_policy().extended(policy) if extend_default else policy


_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The policy shipped with the package (parsed once)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files(__package__).joinpath(DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
        _DEFAULT = Policy.from_dict(json.loads(text))
    return _DEFAULT


def _check_keys(data: Any, allowed: set[str], where: str) -> None:
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: expected an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyError(f"{where}: unknown keys {unknown}; allowed: {sorted(allowed)}")


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"{where}: expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))
