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


_NAME_GUARD_POPULATION = 200_000
_CAPITALS_POPULATION = 500_000  # in all-caps text, a city in a country not named must be this big
_MAX_COUNTRY_VOTES = 8.0  # a country named again and again outweighs one foreign city nearby


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
        if entries and size == 1 and _looks_like_a_name(tokens, i, entries, gaz):
            return None
        if entries:
            return i + size - 1, entries
    return None


def _looks_like_a_name(tokens: list[Token], i: int, entries: list[Entry], gaz: Gazetteer) -> bool:
    """'David Amess': a small town's name followed by another capitalised word is a person."""
    if any(e.is_country or e.population >= _NAME_GUARD_POPULATION for e in entries):
        return False
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return bool(
        following is not None
        and following.sentence == tokens[i].sentence
        and following.capitalised
        and following.norm not in gaz.first_words
        and not tokens[i].text.isupper()
    )


def _inflected(word: str, gaz: Gazetteer) -> list[Entry] | None:
    for ending, replacements in _RU_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            for replacement in replacements:
                entries = gaz.names.get(stem + replacement)
                if entries:
                    return entries
    return None


def find_towns(
    tokens: list[Token], gaz: Gazetteer, *, country: str, any_case: bool
) -> list[PlaceMention]:
    """Small towns of one country named in the text (one to three words)."""
    towns = gaz.towns
    found = []
    for i, token in enumerate(tokens):
        if not (any_case or token.capitalised):
            continue
        for size in (3, 2, 1):
            window = tokens[i : i + size]
            if len(window) < size or any(t.sentence != token.sentence for t in window):
                continue
            entries = [
                e
                for e in towns.get(" ".join(t.norm for t in window), ())
                if e.place.country == country
            ]
            if entries:
                found.append(PlaceMention(tuple(entries), i, i + size - 1, token.sentence))
                break
    return found


def find_hints(tokens: list[Token], gaz: Gazetteer, *, any_case: bool) -> list[tuple[str, int]]:
    """(country code, sentence) for region names and adjectives ("Borno", "Afghan")."""
    found = []
    for i, token in enumerate(tokens):
        if not (any_case or token.capitalised):
            continue
        pair = f"{token.norm} {tokens[i + 1].norm}" if i + 1 < len(tokens) else ""
        code = gaz.hints.get(pair) or gaz.hints.get(token.norm)
        if code:
            found.append((code, token.sentence))
    return found


def choose_place(
    mentions: list[PlaceMention],
    core_sentences: set[int],
    hints: list[tuple[str, int]],
    gaz: Gazetteer,
    *,
    any_case: bool = False,
) -> tuple[Entry, PlaceMention | None] | None:
    """The most specific, best-supported place, preferring sentences about the event.

    Region names and adjectives vote for a country; alone, they give the country. In
    all-caps text, where any word may look like a town, a city counts only in a country
    the text names, or when it is large.
    """
    if any_case:
        mentions = _plausible_in_capitals(mentions)
    countries = _country_votes(mentions, core_sentences)
    for code, sentence in hints:
        countries[code] = countries.get(code, 0.0) + (1.0 if sentence in core_sentences else 0.5)
    if not mentions:
        if not countries:
            return None
        code = max(countries, key=lambda c: countries[c])
        entry = gaz.country(code)
        return (entry, None) if entry is not None else None
    best: tuple[float, Entry, PlaceMention] | None = None
    for mention in mentions:
        for entry in mention.entries:
            score = _score(entry, mention, core_sentences, countries)
            if best is None or score > best[0]:
                best = (score, entry, mention)
    assert best is not None
    return best[1], best[2]


def _plausible_in_capitals(mentions: list[PlaceMention]) -> list[PlaceMention]:
    named = {e.place.country for m in mentions for e in m.entries if e.is_country}
    kept = []
    for mention in mentions:
        entries = tuple(
            e
            for e in mention.entries
            if e.is_country or e.place.country in named or e.population >= _CAPITALS_POPULATION
        )
        if entries:
            kept.append(PlaceMention(entries, mention.first, mention.last, mention.sentence))
    return kept


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
    score += 0.5 * min(countries.get(entry.place.country, 0.0), _MAX_COUNTRY_VOTES)
    score += min(entry.population, 10_000_000) / 10_000_000  # tie-break towards larger places
    if len(mention.entries) > 1:
        score -= 0.3
    return score
