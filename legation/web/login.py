"""Logging in and out: server-side sessions behind an HttpOnly cookie."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from legation.api.deps import SettingsDep
from legation.logs import get_logger
from legation.storage.db import transaction
from legation.storage.users import (
    authenticate_user,
    end_session,
    start_session,
)
from legation.web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    LoginRequired,
    check_csrf,
    current_user,
    read_form,
)
from legation.web.render import render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)


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
    name = form.get("username", "")[:100]
    if token is None:
        log.warning("login refused", user=name, client=_client(request))
        return render(
            request,
            "login.html",
            {"next": target, "csrf": form.get("csrf"), "error": "Wrong user name or password."},
            status_code=401,
        )
    log.info("login", user=name, client=_client(request))
    redirect = RedirectResponse(target, status_code=303)
    _set_cookie(request, redirect, COOKIE, token, max_age=int(settings.session_hours * 3600))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    with transaction(request.app.state.sessions) as session:
        try:
            user = current_user(request, session)
        except LoginRequired:  # expired or ended already: nothing to end, only the cookie
            user = None
        if user is not None:
            check_csrf(user.csrf_token, form)
            end_session(session, token=request.cookies.get(COOKIE, ""))
    if user is not None:
        log.info("logout", user=user.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _safe_next(target: str) -> str:
    """Only a path on this site is followed after login: no scheme, no host, and none of the
    '//' or '/\\' forms that browsers read as another host."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/map"
    if "\\" in target or any(ord(c) < 32 for c in target):
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
        samesite="lax",  # a link from an alert e-mail opens the page; forms carry CSRF tokens
        secure=settings.environment == "production",
    )
