"""Which described noun phrases fill a role: a small logistic model over context features.

The lexicons find descriptions ("PEASANTS", "BOMB", "HEADQUARTERS", "THE ARMY"); whether one
names a victim, a weapon used or a target hit depends on its context. The hand rules of the
extractor give one vote; the words around the phrase, the lexicon groups nearby, the sentence
and how often the phrase recurs give the others. The weights are learned from the MUC-4 dev
keys by ``legation.evaluation.train_roles`` and ship as ``models/roles-LANG.json``; a language
without such a file keeps the hand rules alone.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from legation.extract.lexicon import Hit
from legation.extract.text import Token

# The lexicon groups whose phrases are role candidates, and the role each one fills.
ROLE_GROUPS = {
    "victim_noun": "human_targets",
    "perpetrator_noun": "perpetrator_individuals",
    "force_noun": "perpetrator_organizations",
    "physical_noun": "physical_targets",
    "weapon_noun": "weapons",
}
# Lexicon groups whose nearness is a feature: what happened, to whom, by what means.
_CONTEXT_GROUPS = ("type", "killed", "injured", "damage", "attack_verb", "weapon", "claim")
_SIDE_WORDS = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lexicon phrase that may fill its group's role, with the features that describe it."""

    hit: Hit
    text: str  # as written
    key: str  # the same thing written again ("bombs" after "bomb") has the same key
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleModel:
    weights: dict[str, float]
    threshold: float

    def probability(self, features: Iterable[str]) -> float:
        z = sum(self.weights.get(f, 0.0) for f in features)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# Keeps no description at all: what the extractor finds besides them (names, groups).
NO_DESCRIPTIONS = RoleModel({}, 2.0)


@cache
def role_model(language: str) -> RoleModel | None:
    """The shipped weights for a language, or None when it has none."""
    path = resources.files("legation.extract").joinpath("models", f"roles-{language}.json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text("utf-8"))
    weights = {str(k): float(v) for k, v in data["weights"].items()}
    return RoleModel(weights, float(data["threshold"]))


def _bucket(distance: int) -> str:
    if distance <= 2:
        return "1"
    if distance <= 5:
        return "2"
    return "3" if distance <= 10 else "4"


def _key(tokens: list[Token], hit: Hit) -> str:
    return " ".join(tokens[i].norm.removesuffix("s") for i in range(hit.first, hit.last + 1))


def candidates(
    text: str,
    tokens: list[Token],
    hits: dict[str, list[Hit]],
    core: set[int],
    ruled: set[Hit],
) -> list[Candidate]:
    """Every phrase of a role group with its features; ``ruled`` are those the rules chose."""
    by_sentence: dict[int, list[Hit]] = {}
    for group in _CONTEXT_GROUPS:
        for h in hits[group]:
            by_sentence.setdefault(tokens[h.first].sentence, []).append(h)
    keys = Counter(_key(tokens, h) for g in ROLE_GROUPS for h in hits[g])
    seen: set[str] = set()
    found = []
    for group in ROLE_GROUPS:
        for hit in _longest(hits[group]):
            key = _key(tokens, hit)
            features = _features(tokens, hit, core, by_sentence, ruled, keys[key], key in seen)
            seen.add(key)
            span = text[tokens[hit.first].start : tokens[hit.last].end]
            found.append(Candidate(hit, span, key, tuple(features)))
    return found


def _longest(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits, longest first ("car bomb" rather than "bomb"), in text order."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.first - h.last, h.first)):
        if all(hit.last < k.first or hit.first > k.last for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.first)


def _features(
    tokens: list[Token],
    hit: Hit,
    core: set[int],
    by_sentence: dict[int, list[Hit]],
    ruled: set[Hit],
    count: int,
    repeated: bool,
) -> list[str]:
    g = hit.group
    sentence = tokens[hit.first].sentence
    out = [g, f"{g}|w={_key(tokens, hit)}", f"{g}|n={min(count, 3)}"]
    if hit in ruled:
        out.append(f"{g}|rule")
    if repeated:
        out.append(f"{g}|again")
    near = min((abs(sentence - s) for s in core), default=9)
    out.append(f"{g}|core={min(near, 3)}")
    out.append(f"{g}|sent={min(sentence, 3)}")
    for k in range(1, _SIDE_WORDS + 1):
        before, after = hit.first - k, hit.last + k
        if before >= 0 and tokens[before].sentence == sentence:
            out.append(f"{g}|p{k}={tokens[before].norm}")
        if after < len(tokens) and tokens[after].sentence == sentence:
            out.append(f"{g}|n{k}={tokens[after].norm}")
    for other in by_sentence.get(sentence, ()):
        if other.last < hit.first:
            out.append(f"{g}|{other.group}<{_bucket(hit.first - other.last)}")
        elif other.first > hit.last:
            out.append(f"{g}|{other.group}>{_bucket(other.first - hit.last)}")
        else:
            out.append(f"{g}|{other.group}=")
    return list(dict.fromkeys(out))


def chosen(model: RoleModel, found: list[Candidate], group: str) -> list[Hit]:
    """The candidates of one group the model keeps, in text order."""
    return [
        c.hit
        for c in found
        if c.hit.group == group and model.probability(c.features) >= model.threshold
    ]
