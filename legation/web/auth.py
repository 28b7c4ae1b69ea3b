"""Who is logged in (a server-side session behind an HttpOnly cookie), roles and CSRF checks."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from legation.api.deps import SessionDep
from legation.storage.users import WebUser, user_for_token

COOKIE = "legation_session"
LOGIN_CSRF_COOKIE = "legation_login_csrf"
MAX_FORM_BYTES = 100_000
MAX_ID = 2**31 - 1  # the largest INTEGER key; a larger id in an address is refused (400)

# A row id in a page's address: out of the database's range is a bad address, not a crash.
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class Refused(Exception):
    """A logged-in user without the role an action needs (HTTP 403)."""


class BadForm(Exception):
    """A form without a valid CSRF token, or one that cannot be read (HTTP 400)."""


def current_user(request: Request, session: SessionDep) -> WebUser:
    token = request.cookies.get(COOKIE)
    settings = request.app.state.settings
    user = (
        user_for_token(
            session,
            token=token,
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_hours),
        )
        if token
        else None
    )
    if user is None:
        raise LoginRequired(request.url.path)
    return user


UserDep = Annotated[WebUser, Depends(current_user)]


def require_role(user: WebUser, role: str, action: str) -> None:
    if not user.can(role):
        raise Refused(f"{user.username} has role {user.role}; to {action} you need {role}")


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form, one value per field (the first). An over-large form is refused
    by its Content-Length before a byte is read, and stops being read when it passes the limit
    (a missing or false length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise BadForm(f"the form has {int(declared)} bytes; at most {MAX_FORM_BYTES} are read")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm(f"the form has more than {MAX_FORM_BYTES} bytes; no more are read")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm(f"the form cannot be read: {exc}") from exc
    return {k: v[0] for k, v in fields.items()}


def check_csrf(expected: str | None, form: dict[str, str]) -> None:
    sent = form.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise BadForm("the form's security token is missing or stale; reload the page and retry")


def form_user(
    request: Request, session: Session, form: dict[str, str], role: str, action: str
) -> WebUser:
    """The user behind a form: logged in, the form's CSRF token theirs, the role sufficient."""
    user = current_user(request, session)
    check_csrf(user.csrf_token, form)
    require_role(user, role, action)
    return user
