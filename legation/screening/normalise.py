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

from rigour.text import ascii_text

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
    )
)
HONORIFICS = frozenset(
    (
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sheikh",
        "shaykh",
        "shaikh",
        "sheik",
        "cheikh",
        "mullah",
        "mulla",
        "maulavi",
        "mawlawi",
        "maulvi",
        "haji",
        "hajji",
        "hadji",
        "alhaji",
        "qari",
        "sayed",
        "sayyid",
        "syed",
        "hafiz",
        "imam",
        "emir",
        "amir",
        "general",
        "colonel",
        "col",
        "gen",
        "major",
        "captain",
        "capt",
        "lt",
        "brigadier",
        "commander",
    )
)
# Arabic compounds spelt together or apart: "Abdul Rahman" / "Abdulrahman" / "Abd al-Rahman".
_ABD = re.compile(r"^(abd|abdu|abdul|abdal|abdel|abdoul|abdur|abdar|abdel|abdil|abdol)(?=[a-z])")
_ARABIC_ARTICLE = re.compile(r"^(ال|وال|بال)(?=\w\w)")
# O'Brien, Sa'id, GOST's e' and y': an apostrophe never separates two name parts
_APOSTROPHES = re.compile("(?<=\\w)['’ʼʻ`ʿʾ´]+")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0591-\u05c7]")
_ABJAD = re.compile("[\u0590-\u06ff\ufb1d-\ufefc]")
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


def make_part(original: str, latin: str) -> Part:
    abjad = not original.isascii() and _ABJAD.search(original) is not None
    return Part(original, latin, skeleton(latin) or latin, phonetic(latin), abjad, len(latin) == 1)


@lru_cache(maxsize=200_000)
def _part(token: str) -> Part | None:
    raw = _ARABIC_ARTICLE.sub("", token)
    latin = "".join(ch for ch in fold(raw) if ch.isalnum())
    if not latin:
        return None
    latin = _ABD.sub("abd", latin) if len(latin) > 5 else latin
    return make_part(token, latin)


def name_parts(name: str) -> tuple[Part, ...]:
    """Parts of ``name`` without particles and honorifics (kept if nothing else is left)."""
    name = _APOSTROPHES.sub("", _ARABIC_MARKS.sub("", name[:MAX_NAME_CHARS]))
    if not fold(name).isascii():
        # scripts without our own table (Greek, Georgian, Hangul, Han…): ICU through rigour
        name = ascii_text(name)
    tokens = _TOKEN.findall(name)
    parts = [p for p in (_part(t) for t in tokens) if p is not None]
    parts = _join_abd(parts)
    kept = [p for p in parts if p.latin not in PARTICLES and p.latin not in HONORIFICS]
    if not kept:
        kept = [p for p in parts if p.latin not in HONORIFICS] or parts
    return tuple(kept)


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
                out.append(make_part(original, latin))
                i = j + 1
                continue
        out.append(part)
        i += 1
    return out


def is_latin_text(name: str) -> bool:
    return all(ord(ch) < 0x250 for ch in name if ch.isalpha())
