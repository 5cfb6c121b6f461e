"""Fuzzy matching of the violence lexicon: misspelled words read as the lexicon word they miss.

The rules match words with their inflections and stretched letters, and normalisation undoes leet,
look-alikes and spacing, but a typed misspelling ("murdr", "kil", "shoote", "strangld",
"pedestrains") is a different word to a regex and to the encoder's word pieces. ``Speller``
respells each unknown word of a normalised text that is close to a form of a lexicon word
(``Policy.spelling``) as that form, so every rule, the semantic stage and the learned heads read
"the driver murdrs the pedestrains" as "the driver murders the pedestrians".

Close means, between the two words' *phonetic squashes* (``squash``: ph -> f, ck -> k, a final z
-> s, doubled letters single): equal (any length: "kil", "stabb", "shott"); or at most one edit
(insert, delete, substitute, swap two neighbours) from a form of five or more letters and two from
one of eight or more ("murdr", "shoote", "slaugter"); or, for a form of five or more letters, the
same consonants with every vowel dropped ("mrdr", "strngld"). The first letter must agree: people
rarely mistype it, and most real words one edit from a lexicon word differ there ("shoot" /
"shout" differ later, "hill" / "kill" first).

A misspelling is read as a lexicon form only when no word of the encoder's vocabulary is nearer to it
("headlites" is one edit from "headlines", two from "headless": left alone); a word the policy itself
writes in any term ("splat") is never respelled, and a three-letter word without vowels ("pls") is not read
as a skeleton.

A real word is never respelled, however close ("shout", "stable", "skill", "diver", "sheet"): the
policy's ``exceptions`` list every word of a reference vocabulary that the rule above would
respell. It is built, not picked: ``build_exceptions`` runs the matcher over the whole words of
the bundled text encoder's vocabulary (about 21 000 English words and names) with their simple
inflections, and over every word of the legitimate training prompts, the simulator's captions and
the default edge-case catalog, and keeps the words it would change. Rebuild it after changing the
lexicons the speller reads::

    python -m cosmos_lite.guardrail.spelling --write guardrail/default_policy.json
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

_WORD = re.compile(r"[a-z]+")
_VOWELS = re.compile(r"[aeiou]")
# Words shorter than this are never respelled: "gin", "hot", "bat" are one letter from anything.
MIN_WORD = 3
# Edit distance allowed by the length of the lexicon form: none below five letters (only the
# phonetic squash), one from five, two from eight (longer words carry more typos and have fewer
# real neighbours).
_DISTANCE_BY_LENGTH = ((8, 2), (5, 1))
_SKELETON_MIN_FORM = 5
# A word ending like this is an inflected form already: inflecting it again makes non-words.
_INFLECTED = re.compile(r"(?:ed|ing|s)$")
# Endings stripped to find a known stem: "sheets", "sheeting" are as real as the exception "sheet".
_ENDINGS = ("ing", "ers", "ed", "er", "es", "s", "ly")


def squash(word: str) -> str:
    """The phonetic squash both sides are compared in: ph -> f, ck -> k, final z -> s, final er -> a
    ("murda", "killa"), runs of a letter to one."""
    word = word.replace("ph", "f").replace("ck", "k")
    word = re.sub(r"z$", "s", word)
    word = re.sub(r"er$", "a", word)
    return re.sub(r"([a-z])\1+", r"\1", word)


def allowed_distance(form: str, word: str | None = None) -> int:
    """Edits allowed between ``form`` and ``word``, by the shorter of the two: a four-letter word
    ("kiln") is not read as a five-letter form ("kills") however close."""
    length = len(form) if word is None else min(len(form), len(word))
    for at_least, distance in _DISTANCE_BY_LENGTH:
        if length >= at_least:
            return distance
    return 0


def skeleton(word: str) -> str:
    """The word without vowels, runs of a letter to one ("murder" -> "mrdr"; not squashed: its final
    er -> a would make "murderer" the skeleton of "mrdr")."""
    return re.sub(r"([a-z])\1+", r"\1", _VOWELS.sub("", word.replace("ph", "f").replace("ck", "k")))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts one); ``limit + 1`` once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _deletes(word: str, depth: int) -> set[str]:
    """``word`` and every string made by deleting up to ``depth`` of its letters (the SymSpell index keys)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def inflections(word: str) -> set[str]:
    """``word`` with the simple English endings the blocklist's ``word_pattern`` accepts (s, es, ed, ing, er, ers)."""
    out = {word}
    if len(word) < MIN_WORD or not word.isalpha():
        return out
    stems = [word]
    if word.endswith("e"):
        stems.append(word[:-1])
    if word[-1] not in "aeiouwxy" and len(word) >= 3 and word[-2] in "aeiou" and word[-3] not in "aeiou":
        stems.append(word + word[-1])  # stab -> stabbing
    if word.endswith("y") and word[-2] not in "aeiou":
        out |= {word[:-1] + "ies", word[:-1] + "ied"}
    out |= {word + "s", word + "es"}
    out |= {s + ending for s in stems for ending in ("ed", "ing", "er", "ers")}
    return out


class Speller:
    """Respells unknown words close to a lexicon form as that form (see the module docstring).

    ``forms`` are the exact lexicon words with their inflections, ``written`` those among them the
    policy writes (preferred at equal distance: "shoote" is "shoot", not the generated "shooted");
    ``exceptions`` the real words never respelled. Each distinct word is looked up once (a cache), so
    a prompt costs a dict lookup per word after the first time.
    """

    def __init__(self, forms: Iterable[str], exceptions: Iterable[str] = (), written: Iterable[str] = (),
                 vocabulary: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        self.forms = frozenset(f for f in forms if len(f) >= MIN_WORD and f.isalpha())
        self.written = frozenset(written)
        # ``keep``: words the policy writes in its other terms ("splat" of a euphemism): read as written
        self.exceptions = frozenset(exceptions) | frozenset(keep)
        # ``vocabulary``: real words; a misspelling nearer to one of them than to the lexicon form is that
        # word's misspelling, not the form's ("headlites" is "headlines" at one edit, "headless" at two)
        self._vocabulary: dict[tuple[str, int], list[str]] = {}
        for word in sorted(set(vocabulary) - self.forms):
            if len(word) >= MIN_WORD and word.isalpha():
                key = squash(word)
                self._vocabulary.setdefault((key[0], len(key)), []).append(key)
        self._index: dict[str, list[str]] = {}
        self._skeletons: dict[str, str] = {}
        # sorted, so that ties between two forms resolve the same way on every run
        for form in sorted(self.forms):
            key = squash(form)
            for d in _deletes(key, allowed_distance(form)):
                self._index.setdefault(d, []).append(form)
            if len(form) >= _SKELETON_MIN_FORM and len(skeleton(form)) >= MIN_WORD:
                self._skeletons.setdefault(skeleton(form), form)
        self.lookup = functools.lru_cache(maxsize=65536)(self._lookup)

    def _known(self, word: str) -> bool:
        """An exception, or an inflection of one (the reference vocabulary lists few inflections)."""
        if word in self.exceptions:
            return True
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= MIN_WORD:
                stem = word[: -len(ending)]
                # "sheet ing" -> "sheet"; "stabl ed" -> "stable" (before a vowel ending only:
                # "deliberat ly" is a typo); "skidd ed" -> "skid"
                if stem in self.exceptions or (ending[0] in "aeiou" and stem + "e" in self.exceptions) or (
                        len(stem) > MIN_WORD and stem[-1] == stem[-2] and stem[:-1] in self.exceptions) or (
                        ending in ("es", "ed") and stem.endswith("i") and stem[:-1] + "y" in self.exceptions):
                    return True
        return False

    def _lookup(self, word: str) -> str | None:
        """The lexicon form ``word`` is a misspelling of, or None (a known word, or nothing close)."""
        if len(word) < MIN_WORD or word in self.forms or self._known(word):
            return None
        key = squash(word)
        best: tuple[int, bool, int, str] | None = None
        for d in _deletes(key, allowed_distance(word)):
            for form in self._index.get(d, ()):
                target = squash(form)
                limit = allowed_distance(form, word)
                if target[0] != key[0] or (dist := edit_distance(key, target, limit)) > limit:
                    continue
                # nearest first, then a form the policy writes, then the form sharing the longest start
                # ("slautered": "slaughtered", not "scattered"), then alphabetical so every run agrees
                rank = (dist, form not in self.written, -len(_common_prefix(key, target)), form)
                if best is None or rank < best:
                    best = rank
        if best is not None:
            if best[0] > 0 and self._nearer_real_word(key, best[0]):
                return None
            return best[-1]
        # every vowel dropped: "mrdr", "strngld"; not a three-letter chat word ("pls", "thx")
        if not _VOWELS.search(word) and len(word) > MIN_WORD:
            return self._skeletons.get(skeleton(word))
        return None

    def _nearer_real_word(self, key: str, distance: int) -> bool:
        """Whether a word of the vocabulary is fewer than ``distance`` edits from ``key`` (squashed)."""
        for length in range(len(key) - distance + 1, len(key) + distance):
            for real in self._vocabulary.get((key[0], length), ()):
                if edit_distance(key, real, distance - 1) < distance:
                    return True
        return False

    def respell(self, text: str) -> str:
        """``text`` (normalised, lower case) with each misspelled lexicon word replaced by its form."""
        return _WORD.sub(lambda m: self.lookup(m.group(0)) or m.group(0), text)


def lexicon_words(policy) -> set[str]:
    """The words of ``lexicon_forms`` as the policy writes them (stems of ``*`` and ``=`` terms)."""
    return set(_lexicon_forms(policy)[1])


def lexicon_forms(policy) -> set[str]:
    """Every single-word form the speller reads: the policy's ``spelling`` words and the terms of its
    lexicons, each a one-word term or the first word of a phrase ("gun" of "gun down"; the function
    words after it are too short and common to respell), with its inflections (a ``*`` or ``=`` term by
    its stem; a word already inflected, "abducted", "arabs", as written)."""
    return _lexicon_forms(policy)[0]


@functools.lru_cache(maxsize=8)
def _lexicon_forms(policy) -> tuple[frozenset[str], frozenset[str]]:
    """(every form, the written words) of ``lexicon_forms``."""
    from .blocklist import _UNINFLECTED, word_pattern

    spelling = policy.spelling
    lexicons = dict(policy.lexicons)
    terms: list[str] = list(spelling.words)
    pending = list(spelling.lexicons)
    seen: set[str] = set()
    while pending:  # lexicons refer to lexicons ("@collision_verb" inside "harm_verb")
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for term in lexicons[name]:
            if term.startswith("@"):
                pending.append(term[1:])
            else:
                terms.append(term)
    forms: set[str] = set()
    written: set[str] = set()
    for term in terms:
        word = re.split(r"[\s\-]+", term.casefold().lstrip("^").strip())[0]
        stem = word.rstrip("*=")
        if word.startswith("@") or word in _UNINFLECTED or len(stem) < MIN_WORD or not stem.isalpha():
            continue
        written.add(stem)
        if _INFLECTED.search(stem):
            forms.add(stem)
            continue
        pattern = re.compile(word_pattern(word))
        forms |= {f for f in inflections(stem) if pattern.fullmatch(f)}
    return frozenset(forms), frozenset(written)


@functools.lru_cache(maxsize=1)
def encoder_words() -> frozenset[str]:
    """The whole lower-case words of the bundled text encoder's vocabulary (empty when it is not installed)."""
    try:
        from cosmos_lite.pretrained import minilm_path

        vocab = (minilm_path() / "vocab.txt").read_text(encoding="utf-8").split()
    except Exception:  # noqa: BLE001 - no encoder: the speller works without the nearer-word check
        return frozenset()
    return frozenset(t for t in vocab if t.isalpha() and t.islower() and len(t) >= MIN_WORD)


def policy_words(policy) -> frozenset[str]:
    """Every single word the policy's lexicons and category terms write (stems of ``*`` and ``=`` terms)."""
    terms = [t for _, lex in policy.lexicons for t in lex]
    terms += [t for c in policy.categories for t in (*c.words, *c.phrases)]
    out = set()
    for term in terms:
        for word in re.split(r"[\s\-]+", term.casefold().lstrip("^")):
            stem = word.rstrip("*=")
            if stem and not stem.startswith("@") and stem.isalpha() and len(stem) >= MIN_WORD:
                out.add(stem)
    return frozenset(out)


def reference_words(scene_seeds: int = 200) -> set[str]:
    """The reference vocabulary the exceptions are built from (see the module docstring): the encoder's
    whole words, the written words of the training corpus's legitimate templates and of the slots they
    fill (before any typo or respelling is drawn, and not the unsafe side's slots, which hold typed
    misspellings on purpose: those are what the speller must undo), and the words of the
    simulator's captions and catalog wordings of ``scene_seeds`` scenes of each split."""
    from cosmos_lite.pretrained import minilm_path

    from .normalize import normalize
    from .prompt_classifier import scene_prompts
    from .prompt_corpus import LEGIT, R4_LEGIT, R5_LEGIT, SENSE_LEGIT, SLOTS

    vocab = (minilm_path() / "vocab.txt").read_text(encoding="utf-8").split()
    words = {t for t in vocab if t.isalpha() and t.islower()}
    legit = [t for fam in (LEGIT, SENSE_LEGIT, R4_LEGIT, R5_LEGIT) for templates in fam.values() for t in templates]
    texts = legit + [v for name in _slots_used(legit + ["{lead}"]) for v in SLOTS[name]]
    texts += scene_prompts(range(scene_seeds), "train") + scene_prompts(range(scene_seeds), "test")
    for text in texts:
        words |= set(_WORD.findall(normalize(text).for_embedding))
    return {w for w in words if len(w) >= MIN_WORD}


def _slots_used(templates: list[str]) -> set[str]:
    """The slot names ``templates`` fill, with the slots nested in those slots' values."""
    from .prompt_corpus import SLOTS

    names: set[str] = set()
    pending = [n for t in templates for n in re.findall(r"\{(\w+)\}", t)]
    while pending:
        name = pending.pop()
        if name not in names:
            names.add(name)
            pending += [n for v in SLOTS[name] for n in re.findall(r"\{(\w+)\}", v)]
    return names


def build_exceptions(policy, words: Iterable[str]) -> list[str]:
    """The words of ``words`` the speller would respell without exceptions, and those whose simple
    inflection it would ("rap": "rapping" is one edit from "ramming"; the vocabulary lists few
    inflections, and ``Speller`` reads an inflection of an exception as known), sorted. A lexicon
    word's own inflections are left out: its misspelled ones ("stabed") must be respelled."""
    forms = lexicon_forms(policy)
    bare = Speller(forms, written=lexicon_words(policy))
    return sorted(w for w in set(words) - forms
                  if bare.lookup(w) is not None or any(bare.lookup(f) is not None for f in inflections(w) - {w}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="policy JSON whose spelling.exceptions line is rewritten")
    args = parser.parse_args(argv)
    from .policy import default_policy, load_policy

    policy = load_policy(args.write) if args.write else default_policy()
    exceptions = build_exceptions(policy, reference_words())
    print(f"{len(lexicon_forms(policy))} lexicon forms, {len(exceptions)} exceptions", file=sys.stderr)
    if args.write is None:
        print(json.dumps(exceptions))
        return 0
    text = args.write.read_text(encoding="utf-8")
    line = re.compile(r'^(\s*"exceptions": ).*$', re.M)
    if len(line.findall(text)) != 1:
        raise SystemExit(f"{args.write}: expected exactly one '\"exceptions\": [...]' line")
    args.write.write_text(line.sub(lambda m: m.group(1) + json.dumps(exceptions), text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
