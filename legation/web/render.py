"""Jinja2 templates with autoescaping on, and the few filters the pages share."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from legation.domain.clock import as_utc
from legation.domain.vocab import INCIDENT_TYPES, taxonomy

LEVEL_NAMES = {1: "Low", 2: "Guarded", 3: "Elevated", 4: "High", 5: "Critical"}
STATE_NAMES = {
    "new": "New",
    "escalated": "Escalated",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "duplicate": "Duplicate",
    "false_positive": "False positive",
}
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "tr": "Turkish"}
DONE = {  # messages shown after a redirect, chosen by code (never text from the URL)
    "acknowledged": "acknowledged",
    "duplicate": "marked as duplicate",
    "false_positive": "marked as false positive",
    "resolved": "resolved",
    "assigned": "assigned",
    "planned": "planned and assessed",
    "user": "user created",
    "user-disable": "user disabled (their sessions ended)",
    "user-enable": "user enabled",
    "user-role": "role changed",
    "user-password": "password set (the user's sessions ended)",
}


def type_labels() -> list[tuple[str, str]]:
    """(key, label) of every incident type, in the taxonomy's order."""
    labels = taxonomy().incident_types
    return [(t, labels[t].label) for t in INCIDENT_TYPES]


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


@cache
def environment() -> Environment:
    folder = resources.files("legation.web") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.globals["LEVEL_NAMES"] = LEVEL_NAMES
    env.globals["STATE_NAMES"] = STATE_NAMES
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    return env


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = {"path": request.url.path, "user": None, "done": None, "error": None, "refresh": None}
    html = environment().get_template(name).render({**page, **context})
    return HTMLResponse(html, status_code=status_code)
