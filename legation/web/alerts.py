"""The alert inbox: triage (acknowledge, duplicate, false positive), assignment, polling."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from legation.alerting.service import set_alert_state
from legation.api.deps import SessionDep
from legation.domain.clock import utcnow
from legation.logs import get_logger
from legation.storage import dashboard as views
from legation.storage.db import transaction
from legation.storage.tables import AlertRow
from legation.storage.users import (
    assign_alert,
    usernames,
)
from legation.web.auth import (
    RowId,
    UserDep,
    form_user,
    read_form,
)
from legation.web.render import DONE, STATE_NAMES, render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)


INBOX_PAGE = 50
MAX_PAGE = 1_000_000  # far beyond any inbox; a larger number would overflow the database's OFFSET
SHOWN_STATES = (*views.INBOX_STATES, "resolved", "duplicate", "false_positive")


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    state: str = "open",
    done: str = "",
    page: Annotated[int, Query(le=MAX_PAGE)] = 1,
    sort: str = "level",
) -> Response:
    shown = state if state in SHOWN_STATES else None
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
            "stamp": views.alert_stamp(session),
            "users": usernames(session),
            "done": DONE.get(done),
        },
    )


def add_to_history(history: str | None, user: str, action: str, note: str | None) -> str:
    """The alert's triage history with one more line: when, who, what, and the note if any.
    Earlier lines are kept (a second action never erases the first one's note)."""
    line = f"{utcnow():%Y-%m-%d %H:%M} UTC · {user} · {action}"
    if note and note.strip():
        line += f": {' '.join(note.split())}"
    return f"{history}\n{line}" if history else line


@router.get("/alerts/updates.json")
def alert_updates(session: SessionDep, _user: UserDep) -> Response:
    """What the inbox polls: the newest alert id, the count per state and a stamp that changes
    with every new, changed or assigned alert."""
    return JSONResponse(
        {
            "newest": views.newest_alert_id(session),
            "counts": views.alert_counts(session),
            "stamp": views.alert_stamp(session),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/alerts/{alert_id}/state")
async def change_alert(request: Request, alert_id: RowId) -> Response:
    form = await read_form(request)
    state = form.get("state", "")
    with transaction(request.app.state.sessions) as session:
        user = form_user(request, session, form, "analyst", "change an alert")
        earlier = session.get(AlertRow, alert_id)
        history = earlier.note if earlier is not None else None
        alert = set_alert_state(
            session, alert_id=alert_id, state=state, user=user.username, note=None
        )
        action = STATE_NAMES.get(state, state)
        alert.note = add_to_history(history, user.username, action, form.get("note"))
    log.info("alert changed", alert=alert_id, state=state, user=user.username)
    return RedirectResponse(f"/alerts?done={quote(state)}", status_code=303)


@router.post("/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: RowId) -> Response:
    form = await read_form(request)
    with transaction(request.app.state.sessions) as session:
        user = form_user(request, session, form, "analyst", "assign an alert")
        assignee = form.get("assignee", "")
        assign_alert(session, alert_id=alert_id, assignee=assignee, by=user.username)
        alert = session.get(AlertRow, alert_id)
        if alert is not None:
            alert.note = add_to_history(alert.note, user.username, f"assigned to {assignee}", "")
    log.info("alert assigned", alert=alert_id, user=user.username)
    return RedirectResponse("/alerts?done=assigned", status_code=303)
