"""The prompt policy: categories, blocked terms, allowlist and semantic prototypes.

The policy is data. The default ships as ``default_policy.json`` next to this
module; users load their own file or extend the default with extra terms::

    policy = default_policy().extended(Policy.from_dict(my_json))
    policy = default_policy().with_terms("weapons", words=("flamethrower",))

Term syntax (see ``blocklist.py``): a word is matched with simple inflections
("stab" also matches "stabbed", "stabbing"); a trailing ``*`` matches any
ending ("decapitat*"); a trailing ``=`` matches the word and its plural only
("head=" is not "heading"); a phrase is a list of such words separated by
spaces or hyphens, matched with any separators (or none) in between; a
leading ``^`` matches only at the start of a clause, where an order stands
("^kill" is in "kill the cyclist", not in "the crash killed the cyclist");
``patterns`` are raw regular expressions run on the normalised text.

Lexicons name word classes once ("person", "collision_verb") so rules read as
what they mean: a term ``"@person"`` stands for any term of that lexicon, and
a phrase may embed one ("group of @person"). A lexicon may use the lexicons
defined before it. References stay as written in the policy and become one
regex group each when the blocklist is compiled (no product of phrases is ever
built); ``load_policy(..., extend_default=True)`` lets a user file use the
default's lexicons.

Senses (``"senses"``: name -> ``{"description", "phrases", "patterns"}``) are
word-sense rules for the violence lexicon: each names one harmless reading of
violent words (a figurative agent, "murdered by the traffic"; an idiom, "bored
to death"; a worn-out part, "the brakes are shot") and matches the words
together with the context that makes the reading harmless. Their spans are
blanked like the allowlist's before the blocklist, the semantic check and the
classifiers read the prompt, so the same words still block in the harmful
reading ("murdered by the gunman"). A sense pattern may embed a lexicon as
``@name`` (its regex body, inflections included).

Spelling (``"spelling"``: ``{"lexicons", "words", "exceptions"}``) names the words the fuzzy
matcher of ``spelling.py`` reads through typos ("murdr", "kil", "pedestrains"); its exceptions are
the real words never respelled, built from a reference vocabulary by that module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_POLICY_FILE = "default_policy.json"

# Named term lists, in definition order, already expanded.
Lexicons = tuple[tuple[str, tuple[str, ...]], ...]
_REF = re.compile(r"@([a-z_][a-z0-9_]*)")


class PolicyError(ValueError):
    """A policy file or dict is malformed."""


@dataclass(frozen=True)
class Combination:
    """Blocks when a term of every slot occurs near a term of the first slot.

    The first slot is the anchor (usually the act: "stabs", "ploughs into");
    every other slot needs a match with fewer than its window of words in
    between. With ``ordered`` the slots must appear in their listed order,
    each measured from the previous one ("blow up the bus" but not "the bus
    blows up" after a crash). ``windows`` holds one window per slot after the
    anchor: "drives ... into | a crowd" allows a few words before the
    preposition but hardly any after it. A term of ``unless`` fewer than
    ``unless_window`` words from the anchor (default: the widest window)
    cancels that anchor: "almost", "to avoid" turn a collision into a
    near-miss, "on broken glass" a cut into an accident.

    JSON: ``{"all_of": [slot, slot, ...], "window": 4 or [5, 3], "ordered":
    false, "unless": [...], "unless_window": 6}`` where a slot is a list of
    terms or one ``"@lexicon"``; ``"first"`` and ``"second"`` are the two-slot
    shorthand.
    """

    slots: tuple[tuple[str, ...], ...]
    windows: tuple[int, ...]
    ordered: bool = False
    unless: tuple[str, ...] = ()
    unless_window: int | None = None

    def __post_init__(self) -> None:
        if len(self.slots) < 2 or len(self.windows) != len(self.slots) - 1:
            raise PolicyError(f"combination: {len(self.slots)} slots need {len(self.slots) - 1} windows, "
                              f"got {list(self.windows)}")
        if min(self.windows) < 1:
            raise PolicyError(f"combination: windows must be >= 1, got {list(self.windows)}")
        if self.unless_window is not None and (self.unless_window < 1 or not self.unless):
            raise PolicyError(f"combination: unless_window must be >= 1 and needs unless terms, "
                              f"got {self.unless_window}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str, lexicons: Lexicons = ()) -> Combination:
        _check_keys(data, {"first", "second", "all_of", "window", "ordered", "unless", "unless_window"}, where)
        if "all_of" in data:
            if "first" in data or "second" in data:
                raise PolicyError(f"{where}: give either all_of or first/second, not both")
            raw = data["all_of"]
            if not isinstance(raw, list) or len(raw) < 2:
                raise PolicyError(f"{where}.all_of: expected a list of at least two slots")
            slots = tuple(_terms(slot, f"{where}.all_of[{i}]", lexicons) for i, slot in enumerate(raw))
        else:
            slots = (_terms(data.get("first"), f"{where}.first", lexicons),
                     _terms(data.get("second"), f"{where}.second", lexicons))
        unless = _terms(data["unless"], f"{where}.unless", lexicons) if "unless" in data else ()
        window = data.get("window", 4)
        windows = tuple(window) if isinstance(window, list) else (window,) * (len(slots) - 1)
        if not all(isinstance(w, int) and not isinstance(w, bool) for w in windows):
            raise PolicyError(f"{where}.window: expected an integer or a list of integers, got {window!r}")
        try:
            unless_window = data.get("unless_window")
            return cls(slots=slots, windows=windows, ordered=bool(data.get("ordered", False)), unless=unless,
                       unless_window=None if unless_window is None else int(unless_window))
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        window = self.windows[0] if len(set(self.windows)) == 1 else list(self.windows)
        out: dict[str, Any] = {"all_of": [list(s) for s in self.slots], "window": window,
                               "ordered": self.ordered}
        if self.unless:
            out["unless"] = list(self.unless)
        if self.unless_window is not None:
            out["unless_window"] = self.unless_window
        return out


@dataclass(frozen=True)
class Sense:
    """One harmless reading of violent words, named so a rule says why it exists.

    ``phrases`` use the term syntax (lexicons included); ``patterns`` are regular expressions on the
    normalised text where ``@name`` stands for a lexicon's body. A match is a span of harmless
    sense; it is blanked before any check reads the prompt (see ``Blocklist.mask_allowed``).
    """

    name: str
    description: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any], lexicons: Lexicons = ()) -> Sense:
        where = f"senses.{name}"
        _check_keys(data, {"description", "phrases", "patterns"}, where)
        patterns = _str_tuple(data.get("patterns", []), f"{where}.patterns")
        known = {n for n, _ in lexicons}
        for pattern in patterns:
            missing = [n for n in _REF.findall(pattern) if n not in known]
            if missing:
                raise PolicyError(f"{where}.patterns: {pattern!r} uses unknown lexicon {missing}")
            try:  # lexicon bodies are groups of their own, so a placeholder group checks the syntax
                re.compile(_REF.sub("(?:x)", pattern))
            except re.error as exc:
                raise PolicyError(f"{where}.patterns: {pattern!r} is not a valid regex: {exc}") from exc
        sense = cls(name=name, description=str(data.get("description", "")),
                    phrases=_terms(data.get("phrases", []), f"{where}.phrases", lexicons), patterns=patterns)
        if not sense.phrases and not sense.patterns:
            raise PolicyError(f"{where}: needs phrases or patterns")
        return sense

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "phrases": list(self.phrases), "patterns": list(self.patterns)}


@dataclass(frozen=True)
class Spelling:
    """Which words the fuzzy matcher reads misspelled (see ``spelling.py``).

    ``lexicons`` and ``words`` name the forms a misspelling is respelled as; ``exceptions`` are the
    real words never respelled (built by ``spelling.build_exceptions``, not written by hand).
    """

    description: str = ""
    lexicons: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any], lexicons: Lexicons = ()) -> Spelling:
        _check_keys(data, {"description", "lexicons", "words", "exceptions"}, "spelling")
        names = _str_tuple(data.get("lexicons", []), "spelling.lexicons") if data.get("lexicons") else ()
        known = {n for n, _ in lexicons}
        missing = [n for n in names if n not in known]
        if missing:
            raise PolicyError(f"spelling.lexicons: unknown lexicon {missing}; lexicons: {sorted(known)}")
        words = _str_tuple(data["words"], "spelling.words") if data.get("words") else ()
        exceptions = _str_tuple(data["exceptions"], "spelling.exceptions") if data.get("exceptions") else ()
        return cls(description=str(data.get("description", "")), lexicons=names, words=words,
                   exceptions=exceptions)

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "lexicons": list(self.lexicons), "words": list(self.words),
                "exceptions": list(self.exceptions)}


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
    def from_dict(cls, name: str, data: dict[str, Any], lexicons: Lexicons = ()) -> Category:
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
            words=_terms(data.get("words", []), f"{where}.words", lexicons),
            phrases=_terms(data.get("phrases", []), f"{where}.phrases", lexicons),
            patterns=patterns,
            combinations=tuple(Combination.from_dict(c, f"{where}.combinations[{i}]", lexicons)
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
    # Sense disambiguation: spans matching these are blanked before the
    # blocklist and the semantic check see the prompt, so the driving sense
    # of a word ("kill the engine", "shoots past", "bomb-sniffing dog") cannot
    # trigger its violent sense. Only other senses belong here: an accident
    # ("hit by a car") is the same sense and is told apart by the rules.
    allow_phrases: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = ()
    # Benign sentences near the unsafe ones (crashes, first aid, police work);
    # the semantic check blocks only when a prompt is closer to an unsafe
    # prototype than to these by at least ``semantic_margin``.
    safe_prototypes: tuple[str, ...] = ()
    semantic_margin: float = 0.05
    max_prompt_chars: int = 4000
    # Categories whose words, phrases and patterns also apply to negative
    # prompts (see ``PromptGuard.check_negative_prompt``).
    negative_categories: tuple[str, ...] = ()
    # Named term lists that terms refer to as "@name" (see the module docstring).
    lexicons: Lexicons = ()
    # Word-sense rules (see the module docstring): harmless readings of violent words, blanked like
    # the allowlist, each with a name and a reason.
    senses: tuple[Sense, ...] = ()
    # Fuzzy matching of misspelled lexicon words (see ``spelling.py``); empty: none.
    spelling: Spelling = Spelling()
    version: int = 1
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.categories)
        if len(set(names)) != len(names):
            raise PolicyError(f"categories: duplicate names in {names}")
        unknown = [n for n in self.negative_categories if n not in names]
        if unknown:
            raise PolicyError(f"negative_prompt.categories: no category {unknown}; categories: {list(names)}")
        for i, (name, terms) in enumerate(self.lexicons):
            _check_refs(terms, f"lexicons.{name}", self.lexicons[:i])
        _check_refs(self.allow_phrases, "allowlist.phrases", self.lexicons)
        for sense in self.senses:
            _check_refs(sense.phrases, f"senses.{sense.name}.phrases", self.lexicons)
        for cat in self.categories:
            terms = cat.words + cat.phrases + tuple(t for c in cat.combinations for s in c.slots + (c.unless,)
                                                    for t in s)
            _check_refs(terms, f"categories.{cat.name}", self.lexicons)
        object.__setattr__(self, "_names", names)

    def category(self, name: str) -> Category:
        for cat in self.categories:
            if cat.name == name:
                return cat
        raise KeyError(f"policy has no category {name!r}; categories: {list(self._names)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], lexicons: Lexicons = ()) -> Policy:
        """Parse a policy; ``lexicons`` are extra ones its terms may use (the default's)."""
        if not isinstance(data, dict):
            raise PolicyError("policy: expected a JSON object")
        _check_keys(data, {"version", "categories", "allowlist", "safe_prototypes", "semantic_margin",
                           "max_prompt_chars", "description", "lexicons", "negative_prompt", "senses",
                           "spelling"}, "policy")
        own = _parse_lexicons(data.get("lexicons", {}), lexicons)
        known = lexicons + own
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
        negative = data.get("negative_prompt", {})
        _check_keys(negative, {"categories", "description"}, "negative_prompt")
        senses = data.get("senses", {})
        if not isinstance(senses, dict):
            raise PolicyError("senses: expected an object of name -> sense")
        return cls(
            categories=tuple(Category.from_dict(name, c, known) for name, c in cats.items()),
            allow_phrases=_terms(allow.get("phrases", []), "allowlist.phrases", known),
            allow_patterns=allow_patterns,
            safe_prototypes=_str_tuple(data.get("safe_prototypes", []), "safe_prototypes"),
            semantic_margin=float(data.get("semantic_margin", 0.05)),
            max_prompt_chars=int(data.get("max_prompt_chars", 4000)),
            negative_categories=_str_tuple(negative.get("categories", []), "negative_prompt.categories"),
            lexicons=known,
            senses=tuple(Sense.from_dict(name, v, known) for name, v in senses.items()),
            spelling=Spelling.from_dict(data.get("spelling", {}), known),
            version=int(data.get("version", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version,
                "lexicons": {name: list(terms) for name, terms in self.lexicons},
                "categories": {c.name: c.to_dict() for c in self.categories},
                "allowlist": {"phrases": list(self.allow_phrases), "patterns": list(self.allow_patterns)},
                "safe_prototypes": list(self.safe_prototypes),
                "semantic_margin": self.semantic_margin,
                "max_prompt_chars": self.max_prompt_chars,
                "negative_prompt": {"categories": list(self.negative_categories)},
                "senses": {s.name: s.to_dict() for s in self.senses},
                "spelling": self.spelling.to_dict()}

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
        own = dict(self.lexicons)
        senses: dict[str, Sense] = {s.name: s for s in self.senses}
        for sense in extra.senses:
            base_sense = senses.get(sense.name)
            senses[sense.name] = sense if base_sense is None else replace(
                base_sense, phrases=_union(base_sense.phrases, sense.phrases),
                patterns=_union(base_sense.patterns, sense.patterns))
        return replace(
            self,
            categories=tuple(merged.values()),
            allow_phrases=_union(self.allow_phrases, extra.allow_phrases),
            allow_patterns=_union(self.allow_patterns, extra.allow_patterns),
            safe_prototypes=_union(self.safe_prototypes, extra.safe_prototypes),
            negative_categories=_union(self.negative_categories, extra.negative_categories),
            lexicons=self.lexicons + tuple((n, t) for n, t in extra.lexicons if n not in own),
            senses=tuple(senses.values()),
            spelling=Spelling(description=self.spelling.description or extra.spelling.description,
                              lexicons=_union(self.spelling.lexicons, extra.spelling.lexicons),
                              words=_union(self.spelling.words, extra.spelling.words),
                              exceptions=_union(self.spelling.exceptions, extra.spelling.exceptions)),
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
    if not extend_default:
        return Policy.from_dict(data)
    base = default_policy()
    return base.extended(Policy.from_dict(data, lexicons=base.lexicons))


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


def _terms(value: Any, where: str, lexicons: Lexicons) -> tuple[str, ...]:
    """Terms as written, each lexicon reference checked: ``"@person"`` or a list of terms."""
    if isinstance(value, str) and value.startswith("@"):
        value = [value]
    terms = tuple(dict.fromkeys(_str_tuple(value, where)))
    _check_refs(terms, where, lexicons)
    return terms


def _check_refs(terms: tuple[str, ...], where: str, lexicons: Lexicons) -> None:
    known = {name for name, _ in lexicons}
    for term in terms:
        missing = [n for n in _REF.findall(term) if n not in known]
        if missing:
            raise PolicyError(f"{where}: {term!r} uses unknown lexicon {missing}; lexicons: {sorted(known)}")


def _parse_lexicons(data: Any, known: Lexicons) -> Lexicons:
    if not isinstance(data, dict):
        raise PolicyError("lexicons: expected an object of name -> list of terms")
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, terms in data.items():
        if not _REF.fullmatch(f"@{name}"):
            raise PolicyError(f"lexicons: name {name!r} must be lower-case letters, digits and _")
        if name in dict(known):
            raise PolicyError(f"lexicons.{name}: already defined")
        out.append((name, _terms(terms, f"lexicons.{name}", known + tuple(out))))
    return tuple(out)
