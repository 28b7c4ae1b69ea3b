"""The alert inbox: triage (acknowledge, duplicate, false positive), assignment, polling."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from legation.alerting.service import set_alert_state
from legation.api.deps import SessionDep
from legation.logs import get_logger
from legation.storage import dashboard as views
from legation.storage.db import transaction
from legation.storage.users import (
    assign_alert,
    usernames,
)
from legation.web.auth import (
    UserDep,
    form_user,
    read_form,
)
from legation.web.render import DONE, render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)


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
        user = form_user(request, session, form, "analyst", "change an alert")
        set_alert_state(
            session,
            alert_id=alert_id,
            state=state,
            user=user.username,
            note=form.get("note") or None,
        )
    log.info("alert changed", alert=alert_id, state=state, user=user.username)
    return RedirectResponse(f"/alerts?done={quote(state)}", status_code=303)


@router.post("/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: int) -> Response:
    form = await read_form(request)
    with transaction(request.app.state.sessions) as session:
        user = form_user(request, session, form, "analyst", "assign an alert")
        assign_alert(
            session, alert_id=alert_id, assignee=form.get("assignee", ""), by=user.username
        )
    return RedirectResponse("/alerts?done=assigned", status_code=303)
