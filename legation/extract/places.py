"""Geoparsing: find place mentions in tokens and pick the incident's place."""

from __future__ import annotations

from dataclasses import dataclass

from legation.extract.gazetteer import Entry, Gazetteer
from legation.extract.text import Token

# Russian case endings tried when a word is not in the gazetteer as written.
_RU_ENDINGS = (
    ("е", ("а", "я", "")),
    ("и", ("я", "а", "ь")),
    ("у", ("а", "")),
    ("ы", ("а",)),
    ("ом", ("",)),
    ("ой", ("а",)),
    ("ю", ("я",)),
    ("ем", ("",)),
    ("а", ("",)),
)


@dataclass(frozen=True, slots=True)
class PlaceMention:
    entries: tuple[Entry, ...]
    first: int
    last: int
    sentence: int


def find_places(
    tokens: list[Token], gaz: Gazetteer, *, any_case: bool, skip: frozenset[int] = frozenset()
) -> list[PlaceMention]:
    """Longest-match place names; in mixed-case text only capitalised words count."""
    mentions: list[PlaceMention] = []
    i = 0
    while i < len(tokens):
        found = None
        if i not in skip and (any_case or tokens[i].capitalised):
            found = _match_longest(tokens, i, gaz)
        if found is None:
            i += 1
            continue
        last, entries = found
        mentions.append(PlaceMention(tuple(entries), i, last, tokens[i].sentence))
        i = last + 1
    return mentions


def _match_longest(tokens: list[Token], i: int, gaz: Gazetteer) -> tuple[int, list[Entry]] | None:
    if tokens[i].norm not in gaz.first_words:
        entries = _inflected(tokens[i].norm, gaz)
        return (i, entries) if entries else None
    for size in range(min(gaz.longest, len(tokens) - i), 0, -1):
        window = tokens[i : i + size]
        if any(t.sentence != window[0].sentence for t in window):
            continue
        name = " ".join(t.norm for t in window)
        entries = gaz.names.get(name) or (_inflected(name, gaz) if size == 1 else None)
        if entries:
            return i + size - 1, entries
    return None


def _inflected(word: str, gaz: Gazetteer) -> list[Entry] | None:
    for ending, replacements in _RU_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            for replacement in replacements:
                entries = gaz.names.get(stem + replacement)
                if entries:
                    return entries
    return None


def choose_place(
    mentions: list[PlaceMention], core_sentences: set[int]
) -> tuple[Entry, PlaceMention] | None:
    """The most specific, best-supported place, preferring sentences about the event."""
    if not mentions:
        return None
    countries = _country_votes(mentions, core_sentences)
    best: tuple[float, Entry, PlaceMention] | None = None
    for mention in mentions:
        for entry in mention.entries:
            score = _score(entry, mention, core_sentences, countries)
            if best is None or score > best[0]:
                best = (score, entry, mention)
    assert best is not None
    return best[1], best[2]


def _country_votes(mentions: list[PlaceMention], core: set[int]) -> dict[str, float]:
    votes: dict[str, float] = {}
    for mention in mentions:
        weight = 2.0 if mention.sentence in core else 1.0
        for code in {e.place.country for e in mention.entries}:
            votes[code] = votes.get(code, 0.0) + weight / len(mention.entries)
    return votes


def _score(
    entry: Entry, mention: PlaceMention, core: set[int], countries: dict[str, float]
) -> float:
    score = 0.0 if entry.is_country else 1.0
    if mention.sentence in core:
        score += 2.0
    score += 0.5 * min(countries.get(entry.place.country, 0.0), 3.0)
    score += min(entry.population, 10_000_000) / 10_000_000  # tie-break towards larger places
    if len(mention.entries) > 1:
        score -= 0.3
    return score
