"""Text normalisation that undoes the usual ways of hiding a word from a blocklist.

The blocklist matcher works on the *variants* produced here rather than on the
raw prompt: Unicode compatibility forms, case, accents, Cyrillic/Greek
look-alikes, zero-width characters, spaced or dotted letters and leetspeak are
all folded away. Repeated letters ("kiiill") are not folded here; the matcher's
patterns accept any run of a letter instead, which keeps legitimate double
letters intact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .gloss import gloss, script_gloss

# Look-alikes that NFKC leaves alone because they are distinct letters.
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ь": "b", "п": "n", "г": "r", "и": "u", "з": "3",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "ς": "s", "μ": "u", "δ": "d", "ϲ": "c",
    # Latin extensions without a decomposition
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ɡ": "g",
    "ɑ": "a", "ʀ": "r", "ɪ": "i", "ᴀ": "a", "ᴇ": "e", "ᴋ": "k", "ʟ": "l",
    "ᴏ": "o", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u",
}
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)

# Characters used to break a word apart without being visible.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")

# Leetspeak: "1" and "|" are ambiguous between i and l, hence two tables.
_LEET_COMMON = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                "9": "g", "6": "g", "@": "a", "$": "s", "€": "e", "!": "i",
                "2": "z"}
_LEET_I = str.maketrans({**_LEET_COMMON, "1": "i", "|": "i"})
_LEET_L = str.maketrans({**_LEET_COMMON, "1": "l", "|": "l"})
_LEET_CHARS = "".join(_LEET_COMMON) + "1|"

# A token for leet decoding: letters mixed with leet characters.
_TOKEN = re.compile(r"[a-z0-9@$€!|]+")
_HAS_LETTER = re.compile(r"[a-z]")
# All-digit tokens this long may be leet words ("83475"); shorter ones are counts and speeds.
_MIN_LEET_NUMBER = 4
_LONG_NUMBER = re.compile(r"(?<![a-z0-9@$€!|])[0-9]{4,}(?![a-z0-9@$€!|])")

# Three or more single characters separated by the same light separator
# ("k i l l", "k.i.l.l", "k-i-l-l", "k_i_l_l", "k*i*l*l"). The separator is
# captured and repeated so that "a n.a.k.e.d" joins only the dotted part.
_UNIT = r"[a-z0-9@$€!|]"
_NOT_UNIT = r"[a-z0-9@$€|]"
_SPACED_RUN = re.compile(
    rf"(?<!{_NOT_UNIT}){_UNIT}(?P<sep>[\s.\-_*·•~,/:;'+]{{1,3}}){_UNIT}(?:(?P=sep){_UNIT}){{1,}}(?!{_NOT_UNIT})"
)
_SEPARATORS = re.compile(r"[\s.\-_*·•~,/:;'+]+")
# One mark inside a word where a letter was hidden or split off ("m~urder", "p*ople"): dropped, so the word is
# whole again (or one letter short, which the speller reads); "-" stays, it joins real compounds ("tree-lined").
_INNER_MARK = re.compile(r"(?<=[a-z])[~*](?=[a-z])")
# A word broken by a hyphen and a space ("r- un do- wn"): a fragment of at most three letters, the hyphen right
# after it, then the rest. Real hyphenated text has no space there, or a space before it too ("request - a").
_BROKEN_WORD = re.compile(r"(?<![a-z0-9])([a-z]{1,3})- (?=[a-z])")
# Chat spellings of function words and a few content words ("mow em dwn", "splat da ppl at the bustop", "bout 2"):
# read as the words they stand for, whole words only, so the rules and the encoder see the plain sentence. None of
# them is an English word a driving prompt uses in another sense ("u" is left alone: "u-turn").
_CHAT = {"ppl": "people", "thru": "through", "ova": "over", "dem": "them", "thm": "them", "em": "them",
         "dwn": "down", "doun": "down", "finna": "going to", "fnna": "going to", "gonna": "going to",
         "tryna": "trying to", "teh": "the", "tha": "the", "da": "the", "dat": "that", "dis": "this", "wen": "when",
         "cuz": "because", "skool": "school", "lil": "little", "bustop": "bus stop", "gon": "going to"}
_CHAT_WORD = re.compile(r"(?<![\w'-])(" + "|".join(sorted(_CHAT, key=len, reverse=True)) + r")(?![\w'-])")
_ABOUT_TO = re.compile(r"(?<![\w'-])bout (?:2|to)(?![\w'-])")
# "me n my boys", between words of two letters or more: not "n." or "n-type", nor a spaced-out "l y n c h"
_CHAT_AND = re.compile(r"(?<=[a-z]{2}) n (?=[a-z]{2})")
# English one-letter words that can precede a spaced-out word ("a t o p l e s s").
_ONE_LETTER_WORDS = ("a", "i")
_WHITESPACE = re.compile(r"\s+")
# Emoji that stand for a word of the prompt ("🔫 the 👮👮 from the car", "drive the 🚗 into the 👥"): read as that
# word (a run of one as its plural), so the rules and the encoder read the sentence. A gun before a determiner or
# a person is the verb ("🔫 the ppl"); elsewhere the noun. Emoji that are tone, not words ("💀", "😂"), stay.
_EMOJI_WORDS = {"🔫": ("gun", "guns"), "💣": ("bomb", "bombs"), "🔪": ("knife", "knives"), "🗡": ("dagger", "daggers"),
                "🧨": ("explosive", "explosives"), "🪓": ("axe", "axes"), "🩸": ("blood", "blood"),
                "👮": ("cop", "cops"), "👶": ("baby", "babies"), "🧒": ("child", "children"), "👦": ("boy", "boys"),
                "👧": ("girl", "girls"), "👥": ("people", "people"), "👫": ("people", "people"),
                "🧍": ("person", "people"), "🚶": ("pedestrian", "pedestrians"), "👴": ("old man", "old men"),
                "👵": ("old woman", "old women"), "🚗": ("car", "cars"), "🚙": ("car", "cars"),
                "🚚": ("truck", "trucks"), "🚛": ("lorry", "lorries"), "🚐": ("van", "vans"), "🚌": ("bus", "buses"),
                "🚲": ("bike", "bikes"), "🏍": ("motorbike", "motorbikes"), "⚰": ("coffin", "coffins")}
_EMOJI_RUN = re.compile("(" + "|".join(map(re.escape, _EMOJI_WORDS)) + r")(?:[\ufe0f\u200d]*\1)*[\ufe0f]?")
_GUN_VERB = re.compile(r"🔫[\ufe0f]?\s*(?=(?:the|a|an|da|dem|em|them|him|her|those|these|that|this|all|every\w*|"
                       r"some|my|his|their|people|ppl|👮|👶|🧒|👦|👧|👥|👫|🧍|🚶|👴|👵)(?![a-z]))")
# Written in a cipher the prompt names: ROT13 ("use rot13: ehaf bire gur cebgrfgref") or reversed ("play this
# reversed: 'dworc eht otni kcurt eht evird'"). The decoded text is read as another variant.
_CIPHER_CUE = re.compile(r"\brot\s*-?\s*(?:13|ie|thirteen)\b|caesar|cipher|\bdecode|\bdecipher|\bdecrypt|"
                         r"\b(?:play|read|write|written|spell|spelt|spelled|typed|say)\w*\s+(?:(?:this|it|that|the "
                         r"(?:text|prompt|words?|line|sentence))\s+)?(?:in\s+)?(?:revers\w*|backwards?)|"
                         r"\b(?:reversed|backwards?)\s+(?:text|words?|prompt|sentence|string|letters)|right to left")
_COMMON = re.compile(r"\b(?:the|a|an|and|to|of|in|on|at|into|over|with|from|is|it)\b")
_ROT13 = str.maketrans("abcdefghijklmnopqrstuvwxyz", "nopqrstuvwxyzabcdefghijklm")


def _emoji_words(text: str) -> str:
    text = _GUN_VERB.sub(" shoot ", text)

    def _word(m: re.Match[str]) -> str:
        single, plural = _EMOJI_WORDS[m.group(1)]
        return f" {plural if m.group(0).count(m.group(1)) > 1 else single} "

    return _EMOJI_RUN.sub(_word, text)


def deciphered(folded: str) -> list[str]:
    """The prompt's ROT13 and reversed readings, when it names such a cipher; else none."""
    if not _CIPHER_CUE.search(folded):
        return []
    return [folded.translate(_ROT13), folded[::-1]]


def _readable(decoded: list[str], plain: str) -> list[str]:
    """The decoded readings with at least as many common English words as the prompt as written."""
    n = len(_COMMON.findall(plain))
    return [d for d in decoded if len(_COMMON.findall(d)) >= max(n, 1)]


@dataclass(frozen=True)
class NormalizedText:
    """The forms of one prompt that the guards look at.

    ``folded`` has Unicode, case, accents, look-alikes and spaced letters
    undone but keeps digits and symbols; ``variants`` adds the two leetspeak
    readings. ``for_embedding`` is the leet-decoded reading with stretched
    letters shortened, which reads best for the text encoder. A prompt in one
    of the glossaries' languages adds its English gloss to ``variants`` and is
    embedded as that gloss (see ``gloss``).
    """

    original: str
    folded: str
    variants: tuple[str, ...]
    for_embedding: str


def fold(text: str) -> str:
    """NFKC, casefold, drop accents and invisible characters, map look-alikes, mend words broken by a mark, read
    chat spellings."""
    return _read_chat(_fold_script(text))


def _read_chat(text: str) -> str:
    text = _CHAT_WORD.sub(lambda m: _CHAT[m.group(1)], _ABOUT_TO.sub("about to", _CHAT_AND.sub(" and ", text)))
    return _WHITESPACE.sub(" ", text).strip()


def _fold_script(text: str) -> str:
    """``fold`` before the chat spellings, which are English ("em", "da" are words of other languages too)."""
    text = unicodedata.normalize("NFKC", text)
    text = _emoji_words(_INVISIBLE.sub("", text).casefold())
    # NFD splits accented letters so the combining marks can be dropped;
    # "kíll" and "k̶i̶l̶l̶" then read as "kill".
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).translate(_HOMOGLYPH_TABLE)
    text = _BROKEN_WORD.sub(r"\1", _INNER_MARK.sub("", text))
    return _WHITESPACE.sub(" ", text).strip()


def join_spaced_letters(text: str, keep_first: bool = False, keep_last: bool = False) -> str:
    """Join runs of single characters split by spaces, dots or dashes.

    With ``keep_first`` (``keep_last``) a space-separated run that starts
    (ends) with "a" or "i" keeps that letter as its own word: "a t o p l e s
    s" -> "a topless", "b e a t s a man" -> "beats a man". Every combination
    is read, because the hidden word may itself start or end with that letter
    ("a t t a c k s a man" needs only the last one kept).
    """

    def _join(match: re.Match[str]) -> str:
        run = match.group(0)
        if not match.group("sep").isspace():
            return _SEPARATORS.sub("", run)
        head = tail = ""
        if keep_first and run[0] in _ONE_LETTER_WORDS and len(run) >= 7:
            head, run = run[0] + " ", run[2:]
        if keep_last and run[-1] in _ONE_LETTER_WORDS and len(run) >= 7:
            tail, run = " " + run[-1], run[:-2]
        return head + _SEPARATORS.sub("", run) + tail

    return _SPACED_RUN.sub(_join, text)


def _decode_leet(text: str, table: dict[int, str] | None, numbers: bool = False) -> str:
    """Decode leet tokens with ``table``; ``None`` picks i or l per token.

    With ``numbers`` all-digit tokens of four or more characters are decoded
    too ("57485" -> "stabs"); only an extra variant does this, since they are
    usually real numbers.
    """

    def _decode(match: re.Match[str]) -> str:
        token = match.group(0)
        # Pure numbers ("120 km/h", "4 lanes") are left alone, and so is
        # trailing punctuation ("stop!") which is not part of the word.
        core = token.rstrip("!|")
        if not (_HAS_LETTER.search(core) or (numbers and len(core) >= _MIN_LEET_NUMBER)):
            return token
        if table is not None:
            return core.translate(table) + token[len(core):]
        # "ii" is rare in English, "ll" common: "ki11" reads as "kill".
        as_i = core.translate(_LEET_I)
        return (core.translate(_LEET_L) if "ii" in as_i else as_i) + token[len(core):]

    return _TOKEN.sub(_decode, text)


def squeeze_repeats(text: str) -> str:
    """Shorten runs of three or more identical letters to one ("kiiill" -> "kill")."""
    return re.sub(r"([a-z])\1{2,}", r"\1", text)


_WIDE_GAP = re.compile(r"(?<=\S)\s{2,}(?=\S)")


def join_spaced_words(text: str) -> str | None:
    """Spaced letters whose words are set apart by wider gaps: "r u n  o v e r  t h e  k i d s" -> "run over the kids".

    ``fold`` collapses whitespace, after which the letters of every word would join into one
    ("runoverthekids"); here each stretch between gaps of two or more spaces is joined on its own.
    None when the text has no such gap.
    """
    if not _WIDE_GAP.search(text):
        return None
    chunks = [fold(c) for c in _WIDE_GAP.split(text)]
    return " ".join(join_spaced_letters(c, keep_first=True, keep_last=True) for c in chunks if c)


def normalize(text: str) -> NormalizedText:
    base = fold(text)
    folded = join_spaced_letters(base)
    with_words = join_spaced_letters(base, keep_first=True, keep_last=True)
    gapped = join_spaced_words(text)
    if gapped is not None and gapped != with_words:
        with_words = gapped  # the word boundaries the wide gaps mark read best for the encoder
    joins = list(dict.fromkeys([folded, with_words, join_spaced_letters(base, keep_first=True),
                                join_spaced_letters(base, keep_last=True)]))
    readings = [(f, t) for f in joins for t in (_LEET_I, _LEET_L)]
    decoded = [_decode_leet(f, t) for f, t in readings]
    if _LONG_NUMBER.search(folded):
        decoded += [_decode_leet(f, t, numbers=True) for f, t in readings]
    ciphers = deciphered(folded)
    variants = tuple(dict.fromkeys(joins + decoded + ciphers))
    embedding = squeeze_repeats(_decode_leet(with_words, None))
    readable = _readable(ciphers, folded)
    english = gloss(join_spaced_letters(_fold_script(text)))  # letters spaced out are not one-letter words
    if english is None:  # Russian, Chinese, Japanese: glossed before the look-alike letters are mapped
        english = script_gloss(text)
        english = None if english is None else join_spaced_letters(_fold_script(english))
    if english is not None:  # another language: its English gloss is read by the rules and the encoder
        variants = tuple(dict.fromkeys(variants + (english,)))
        embedding = squeeze_repeats(english)
    if readable:  # the encoder reads the prompt with its readable decoded readings after it
        embedding = " | ".join([embedding, *readable])
    return NormalizedText(original=text, folded=folded, variants=variants, for_embedding=embedding)
