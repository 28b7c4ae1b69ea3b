"""Appearance planning: plan an appearance, see its level, reasons and checklist."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from legation.api.deps import SessionDep
from legation.domain.clock import as_utc, utcnow
from legation.domain.countries import country_code
from legation.errors import InputError, NotFoundError
from legation.pipeline.worker import store_appearance
from legation.storage import dashboard as views
from legation.storage.db import transaction
from legation.storage.sites import get_site
from legation.storage.tables import AppearanceRow, PersonRow
from legation.storage.users import WebUser
from legation.web.auth import (
    MAX_ID,
    RowId,
    UserDep,
    form_user,
    read_form,
)
from legation.web.render import DONE, render, type_labels

router = APIRouter(include_in_schema=False)


@router.get("/appearances")
def appearances_page(
    request: Request, session: SessionDep, user: UserDep, done: str = ""
) -> Response:
    return _appearances(request, session, user, done=DONE.get(done))


def _appearances(
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
            user = form_user(request, session, form, "analyst", "plan an appearance")
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
    row = store_appearance(
        session,
        person_id=person_id,
        venue=venue,
        lat=lat,
        lon=lon,
        country_code=code,
        starts_at=starts,
        ends_at=ends,
        as_of=utcnow(),
    )
    return row.id


def _person_id(session: Session, form: dict[str, str]) -> int:
    chosen = form.get("person_id", "")
    if chosen.isdigit():
        if int(chosen) > MAX_ID or session.get(PersonRow, int(chosen)) is None:
            raise NotFoundError(f"protected person {chosen} does not exist")
        return int(chosen)
    name = form.get("person_name", "").strip()
    if not name:
        raise ValueError("choose a protected person or give the name of a new one")
    nationality = form.get("nationality", "").strip()
    nationality_code = country_code(nationality) if nationality else None
    if nationality and nationality_code is None:
        raise ValueError(f"nationality {nationality!r} is unknown; use a country name or ISO code")
    site_key = form.get("person_site", "").strip()
    row = PersonRow(
        name=name,
        role=form.get("person_role", "").strip(),
        nationality=nationality_code,
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
    request: Request, session: SessionDep, user: UserDep, appearance_id: RowId, done: str = ""
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
            "labels": dict(type_labels()),
            "done": DONE.get(done),
        },
    )
