"""Compile policy terms into regular expressions and match them on normalised text."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping
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
# A term written "^kill" matches only where a clause starts: at the start of the
# prompt or after . ; : ! ? , (masked spans leave spaces), maybe after "please",
# "now", "then"... That is where an imperative stands: "kill the cyclist" is an
# order, "the crash killed the cyclist" a report. After a comma an -ing or -ed
# form opens a participle clause, not an order: in "a tree falls on the car,
# killing the driver" the killing is the accident's result (the accident
# reading of the violence lexicon), so a comma counts as a clause start only
# when no such form follows; "stop at the lights, kill the cyclist" still does.
_CLAUSE_START = (r"(?:^|(?<=[.;:!?\n])|(?<=[.;:!?\n] )|(?<=,)(?![ ]?[a-z]+(?:ing|ed)(?![a-z]))"
                 r"|(?<=, )(?![a-z]+(?:ing|ed)(?![a-z])))[ ]*"
                 r"(?:(?:please|now|then|just|go|and|so|ok|okay|let's|lets|quickly|slowly)[^a-z0-9]+)*")


def _letters(text: str) -> str:
    """A pattern for ``text`` where every letter may also be stretched ("kiiill").

    A run of a letter matches its own length or three and more, so "kill"
    matches "kiiillll" but "rape" does not match "rapping".
    """
    parts = []
    for char, run in groupby(text):
        n = len(list(run))
        c = re.escape(char)
        if not char.isalpha():
            parts.append(c * n)
        elif n == 1:
            parts.append(f"{c}(?:{c}{c}+)?")  # one, or three and more
        else:
            parts.append(c * n + f"{c}*")
    return "".join(parts)


def word_pattern(word: str) -> str:
    """Regex for one word with simple English inflection, a prefix with ``*``,
    or a noun with ``=`` (its plural only: "head=" must not match "heading")."""
    if word.endswith("*"):
        return _letters(word[:-1]) + "[a-z]*"
    if word.endswith("="):
        return _letters(word[:-1]) + "(?:s|es)?"
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


def term_pattern(term: str, lexicons: Mapping[str, str] | None = None) -> str:
    """Regex for a word or phrase; phrase words may be joined by any separators or none."""
    return _LETTER_BOUNDARY_BEFORE + _term_body(term, lexicons or {}) + _LETTER_BOUNDARY_AFTER


def _term_body(term: str, lexicons: Mapping[str, str]) -> str:
    """``term_pattern`` without the letter boundaries; a word ``@name`` is that lexicon's body."""
    text = term.casefold().strip()
    start = _CLAUSE_START if text.startswith("^") else ""
    words = [w for w in re.split(r"[\s\-]+", text.lstrip("^")) if w]
    if not words:
        raise ValueError(f"empty policy term {term!r}")
    return start + r"[^a-z0-9]*".join(lexicons[w[1:]] if w.startswith("@") else word_pattern(w) for w in words)


_LEXICON_REF = re.compile(r"@([a-z_][a-z0-9_]*)")


def sense_pattern(pattern: str, lexicons: Mapping[str, str]) -> str:
    """A sense rule's regex with each ``@name`` replaced by that lexicon's body (one group)."""
    return _LEXICON_REF.sub(lambda m: "(?:" + lexicons[m.group(1)] + ")", pattern)


def _bodies(terms: tuple[str, ...], lexicons: Mapping[str, str]) -> str:
    return "(?:" + "|".join(_term_body(t, lexicons) for t in terms) + ")"


class _Compiler:
    """Term lists to regexes, with the policy's lexicons as shared sub-patterns.

    Identical term lists (the same ``@target`` slot in many rules) compile to
    one pattern object, so a prompt is scanned for them once per variant.
    """

    def __init__(self, policy: Policy) -> None:
        # Lexicon bodies carry no letter boundaries of their own: a term's
        # boundaries sit at its two ends only, as for a plain phrase.
        self.lexicons: dict[str, str] = {}
        for name, terms in policy.lexicons:  # in order: a lexicon uses only earlier ones
            self.lexicons[name] = _bodies(terms, self.lexicons)
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}

    def alternation(self, terms: tuple[str, ...]) -> re.Pattern[str] | None:
        if not terms:
            return None
        if terms not in self._compiled:
            self._compiled[terms] = re.compile(
                _LETTER_BOUNDARY_BEFORE + _bodies(terms, self.lexicons) + _LETTER_BOUNDARY_AFTER)
        return self._compiled[terms]


@dataclass(frozen=True)
class BlocklistHit:
    category: str
    matched: str
    rule: str


@dataclass(frozen=True)
class _CompiledCombination:
    slots: tuple[re.Pattern[str], ...]
    windows: tuple[int, ...]
    ordered: bool
    unless: re.Pattern[str] | None
    unless_window: int


@dataclass(frozen=True)
class _CompiledCategory:
    name: str
    terms: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]
    combinations: tuple[_CompiledCombination, ...]


class Blocklist:
    """All blocked terms of a policy, compiled once."""

    def __init__(self, policy: Policy) -> None:
        compiler = _Compiler(policy)
        allow = [term_pattern(p, compiler.lexicons) for p in policy.allow_phrases]
        allow += [f"(?:{p})" for p in policy.allow_patterns]
        # Word-sense rules: harmless readings of violent words, blanked like the allowlist (one
        # alternation for speed, and one pattern per sense so ``senses`` can say which one read a prompt).
        self._senses: dict[str, re.Pattern[str]] = {}
        for sense in policy.senses:
            bodies = [term_pattern(p, compiler.lexicons) for p in sense.phrases]
            bodies += [f"(?:{sense_pattern(p, compiler.lexicons)})" for p in sense.patterns]
            self._senses[sense.name] = re.compile("|".join(bodies))
            allow += bodies
        self._allow = re.compile("|".join(allow)) if allow else None
        self._categories = tuple(_compile(c, compiler) for c in policy.categories)
        self._speller = None
        if policy.spelling.lexicons or policy.spelling.words:
            from .spelling import Speller, encoder_words, lexicon_forms, lexicon_words, policy_words

            forms = lexicon_forms(policy)
            self._speller = Speller(forms, policy.spelling.exceptions, lexicon_words(policy),
                                    vocabulary=encoder_words(), keep=policy_words(policy) - forms)
        self._negative = tuple(c for c in self._categories if c.name in policy.negative_categories)

    def mask_allowed(self, text: str) -> str:
        """Blank out driving-sense phrases so their words cannot trigger a block."""
        if self._allow is None:
            return text
        return self._allow.sub(lambda m: " " * len(m.group(0)), text)

    def respell(self, text: str) -> str:
        """``text`` (normalised) with misspelled lexicon words read as the words they miss (``spelling.py``)."""
        return text if self._speller is None else self._speller.respell(text)

    def senses(self, text: str) -> list[tuple[str, str]]:
        """The word-sense rules that read ``text`` (normalised) harmlessly: (sense name, matched span)."""
        out = []
        for name, pattern in self._senses.items():
            m = pattern.search(text)
            if m:
                out.append((name, m.group(0)))
        return out

    def find(self, text: NormalizedText) -> list[BlocklistHit]:
        """Every category hit on any variant of the text (first hit per category)."""
        return self._find(text, self._categories, with_combinations=True)

    def find_terms(self, text: NormalizedText) -> list[BlocklistHit]:
        """Hits of the negative-prompt categories' own terms and patterns, no combinations."""
        return self._find(text, self._negative, with_combinations=False)

    def _find(self, text: NormalizedText, categories: tuple[_CompiledCategory, ...],
              with_combinations: bool) -> list[BlocklistHit]:
        hits: dict[str, BlocklistHit] = {}
        # each variant as written and, where it differs, with misspelled lexicon words respelled
        for variant in dict.fromkeys(v for written in text.variants for v in (written, self.respell(written))):
            scan = _Scan(self.mask_allowed(variant))
            for cat in categories:
                if cat.name in hits:
                    continue
                hit = _match(cat, scan, with_combinations)
                if hit is not None:
                    hits[cat.name] = hit
        return list(hits.values())


def _compile(cat: Category, compiler: _Compiler) -> _CompiledCategory:
    combos = []
    for combo in cat.combinations:
        slots = tuple(compiler.alternation(slot) for slot in combo.slots)
        assert all(slots), "policy validation guarantees terms in every slot"
        combos.append(_CompiledCombination(slots, combo.windows, combo.ordered,  # type: ignore[arg-type]
                                           compiler.alternation(combo.unless),
                                           combo.unless_window or max(combo.windows)))
    return _CompiledCategory(
        name=cat.name,
        terms=compiler.alternation(cat.words + cat.phrases),
        patterns=tuple(re.compile(p) for p in cat.patterns),
        combinations=tuple(combos),
    )


def _match(cat: _CompiledCategory, scan: _Scan, with_combinations: bool) -> BlocklistHit | None:
    if cat.terms is not None:
        m = cat.terms.search(scan.text)
        if m:
            return BlocklistHit(cat.name, m.group(0), "term")
    for pattern in cat.patterns:
        m = pattern.search(scan.text)
        if m:
            return BlocklistHit(cat.name, m.group(0), "pattern")
    if with_combinations:
        for combo in cat.combinations:
            hit = _near(combo, scan)
            if hit is not None:
                return BlocklistHit(cat.name, hit, "combination")
    return None


@dataclass(frozen=True)
class _Span:
    """A match and the indices of its first and last word."""

    match: re.Match[str]
    first: int
    last: int


class _Scan:
    """One masked variant of a prompt, with each pattern's matches found once.

    A pattern is tried at every word start, so matches may overlap: in
    "stamps on his face" the slot "stamps on" and the slot "his face" both
    match, where a left-to-right scan would only see "on his face".
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [m.start() for m in _WORD.finditer(text)]
        self._spans: dict[re.Pattern[str], list[_Span]] = {}

    def spans(self, pattern: re.Pattern[str]) -> list[_Span]:
        if pattern not in self._spans:
            starts = self._starts
            matches = (pattern.match(self.text, i) for i in starts)
            self._spans[pattern] = [_Span(m, bisect.bisect_right(starts, m.start()) - 1,
                                          bisect.bisect_right(starts, m.end() - 1) - 1)
                                    for m in matches if m is not None and m.end() > m.start()]
        return self._spans[pattern]


def _gap(a: _Span, b: _Span) -> int | None:
    """Words strictly between two spans (either order); None when they overlap."""
    if a.last < b.first:
        return b.first - a.last - 1
    if b.last < a.first:
        return a.first - b.last - 1
    return None


def _near(combo: _CompiledCombination, scan: _Scan) -> str | None:
    slots = []
    for pattern in combo.slots:  # stop at the first slot with no match
        spans = scan.spans(pattern)
        if not spans:
            return None
        slots.append(spans)
    unless = scan.spans(combo.unless) if combo.unless is not None else []
    for anchor in slots[0]:
        if any(g is None or g < combo.unless_window for g in (_gap(anchor, u) for u in unless)):
            continue
        chosen = _chain(anchor, slots[1:], combo) if combo.ordered else _around(anchor, slots[1:], combo)
        if chosen is not None:
            lo = min(s.match.start() for s in chosen)
            hi = max(s.match.end() for s in chosen)
            return scan.text[lo:hi]
    return None


def _chain(anchor: _Span, rest: list[list[_Span]], combo: _CompiledCombination) -> list[_Span] | None:
    """Each slot's earliest match after the previous one, each within the window."""
    chosen = [anchor]
    for spans, window in zip(rest, combo.windows):
        prev = chosen[-1]
        nxt = next((s for s in spans if s.first > prev.last and s.first - prev.last - 1 < window), None)
        if nxt is None:
            return None
        chosen.append(nxt)
    return chosen


def _around(anchor: _Span, rest: list[list[_Span]], combo: _CompiledCombination) -> list[_Span] | None:
    """For each slot, a match on either side of the anchor within the window."""
    chosen = [anchor]
    for spans, window in zip(rest, combo.windows):
        near = [s for s in spans if (g := _gap(anchor, s)) is not None and g < window]
        if not near:
            return None
        chosen.append(near[0])
    return chosen


@functools.lru_cache(maxsize=8)
def compiled_blocklist(policy: Policy) -> Blocklist:
    """Compiling a policy takes about a second; guards sharing a policy share the result."""
    return Blocklist(policy)
