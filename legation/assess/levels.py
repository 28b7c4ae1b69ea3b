"""Site threat levels from nearby incidents: severity x proximity x recency x target match."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time

from legation.domain.geo import distance_km
from legation.domain.models import Assessment, Contribution, IncidentSummary
from legation.domain.vocab import ThreatModel, taxonomy, threat_model

DIPLOMATIC_SITE_TYPES = (
    "embassy",
    "consul",
    "commission",
    "nunciature",
    "mission",
    "legation",
    "liaison",
    "representation",
    "office",
)


@dataclass(frozen=True, slots=True)
class Target:
    """What is being assessed: a site, a venue, a city centre."""

    lat: float | None
    lon: float | None
    country_code: str | None
    operator_code: str | None = None
    diplomatic: bool = True


def severity(incident: IncidentSummary, model: ThreatModel | None = None) -> float:
    model = model or threat_model()
    base = taxonomy().incident_types[incident.type].severity
    return (
        base
        + model.severity.killed_weight * math.log2(1 + max(0, incident.killed))
        + model.severity.injured_weight * math.log2(1 + max(0, incident.injured))
    )


Prepared = dict[int, tuple[float, float]]  # id(incident) -> (severity, recency)


def prepare(incidents: Iterable[IncidentSummary], as_of: datetime, model: ThreatModel) -> Prepared:
    """Severity and recency of each incident, computed once for many targets."""
    return {id(i): (severity(i, model), _recency(i, as_of, model)) for i in incidents}


def contribution(
    target: Target,
    incident: IncidentSummary,
    as_of: datetime,
    model: ThreatModel | None = None,
    prepared: Prepared | None = None,
) -> Contribution | None:
    """One incident's points for one target, or None when it does not bear on it."""
    model = model or threat_model()
    if prepared is not None:
        sev, recency = prepared[id(incident)]
    else:
        sev, recency = severity(incident, model), _recency(incident, as_of, model)
    if recency <= 0.0 or not _may_reach(target, incident, model):
        return None
    reasons: list[str] = []
    match = 1.0
    same_operator = bool(target.operator_code and target.operator_code in incident.target_states)
    if target.diplomatic and "diplomat" in incident.target_categories:
        match *= model.match.diplomatic_target
        reasons.append("diplomats targeted")
    if same_operator:
        match *= model.match.same_operator
        reasons.append(f"targeted {target.operator_code}, the site's sending state")
    distance, proximity = _proximity(target, incident, model, same_operator)
    if proximity <= 0.0:
        return None
    if distance is not None:
        reasons.insert(0, f"{distance:.0f} km away")
    return Contribution(
        incident_id=incident.id,
        points=round(sev * proximity * recency * match, 3),
        severity=round(sev, 2),
        distance_km=None if distance is None else round(distance, 1),
        proximity=round(proximity, 3),
        recency=round(recency, 3),
        match=match,
        reasons=tuple(reasons),
    )


def _may_reach(target: Target, incident: IncidentSummary, model: ThreatModel) -> bool:
    """Cheap test before the distance: same country, or within the cutoff in latitude."""
    if target.country_code and target.country_code == incident.country:
        return True
    if target.lat is None or incident.lat is None:
        return False
    return abs(target.lat - incident.lat) * 111.0 <= model.proximity.cutoff_km


def _recency(incident: IncidentSummary, as_of: datetime, model: ThreatModel) -> float:
    """Halves every half-life; nothing for incidents beyond the horizon or after ``as_of``."""
    if incident.date is None:
        return 0.0
    when = datetime.combine(incident.date, time(12), tzinfo=UTC)
    age_days = (as_of - when).total_seconds() / 86400
    if age_days < -1.0 or age_days > model.recency.horizon_days:
        return 0.0
    return float(0.5 ** (max(0.0, age_days) / model.recency.half_life_days))


def _proximity(
    target: Target, incident: IncidentSummary, model: ThreatModel, same_operator: bool
) -> tuple[float | None, float]:
    p = model.proximity
    distance = None
    value = 0.0
    if None not in (target.lat, target.lon, incident.lat, incident.lon):
        distance = distance_km(target.lat, target.lon, incident.lat, incident.lon)  # type: ignore[arg-type]
        if distance <= p.cutoff_km:
            value = 1.0 if distance <= p.full_km else math.exp(-(distance - p.full_km) / p.scale_km)
    if target.country_code and target.country_code == incident.country:
        value = max(value, p.same_country_floor)
        if same_operator:
            value = max(value, model.match.same_operator_country_floor)
    return distance, value


def level_for(score: float, model: ThreatModel | None = None) -> int:
    model = model or threat_model()
    level = 1
    for candidate, threshold in sorted(model.levels.items()):
        if score >= threshold:
            level = candidate
    return level


def assess(
    target: Target,
    incidents: Iterable[IncidentSummary],
    as_of: datetime,
    model: ThreatModel | None = None,
    prepared: Prepared | None = None,
) -> Assessment:
    """The level of a target given the incidents, strongest reasons first."""
    model = model or threat_model()
    pool = list(incidents)
    prepared = prepared or prepare(pool, as_of, model)
    parts = [c for i in pool if (c := contribution(target, i, as_of, model, prepared)) is not None]
    parts.sort(key=lambda c: c.points, reverse=True)
    score = round(sum(c.points for c in parts), 3)
    return Assessment(level_for(score, model), score, tuple(parts), as_of)


def is_diplomatic(site_type: str) -> bool:
    lowered = site_type.lower()
    return any(word in lowered for word in DIPLOMATIC_SITE_TYPES)
