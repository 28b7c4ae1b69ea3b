"""``legation eval wikipedia|ucdp|wcep``: the extractor and geocoder on other real gold sets."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from legation.domain.countries import country_code
from legation.domain.geo import distance_km
from legation.evaluation.scoring import prf, share
from legation.extract.extractor import extract_report, locate

Progress = Callable[[int], None] | None

# Wikipedia list categories -> the types that count as the same kind of attack.
WIKIPEDIA_TYPES = {
    "Explosion": {"bombing"},
    "Bombing": {"bombing"},
    "Assault": {"armed_assault", "assassination", "unarmed_assault", "vehicle_ramming"},
    "Hostage": {"hostage_taking", "kidnapping"},
}


def _int(value: Any) -> int | None:
    try:
        return int(float(str(value).replace(",", "").strip()))
    except ValueError:
        return None


def evaluate_wikipedia(path: Path, progress: Progress = None) -> dict[str, Any]:
    """Detection, country, killed (exact, within 10 %), injured, perpetrator, category."""
    rows = json.loads(path.read_text("utf-8"))
    counts = dict.fromkeys(
        (
            "detected",
            "country",
            "killed_exact",
            "killed_10",
            "injured_exact",
            "perpetrator",
            "category",
        ),
        0,
    )
    totals = dict.fromkeys(counts, 0)
    for row in rows:
        published = datetime.combine(date(int(row["Year"]), 12, 31), time(12), tzinfo=UTC)
        e = extract_report(row["Description"], language="en", published=published)
        totals["detected"] += 1
        counts["detected"] += e.is_incident
        gold_country = country_code(row["Country"])
        if gold_country:
            totals["country"] += 1
            counts["country"] += bool(e.place and e.place.country == gold_country)
        dead, hurt = _int(row.get("Dead")), _int(row.get("Injured"))
        if dead is not None:
            totals["killed_exact"] += 1
            totals["killed_10"] += 1
            counts["killed_exact"] += e.killed_count == dead
            counts["killed_10"] += abs(e.killed_count - dead) <= 0.1 * dead
        if hurt is not None:
            totals["injured_exact"] += 1
            counts["injured_exact"] += e.injured_count == hurt
        perpetrator = str(row.get("Perpetrator") or "").strip().lower()
        if perpetrator and perpetrator not in ("unknown", "-"):
            totals["perpetrator"] += 1
            named = [
                x.value.lower() for x in (*e.perpetrator_individuals, *e.perpetrator_organizations)
            ]
            counts["perpetrator"] += any(n in perpetrator or perpetrator in n for n in named)
        wanted = WIKIPEDIA_TYPES.get(str(row.get("Category")))
        if wanted:
            totals["category"] += 1
            counts["category"] += e.type_name in wanted
        if progress is not None:
            progress(1)
    return {"documents": len(rows), **{k: share(counts[k], totals[k]) for k in counts}}


def evaluate_ucdp(path: Path, progress: Progress = None) -> dict[str, Any]:
    """Geocode the event's place description; share within 25 and 161 km of the gold point."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    within_25 = within_161 = located = deaths_right = deaths_total = 0
    for row in rows:
        text = ", ".join(
            x for x in (row["where_description"], row["adm_2"], row["adm_1"], row["country"]) if x
        )
        place = locate(text)
        if place is not None:
            located += 1
            km = distance_km(place.lat, place.lon, float(row["latitude"]), float(row["longitude"]))
            within_25 += km <= 25
            within_161 += km <= 161
        headline = row.get("source_headline") or ""
        best = _int(row.get("best"))
        if headline and best is not None:
            deaths_total += 1
            e = extract_report(headline, language="en", published=None)
            deaths_right += e.killed_count == best
        if progress is not None:
            progress(1)
    total = len(rows)
    return {
        "events": total,
        "located": share(located, total),
        "within_25_km": share(within_25, total),
        "within_161_km": share(within_161, total),
        "deaths_exact_from_headline": share(deaths_right, deaths_total),
    }


def evaluate_wcep(path: Path, progress: Progress = None) -> dict[str, Any]:
    """Incident or not: War_Conflict items are incidents, the rest are not; date on incidents."""
    items = json.loads(path.read_text("utf-8"))
    tp = fp = fn = dated = dated_right = 0
    for item in items:
        day = date.fromisoformat(item["date"])
        published = datetime.combine(day, time(23, 59), tzinfo=UTC)
        e = extract_report(item["description"], language="en", published=published)
        gold = item["category"]["name"] == "War_Conflict"
        tp += e.is_incident and gold
        fp += e.is_incident and not gold
        fn += (not e.is_incident) and gold
        if e.is_incident and gold:
            dated += 1
            dated_right += e.date == day
        if progress is not None:
            progress(1)
    return {
        "items": len(items),
        "detection": {**prf(tp, tp + fp, tp + fn), "fp": fp, "fn": fn},
        "date_exact": share(dated_right, dated),
    }


def evaluate_gold_jsonl(path: Path, progress: Progress = None) -> dict[str, Any]:
    """Our own keyed reports (``eval/gold/*.jsonl``): per field, the share extracted right."""
    fields = (
        "detected",
        "type",
        "date",
        "country",
        "city",
        "killed",
        "injured",
        "perpetrators",
        "victims",
    )
    right = dict.fromkeys(fields, 0)
    total = dict.fromkeys(fields, 0)
    languages: set[str] = set()
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        gold = doc["gold"]
        languages.add(doc["language"])
        published = datetime.fromisoformat(doc["published"])
        e = extract_report(doc["text"], language=doc["language"], published=published)
        checks = {
            "detected": e.is_incident,
            "type": e.type_name == gold["type"],
            "date": e.date is not None and e.date.isoformat() == gold["date"],
            "country": bool(e.place and e.place.country == gold["country"]),
            "city": bool(e.place and e.place.name == gold.get("city")),
        }
        if "killed" in gold:
            checks["killed"] = e.killed_count == gold["killed"]
        if "injured" in gold:
            checks["injured"] = e.injured_count == gold["injured"]
        for role, found in (
            ("perpetrators", e.perpetrator_individuals),
            ("victims", e.human_targets),
        ):
            if gold.get(role):
                names = [x.value.lower() for x in found]
                checks[role] = all(any(g.lower() in n for n in names) for g in gold[role])
        for key, ok in checks.items():
            total[key] += 1
            right[key] += bool(ok)
        if progress is not None:
            progress(1)
    return {
        "languages": ",".join(sorted(languages)),
        **{k: share(right[k], total[k]) for k in fields},
    }
