"""The situation pages: the map and its data, incidents, reports and sites."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from legation.api.deps import SessionDep
from legation.domain.clock import as_utc, utcnow
from legation.domain.vocab import taxonomy
from legation.errors import NotFoundError
from legation.storage import dashboard as views
from legation.storage.incidents import get_incident, incident_reports
from legation.storage.sites import get_site
from legation.storage.tables import ReportRow
from legation.web.auth import (
    RowId,
    UserDep,
)
from legation.web.highlight import evidence_spans, report_segments
from legation.web.render import render, type_labels

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(_user: UserDep) -> Response:
    return RedirectResponse("/map", status_code=303)


@router.get("/map")
def map_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    latest = views.latest_incident_date(session, not_after=utcnow().date())
    return render(
        request,
        "map.html",
        {
            "user": user,
            "sites": views.threatened_sites(session, min_level=2, limit=30),
            "incidents": views.latest_incidents(session, not_after=utcnow().date()),
            "labels": dict(type_labels()),
            "countries": views.site_countries(session),
            "types": type_labels(),
            "latest": latest,
            "tile_url": request.app.state.settings.tile_url,
        },
    )


@router.get("/map/data.json")
def map_data(session: SessionDep, _user: UserDep) -> Response:
    latest = views.latest_incident_date(session, not_after=utcnow().date())
    data: dict[str, Any] = {
        **views.map_points(session),
        "as_of": (latest or utcnow().date()).isoformat(),
    }
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, session: SessionDep, user: UserDep, incident_id: RowId
) -> Response:
    incident = get_incident(session, incident_id=incident_id)
    reports = []
    for r, e in incident_reports(session, incident_id=incident_id):
        title, body = report_segments(r.title, r.text, evidence_spans(e.data))
        reports.append({"row": r, "extraction": e.data, "title_segments": title, "segments": body})
    return render(
        request,
        "incident.html",
        {
            "user": user,
            "incident": incident,
            "type_label": _label(incident.type),
            "weapon_label": taxonomy().weapons.get(incident.weapon, incident.weapon),
            "reports": reports,
            "sites": views.sites_affected(session, incident_id=incident_id),
        },
    )


def _label(incident_type: str) -> str:
    found = taxonomy().incident_types.get(incident_type)
    return found.label if found else incident_type


@router.get("/reports/{report_id}")
def report_page(request: Request, session: SessionDep, user: UserDep, report_id: RowId) -> Response:
    row = session.get(ReportRow, report_id)
    if row is None:
        raise NotFoundError(f"report {report_id} does not exist")
    return render(request, "report.html", {"user": user, "report": row})


@router.get("/sites/{key}")
def site_page(request: Request, session: SessionDep, user: UserDep, key: str) -> Response:
    site = get_site(session, key=key)
    ids = [int(r["incident_id"]) for r in site.reasons if "incident_id" in r]
    found = views.incidents_by_id(session, ids=ids)
    history = views.level_history(session, site_id=site.id)
    return render(
        request,
        "site.html",
        {
            "user": user,
            "site": site,
            "reasons": [(r, found.get(int(r["incident_id"]))) for r in site.reasons],
            "labels": dict(type_labels()),
            "history": history,
            "chart": _history_chart(history),
            "staff": views.site_staff(session, site_id=site.id),
            "appearances": views.appearances(session, site_id=site.id),
        },
    )


def _history_chart(history: list[Any]) -> dict[str, Any] | None:
    """Points of a step chart of the level over time, in a 600 x 160 box (drawn as SVG)."""
    if not history:
        return None
    times = [as_utc(h.as_of).timestamp() for h in history]
    start, end = min(times), max(times)
    span = max(end - start, 1.0)
    width, height, left, top = 560.0, 120.0, 30.0, 10.0
    points = []
    for h, t in zip(history, times, strict=True):
        x = left + (t - start) / span * width if len(history) > 1 else left + width / 2
        y = top + (5 - h.level) / 4 * height
        points.append((round(x, 1), round(y, 1), h.level, as_utc(h.as_of)))
    steps = []
    for i, (x, y, _level, _when) in enumerate(points):
        if i:
            steps.append(f"{x},{points[i - 1][1]}")
        steps.append(f"{x},{y}")
    return {
        "points": points,
        "polyline": " ".join(steps),
        "ticks": [(lvl, top + (5 - lvl) / 4 * height) for lvl in range(1, 6)],
        "first": as_utc(history[0].as_of),
        "last": as_utc(history[-1].as_of),
    }
