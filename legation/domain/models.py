"""Domain objects: plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Span:
    """Where in a report's clean text a value came from."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """A value with the confidence and the text span behind it."""

    value: str
    confidence: float
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lon: float
    precision: str  # "city", "admin2", "admin1", "country"
    admin1: str | None = None
    geonameid: int | None = None


@dataclass(frozen=True, slots=True)
class Site:
    key: str
    name: str
    type: str
    operator: str  # sending state, as written in the registry
    operator_code: str | None  # ISO alpha-2 of the sending state
    country: str  # host country, as written in the registry
    country_code: str | None
    city: str
    lat: float | None
    lon: float | None
    qid: str | None = None


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A report as it arrives, before it is stored."""

    source: str
    text: str
    url: str | None = None
    title: str | None = None
    published: datetime | None = None
    language: str | None = None
    raw: str | None = None
    external_id: str | None = None


@dataclass(slots=True)
class Extraction:
    """What the extractor found in one report."""

    language: str
    is_incident: bool
    confidence: float
    type: Evidence | None = None
    weapon: Evidence | None = None
    date: date | None = None
    date_evidence: Evidence | None = None
    place: Place | None = None
    place_evidence: Evidence | None = None
    perpetrator_individuals: list[Evidence] = field(default_factory=list)
    perpetrator_organizations: list[Evidence] = field(default_factory=list)
    human_targets: list[Evidence] = field(default_factory=list)
    physical_targets: list[Evidence] = field(default_factory=list)
    target_categories: list[Evidence] = field(default_factory=list)
    target_states: list[str] = field(default_factory=list)  # ISO codes of targeted states
    weapon_mentions: list[Evidence] = field(default_factory=list)  # "MORTAR", "car bomb"
    # Other kinds of event the report also describes ("… and in another attack a bomb …"):
    # their type and first trigger; the roles above belong to the main one.
    also: list[Evidence] = field(default_factory=list)
    killed: Evidence | None = None
    injured: Evidence | None = None

    @property
    def type_name(self) -> str:
        return self.type.value if self.type else "other"

    @property
    def weapon_name(self) -> str:
        return self.weapon.value if self.weapon else "unknown"

    @property
    def killed_count(self) -> int:
        return int(self.killed.value) if self.killed else 0

    @property
    def injured_count(self) -> int:
        return int(self.injured.value) if self.injured else 0


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """The facts of an incident that fusion and assessment need."""

    id: int
    type: str
    date: date | None
    lat: float | None
    lon: float | None
    country: str | None
    killed: int
    injured: int
    target_categories: tuple[str, ...]
    target_states: tuple[str, ...]
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Contribution:
    """One incident's share of a site's threat score, with the reasons."""

    incident_id: int
    points: float
    severity: float
    distance_km: float | None
    proximity: float
    recency: float
    match: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """A level 1-5 with the score and the contributions that make it."""

    level: int
    score: float
    contributions: tuple[Contribution, ...]
    as_of: datetime

    @property
    def incident_ids(self) -> list[int]:
        return [c.incident_id for c in self.contributions]
