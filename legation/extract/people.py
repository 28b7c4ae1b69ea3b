"""Names of people and groups: victims after titles, perpetrators after cues or before verbs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml
from wordfreq import get_frequency_dict

from legation.extract.lexicon import Hit, Lexicon, lexicon
from legation.extract.text import Token, fold, without_possessive

_WINDOW = 6
_COMMON_ZIPF = 3.0  # a word at least this frequent (per 10^9 words, log10) is a common word
_FUNCTION_ZIPF = 5.8  # "the", "of", "were", "new": words this frequent are function words
_SURNAME_ZIPF = 4.5  # after a given name, a word rarer than this continues the name ("LOPEZ")
_SPANISH_MARGIN = 0.3  # ... unless it is this much more frequent in Spanish (a Spanish name)
_NAME_PARTICLES = frozenset(
    {"de", "del", "la", "los", "las", "y", "van", "von", "bin", "ibn", "al"}
)
_MAX_NAME_WORDS = 5
_AFTER_HARM = 7  # "killed Mayor X", "the murder of X": a name this close after the harm word
_BEFORE_PASSIVE = 14  # "X, the mayor of Y, was killed"
_DIED = frozenset({"died", "dies", "perished"})  # "X died": X was hurt
_PASSIVE = frozenset({"was", "were", "been", "being"})


@dataclass(frozen=True, slots=True)
class NameChunk:
    first: int
    last: int

    def text(self, tokens: list[Token], source: str) -> str:
        return source[tokens[self.first].start : tokens[self.last].end]


def name_chunks(
    tokens: list[Token], lex: Lexicon, *, any_case: bool, places: set[int], text: str = ""
) -> list[NameChunk]:
    """Runs of capitalised words that are neither places nor known common words.

    In all-caps text capitals say nothing, so a name is a run of two or more words that are not
    common words of the language (or are more common in Spanish, as Latin American names are).
    """
    if any_case:
        return _rare_word_chunks(tokens, lex, places, text)
    given = _given_names()
    chunks: list[NameChunk] = []
    start: int | None = None
    for i, token in enumerate(tokens):
        usable = (
            token.capitalised
            and token.norm not in lex.not_names
            and (i not in places or (start is not None and tokens[i - 1].norm in given))
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


@cache
def _zipf_tables(language: str) -> tuple[dict[str, float], dict[str, float]]:
    """Zipf frequencies of the language's and of Spanish common words (wordfreq, small lists)."""

    def table(lang: str) -> dict[str, float]:
        return {w: math.log10(f) + 9 for w, f in get_frequency_dict(lang, wordlist="small").items()}

    return table(language), table("es")


@cache
def function_words(language: str) -> frozenset[str]:
    """Words too common to qualify a noun ("the", "of", "were") and number words."""
    own, _ = _zipf_tables(language)
    frequent = frozenset(w for w, zipf in own.items() if zipf >= _FUNCTION_ZIPF)
    return frequent | frozenset(lexicon(language).numbers)


@cache
def _given_names() -> frozenset[str]:
    raw = resources.files("legation.extract").joinpath("lexicons", "given_names.yaml")
    return frozenset(fold(str(n)) for n in yaml.safe_load(raw.read_text("utf-8"))["given_names"])


_OTHER, _NAME, _SURNAME = 0, 1, 2


@lru_cache(maxsize=200_000)
def _word_class(language: str, word: str) -> int:
    """_NAME: a word that can be part of a name in all-caps text (a given name, a word rare in
    the language or more common in Spanish); _SURNAME: a word that can follow a given name
    (rare, or about as common in Spanish: "LOPEZ", "GARCIA", not "ESCAPED"); _OTHER: neither."""
    lex = lexicon(language)
    if not word.isalpha() or word in lex.not_names or word in lex.caps_not_names:
        return _OTHER
    own, spanish = _zipf_tables(language)
    common = own.get(word, 0.0)
    in_spanish = spanish.get(word, 0.0)
    if len(word) >= 2 and (
        word in _given_names() or common < _COMMON_ZIPF or in_spanish > common + _SPANISH_MARGIN
    ):
        return _NAME
    if common < _SURNAME_ZIPF and (
        common < _COMMON_ZIPF + 0.5 or in_spanish >= common - _SPANISH_MARGIN
    ):
        return _SURNAME
    return _OTHER


def _same_sentence(tokens: list[Token], a: int, b: int, text: str) -> bool:
    """Tokens a < b are in one sentence, or only a line break parts them (wire copy breaks
    lines inside sentences: "HECTOR OQUELI / COLINDRES")."""
    if tokens[a].sentence == tokens[b].sentence:
        return True
    gap = text[tokens[a].end : tokens[b].start]
    return bool(text) and b == a + 1 and gap.count("\n") == 1 and gap.strip() == ""


def _continues(tokens: list[Token], j: int, text: str) -> bool:
    """Token j continues a name begun before it: same sentence, and only spaces between
    ("GUARANTOR, ERNESTO VELEZ" is two things), the word before not a possessive ("GALAN'S
    MURDER")."""
    if not _same_sentence(tokens, j - 1, j, text):
        return False
    if not text:
        return True
    before = tokens[j - 1]
    return (
        not text[before.end : tokens[j].start].strip()
        and without_possessive(before.text) == before.text
    )


def _joined(tokens: list[Token], first: int, last: int, text: str) -> bool:
    """Tokens first..last lie in one sentence (line breaks inside wire-copy sentences allowed)."""
    return all(_same_sentence(tokens, k, k + 1, text) for k in range(first, last))


def _rare_word_chunks(
    tokens: list[Token], lex: Lexicon, places: set[int], text: str
) -> list[NameChunk]:
    given = _given_names()
    classes = [_word_class(lex.language, t.norm) for t in tokens]
    chunks: list[NameChunk] = []
    i = 0
    while i < len(tokens):
        j = i
        opened = False  # the run holds a given name: surnames that are also words may follow
        while (
            j < len(tokens)
            and (j == i or _continues(tokens, j, text))
            and (j not in places or opened)  # "ENRIQUE LOPEZ": a town called Lopez exists
            and (
                classes[j] == _NAME
                or (j > i and tokens[j].norm in _NAME_PARTICLES)
                or (opened and classes[j] == _SURNAME)
            )
        ):
            opened = opened or tokens[j].norm in given
            j += 1
        while j > i and tokens[j - 1].norm in _NAME_PARTICLES:
            j -= 1
        if 2 <= j - i <= _MAX_NAME_WORDS:
            chunks.append(NameChunk(i, j - 1))
        i = max(j, i + 1)
    return chunks


def victims_near_harm(
    tokens: list[Token], harm_hits: list[Hit], chunks: list[NameChunk], lex: Lexicon, text: str = ""
) -> list[NameChunk]:
    """Names hurt by the event: right after a harm word ("the murder of X", "kidnapped X"), or
    before a passive one ("X ... was killed"); not the speaker of a statement ("X said")."""
    found: list[NameChunk] = []
    for chunk in chunks:
        after = tokens[chunk.last + 1 : chunk.last + 3]
        if any(t.norm in lex.speech_verbs for t in after):
            continue
        for hit in harm_hits:
            if not _joined(tokens, min(hit.first, chunk.first), max(hit.last, chunk.last), text):
                continue
            died = hit.first == chunk.last + 1 and tokens[hit.first].norm in _DIED
            if hit.last < chunk.first <= hit.last + _AFTER_HARM or died:
                found.append(chunk)
                break
            between = tokens[chunk.last + 1 : hit.first]
            if chunk.last < hit.first <= chunk.last + _BEFORE_PASSIVE and any(
                t.norm in _PASSIVE for t in between
            ):
                found.append(chunk)
                break
    return found


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
        acts = any(
            chunk.last < v <= chunk.last + 3
            and not any(t.norm in _PASSIVE for t in tokens[chunk.last + 1 : v])
            for v in verb_starts
        )
        if acts and chunk not in found:
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
def _group_index() -> tuple[dict[tuple[str, ...], str], frozenset[str], int, dict[str, str]]:
    """Group names as folded word tuples, the words they can start with, the longest length,
    and one-word names that are also English words ("LeT") and match only as written."""
    raw = resources.files("legation.extract").joinpath("lexicons", "groups.yaml").read_text("utf-8")
    index: dict[tuple[str, ...], str] = {}
    exact: dict[str, str] = {}
    for names in yaml.safe_load(raw)["groups"]:
        for name in map(str, names):
            index[_group_parts(name)] = str(names[0])
            common = _zipf_tables("en")[0].get(fold(name), 0.0) >= _COMMON_ZIPF
            if common and " " not in name and not (name.isupper() or name.istitle()):
                exact[fold(name)] = name
    return index, frozenset(k[0] for k in index), max(len(k) for k in index), exact


def find_groups(tokens: list[Token]) -> list[tuple[str, int, int]]:
    """Known armed groups: (canonical name, first token, last token)."""
    index, firsts, longest, exact = _group_index()
    found = []
    i = 0
    while i < len(tokens):
        if _group_parts(tokens[i].text)[0] not in firsts:
            i += 1
            continue
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = tuple(part for t in tokens[i : i + size] for part in _group_parts(t.text))
            if key in index:
                if (
                    size == 1
                    and tokens[i].norm in exact
                    and tokens[i].text != exact[tokens[i].norm]
                ):
                    break  # "LET" is a word, "LeT" the group
                found.append((index[key], i, i + size - 1))
                i += size - 1
                break
        i += 1
    return found
