"""The extraction contract: one JSON object per report (``legation extract --format jsonl``)."""

from __future__ import annotations

from typing import Any

from legation.domain.models import Evidence, Extraction


def _values(items: list[Evidence]) -> list[str]:
    return list(dict.fromkeys(e.value for e in items))


def incident_json(extraction: Extraction) -> dict[str, Any]:
    """The incident an extraction describes, in the contract's shape."""
    e = extraction
    place = e.place
    return {
        "type": e.type_name,
        "weapon": e.weapon_name,
        "date": e.date.isoformat() if e.date else None,
        "place": None
        if place is None
        else {
            "name": place.name,
            "country": place.country,
            "admin1": place.admin1,
            "lat": place.lat,
            "lon": place.lon,
            "precision": place.precision,
        },
        "perpetrators": {
            "individuals": _values(e.perpetrator_individuals),
            "organizations": _values(e.perpetrator_organizations),
        },
        "targets": {"human": _values(e.human_targets), "physical": _values(e.physical_targets)},
        "target_categories": _values(e.target_categories),
        "weapons": _values(e.weapon_mentions),
        "killed": e.killed_count,
        "injured": e.injured_count,
        "confidence": e.confidence,
    }


def extraction_line(report_id: Any, extraction: Extraction) -> dict[str, Any]:
    """One output line: the report's id, its language, and its incidents (none or one)."""
    incidents = [incident_json(extraction)] if extraction.is_incident else []
    return {"id": report_id, "language": extraction.language, "incidents": incidents}
