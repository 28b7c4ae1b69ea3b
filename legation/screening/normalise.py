"""Name normalisation for screening: one Latin form and one consonant skeleton per name part.

Names reach us in Latin, Cyrillic and Arabic script, romanised by different systems (GOST,
BGN/PCGN, ICAO, French or English habits for Arabic). Each part of a name gets

- ``latin``: lower-case ASCII after our own transliteration (diacritics and Turkish letters
  folded), used for edit-distance comparison;
- ``skeleton``: a consonant key in which the letters romanisation systems disagree on collapse
  (vowels dropped, kh/h/x, ts/tz/c, zh/j/dzh, q/k, ph/f, doubled letters), so that
  "Yaseen"/"Yasin"/"ياسين" or "Shchukin"/"Shhukin"/"Ščukin" share one key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rigour.text import ascii_text

from legation.screening.glossary import abjad_concept, han_concept, han_words, latin_concept
from legation.screening.hangul import is_hangul_word, is_syllable, readings

MAX_NAME_CHARS = 500

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i",
    "ї": "yi", "є": "ye", "ґ": "g", "ў": "u", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c",
    "ђ": "dj", "џ": "dz", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u",
    "ү": "u", "һ": "h",
}  # fmt: skip

_ARABIC = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ب": "b", "ت": "t", "ث": "th",
    "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s",
    "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f",
    "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "و": "u",
    "ي": "i", "ى": "a", "ء": "", "ئ": "", "ؤ": "u", "پ": "p", "چ": "ch", "ژ": "zh",
    "گ": "g", "ک": "k", "ی": "i", "ہ": "h", "ۀ": "h", "ـ": "", "ھ": "h", "ۃ": "a", "ے": "e",
    "ں": "n", "ٹ": "t", "ڈ": "d", "ڑ": "r", "ې": "e", "ۍ": "i", "ښ": "sh", "ځ": "dz", "څ": "ts",
    "ډ": "d", "ړ": "r", "ږ": "zh", "ګ": "g", "ڼ": "n", "ٸ": "i", "ٶ": "u",
}  # fmt: skip

_HEBREW = {
    "א": "a", "ב": "b", "ג": "g", "ד": "d", "ה": "h", "ו": "u", "ז": "z", "ח": "h", "ט": "t",
    "י": "i", "כ": "k", "ך": "k", "ל": "l", "מ": "m", "ם": "m", "נ": "n", "ן": "n", "ס": "s",
    "ע": "a", "פ": "p", "ף": "f", "צ": "ts", "ץ": "ts", "ק": "k", "ר": "r", "ש": "sh", "ת": "t",
}  # fmt: skip

# Letters whose reading differs by language or habit: Persian and Urdu read ث as s and و as
# v (their ذ is z, which the cross-script d/z rule of the matcher already allows); Gulf
# romanisations write ذ as th ("Thahab"); Hebrew ו is v or o/u, ב b or v, כ k or kh, פ p or
# f. A part in these scripts also gets the skeleton of this second reading.
_ABJAD_VARIANT = {
    "ث": "s", "ذ": "th", "و": "v", "ו": "v", "ב": "v", "כ": "kh", "פ": "f",
}  # fmt: skip

_SPECIAL_LATIN = {
    "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th",
    "ł": "l", "ŀ": "l", "ʼ": "", "ʻ": "", "ʿ": "", "ʾ": "", "'": "", "`": "", "’": "",
}  # fmt: skip

# Articles, patronymic connectors and honorifics that do not identify a person.
PARTICLES = frozenset(
    (
        "al",
        "el",
        "ul",
        "ad",
        "ar",
        "as",
        "ash",
        "at",
        "az",
        "an",
        "ah",
        "bin",
        "ibn",
        "ben",
        "bint",
        "bent",
        "bn",
        "abn",
        "bnt",
        "ould",
        "wuld",
        "ould",
        "de",
        "da",
        "del",
        "della",
        "di",
        "du",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "y",
        # "and", "in" in transliterated Arabic ("Tawhid wal-Jihad", "Ansaru fi Biladis Sudan")
        "wa",
        "wal",
        "fi",
        # function words of organisation names ("Front for the People of the Levant")
        "the",
        "of",
        "and",
        "for",
        "in",
        "et",
        "pour",
        "en",
    )
)
# single Arabic-script words that join rather than name: "and", Pashto "of"
_ABJAD_PARTICLES = frozenset(("و", "د"))


def _read_titles() -> tuple[frozenset[str], dict[str, str]]:
    """The [drop] words and the [weak] words (with their family) of honorifics.txt."""
    drop: set[str] = set()
    weak: dict[str, str] = {}
    section = ""
    text = (Path(__file__).parent / "honorifics.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0].startswith("["):
            section = words[0].strip("[]")
        elif section == "drop":
            drop.add(words[0])
        elif section == "weak":
            weak[words[0]] = words[-1]
    return frozenset(drop), weak


# Titles that do not identify a person (dropped), and those that are also given or family
# names (kept as weak parts, weighed like a generic word): both from honorifics.txt.
HONORIFICS, WEAK_TITLES = _read_titles()
TITLE_CONCEPT = "title:"
# Arabic compounds spelt together or apart: "Abdul Rahman" / "Abdulrahman" / "Abd al-Rahman".
_ABD = re.compile(r"^(abd|abdu|abdul|abdal|abdel|abdoul|abdur|abdar|abdel|abdil|abdol)(?=[a-z])")
_ARABIC_ARTICLE = re.compile(r"^(ال|وال|بال)(?=\w\w)")
_ARABIC_ABD = re.compile(r"^عبد(?:ال|ل)?(?=\w\w)")
# O'Brien, Sa'id, GOST's e' and y': an apostrophe never separates two name parts
_APOSTROPHES = re.compile("(?<=\\w)['’ʼʻ`ʿʾ´]+")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0591-\u05c7]")
_ABJAD = re.compile("[\u0590-\u06ff\ufb1d-\ufefc]")
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_DIGRAPHS = (
    ("shch", "S"), ("sch", "S"), ("tsch", "C"), ("dzh", "J"), ("tch", "C"),
    ("sh", "S"), ("ch", "C"), ("zh", "J"), ("dj", "J"), ("kh", "H"), ("gh", "g"), ("th", "t"),
    ("dh", "d"), ("ph", "f"), ("ts", "C"), ("tz", "C"), ("cz", "C"), ("ck", "k"), ("ks", "x"),
    ("q", "k"), ("c", "k"),
)  # fmt: skip
_VOWELS = frozenset("aeiouyw")


@dataclass(frozen=True, slots=True)
class Part:
    """One name part: the original token, its Latin form, vowel-folded form and skeleton."""

    original: str
    latin: str
    skeleton: str
    phonetic: str = ""
    abjad: bool = False  # Arabic or Hebrew script: no short vowels written
    initial: bool = False
    variant: str = ""  # a second skeleton for another reading (Persian ث = s, French c = s)
    concept: str = ""  # a generic word of organisation names and its translations (glossary)
    second: str = ""  # other Latin readings of the whole part, space-separated (Korean)

    def __hash__(self) -> int:
        # the scorer's cache hashes two parts per comparison: the original text alone (its
        # hash is kept by the string) instead of all eight fields; equal parts still hash equal
        return hash(self.original)


def fold(text: str) -> str:
    """Lower-case Latin with our Cyrillic/Arabic tables and diacritics removed."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _ARABIC:
            out.append(_ARABIC[ch])
        elif ch in _HEBREW:
            out.append(_HEBREW[ch])
        elif ch in _SPECIAL_LATIN:
            out.append(_SPECIAL_LATIN[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            out.append(base if base.isascii() else ("" if _is_mark(ch) else ch))
    return "".join(out)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in {"Mn", "Me", "Cf"}


@lru_cache(maxsize=200_000)
def skeleton(latin: str) -> str:
    """Consonant key of a Latin token: digraphs folded, vowels and doubled letters dropped."""
    word = _ABD.sub("abd", latin)
    for src, dst in _DIGRAPHS:
        word = word.replace(src, dst)
    word = word.removesuffix("h")
    out: list[str] = []
    for ch in word:
        if ch in _VOWELS:
            continue
        if out and out[-1] == ch:
            continue
        out.append(ch)
    return "".join(out).lower()


_VOWEL_CLASS = str.maketrans({"e": "i", "y": "i", "o": "u", "w": "u", "j": "i"})


@lru_cache(maxsize=200_000)
def phonetic(latin: str) -> str:
    """Digraphs folded and vowels reduced to a/i/u, doubled letters dropped: Yaseen -> iasin."""
    word = _ABD.sub("abd", latin)
    for src, dst in _DIGRAPHS:
        word = word.replace(src, dst)
    word = word.lower().translate(_VOWEL_CLASS).removesuffix("h")
    out: list[str] = []
    for ch in word:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def make_part(
    original: str,
    latin: str,
    *,
    abjad: bool | None = None,
    keys: tuple[str, str] | None = None,
    concept: str | None = None,
) -> Part:
    """A part; ``keys`` (skeleton, variant) when made letter by letter from an abjad script."""
    if abjad is None:
        abjad = not original.isascii() and _ABJAD.search(original) is not None
    if keys is None:
        keys = (skeleton(latin) or latin, _latin_variant(latin))
    if concept is None:
        concept = "" if abjad else latin_concept(latin)
        if not concept and latin in WEAK_TITLES:  # Said, Hafez: a title or a name
            concept = TITLE_CONCEPT + WEAK_TITLES[latin]  # "Said" is no "Hafez"
    sk, variant = keys
    initial = len(latin) == 1 and not abjad  # Arabic script writes no initials
    variant = "" if variant == sk else variant
    return Part(original, latin, sk, phonetic(latin), abjad, initial, variant, concept)


def _latin_variant(latin: str) -> str:
    """French c before a vowel may be s (Fayçal written Faycal): the skeleton read so."""
    if "c" not in latin:
        return ""
    return skeleton(re.sub("c(?=[aeiouy])", "s", latin))


def _letter_keys(raw: str) -> tuple[str, str]:
    """Skeleton and variant skeleton of an abjad word made letter by letter.

    Made from the Latin string, ت+س or س+ه would read as the digraphs ts or sh
    ("المتصدق" must give m-t-s-d-q like "Motassadeq", not m-ts-d-q).
    """
    plain: list[str] = []
    variant: list[str] = []
    for ch in unicodedata.normalize("NFKC", raw):
        latin = _ARABIC.get(ch) or _HEBREW.get(ch) or (ch.lower() if ch.isascii() else "")
        plain.append(_consonants(latin))
        variant.append(_consonants(_ABJAD_VARIANT.get(ch, latin)))
    return squeeze("".join(plain)), squeeze("".join(variant))


def _consonants(latin: str) -> str:
    for src, dst in _DIGRAPHS:
        latin = latin.replace(src, dst)
    return "".join(c for c in latin if c not in _VOWELS)


def squeeze(key: str) -> str:
    """Trailing h dropped and doubled letters made single, as ``skeleton`` does."""
    key = key.removesuffix("h")
    out: list[str] = []
    for ch in key:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out).lower()


@lru_cache(maxsize=200_000)
def _part(token: str) -> Part | None:
    if len(token) == 1 and is_syllable(token):  # a Korean syllable: two romanisations
        return korean_part(token)
    concept = han_concept(token)
    if concept:  # "船務" -> chuanwu, shipping
        latin = "".join(ch for ch in ascii_text(token) if ch.isalnum())
        return make_part(token, latin, abjad=False, concept=concept)
    raw = _ARABIC_ARTICLE.sub("", token)
    latin = "".join(ch for ch in fold(raw) if ch.isalnum())
    if not latin:
        return None
    if _ABJAD.search(token) is not None:
        abd = _ARABIC_ABD.match(raw)
        rest = raw[abd.end() :] if abd else raw
        sk, variant = _letter_keys(rest)
        if abd:  # "عبدالرحمن" keyed like "Abdul Rahman" and "Abdulrahman": abd + rahman
            sk, variant = "bd" + sk, "bd" + variant
            latin = "abd" + "".join(ch for ch in fold(rest) if ch.isalnum())
        keys = (sk or latin, variant or latin)
        return make_part(token, latin, abjad=True, keys=keys, concept=abjad_concept(token))
    latin = _ABD.sub("abd", latin) if len(latin) > 5 else latin
    return make_part(token, latin)


def korean_part(syllable: str) -> Part:
    """A Hangul syllable read as Latin (never an initial, though "o" or "i" is one letter)."""
    first, *others = readings(syllable)
    sk = skeleton(first) or first
    variant = next((k for k in (skeleton(o) for o in others) if k and k != sk), "")
    return Part(syllable, first, sk, phonetic(first), variant=variant, second=" ".join(others))


def rereadings(part: Part) -> tuple[Part, ...]:
    """The part as each of its other readings (for a Korean syllable)."""
    return tuple(
        Part(part.original, latin, skeleton(latin) or latin, phonetic(latin))
        for latin in part.second.split()
    )


def _tokens(name: str) -> list[str]:
    """Word tokens; a word in a script without our own table (Greek, Hangul, Han…) is
    romanised by ICU through rigour, word by word, so that one such character (or a dash)
    does not send the Arabic words beside it through ICU too."""
    out: list[str] = []
    for token in _TOKEN.findall(name):
        if fold(token).isascii():
            out.extend(_split_abd(token))
            continue
        if is_hangul_word(token):  # "김정은": one part per syllable, like "Kim Jong Un"
            out.extend(token)
            continue
        for word in han_words(token) if _HAN.search(token) else [token]:
            # a Chinese glossary word stays whole (its concept is looked up in _part)
            out.extend([word] if han_concept(word) else _TOKEN.findall(ascii_text(word)))
    return out


_ABJAD_ABD = re.compile("^(.{2,})(عبد)$")


def _split_abd(token: str) -> list[str]:
    """ "محمدعبد" (Mohammad and the start of Abd al-…) written as one word: two."""
    found = _ABJAD_ABD.match(token)
    return [found.group(1), found.group(2)] if found else [token]


def name_parts(name: str) -> tuple[Part, ...]:
    """Parts of ``name`` without particles and honorifics (kept if nothing else is left)."""
    name = _APOSTROPHES.sub("", _ARABIC_MARKS.sub("", name[:MAX_NAME_CHARS]))
    parts = [p for p in (_part(t) for t in _tokens(name)) if p is not None]
    parts = _join_abd(parts)
    kept = [p for p in parts if not _is_particle(p) and p.latin not in HONORIFICS]
    if not kept:
        kept = [p for p in parts if p.latin not in HONORIFICS] or parts
    return tuple(kept)


def identifies(name: str) -> bool:
    """Whether ``name`` has a part that can identify someone: a word with a letter that is
    not a particle, a title or a single Latin letter ("!!!", ".", "Dr.", "al bin ibn", "X"
    and a lone "Sheikh" have none)."""
    for part in name_parts(name):
        if part.initial or _is_particle(part) or part.latin in HONORIFICS:
            continue
        if any(ch.isalpha() for ch in part.original):
            return True
    return False


def _is_particle(part: Part) -> bool:
    return part.latin in PARTICLES or (part.abjad and part.original in _ABJAD_PARTICLES)


def _join_abd(parts: list[Part]) -> list[Part]:
    """ "Abdul Rahman", "Abd al-Rahman" -> one part "abdrahman" like "Abdulrahman"."""
    out: list[Part] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part.latin in {"abd", "abdul", "abdel", "abdal", "abdoul", "abdur", "abdu"}:
            j = i + 1
            while j < len(parts) and parts[j].latin in PARTICLES:
                j += 1
            if j < len(parts):
                latin = "abd" + parts[j].latin
                original = " ".join(p.original for p in parts[i : j + 1])
                keys = None
                named = parts[j]
                if named.abjad:
                    keys = ("bd" + named.skeleton, "bd" + (named.variant or named.skeleton))
                out.append(make_part(original, latin, keys=keys))
                i = j + 1
                continue
        out.append(part)
        i += 1
    return out


def is_latin_text(name: str) -> bool:
    return all(ord(ch) < 0x250 for ch in name if ch.isalpha())
