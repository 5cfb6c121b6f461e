"""Compile policy terms into regular expressions and match them on normalised text."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from itertools import groupby

from .normalize import NormalizedText
from .policy import Category, Policy

# Function words inside phrases are not inflected ("kill yourself", not "kills yourselfs").
_UNINFLECTED = frozenset(
    "a an the my his her their your our its me you him them us it of to in on at by and or all "
    "be is are was were been being this that these those one as with for from into onto off out".split()
)
_VOWEL_SUFFIXES = "ing|ings|ed|er|ers|ion|ions"
_WORD = re.compile(r"[a-z0-9]+")
_LETTER_BOUNDARY_BEFORE = r"(?<![a-z])"
_LETTER_BOUNDARY_AFTER = r"(?![a-z])"


def _letters(text: str) -> str:
    """A pattern for ``text`` where every letter may also be stretched ("kiiill").

    A run of a letter matches its own length or three and more, so "kill"
    matches "kiiillll" but "rape" does not match "rapping".
    """
    parts = []
    for char, run in groupby(text):
        n = len(list(run))
        c = re.escape(char)
        if char.isalpha():
            parts.append(f"(?:{c}{{{n}}}|{c}{{3,}})" if n < 3 else f"{c}{{{n},}}")
        else:
            parts.append(c * n)
    return "".join(parts)


def word_pattern(word: str) -> str:
    """Regex for one word with simple English inflection, or a prefix with ``*``."""
    if word.endswith("*"):
        return _letters(word[:-1]) + "[a-z]*"
    if len(word) < 3 or word in _UNINFLECTED or not word.isalpha():
        return _letters(word)
    if word.endswith("e"):
        # rape -> raped, rapes, raping, rapist is its own word
        return _letters(word[:-1]) + r"(?:e(?:s|d|r|rs)?|ing|ings|ion|ions)"
    if word.endswith("y") and word[-2] not in "aeiou":
        return _letters(word[:-1]) + r"(?:y|ies|ied|ying)"
    last = re.escape(word[-1])
    # A final consonant may double before a vowel suffix: stab -> stabbing.
    doubled = f"{last}?" if word[-1] not in "aeiouwxy" else ""
    return _letters(word) + f"(?:s|es|{doubled}(?:{_VOWEL_SUFFIXES}))?"


def term_pattern(term: str) -> str:
    """Regex for a word or phrase; phrase words may be joined by any separators or none."""
    words = [w for w in re.split(r"[\s\-]+", term.casefold().strip()) if w]
    if not words:
        raise ValueError(f"empty policy term {term!r}")
    body = r"[^a-z0-9]*".join(word_pattern(w) for w in words)
    return _LETTER_BOUNDARY_BEFORE + body + _LETTER_BOUNDARY_AFTER


def _alternation(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile("|".join(f"(?:{term_pattern(t)})" for t in terms))


@dataclass(frozen=True)
class BlocklistHit:
    category: str
    matched: str
    rule: str


@dataclass(frozen=True)
class _CompiledCombination:
    first: re.Pattern[str]
    second: re.Pattern[str]
    window: int
    ordered: bool


@dataclass(frozen=True)
class _CompiledCategory:
    name: str
    terms: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]
    combinations: tuple[_CompiledCombination, ...]


class Blocklist:
    """All blocked terms of a policy, compiled once."""

    def __init__(self, policy: Policy) -> None:
        allow = [f"(?:{term_pattern(p)})" for p in policy.allow_phrases]
        allow += [f"(?:{p})" for p in policy.allow_patterns]
        self._allow = re.compile("|".join(allow)) if allow else None
        self._categories = tuple(self._compile(c) for c in policy.categories)

    @staticmethod
    def _compile(cat: Category) -> _CompiledCategory:
        combos = []
        for combo in cat.combinations:
            first, second = _alternation(combo.first), _alternation(combo.second)
            assert first is not None and second is not None  # policy validation guarantees terms
            combos.append(_CompiledCombination(first, second, combo.window, combo.ordered))
        return _CompiledCategory(
            name=cat.name,
            terms=_alternation(cat.words + cat.phrases),
            patterns=tuple(re.compile(p) for p in cat.patterns),
            combinations=tuple(combos),
        )

    def mask_allowed(self, text: str) -> str:
        """Blank out driving-safety phrases so their words cannot trigger a block."""
        if self._allow is None:
            return text
        return self._allow.sub(lambda m: " " * len(m.group(0)), text)

    def find(self, text: NormalizedText) -> list[BlocklistHit]:
        """Every category hit on any variant of the text (first hit per category)."""
        hits: dict[str, BlocklistHit] = {}
        for variant in text.variants:
            masked = self.mask_allowed(variant)
            for cat in self._categories:
                if cat.name in hits:
                    continue
                hit = self._match(cat, masked)
                if hit is not None:
                    hits[cat.name] = hit
        return list(hits.values())

    @staticmethod
    def _match(cat: _CompiledCategory, text: str) -> BlocklistHit | None:
        if cat.terms is not None:
            m = cat.terms.search(text)
            if m:
                return BlocklistHit(cat.name, m.group(0), "term")
        for pattern in cat.patterns:
            m = pattern.search(text)
            if m:
                return BlocklistHit(cat.name, m.group(0), "pattern")
        if cat.combinations:
            starts = [m.start() for m in _WORD.finditer(text)]
            for combo in cat.combinations:
                hit = _near(combo, text, starts)
                if hit is not None:
                    return BlocklistHit(cat.name, hit, "combination")
        return None


def _near(combo: _CompiledCombination, text: str, word_starts: list[int]) -> str | None:
    firsts = [(m, bisect.bisect_right(word_starts, m.start())) for m in combo.first.finditer(text)]
    if not firsts:
        return None
    for m2 in combo.second.finditer(text):
        i2 = bisect.bisect_right(word_starts, m2.start())
        for m1, i1 in firsts:
            # Word distance between the two matches, in either order.
            if m1.end() <= m2.start():
                gap = i2 - bisect.bisect_right(word_starts, m1.end() - 1) - 1
            elif m2.end() <= m1.start() and not combo.ordered:
                gap = i1 - bisect.bisect_right(word_starts, m2.end() - 1) - 1
            else:
                continue
            if gap < combo.window:
                lo, hi = min(m1.start(), m2.start()), max(m1.end(), m2.end())
                return text[lo:hi]
    return None


@functools.lru_cache(maxsize=8)
def compiled_blocklist(policy: Policy) -> Blocklist:
    """Compiling a policy takes about a second; guards sharing a policy share the result."""
    return Blocklist(policy)
