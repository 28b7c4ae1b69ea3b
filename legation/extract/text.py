"""Text normalisation, tokens with offsets and sentences."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n|\n(?=[A-ZА-ЯÇĞİÖŞÜ\"“«])")
_POSSESSIVE = re.compile(r"['’][sS]$")
_APOSTROPHE_SUFFIX = re.compile(r"['’]\w+$")


class Token(NamedTuple):
    text: str  # as written
    norm: str  # lower case, no diacritics, apostrophe suffix removed
    start: int
    end: int
    sentence: int

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without diacritics: 'Altıntaş' -> 'altintas', 'Ёлка' -> 'елка'."""
    lowered = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i")
    if lowered.isascii():  # most names: nothing to decompose
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_suffix(word: str) -> str:
    """Drop a Turkish-style apostrophe suffix: "Ankara'daki" -> "Ankara"."""
    return _APOSTROPHE_SUFFIX.sub("", word)


@lru_cache(maxsize=65536)
def _norm(word: str) -> str:
    return fold(strip_suffix(word) if "'" in word or "’" in word else word)


def tokenize(text: str) -> list[Token]:
    """Word tokens with character offsets and sentence numbers."""
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)]
    tokens: list[Token] = []
    sentence = 0
    for match in _TOKEN.finditer(text):
        start = match.start()
        while sentence < len(bounds) and start >= bounds[sentence]:
            sentence += 1
        word = match.group()
        tokens.append(Token(word, _norm(word), start, match.end(), sentence))
    return tokens


def without_possessive(span: str) -> str:
    """A name as its role's filler: "LUIS CARLOS GALAN'S" (murder) is Luis Carlos Galan."""
    return _POSSESSIVE.sub("", span)


def read_text(title: str | None, text: str) -> str:
    """What the extractor reads of a report: its title, a blank line and its text (the title
    alone when the text already holds it). Evidence spans are offsets into this."""
    return f"{title}\n\n{text}" if title and title not in text else text


def is_mostly_upper(text: str) -> bool:
    """True for all-caps text (wire copy), where capitalisation carries no signal."""
    letters = "".join(filter(str.isalpha, text[:4000]))
    return bool(letters) and sum(map(str.isupper, letters)) / len(letters) > 0.8


def clean_whitespace(text: str) -> str:
    """Normalise line ends and runs of spaces, keep paragraph breaks."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
