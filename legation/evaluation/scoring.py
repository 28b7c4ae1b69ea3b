"""Document-level template scoring (MUC-4 style): align templates, then count role fillers.

Per document, predicted and gold templates are aligned one to one (only templates of the
same incident type may pair) so as to maximise the number of correct fillers. A predicted
filler is correct when its normalised string equals one alternative of a gold entity of the
same role; each gold entity counts once. Optional gold entities count only when found.
Unaligned predicted templates are all false positives; unaligned gold ones all misses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from legation.evaluation.muc4_keys import GoldEntity, GoldTemplate

ROLE_NAMES = (
    "incident_type",
    "perpetrator_individuals",
    "perpetrator_organizations",
    "physical_targets",
    "human_targets",
    "weapons",
)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", _PUNCT.sub(" ", text.lower())).split())


@dataclass(frozen=True, slots=True)
class Predicted:
    type: str  # MUC-4 type
    roles: dict[str, list[str]]


@dataclass(slots=True)
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.predicted += other.predicted
        self.gold += other.gold

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Score:
    roles: dict[str, Counts] = field(default_factory=lambda: {r: Counts() for r in ROLE_NAMES})

    def micro(self) -> Counts:
        total = Counts()
        for counts in self.roles.values():
            total.add(counts)
        return total


def role_counts(predicted: Iterable[str], gold: list[GoldEntity]) -> Counts:
    """Correct fillers of one role in one aligned pair of templates."""
    fillers = list(dict.fromkeys(normalise(p) for p in predicted if normalise(p)))
    remaining = list(fillers)
    tp = optional_found = 0
    for entity in gold:
        wanted = {normalise(a) for a in entity.alternatives}
        hit = next((f for f in remaining if f in wanted), None)
        if hit is not None:
            remaining.remove(hit)
            tp += 1
            optional_found += entity.optional
    required = sum(1 for e in gold if not e.optional)
    return Counts(tp=tp, predicted=len(fillers), gold=required + optional_found)


def pair_counts(pred: Predicted | None, gold: GoldTemplate | None) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for role in ROLE_NAMES:
        if role == "incident_type":
            tp = int(pred is not None and gold is not None and pred.type == gold.type)
            out[role] = Counts(tp, int(pred is not None), int(gold is not None))
            continue
        fillers = pred.roles.get(role, []) if pred is not None else []
        entities = gold.roles.get(role, []) if gold is not None else []
        out[role] = role_counts(fillers, entities)
    return out


def align(
    predicted: list[Predicted], gold: list[GoldTemplate]
) -> list[tuple[int | None, int | None]]:
    """The one-to-one pairing of templates (same type only) with the most correct fillers."""
    best: list[tuple[int | None, int | None]] = []
    best_score = -1
    small, large = (predicted, gold) if len(predicted) <= len(gold) else (gold, predicted)
    flipped = small is gold
    for chosen in itertools.permutations(range(len(large)), len(small)):
        pairs = [(i, j) if not flipped else (j, i) for i, j in enumerate(chosen)]
        pairs = [(p, g) for p, g in pairs if predicted[p].type == gold[g].type]
        score = sum(
            sum(c.tp for c in pair_counts(predicted[p], gold[g]).values()) for p, g in pairs
        )
        if score > best_score:
            best, best_score = list(pairs), score
        if len(large) > 7:  # permutations explode; the first type-compatible pairing will do
            break
    paired_p = {p for p, _ in best}
    paired_g = {g for _, g in best}
    best += [(p, None) for p in range(len(predicted)) if p not in paired_p]
    best += [(None, g) for g in range(len(gold)) if g not in paired_g]
    return best


def score_document(predicted: list[Predicted], gold: list[GoldTemplate], into: Score) -> None:
    for p, g in align(predicted, gold):
        counts = pair_counts(
            predicted[p] if p is not None else None, gold[g] if g is not None else None
        )
        for role, c in counts.items():
            into.roles[role].add(c)


def prf(tp: int, predicted: int, gold: int) -> dict[str, float | int]:
    """Precision, recall and F1 in percent, with the counts behind them."""
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "p": round(100 * precision, 1),
        "r": round(100 * recall, 1),
        "f1": round(100 * f1, 1),
        "tp": tp,
        "predicted": predicted,
        "gold": gold,
    }


def share(right: int, total: int) -> dict[str, float | int]:
    """A percentage with its counts."""
    return {
        "share": round(100 * right / total, 1) if total else 0.0,
        "right": right,
        "total": total,
    }
