"""Names of people and groups: victims after titles, perpetrators after cues or before verbs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from legation.extract.lexicon import Hit, Lexicon
from legation.extract.text import Token, fold

_WINDOW = 6


@dataclass(frozen=True, slots=True)
class NameChunk:
    first: int
    last: int

    def text(self, tokens: list[Token], source: str) -> str:
        return source[tokens[self.first].start : tokens[self.last].end]


def name_chunks(
    tokens: list[Token], lex: Lexicon, *, any_case: bool, places: set[int]
) -> list[NameChunk]:
    """Runs of capitalised words that are neither places nor known common words."""
    if any_case:
        return []
    chunks: list[NameChunk] = []
    start: int | None = None
    for i, token in enumerate(tokens):
        usable = (
            token.capitalised
            and token.norm not in lex.not_names
            and i not in places
            and not token.text.isdigit()
            and (start is None or tokens[start].sentence == token.sentence)
        )
        if usable and start is None:
            start = i
        elif not usable and start is not None:
            chunks.append(NameChunk(start, i - 1))
            start = None
    if start is not None:
        chunks.append(NameChunk(start, len(tokens) - 1))
    return [c for c in chunks if c.last - c.first < 4]


def victims_after_titles(
    tokens: list[Token], title_hits: list[Hit], chunks: list[NameChunk]
) -> list[tuple[NameChunk, Hit]]:
    """A name within a few words after a title ("Ambassador Andrei Karlov")."""
    found = []
    for hit in title_hits:
        chunk = _next_chunk(tokens, hit.last, chunks)
        if chunk is not None:
            found.append((chunk, hit))
    return found


def perpetrators(
    tokens: list[Token], cue_hits: list[Hit], verb_hits: list[Hit], chunks: list[NameChunk]
) -> list[NameChunk]:
    """Names after a perpetrator cue ("gunman X") or right before an attack verb ("X shot")."""
    found: list[NameChunk] = []
    for hit in cue_hits:
        chunk = _next_chunk(tokens, hit.last, chunks)
        if chunk is not None and chunk not in found:
            found.append(chunk)
    verb_starts = {hit.first for hit in verb_hits}
    for chunk in chunks:
        if any(chunk.last < v <= chunk.last + 3 for v in verb_starts) and chunk not in found:
            found.append(chunk)
    return found


def _next_chunk(tokens: list[Token], after: int, chunks: list[NameChunk]) -> NameChunk | None:
    sentence = tokens[after].sentence
    for chunk in chunks:
        if after < chunk.first <= after + _WINDOW and tokens[chunk.first].sentence == sentence:
            return chunk
    return None


def _group_parts(name: str) -> tuple[str, ...]:
    return tuple(fold(name.replace("-", " - ")).split())


@cache
def _group_index() -> tuple[dict[tuple[str, ...], str], frozenset[str], int]:
    """Group names as folded word tuples, the words they can start with, the longest length."""
    raw = resources.files("legation.extract").joinpath("lexicons", "groups.yaml").read_text("utf-8")
    index: dict[tuple[str, ...], str] = {}
    for names in yaml.safe_load(raw)["groups"]:
        for name in names:
            index[_group_parts(str(name))] = str(names[0])
    return index, frozenset(k[0] for k in index), max(len(k) for k in index)


def find_groups(tokens: list[Token]) -> list[tuple[str, int, int]]:
    """Known armed groups: (canonical name, first token, last token)."""
    index, firsts, longest = _group_index()
    found = []
    i = 0
    while i < len(tokens):
        if _group_parts(tokens[i].text)[0] not in firsts:
            i += 1
            continue
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = tuple(part for t in tokens[i : i + size] for part in _group_parts(t.text))
            if key in index:
                found.append((index[key], i, i + size - 1))
                i += size - 1
                break
        i += 1
    return found
