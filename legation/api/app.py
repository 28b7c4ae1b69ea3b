"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from legation import __version__
from legation.api.errors import HANDLERS
from legation.api.routes import router
from legation.settings import Settings
from legation.storage.db import make_engine, session_factory


def create_app(settings: Settings) -> FastAPI:
    """Build the API on the database the settings name (migrated with ``legation db upgrade``)."""
    engine = make_engine(settings.sqlalchemy_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
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
    app.state.sessions = session_factory(engine)
    app.include_router(router, prefix="/api/v1")
    return app
