"""Dependencies: a database session per request and API-key authentication with roles."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from legation.errors import AuthError, ForbiddenError
from legation.settings import Settings
from legation.storage.keys import ROLES, role_for_key


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    role: str


async def get_settings(request: Request) -> Settings:
    """Async: no I/O, so FastAPI need not hand it to a worker thread (a hop per request)."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def authenticate(request: Request, session: SessionDep, settings: SettingsDep) -> Caller:
    key = _presented_key(request)
    if not key:
        raise AuthError("no API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    if hmac.compare_digest(key.encode(), settings.admin_api_key.get_secret_value().encode()):
        return Caller("admin (bootstrap key)", "admin")
    found = role_for_key(session, key=key)
    if found is None:
        raise AuthError("the API key is unknown or revoked")
    return Caller(*found)


def require(role: str) -> Callable[..., Caller]:
    """A dependency that admits callers with ``role`` or a higher one."""
    needed = ROLES.index(role)

    def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if ROLES.index(caller.role) < needed:
            raise ForbiddenError(f"{caller.name!r} has role {caller.role!r}; this needs {role!r}")
        return caller

    return check


Viewer = Annotated[Caller, Depends(require("viewer"))]
Analyst = Annotated[Caller, Depends(require("analyst"))]
Admin = Annotated[Caller, Depends(require("admin"))]
