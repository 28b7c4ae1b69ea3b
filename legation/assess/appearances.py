"""Risk of a planned public appearance: the level at the venue around its date, and measures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from legation.assess.levels import Target, assess
from legation.domain.models import Assessment, IncidentSummary
from legation.domain.vocab import threat_model


@dataclass(frozen=True, slots=True)
class AppearanceRisk:
    assessment: Assessment
    checklist: tuple[str, ...]


def assess_appearance(
    *,
    lat: float,
    lon: float,
    country_code: str | None,
    nationality: str | None,
    starts_at: datetime,
    incidents: Iterable[IncidentSummary],
    as_of: datetime,
) -> AppearanceRisk:
    """Level at the venue as of the earlier of now and the start; the checklist accumulates."""
    model = threat_model()
    target = Target(lat, lon, country_code, operator_code=nationality, diplomatic=True)
    when = min(as_of, starts_at)
    assessment = assess(target, incidents, when, model)
    measures: list[str] = []
    for level in range(1, assessment.level + 1):
        measures.extend(model.appearance.checklist.get(level, []))
    return AppearanceRisk(assessment, tuple(measures))
