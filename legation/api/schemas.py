"""Request bodies of the API (responses are documented JSON objects built from the store)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ReportIn(BaseModel):
    text: str = Field(min_length=1, description="Clean text of the report.")
    title: str | None = None
    url: str | None = None
    published: datetime | None = Field(default=None, description="ISO 8601 publication time.")
    language: str | None = Field(default=None, description="ISO 639-1; detected when absent.")
    source: str = "push"
    id: str | None = Field(default=None, description="Your identifier for the report.")


class SiteIn(BaseModel):
    key: str
    name: str
    type: str = "embassy"
    operator: str = ""
    country: str = ""
    city: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    qid: str | None = None


class StaffIn(BaseModel):
    site_key: str | None = None
    name: str
    role: str = "staff"
    email: str | None = None
    is_security_officer: bool = False


class PersonIn(BaseModel):
    name: str
    role: str = ""
    site_key: str | None = None
    nationality: str | None = Field(default=None, description="Country name or ISO code.")


class AppearanceIn(BaseModel):
    person_id: int
    venue: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: str | None = Field(default=None, description="Host country name or ISO code.")
    starts_at: datetime
    ends_at: datetime


class AlertStateIn(BaseModel):
    state: str = Field(description="acknowledged, resolved, duplicate or false_positive")
    note: str | None = None


class ChannelIn(BaseModel):
    name: str
    kind: str = Field(description="email, webhook, slack or teams")
    target: str = Field(description="E-mail address or webhook URL")


class RuleIn(BaseModel):
    name: str
    site_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = Field(default=None, gt=0)
    country: str | None = None
    operator: str | None = None
    min_level: int | None = Field(default=None, ge=1, le=5)
    incident_types: list[str] = []
    channels: list[str] = Field(default=[], description="Channel names")
    escalation_channels: list[str] = []
    notify_officers: bool = True


class KeyIn(BaseModel):
    name: str
    role: str = Field(description="viewer, analyst or admin")
