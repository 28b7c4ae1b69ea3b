"""The application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from legation import __version__
from legation.api.errors import HANDLERS, error_body
from legation.api.routes import router
from legation.api.screening import router as screening_router
from legation.api.taxii import router as taxii_router
from legation.settings import Settings
from legation.storage.db import make_engine, session_factory
from legation.web.app import mount_web

MAX_BODY_REPORTS = 10  # a request body may hold this many maximum-size reports


class BodyLimit:
    """Refuse bodies over ``limit`` bytes by their Content-Length, before reading them.

    Plain ASGI rather than ``app.middleware("http")``: Starlette's BaseHTTPMiddleware runs
    every request through a task group and a memory stream, which cost a TAXII lookup more
    than its query did. TAXII (``exempt``) has its own max_content_length.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt: str = "/taxii2/") -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.exempt):
            refusal = self._refusal(Headers(scope=scope), scope["method"])
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: Headers, method: str) -> Response | None:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            message = f"request body of {length} bytes is over the limit of {self.limit} bytes"
            return JSONResponse(error_body("TooLargeError", message), status_code=413)
        if length is None and method in ("POST", "PUT", "PATCH"):
            message = "request body without Content-Length is refused; send the length"
            return JSONResponse(error_body("LengthRequired", message), status_code=411)
        return None


_frozen = False


def _freeze_startup_objects() -> None:
    """Leave the objects made while starting (modules, classes, the app) out of the cyclic
    garbage collector's full passes, once per process.

    A full pass walks every tracked object; with FastAPI, SQLAlchemy and stix2 loaded that
    took 45-95 ms on this machine, a pause in whichever request triggered it (one of the 50
    posts of the TAXII benchmark took 105 ms instead of 5). What is frozen is what lives as
    long as the process anyway; garbage from before is collected first, and everything
    made later is collected as before.
    """
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def create_app(settings: Settings) -> FastAPI:
    """Build the API on the database the settings name (migrated with ``legation db upgrade``)."""
    engine = make_engine(settings.sqlalchemy_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _freeze_startup_objects()
        yield
        engine.dispose()

    app = FastAPI(
        title="Legation",
        version=__version__,
        description="Protective intelligence: sites, incidents, threat levels, alerts.",
        lifespan=lifespan,
        # Interactive docs are served outside production only; the API itself always needs a key.
        docs_url=None if settings.environment == "production" else "/docs",
        redoc_url=None,
        openapi_url=None if settings.environment == "production" else "/openapi.json",
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
    )
    app.state.settings = settings
    app.add_middleware(BodyLimit, limit=settings.max_report_bytes * MAX_BODY_REPORTS)
    app.state.sessions = session_factory(engine)
    app.include_router(router, prefix="/api/v1")
    app.include_router(screening_router, prefix="/api/v1")
    app.state.taxii_logins = {}
    app.include_router(taxii_router)
    mount_web(app, settings)  # the dashboard, at / (last: its pages must not shadow the APIs)
    return app
