"""Which described noun phrases fill a role: a small logistic model over context features.

The lexicons find descriptions ("PEASANTS", "BOMB", "HEADQUARTERS", "THE ARMY"); whether one
names a victim, a weapon used or a target hit depends on its context. The hand rules of the
extractor give one vote; the words around the phrase, the lexicon groups nearby, the sentence
and how often the phrase recurs give the others. The weights are learned from the MUC-4 dev
keys by ``legation.evaluation.train_roles`` and ship as ``models/roles-LANG.json``; a language
without such a file keeps the hand rules alone, and so does mixed-case text: the MUC-4 wire
copy the model learned from is all upper case, and on mixed-case news (the Wikipedia set) it
dropped named perpetrators that the rules find.
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
from legation.extract.text import Token, without_possessive

# The lexicon groups whose phrases are role candidates, and the role each one fills.
ROLE_GROUPS = {
    "victim_noun": "human_targets",
    "perpetrator_noun": "perpetrator_individuals",
    "force_noun": "perpetrator_organizations",
    "physical_noun": "physical_targets",
    "weapon_noun": "weapons",
    "victim_name": "human_targets",  # names of people and groups, as the extractor finds them
    "perpetrator_name": "perpetrator_individuals",
    "group_name": "perpetrator_organizations",
}
_AT_MOST = {"perpetrator_individuals": 1, "perpetrator_organizations": 1}
_DESCRIBED = frozenset(g for g in ROLE_GROUPS if g.endswith("_noun"))
# Lexicon groups whose nearness is a feature: what happened, to whom, by what means.
_CONTEXT_GROUPS = ("type", "killed", "injured", "damage", "attack_verb", "weapon", "claim")
_SIDE_WORDS = 2
_OF_WORDS = 4  # words of an "of" phrase a description may take after it
# Counts before a description ("FIVE SOLDIERS"); other common words end a qualifier.
_NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"}
    | {"twelve", "several", "some"}
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lexicon phrase that may fill its group's role, with the features that describe it."""

    hit: Hit
    base: int  # candidates with one base are variants of one phrase ("MINISTER", "PRESIDENCY
    # MINISTER"): at most one of them is kept
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


def hit_key(tokens: list[Token], hit: Hit) -> str:
    """What a phrase names: "bombs" after "bomb" is the same weapon, "FMLN" after "Farabundo
    Marti National Liberation Front" the same group (a group hit's label is its name)."""
    if hit.group == "group_name":
        return hit.label
    return " ".join(tokens[i].norm.removesuffix("s") for i in range(hit.first, hit.last + 1))


def candidates(
    text: str,
    tokens: list[Token],
    hits: dict[str, list[Hit]],
    core: set[int],
    ruled: set[Hit],
    common: frozenset[str],
) -> list[Candidate]:
    """Every phrase of a role group with its features; ``ruled`` are those the rules chose;
    ``common`` words (and numbers) never qualify a description."""
    by_sentence: dict[int, list[Hit]] = {}
    for group in _CONTEXT_GROUPS:
        for h in hits[group]:
            by_sentence.setdefault(tokens[h.first].sentence, []).append(h)
    keys = Counter(hit_key(tokens, h) for g in ROLE_GROUPS for h in hits[g])
    seen: set[str] = set()
    found: list[Candidate] = []
    busy = {i for g in _CONTEXT_GROUPS for h in hits[g] for i in range(h.first, h.last + 1)}
    for group in ROLE_GROUPS:
        for base in longest(hits[group]):
            phrase = len(found)
            for hit, extra in _variants(text, tokens, base, busy, common):
                key = hit_key(tokens, hit)
                features = _features(tokens, hit, core, by_sentence, keys[key], key in seen)
                features += extra + ([f"{group}|rule"] if base in ruled else [])
                if hit is not base:
                    features.append(f"{group}|h={hit_key(tokens, base)}")
                span = without_possessive(text[tokens[hit.first].start : tokens[hit.last].end])
                found.append(Candidate(hit, phrase, span, key, tuple(features)))
            seen.add(hit_key(tokens, base))
    return found


def _variants(
    text: str, tokens: list[Token], hit: Hit, busy: set[int], common: frozenset[str]
) -> list[tuple[Hit, list[str]]]:
    """The phrase, and for descriptions the phrase with what may belong to it: one or two
    words before it that qualify it ("PRESIDENCY MINISTER", "URBAN GUERRILLAS", "FIVE
    SOLDIERS"), and an "of" phrase after it ("MAYOR OF ABREGO", "LEADERS OF THE PATRIOTIC
    UNION"). The model learns which of them the keys write."""
    if hit.group not in _DESCRIBED:
        return [(hit, [f"{hit.group}|ext=0"])]
    g = hit.group
    starts = [(hit.first, [f"{g}|ext=0"])]
    for extent in (1, 2):
        i = hit.first - extent
        if i < 0 or tokens[i].sentence != tokens[hit.first].sentence or i in busy:
            break
        word = tokens[i].norm
        if _gap(text, tokens, i) or not word.replace("-", "").isalnum():
            break
        number = word.isdigit() or word in _NUMBER_WORDS
        if word in common and not number:
            break
        starts.append((i, [f"{g}|ext={extent}", f"{g}|m={'#' if number else word}"]))
        if number:  # "FIVE SOLDIERS": nothing qualifies a phrase before its count
            break
    ends: list[tuple[int, list[str]]] = [(hit.last, [])] + [
        (last, [f"{g}|of={k}"])
        for k, last in enumerate(_of_phrase(text, tokens, hit.last, common), 1)
    ]
    return [
        (Hit(g, hit.label, first, last), head + tail)
        for first, head in starts
        for last, tail in ends
    ]


def _gap(text: str, tokens: list[Token], i: int) -> bool:
    """Something other than spaces between token i and the next."""
    return bool(text[tokens[i].end : tokens[i + 1].start].strip())


def _of_phrase(text: str, tokens: list[Token], last: int, common: frozenset[str]) -> list[int]:
    """Where an "of" phrase after token ``last`` may end: after each of up to ``_OF_WORDS``
    uncommon words ("OF [THE] LEFTIST PATRIOTIC UNION")."""
    j = last + 1
    if j + 1 >= len(tokens) or tokens[j].norm != "of":
        return []
    if _gap(text, tokens, last) or _gap(text, tokens, j):
        return []
    sentence = tokens[last].sentence
    k = j + 1
    if tokens[k].norm in ("the", "a", "an") and k + 1 < len(tokens) and not _gap(text, tokens, k):
        k += 1
    ends: list[int] = []
    while k < len(tokens) and len(ends) < _OF_WORDS and tokens[k].sentence == sentence:
        word = tokens[k].norm
        if word in common or not word.replace("-", "").isalpha():
            break
        ends.append(k)
        if k + 1 >= len(tokens) or _gap(text, tokens, k):
            break
        k += 1
    return ends


def longest(hits: list[Hit]) -> list[Hit]:
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
    count: int,
    repeated: bool,
) -> list[str]:
    g = hit.group
    sentence = tokens[hit.first].sentence
    out = [g, f"{g}|w={hit_key(tokens, hit)}", f"{g}|n={min(count, 3)}"]
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


def select(found: list[Candidate], probabilities: list[float], threshold: float) -> list[int]:
    """Indices of the kept candidates: of each phrase's variants the likeliest, if likely
    enough; of the perpetrators only the likeliest individual and organisation (a report's
    attack is blamed on one group: in MUC-4 dev by cross-validation micro-F1 rose from 34.3
    to 34.8, no correct filler lost)."""
    best: dict[int, int] = {}
    for i, c in enumerate(found):
        if probabilities[i] >= threshold and (
            c.base not in best or probabilities[i] > probabilities[best[c.base]]
        ):
            best[c.base] = i
    kept: list[int] = []
    taken: Counter[str] = Counter()
    for i in sorted(best.values(), key=lambda i: -probabilities[i]):
        role = ROLE_GROUPS[found[i].hit.group]
        if taken[role] < _AT_MOST.get(role, len(found)):
            taken[role] += 1
            kept.append(i)
    return sorted(kept)


def chosen(model: RoleModel, found: list[Candidate]) -> dict[str, list[Hit]]:
    """The candidates the model keeps, by group, in text order."""
    probabilities = [model.probability(c.features) for c in found]
    kept: dict[str, list[Hit]] = {group: [] for group in ROLE_GROUPS}
    for i in select(found, probabilities, model.threshold):
        kept[found[i].hit.group].append(found[i].hit)
    return kept
