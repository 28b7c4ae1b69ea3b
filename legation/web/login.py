"""Logging in and out: server-side sessions behind an HttpOnly cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from math import ceil
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from legation.api.deps import SettingsDep
from legation.logs import get_logger
from legation.settings import Settings
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
from legation.web.throttle import LoginThrottle

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
    name, client = form.get("username", ""), _client(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.wait_seconds(name, client)
    if wait > 0:
        log.warning("login locked out", user=name_for_log(name), client=client)
        message = (
            f"Too many wrong passwords for this user name from your address: "
            f"try again in {_duration(wait)}."
        )
        return _login_again(request, target, form, message, 429, {"Retry-After": str(ceil(wait))})
    with transaction(request.app.state.sessions) as session:
        user = authenticate_user(session, username=name, password=form.get("password", ""))
        token = None
        if user is not None:
            # A new login in this browser ends its earlier session (no second live token).
            earlier = request.cookies.get(COOKIE)
            if earlier:
                end_session(session, token=earlier)
            token = start_session(session, user_id=user.id, lifetime=session_lifetime(settings))
    if token is None:
        throttle.failed(name, client)
        log.warning("login refused", user=name_for_log(name), client=client)
        return _login_again(request, target, form, "Wrong user name or password.", 401)
    throttle.succeeded(name, client)
    log.info("login", user=name[:100], client=client)
    redirect = RedirectResponse(target, status_code=303)
    _set_cookie(request, redirect, COOKIE, token, max_age=int(settings.session_hours * 3600))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


def session_lifetime(settings: Settings) -> timedelta:
    """A new session's first expiry: the idle timeout, or the whole lifetime when shorter."""
    return min(timedelta(hours=settings.session_hours), settings_idle(settings))


def settings_idle(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes)


def name_for_log(name: str) -> str:
    """A refused user name is not logged as typed (it may be a password typed in the wrong
    field): its length and a hash prefix are enough to see repeated attempts."""
    digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:10]
    return f"sha256:{digest} ({len(name)} characters)"


def _duration(seconds: float) -> str:
    whole = ceil(seconds)
    if whole < 120:
        return f"{whole} seconds"
    return f"{ceil(whole / 60)} minutes"


def _login_again(
    request: Request,
    target: str,
    form: dict[str, str],
    error: str,
    status: int,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render(
        request,
        "login.html",
        {"next": target, "csrf": form.get("csrf"), "error": error},
        status_code=status,
    )
    response.headers.update(headers or {})
    return response


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
