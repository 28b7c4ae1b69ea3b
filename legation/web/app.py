"""Mount the dashboard on the API's FastAPI app: pages, static assets, headers, error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legation.api.errors import STATUS
from legation.errors import LegationError
from legation.settings import Settings
from legation.web import admin, alerts, login, pages, planning, screening
from legation.web import partners as partners_pages
from legation.web.auth import BadForm, LoginRequired, Refused
from legation.web.render import render
from legation.web.throttle import LoginThrottle

NOT_WEB = ("/api/", "/taxii2", "/docs", "/openapi.json", "/redoc")
Handler = Callable[[Request, Exception], Awaitable[Response]]


def content_security_policy(settings: Settings) -> str:
    """Scripts and styles only from this origin; tiles from their host when one is set."""
    images = "'self' data:"
    if settings.tile_url:
        parts = urlsplit(settings.tile_url)
        hosts = {parts.netloc.replace("{s}", sub) for sub in "abc"}
        images += "".join(f" {parts.scheme}://{host}" for host in sorted(hosts))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def _is_web(request: Request) -> bool:
    return not request.url.path.startswith(NOT_WEB)


class SecurityHeaders:
    """The dashboard's security headers on its answers; HSTS on every answer in production.

    Plain ASGI rather than ``app.middleware("http")``: Starlette's BaseHTTPMiddleware runs
    every request, API and TAXII ones too, through a task group and a memory stream.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.policy = content_security_policy(settings)
        self.production = settings.environment == "production"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        web = scope["type"] == "http" and not path.startswith(NOT_WEB)
        if not (web or (self.production and scope["type"] == "http")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(MutableHeaders(scope=message), web, path)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _add(self, headers: MutableHeaders, web: bool, path: str) -> None:
        if web:
            headers["Content-Security-Policy"] = self.policy
            headers["X-Content-Type-Options"] = "nosniff"
            headers["X-Frame-Options"] = "DENY"
            headers["Referrer-Policy"] = "same-origin"
            headers["Cross-Origin-Opener-Policy"] = "same-origin"
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
            if not path.startswith("/static/"):
                headers.setdefault("Cache-Control", "no-store")
        if self.production:  # served over TLS: browsers keep to https for a year
            headers["Strict-Transport-Security"] = "max-age=31536000"


# Where a form sent without a valid session goes back to after the new login: the page that
# shows what the form changes (the form's own address only answers POST).
AFTER_LOGIN = (
    ("/alerts", "/alerts"),
    ("/appearances", "/appearances"),
    ("/admin", "/admin/users"),
    ("/screening", "/screening"),
)


def return_page(request: Request) -> str:
    """The page to come back to after logging in: the address itself for GET (and HEAD),
    otherwise a page that answers GET, never the POST-only address."""
    path = request.url.path
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return f"{path}?{query}" if query else path
    return next((page for prefix, page in AFTER_LOGIN if path.startswith(prefix)), "/map")


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.url.path.endswith(".json"):
        return Response('{"error": "log in first"}', 401, media_type="application/json")
    return RedirectResponse(f"/login?next={quote(return_page(request), safe='/')}", 303)


async def _error_page(request: Request, exc: Exception) -> Response:
    status = 403 if isinstance(exc, Refused) else 400
    if isinstance(exc, LegationError):
        status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    return render(request, "error.html", {"status": status, "message": str(exc)}, status)


def _web_or(api_handler: Handler) -> Handler:
    """Error pages for the dashboard's paths; the API keeps its JSON errors."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not _is_web(request):
            return await api_handler(request, exc)
        if isinstance(exc, RequestValidationError):
            parts = [f"{e['loc'][-1]} {e.get('input')!r}: {e['msg']}" for e in exc.errors()]
            message = f"the address {request.url.path!r} is not valid: {'; '.join(parts)}"
            return render(request, "error.html", {"status": 400, "message": message}, 400)
        return await _error_page(request, exc)

    return handle


PLAIN = {404: "there is no page at {path}", 405: "{path} does not answer {method}"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown addresses and methods: the error page on the dashboard's paths, JSON elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    if not _is_web(request) or request.url.path.startswith("/static/"):
        return await http_exception_handler(request, exc)
    template = PLAIN.get(exc.status_code, "{detail}")
    message = template.format(path=request.url.path, method=request.method, detail=exc.detail)
    response = render(request, "error.html", {"status": exc.status_code, "message": message})
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Add the dashboard to ``app`` at ``/`` (the API stays under ``/api/v1``)."""
    for module in (login, pages, alerts, planning, admin, screening):
        app.include_router(module.router)
    app.include_router(partners_pages.router)
    static = resources.files("legation.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static), check_dir=False), name="static")
    app.state.login_throttle = LoginThrottle()
    app.state.screening_jobs = {}
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Refused, _error_page)
    app.add_exception_handler(BadForm, _error_page)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for kind in (LegationError, RequestValidationError):
        api_handler: Handler = app.exception_handlers[kind]  # type: ignore[assignment]
        app.add_exception_handler(kind, _web_or(api_handler))
