"""The extraction contract: one JSON object per report (``legation extract --format jsonl``)."""

from __future__ import annotations

from typing import Any

from legation.domain.models import Evidence, Extraction, Place


def values(items: list[Evidence]) -> list[str]:
    """The distinct values of some evidence, in order of appearance."""
    return list(dict.fromkeys(e.value for e in items))


def place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {
        "name": place.name,
        "country": place.country,
        "admin1": place.admin1,
        "lat": place.lat,
        "lon": place.lon,
        "precision": place.precision,
        "geonameid": place.geonameid,
    }


def incident_json(extraction: Extraction) -> dict[str, Any]:
    """The incident an extraction describes, in the contract's shape."""
    e = extraction
    return {
        "type": e.type_name,
        "weapon": e.weapon_name,
        "date": e.date.isoformat() if e.date else None,
        "place": place_json(e.place),
        "perpetrators": {
            "individuals": values(e.perpetrator_individuals),
            "organizations": values(e.perpetrator_organizations),
        },
        "targets": {"human": values(e.human_targets), "physical": values(e.physical_targets)},
        "target_categories": values(e.target_categories),
        "weapons": values(e.weapon_mentions),
        "killed": e.killed_count,
        "injured": e.injured_count,
        "confidence": e.confidence,
        "also": values(e.also),  # other kinds of event the report describes
    }


def extraction_line(report_id: Any, extraction: Extraction) -> dict[str, Any]:
    """One output line: the report's id, its language, and its incidents (none or one)."""
    incidents = [incident_json(extraction)] if extraction.is_incident else []
    return {"id": report_id, "language": extraction.language, "incidents": incidents}
