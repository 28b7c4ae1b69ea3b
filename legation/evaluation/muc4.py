"""``legation eval muc4``: the extractor against the MUC-4 answer keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from legation.domain.countries import country_code
from legation.domain.models import Extraction
from legation.domain.vocab import taxonomy
from legation.evaluation.muc4_keys import GoldTemplate, key_files, read_keys
from legation.evaluation.scoring import (
    ROLE_NAMES,
    Predicted,
    Score,
    align,
    normalise,
    prf,
    score_document,
    share,
)
from legation.extract.contract import incident_json
from legation.extract.extractor import extract_report
from legation.extract.text import fold
from legation.ingest.muc import MONTHS, message_files, read_messages

_DATE = re.compile(r"(\d{1,2}) ([A-Z]{3}) (\d{2})")


def muc_type(extraction: Extraction) -> str | None:
    """Our taxonomy to MUC-4's (taxonomy.yaml ``muc4``): assassination, armed_assault,
    unarmed_assault, vehicle_ramming, hijacking -> ATTACK; bombing -> BOMBING; kidnapping,
    hostage_taking -> KIDNAPPING; arson -> ARSON; threat, unrest, other -> no template."""
    return taxonomy().incident_types[extraction.type_name].muc4


def predicted_templates(extraction: Extraction) -> list[Predicted]:
    """The main incident's template, and one with only its type for each other kind of
    event the report describes (``also``: a bombing in a story about attacks), or for a
    second event of the main one's kind."""
    kind = muc_type(extraction) if extraction.is_incident else None
    if kind is None:
        return []
    doc = incident_json(extraction)
    found = [
        Predicted(
            kind,
            {
                "perpetrator_individuals": doc["perpetrators"]["individuals"],
                "perpetrator_organizations": doc["perpetrators"]["organizations"],
                "physical_targets": doc["targets"]["physical"],
                "human_targets": doc["targets"]["human"],
                "weapons": doc["weapons"],
            },
        )
    ]
    kinds = {kind}
    for other in doc["also"]:
        also = taxonomy().incident_types[other].muc4
        if also is not None and (also not in kinds or other == extraction.type_name):
            kinds.add(also)
            found.append(Predicted(also, {}))
    return found


def gold_dates(text: str) -> tuple[date, date] | None:
    """'30 DEC 89': that day; '26 DEC 89 - 30 DEC 89': the range; '- 30 DEC 89': up to it."""
    found = [
        _day(1900 + int(y), MONTHS[m], int(d)) for d, m, y in _DATE.findall(text) if m in MONTHS
    ]
    if not found:
        return None
    if text.strip().startswith("-"):
        return date(1900, 1, 1), found[-1]
    return found[0], found[-1]


def gold_places(text: str) -> tuple[set[str], set[str]]:
    """Countries (ISO) and cities (folded) a location fill names, over its alternatives."""
    countries: set[str] = set()
    cities: set[str] = set()
    for alternative in text.split("/"):
        parts = [p.strip() for p in alternative.split(":")]
        code = country_code(parts[0].title()) if parts and parts[0] not in ("-", "*") else None
        if code:
            countries.add(code)
        for part in parts[1:]:
            if part.endswith("(CITY)"):
                cities.add(fold(part.removesuffix("(CITY)").strip()))
    return countries, cities


def _day(year: int, month: int, day: int) -> date:
    """A key's day; a day past the month's end (the dev key's '31 NOV 89') is its last day."""
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            if day <= 28:
                raise
            day -= 1


@dataclass(slots=True)
class PlaceScore:
    dates: int = 0
    dates_right: int = 0
    countries: int = 0
    countries_right: int = 0
    cities: int = 0
    cities_right: int = 0

    def add(self, predicted: Extraction, gold: GoldTemplate) -> None:
        span = gold_dates(gold.date)
        if span is not None:
            self.dates += 1
            self.dates_right += bool(predicted.date and span[0] <= predicted.date <= span[1])
        countries, cities = gold_places(gold.location)
        place = predicted.place
        if countries:
            self.countries += 1
            self.countries_right += bool(place and place.country in countries)
        if cities:
            self.cities += 1
            self.cities_right += bool(
                place and place.precision == "city" and fold(place.name) in cities
            )


@dataclass(slots=True)
class Evaluation:
    documents: int = 0
    score: Score = field(default_factory=Score)
    places: PlaceScore = field(default_factory=PlaceScore)
    detection: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0})

    def as_dict(self) -> dict[str, Any]:
        roles = {r: prf(c.tp, c.predicted, c.gold) for r, c in self.score.roles.items()}
        micro = self.score.micro()
        d = self.detection
        p = self.places
        return {
            "documents": self.documents,
            "roles": roles,
            "micro": prf(micro.tp, micro.predicted, micro.gold),
            "detection": prf(d["tp"], d["tp"] + d["fp"], d["tp"] + d["fn"]),
            "date_exact": share(p.dates_right, p.dates),
            "country": share(p.countries_right, p.countries),
            "city": share(p.cities_right, p.cities),
        }


def evaluate_muc4(folders: list[Path], progress: Callable[[int], None] | None = None) -> Evaluation:
    """Extract every message of the folders and score it against their keys."""
    keys: dict[str, list[GoldTemplate]] = {}
    for folder in folders:
        keys.update(read_keys(key_files(folder)))
    result = Evaluation()
    for folder in folders:
        for path in message_files(folder):
            for message in read_messages(path):
                _evaluate_message(
                    message.external_id or "", message.text, message.published, keys, result
                )
                if progress is not None:
                    progress(1)
    return result


def _evaluate_message(
    message_id: str,
    text: str,
    published: datetime | None,
    keys: dict[str, list[GoldTemplate]],
    result: Evaluation,
) -> None:
    extraction = extract_report(text, language="en", published=published)
    predicted = predicted_templates(extraction)
    gold = keys.get(message_id, [])
    result.documents += 1
    score_document(predicted, gold, result.score)
    result.detection["tp"] += bool(predicted) and bool(gold)
    result.detection["fp"] += bool(predicted) and not gold
    result.detection["fn"] += not predicted and bool(gold)
    for p, g in align(predicted, gold):
        if p is not None and g is not None:
            result.places.add(extraction, gold[g])


def format_table(evaluation: Evaluation) -> str:
    data = evaluation.as_dict()
    lines = [f"{'role':28} {'P':>6} {'R':>6} {'F1':>6}"]
    for role in ROLE_NAMES:
        r = data["roles"][role]
        lines.append(f"{role:28} {r['p']:6.1f} {r['r']:6.1f} {r['f1']:6.1f}")
    m = data["micro"]
    lines.append(f"{'micro (six roles)':28} {m['p']:6.1f} {m['r']:6.1f} {m['f1']:6.1f}")
    d = data["detection"]
    lines.append(f"{'incident detection':28} {d['p']:6.1f} {d['r']:6.1f} {d['f1']:6.1f}")
    for name in ("date_exact", "country", "city"):
        s = data[name]
        lines.append(
            f"{name + ' (aligned templates)':28} {s['share']:6.1f}%  ({s['right']}/{s['total']})"
        )
    return "\n".join(lines)


__all__ = ["evaluate_muc4", "format_table", "muc_type", "normalise"]
