"""Which (site, incident) pairs a rule alerts on."""

from __future__ import annotations

from dataclasses import dataclass

from legation.domain.geo import distance_km
from legation.storage.tables import IncidentRow, RuleRow, SiteRow


@dataclass(frozen=True, slots=True)
class Trigger:
    rule: RuleRow
    site: SiteRow | None
    incident: IncidentRow
    level: int


def rule_matches(rule: RuleRow, site: SiteRow | None, incident: IncidentRow) -> bool:
    """Every condition the rule sets must hold; unset conditions hold."""
    if not rule.enabled:
        return False
    if rule.incident_types and incident.type not in rule.incident_types:
        return False
    if site is None:
        return _area_matches(rule, incident) and rule.min_level is None
    checks = (
        rule.site_id is None or rule.site_id == site.id,
        rule.country_code is None or rule.country_code == site.country_code,
        rule.operator_code is None or rule.operator_code == site.operator_code,
        rule.min_level is None or site.level >= rule.min_level,
        _within_site_radius(rule, site, incident),
    )
    return all(checks)


def _within_site_radius(rule: RuleRow, site: SiteRow, incident: IncidentRow) -> bool:
    if rule.radius_km is None:
        return True
    centre = (rule.lat, rule.lon) if rule.lat is not None else (site.lat, site.lon)
    return _near(centre, incident, rule.radius_km)


def _area_matches(rule: RuleRow, incident: IncidentRow) -> bool:
    if rule.site_id is not None or rule.lat is None or rule.radius_km is None:
        return False
    if rule.country_code is not None and rule.country_code != incident.country:
        return False
    return _near((rule.lat, rule.lon), incident, rule.radius_km)


def _near(
    centre: tuple[float | None, float | None], incident: IncidentRow, radius_km: float
) -> bool:
    lat, lon = centre
    if None in (lat, lon, incident.lat, incident.lon):
        return False
    return distance_km(lat, lon, incident.lat, incident.lon) <= radius_km  # type: ignore[arg-type]
