"""Score how likely two incident descriptions are the same event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from legation.domain.geo import distance_km
from legation.domain.models import IncidentSummary
from legation.domain.names import names_overlap

MAX_DAYS = 2
MAX_KM = 50.0
THRESHOLD = 0.6
_FAMILIES = (
    {"assassination", "armed_assault", "unarmed_assault", "vehicle_ramming", "hijacking"},
    {"bombing", "armed_assault", "arson"},
    {"kidnapping", "hostage_taking", "hijacking"},
    {"unrest", "unarmed_assault", "arson"},
)


@dataclass(frozen=True, slots=True)
class Match:
    incident_id: int
    score: float
    reasons: tuple[str, ...]


def same_event(new: IncidentSummary, old: IncidentSummary) -> Match | None:
    """A match when time, place and type agree well enough; names add weight."""
    if new.date is not None and old.date is not None:
        days = abs((new.date - old.date).days)
        if days > MAX_DAYS:
            return None
        time_score = 1.0 - days / (MAX_DAYS + 1)
    else:
        time_score = 0.3
    place_score = _place_score(new, old)
    if place_score is None:
        return None
    type_score = 1.0 if new.type == old.type else (0.6 if _compatible(new.type, old.type) else 0.0)
    if type_score == 0.0:
        return None
    names = names_overlap(list(new.names), list(old.names))
    score = 0.35 * time_score + 0.35 * place_score + 0.2 * type_score + 0.3 * names
    reasons = (
        f"time {time_score:.2f}",
        f"place {place_score:.2f}",
        f"type {type_score:.2f}",
        f"names {names:.2f}",
    )
    return Match(old.id, round(min(score, 1.0), 3), reasons) if score >= THRESHOLD else None


def _place_score(new: IncidentSummary, old: IncidentSummary) -> float | None:
    if new.country and old.country and new.country != old.country:
        return None
    if None in (new.lat, new.lon, old.lat, old.lon):
        return 0.3
    km = distance_km(new.lat, new.lon, old.lat, old.lon)  # type: ignore[arg-type]
    if km > MAX_KM:
        return None
    return 1.0 - km / (MAX_KM * 2)


def _compatible(a: str, b: str) -> bool:
    return any(a in family and b in family for family in _FAMILIES)


def best_match(new: IncidentSummary, candidates: Iterable[IncidentSummary]) -> Match | None:
    matches = [m for c in candidates if (m := same_event(new, c)) is not None]
    return max(matches, key=lambda m: m.score, default=None)
