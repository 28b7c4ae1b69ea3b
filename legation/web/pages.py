"""The dashboard's pages: map, alert inbox, incident, site and appearance planning, and login."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from legation.alerting.service import set_alert_state
from legation.api.deps import SessionDep, SettingsDep
from legation.domain.clock import as_utc, utcnow
from legation.domain.countries import country_code
from legation.domain.vocab import INCIDENT_TYPES, taxonomy
from legation.errors import ConflictError, InputError, NotFoundError
from legation.pipeline.worker import assess_appearance_row
from legation.storage import dashboard as views
from legation.storage.db import transaction
from legation.storage.incidents import get_incident, incident_reports
from legation.storage.sites import get_site
from legation.storage.tables import AppearanceRow, PersonRow, ReportRow
from legation.storage.users import (
    WebUser,
    assign_alert,
    authenticate_user,
    create_user,
    end_session,
    list_users,
    start_session,
    usernames,
)
from legation.web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    UserDep,
    check_csrf,
    current_user,
    read_form,
    require_role,
)
from legation.web.highlight import evidence_spans, segments
from legation.web.render import render

router = APIRouter(include_in_schema=False)
ALERT_ACTIONS = {
    "acknowledged": "acknowledged",
    "duplicate": "marked as duplicate",
    "false_positive": "marked as false positive",
    "resolved": "resolved",
}
DONE = {  # messages shown after a redirect, chosen by code (never text from the URL)
    **ALERT_ACTIONS,
    "assigned": "assigned",
    "planned": "planned and assessed",
    "user": "user created",
}


# ---- login ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/map") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": _safe_next(next), "csrf": token})
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    form = await read_form(request)
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE), form)
    target = _safe_next(form.get("next", "/map"))
    with transaction(request.app.state.sessions) as session:
        user = authenticate_user(
            session, username=form.get("username", ""), password=form.get("password", "")
        )
        token = None
        if user is not None:
            lifetime = timedelta(hours=settings.session_hours)
            token = start_session(session, user_id=user.id, lifetime=lifetime)
    if token is None:
        return render(
            request,
            "login.html",
            {"next": target, "csrf": form.get("csrf"), "error": "Wrong user name or password."},
            status_code=401,
        )
    redirect = RedirectResponse(target, status_code=303)
    _set_cookie(request, redirect, COOKIE, token, max_age=int(settings.session_hours * 3600))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    with transaction(request.app.state.sessions) as session:
        user = current_user(request, session)
        check_csrf(user.csrf_token, form)
        end_session(session, token=request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no host, no '//' trick) is followed after login."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/map"
    return target


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )


# ---- map -----------------------------------------------------------------------------------


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
            "countries": views.site_countries(session),
            "types": _type_labels(),
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


def _type_labels() -> list[tuple[str, str]]:
    labels = taxonomy().incident_types
    return [(t, labels[t].label) for t in INCIDENT_TYPES]


# ---- alerts --------------------------------------------------------------------------------


INBOX_PAGE = 50


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    state: str = "open",
    done: str = "",
    page: int = 1,
    sort: str = "level",
) -> Response:
    shown = state if state in (*views.INBOX_STATES, "duplicate", "false_positive") else None
    page = max(1, page)
    counts = views.alert_counts(session)
    total = (
        counts.get("new", 0) + counts.get("escalated", 0) if shown is None else counts.get(shown, 0)
    )
    return render(
        request,
        "alerts.html",
        {
            "user": user,
            "state": shown or "open",
            "alerts": views.inbox(
                session,
                state=shown,
                newest_first=sort == "newest",
                limit=INBOX_PAGE,
                offset=(page - 1) * INBOX_PAGE,
            ),
            "sort": "newest" if sort == "newest" else "level",
            "counts": counts,
            "page": page,
            "pages": max(1, -(-total // INBOX_PAGE)),
            "total": total,
            "newest": views.newest_alert_id(session),
            "users": usernames(session),
            "done": DONE.get(done),
        },
    )


@router.get("/alerts/updates.json")
def alert_updates(session: SessionDep, _user: UserDep) -> Response:
    """What the inbox polls: the newest alert id and the count per state."""
    return JSONResponse(
        {"newest": views.newest_alert_id(session), "counts": views.alert_counts(session)},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/alerts/{alert_id}/state")
async def change_alert(request: Request, alert_id: int) -> Response:
    form = await read_form(request)
    state = form.get("state", "")
    with transaction(request.app.state.sessions) as session:
        user = _poster(request, session, form, "analyst", "change an alert")
        set_alert_state(
            session,
            alert_id=alert_id,
            state=state,
            user=user.username,
            note=form.get("note") or None,
        )
    return RedirectResponse(f"/alerts?done={quote(state)}", status_code=303)


@router.post("/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: int) -> Response:
    form = await read_form(request)
    with transaction(request.app.state.sessions) as session:
        user = _poster(request, session, form, "analyst", "assign an alert")
        assign_alert(
            session, alert_id=alert_id, assignee=form.get("assignee", ""), by=user.username
        )
    return RedirectResponse("/alerts?done=assigned", status_code=303)


def _poster(
    request: Request, session: Session, form: dict[str, str], role: str, action: str
) -> WebUser:
    """The user behind a form: logged in, the form's CSRF token theirs, the role sufficient."""
    user = current_user(request, session)
    check_csrf(user.csrf_token, form)
    require_role(user, role, action)
    return user


# ---- incident and site ---------------------------------------------------------------------


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, session: SessionDep, user: UserDep, incident_id: int
) -> Response:
    incident = get_incident(session, incident_id=incident_id)
    reports = [
        {"row": r, "extraction": e.data, "segments": segments(r.text, evidence_spans(e.data))}
        for r, e in incident_reports(session, incident_id=incident_id)
    ]
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
def report_page(request: Request, session: SessionDep, user: UserDep, report_id: int) -> Response:
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
            "labels": dict(_type_labels()),
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


# ---- appearances ---------------------------------------------------------------------------


@router.get("/appearances")
def appearances_page(
    request: Request, session: SessionDep, user: UserDep, done: str = ""
) -> Response:
    return _appearances(request, session, user, done=DONE.get(done))


def _appearances(
    request: Request,
    session: SessionDep,
    user: Any,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "appearances.html",
        {
            "user": user,
            "items": views.appearances(session),
            "persons": views.persons(session),
            "done": done,
            "error": error,
            "form": form or {},
        },
        status_code=400 if error else 200,
    )


@router.post("/appearances")
async def plan_appearance(request: Request) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    try:
        with transaction(factory) as session:
            user = _poster(request, session, form, "analyst", "plan an appearance")
            new_id = _save_appearance(session, form)
    except (InputError, NotFoundError, ValueError) as exc:
        with factory() as session:
            return _appearances(request, session, user, error=str(exc), form=form)
    return RedirectResponse(f"/appearances/{new_id}?done=planned", status_code=303)


def _save_appearance(session: Session, form: dict[str, str]) -> int:
    venue = form.get("venue", "").strip()
    if not venue:
        raise ValueError("the venue is empty; name the place of the appearance")
    lat, lon = _number(form, "lat", -90, 90), _number(form, "lon", -180, 180)
    starts, ends = _when(form, "starts_at"), _when(form, "ends_at")
    if ends <= starts:
        raise ValueError(f"the appearance at {venue!r} ends ({ends}) before it starts ({starts})")
    country = form.get("country", "").strip()
    code = country_code(country) if country else None
    if country and code is None:
        raise ValueError(f"country {country!r} is unknown; use a name or an ISO code")
    person_id = _person_id(session, form)
    row = AppearanceRow(
        person_id=person_id,
        venue=venue,
        lat=lat,
        lon=lon,
        country_code=code,
        starts_at=starts,
        ends_at=ends,
        level=1,
        reasons=[],
        checklist=[],
    )
    session.add(row)
    session.flush()
    assess_appearance_row(session, row, utcnow())
    return row.id


def _person_id(session: Any, form: dict[str, str]) -> int:
    chosen = form.get("person_id", "")
    if chosen.isdigit():
        if session.get(PersonRow, int(chosen)) is None:
            raise NotFoundError(f"protected person {chosen} does not exist")
        return int(chosen)
    name = form.get("person_name", "").strip()
    if not name:
        raise ValueError("choose a protected person or give the name of a new one")
    nationality = form.get("nationality", "").strip()
    site_key = form.get("person_site", "").strip()
    row = PersonRow(
        name=name,
        role=form.get("person_role", "").strip(),
        nationality=country_code(nationality) if nationality else None,
        site_id=get_site(session, key=site_key).id if site_key else None,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def _number(form: dict[str, str], name: str, low: float, high: float) -> float:
    raw = form.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low} to {high}")
    return value


def _when(form: dict[str, str], name: str) -> datetime:
    raw = form.get(name, "").strip()
    try:
        return as_utc(datetime.fromisoformat(raw))
    except ValueError:
        raise ValueError(f"{name.replace('_', ' ')} {raw!r} is not a date and time") from None


@router.get("/appearances/{appearance_id}")
def appearance_page(
    request: Request, session: SessionDep, user: UserDep, appearance_id: int, done: str = ""
) -> Response:
    row = session.get(AppearanceRow, appearance_id)
    if row is None:
        raise NotFoundError(f"appearance {appearance_id} does not exist")
    ids = [int(r["incident_id"]) for r in row.reasons if "incident_id" in r]
    found = views.incidents_by_id(session, ids=ids)
    return render(
        request,
        "appearance.html",
        {
            "user": user,
            "item": row,
            "person": session.get(PersonRow, row.person_id),
            "reasons": [(r, found.get(int(r["incident_id"]))) for r in row.reasons],
            "labels": dict(_type_labels()),
            "done": DONE.get(done),
        },
    )


# ---- users (admin) -------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, user: UserDep, done: str = "") -> Response:
    require_role(user, "admin", "manage users")
    return _users(request, session, user, done=DONE.get(done))


def _users(
    request: Request,
    session: Session,
    user: WebUser,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "user": user,
            "users": list_users(session),
            "done": done,
            "error": error,
            "form": form or {},
        },
        status_code=400 if error else 200,
    )


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    try:
        with transaction(factory) as session:
            user = _poster(request, session, form, "admin", "manage users")
            create_user(
                session,
                username=form.get("username", "").strip(),
                password=form.get("password", ""),
                role=form.get("role", ""),
            )
    except (InputError, ConflictError) as exc:
        form.pop("password", None)
        with factory() as session:
            return _users(request, session, user, error=str(exc), form=form)
    return RedirectResponse("/admin/users?done=user", status_code=303)
