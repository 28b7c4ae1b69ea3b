"""Train the role model (``legation/extract/models/roles-en.json``) on the MUC-4 dev keys.

    python -m legation.evaluation.train_roles ../shared/data/incidents/muc4/dev --folds 5
    python -m legation.evaluation.train_roles ../shared/data/incidents/muc4/dev --write

Every description the lexicons find in a report the extractor calls an incident is an
example; it is positive when its normalised text is an alternative of a key filler of its
group's role. A logistic regression (plain stochastic gradient descent with L2, no library
needed) learns the weights. ``--folds`` cross-validates by message: the scorer of
``legation eval muc4`` compares the hand rules with the model at several thresholds, on
messages the model did not see. ``--write`` trains on all of dev and writes the weights with
the threshold given. Only dev is read: tst1 and tst2 stay for reporting.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from legation.evaluation.muc4 import predicted_templates
from legation.evaluation.muc4_keys import GoldTemplate, key_files, read_keys
from legation.evaluation.scoring import Predicted, Score, normalise, prf, score_document
from legation.extract.extractor import read_report
from legation.extract.roles import NO_DESCRIPTIONS, ROLE_GROUPS, Candidate, select
from legation.ingest.muc import message_files, read_messages

_MODEL = Path(__file__).resolve().parent.parent / "extract" / "models" / "roles-en.json"
_EPOCHS = 12
_RATE = 0.1
_L2 = 1e-4
_MIN_COUNT = 2  # a feature seen fewer times in training gets no weight
_THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


@dataclass(slots=True)
class Message:
    """One dev message as the extractor read it, without descriptions, and its key."""

    base: list[Predicted]
    candidates: list[Candidate]
    labels: list[bool]
    gold: list[GoldTemplate]


def read_dev(folder: Path) -> list[Message]:
    keys = read_keys(key_files(folder))
    found = []
    for path in message_files(folder):
        for m in read_messages(path):
            extraction, candidates = read_report(
                m.text, language="en", published=m.published, roles=NO_DESCRIPTIONS
            )
            gold = keys.get(m.external_id or "", [])
            wanted: dict[str, set[str]] = {}
            for template in gold:
                for role, entities in template.roles.items():
                    for entity in entities:
                        wanted.setdefault(role, set()).update(
                            normalise(a) for a in entity.alternatives
                        )
            labels = [
                normalise(c.text) in wanted.get(ROLE_GROUPS[c.hit.group], set()) for c in candidates
            ]
            found.append(Message(predicted_templates(extraction), candidates, labels, gold))
    return found


def train(messages: list[Message], seed: int = 0) -> dict[str, float]:
    """Logistic regression weights over the candidates' features."""
    data = [(c.features, y) for m in messages for c, y in zip(m.candidates, m.labels, strict=True)]
    counts = Counter(f for features, _ in data for f in features)
    data = [(tuple(f for f in x if counts[f] >= _MIN_COUNT), y) for x, y in data]
    weights: dict[str, float] = {}
    rng = random.Random(seed)
    for epoch in range(_EPOCHS):
        rng.shuffle(data)
        rate = _RATE / (1 + epoch)
        for features, label in data:
            z = max(-30.0, min(30.0, sum(weights.get(f, 0.0) for f in features)))
            gradient = 1.0 / (1.0 + math.exp(-z)) - label
            for f in features:
                w = weights.get(f, 0.0)
                weights[f] = w - rate * (gradient + _L2 * w)
    return {f: round(w, 4) for f, w in weights.items() if abs(w) >= 1e-3}


def _probability(weights: dict[str, float], features: tuple[str, ...]) -> float:
    z = max(-30.0, min(30.0, sum(weights.get(f, 0.0) for f in features)))
    return 1.0 / (1.0 + math.exp(-z))


def predicted(message: Message, keep: list[bool]) -> list[Predicted]:
    """The message's templates with the kept descriptions added to their roles."""
    if not message.base:
        return []
    roles = {r: list(v) for r, v in message.base[0].roles.items()}
    seen: set[tuple[str, str]] = set()
    for candidate, kept in zip(message.candidates, keep, strict=True):
        group = candidate.hit.group
        if kept and (group, candidate.key) not in seen:
            seen.add((group, candidate.key))
            roles[ROLE_GROUPS[group]].append(candidate.text)
    return [Predicted(message.base[0].type, roles), *message.base[1:]]


def score(messages: list[Message], keeps: list[list[bool]]) -> dict[str, float | int]:
    total = Score()
    for message, keep in zip(messages, keeps, strict=True):
        score_document(predicted(message, keep), message.gold, total)
    micro = total.micro()
    kind = total.roles["incident_type"]
    return prf(micro.tp, micro.predicted, micro.gold) | {
        "type_f1": prf(kind.tp, kind.predicted, kind.gold)["f1"]
    }


def cross_validate(messages: list[Message], folds: int) -> None:
    """Micro P/R/F1 on dev of the rules and of the model at each threshold, by held-out fold."""
    rules = [
        [
            any(f.endswith("|rule") for f in c.features) and c.base == i
            for i, c in enumerate(m.candidates)
        ]
        for m in messages
    ]
    print("rules", score(messages, rules))
    probabilities: list[list[float]] = [[] for _ in messages]
    for fold in range(folds):
        weights = train([m for i, m in enumerate(messages) if i % folds != fold])
        for i, m in enumerate(messages):
            if i % folds == fold:
                probabilities[i] = [_probability(weights, c.features) for c in m.candidates]
    for threshold in _THRESHOLDS:
        keeps = []
        for m, ps in zip(messages, probabilities, strict=True):
            kept = set(select(m.candidates, ps, threshold))
            keeps.append([i in kept for i in range(len(ps))])
        print(f"model >= {threshold}", score(messages, keeps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path, help="the MUC-4 dev folder (messages and keys)")
    parser.add_argument("--folds", type=int, default=0, help="cross-validate by message")
    parser.add_argument("--write", action="store_true", help=f"train on all and write {_MODEL}")
    parser.add_argument("--threshold", type=float, default=0.4, help="kept from this probability")
    args = parser.parse_args()
    messages = read_dev(args.dev)
    if args.folds:
        cross_validate(messages, args.folds)
    if args.write:
        weights = train(messages)
        _MODEL.parent.mkdir(exist_ok=True)
        body = {"threshold": args.threshold, "weights": dict(sorted(weights.items()))}
        _MODEL.write_text(json.dumps(body, indent=0, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {len(weights)} weights to {_MODEL}")


if __name__ == "__main__":
    main()
