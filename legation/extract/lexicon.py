"""Per-language keyword lexicons (``extract/lexicons/*.yaml``) and a fast phrase matcher."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from legation.domain.vocab import INCIDENT_TYPES, TARGET_CATEGORIES, WEAPONS
from legation.errors import ConfigError
from legation.extract.text import Token, fold

SUPPORTED_LANGUAGES = ("en", "ru", "tr")


class LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    types: dict[str, list[str]]
    weapons: dict[str, list[str]]
    targets: dict[str, list[str]]
    killed: list[str]
    injured: list[str]
    perpetrator_cues: list[str]
    attack_verbs: list[str]
    claim_cues: list[str]
    numbers: dict[str, int]
    months: dict[str, int]
    weekdays: dict[str, int]
    relative_days: dict[str, int]
    not_names: list[str]
    weapon_nouns: list[str]
    perpetrator_nouns: list[str]
    victim_nouns: list[str]
    speech_verbs: list[str] = []
    physical_nouns: list[str] = []
    force_nouns: list[str] = []
    damage_words: list[str] = []
    caps_not_names: list[str] = []
    vague_triggers: list[str] = []  # "attack": an event happened, but not which kind
    counts: dict[str, list[str]] = {}  # words that steer the reading of casualty counts


@dataclass(frozen=True, slots=True)
class CountWords:
    """A language's words that steer the reading of counts (lexicon section ``counts``)."""

    passive: frozenset[str]  # 'were' in 'were killed'
    singular_passive: frozenset[str]  # 'was': one person, when no count is written
    skippable: frozenset[str]  # 'also', 'then' between the auxiliary and the verb
    active: frozenset[str]  # verbs whose object is the count: 'killed 44', 'killing 2'
    quantifiers: frozenset[str]  # 'at least', 'more than' before a count
    connectives: frozenset[str]  # 'as well as' before a listed part
    including: frozenset[str]  # 'including': a part of a count already given
    stops: frozenset[str]  # words that end an object list ('in', 'when', 'after')
    clause: frozenset[str]  # words that open a clause: a subject is not looked for past them
    relative: frozenset[str]  # 'who' of 'the shooter who was shot dead': the subject is before
    totals: frozenset[str]  # 'people': a count of everyone, which a list may break down
    singular: frozenset[str]  # 'a', 'an', 'him': one person
    definite: frozenset[str]  # 'the', 'their': one person when the noun is not plural
    attackers: tuple[str, ...]  # prefixes of words for the attackers, who are not counted


class Hit(NamedTuple):
    """A lexicon pattern found in the text: tokens [first, last]."""

    group: str
    label: str
    first: int
    last: int


_PREFIX_KEY = 3  # prefixed patterns are indexed by the first characters of their stem
_WORD_CACHE = 50_000  # words whose candidate patterns are remembered


@dataclass(slots=True)
class PhraseMatcher:
    """Matches token patterns; a pattern token ending in ``*`` is a prefix."""

    exact: dict[str, list[tuple[tuple[str, ...], str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    prefixed: dict[str, list[tuple[tuple[str, ...], str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _patterns_by_word: dict[str, tuple[tuple[tuple[str, ...], str, str], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def add(self, pattern: str, group: str, label: str) -> None:
        self._patterns_by_word.clear()
        parts = tuple(fold(p) for p in pattern.split())
        if not parts:
            return
        entry = (parts, group, label)
        if parts[0].endswith("*"):
            self.prefixed[parts[0][:-1][:_PREFIX_KEY]].append(entry)
        else:
            self.exact[parts[0]].append(entry)

    def find(self, tokens: list[Token]) -> list[Hit]:
        hits: list[Hit] = []
        known = self._patterns_by_word
        for i, token in enumerate(tokens):
            word = token.norm
            candidates = known.get(word)
            if candidates is None:
                candidates = self._patterns(word)
                if len(known) >= _WORD_CACHE:  # a long stream meets ever new words
                    known.clear()
                known[word] = candidates
            for parts, group, label in candidates:
                last = _match_at(tokens, i, parts)
                if last is not None:
                    hits.append(Hit(group, label, i, last))
        return hits

    def _patterns(self, word: str) -> tuple[tuple[tuple[str, ...], str, str], ...]:
        """The patterns that may start at ``word``: exact first, then by prefix length."""
        candidates = list(self.exact.get(word, ()))
        for size in range(1, min(len(word), _PREFIX_KEY) + 1):
            candidates.extend(self.prefixed.get(word[:size], ()))
        return tuple(candidates)


def _match_at(tokens: list[Token], i: int, parts: tuple[str, ...]) -> int | None:
    if i + len(parts) > len(tokens):
        return None
    for offset, part in enumerate(parts):
        word = tokens[i + offset].norm
        if part == "*":
            continue
        if part.endswith("*"):
            if not word.startswith(part[:-1]):
                return None
        elif word != part:
            return None
    return i + len(parts) - 1


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    matcher: PhraseMatcher
    numbers: dict[str, int]
    months: dict[str, int]
    month_stems: tuple[tuple[str, int], ...]  # from "декабр*"-style entries
    weekdays: dict[str, int]
    relative_days: dict[str, int]
    not_names: frozenset[str]
    speech_verbs: frozenset[str] = frozenset()
    caps_not_names: frozenset[str] = frozenset()
    count_words: CountWords | None = None


def read_lexicon_file(name: str) -> Any:
    """Parse a YAML file shipped in ``legation/extract/lexicons``."""
    raw = resources.files("legation.extract").joinpath("lexicons", name).read_text("utf-8")
    return yaml.safe_load(raw)


@cache
def lexicon(language: str) -> Lexicon:
    """The validated lexicon of a language (English for unsupported ones)."""
    if language not in SUPPORTED_LANGUAGES:
        language = "en"
    name = f"{language}.yaml"
    try:
        data = LexiconFile.model_validate(read_lexicon_file(name))
    except ValidationError as exc:
        raise ConfigError(f"lexicon {name} is invalid: {exc}") from exc
    _check_labels(name, "types", data.types, INCIDENT_TYPES)
    _check_labels(name, "weapons", data.weapons, WEAPONS)
    _check_labels(name, "targets", data.targets, TARGET_CATEGORIES)
    return Lexicon(
        language=language,
        matcher=_build_matcher(data),
        numbers={fold(k): v for k, v in data.numbers.items()},
        months={fold(k): v for k, v in data.months.items() if not k.endswith("*")},
        month_stems=tuple((fold(k[:-1]), v) for k, v in data.months.items() if k.endswith("*")),
        weekdays={fold(k): v for k, v in data.weekdays.items()},
        relative_days={fold(k): v for k, v in data.relative_days.items()},
        not_names=frozenset(fold(w) for w in data.not_names),
        speech_verbs=frozenset(fold(w) for w in data.speech_verbs),
        caps_not_names=frozenset(fold(w) for w in data.caps_not_names),
        count_words=_count_words(data.counts),
    )


def _count_words(lists: dict[str, list[str]]) -> CountWords | None:
    """The ``counts`` section of a lexicon, or None for a language without one."""
    if not lists:
        return None

    def words(name: str) -> frozenset[str]:
        return frozenset(fold(w) for w in lists.get(name, ()))

    return CountWords(
        passive=words("passive"),
        singular_passive=words("singular_passive"),
        skippable=words("skippable"),
        active=words("active"),
        quantifiers=words("quantifiers"),
        connectives=words("connectives"),
        including=words("including"),
        stops=words("stops"),
        clause=words("clause"),
        relative=words("relative"),
        totals=words("totals"),
        singular=words("singular"),
        definite=words("definite"),
        attackers=tuple(sorted(w.rstrip("*") for w in words("attackers"))),
    )


def _build_matcher(data: LexiconFile) -> PhraseMatcher:
    matcher = PhraseMatcher()
    for group, table in (("type", data.types), ("weapon", data.weapons), ("target", data.targets)):
        for label, patterns in table.items():
            for pattern in patterns:
                matcher.add(pattern, group, label)
    simple = {
        "killed": data.killed,
        "injured": data.injured,
        "perpetrator_cue": data.perpetrator_cues,
        "attack_verb": data.attack_verbs,
        "claim": data.claim_cues,
        "weapon_noun": data.weapon_nouns,
        "perpetrator_noun": data.perpetrator_nouns,
        "victim_noun": data.victim_nouns,
        "physical_noun": data.physical_nouns,
        "force_noun": data.force_nouns,
        "damage": data.damage_words,
        "vague": data.vague_triggers,
    }
    for group, patterns in simple.items():
        for pattern in patterns:
            matcher.add(pattern, group, group)
    return matcher


def _check_labels(
    name: str, section: str, table: dict[str, list[str]], known: tuple[str, ...]
) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"lexicon {name} {section}: unknown labels {unknown}; known: {known}")
