"""What Legation shares, as plain data: the sharing engine maps these to and from STIX 2.1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class SharedPlace:
    name: str
    country: str | None  # ISO 3166-1 alpha-2
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class SharedReport:
    """A source report behind an incident."""

    title: str
    url: str | None
    source: str
    published: datetime


@dataclass(frozen=True, slots=True)
class SharedIncident:
    key: str  # stable local key, e.g. "incident/12"; the STIX id derives from it
    type: str
    weapon: str
    date: date | None
    place: SharedPlace | None
    killed: int
    injured: int
    target_categories: tuple[str, ...]
    target_states: tuple[str, ...]
    perpetrators: tuple[str, ...]
    reports: tuple[SharedReport, ...]
    confidence: float
    created: datetime
    modified: datetime
    tlp: str = "amber"


@dataclass(frozen=True, slots=True)
class SharedSite:
    key: str
    name: str
    type: str
    operator_code: str | None
    country_code: str | None
    city: str
    lat: float | None
    lon: float | None
