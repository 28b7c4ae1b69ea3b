"""Name keys that compare across scripts: Cyrillic is romanised, diacritics dropped."""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "yu",
            "ya",
            "i",
            "yi",
            "ye",
            "g",
        ],
        strict=True,
    )
)
_CYRILLIC = {k: ("" if v == "_" else v) for k, v in _CYRILLIC.items()}


def romanise(text: str) -> str:
    """Lower-case Latin letters: 'Алтынташ' -> 'altyntash', 'Altıntaş' -> 'altintas'."""
    lowered = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i")
    out = "".join(_CYRILLIC.get(ch, ch) for ch in lowered)
    decomposed = unicodedata.normalize("NFKD", out)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_tokens(name: str) -> list[str]:
    return [
        t for t in "".join(c if c.isalnum() else " " for c in romanise(name)).split() if len(t) > 2
    ]


def token_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def names_overlap(left: list[str], right: list[str], threshold: float = 0.75) -> float:
    """Share of the smaller set of name tokens that has a close partner in the other set."""
    ltoks = {t for name in left for t in name_tokens(name)}
    rtoks = {t for name in right for t in name_tokens(name)}
    if not ltoks or not rtoks:
        return 0.0
    small, large = (ltoks, rtoks) if len(ltoks) <= len(rtoks) else (rtoks, ltoks)
    hits = sum(1 for t in small if any(token_similarity(t, u) >= threshold for u in large))
    return hits / len(small)
