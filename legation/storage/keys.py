"""API keys: only their SHA-256 is stored; the key itself is shown once at creation."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.errors import ConflictError, InputError
from legation.storage.tables import ApiKeyRow

ROLES = ("viewer", "analyst", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, *, name: str, role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None:
        raise ConflictError(f"an API key named {name!r} exists already")
    key = "lg_" + secrets.token_urlsafe(32)
    session.add(
        ApiKeyRow(name=name, key_hash=hash_key(key), role=role, created_at=utcnow(), revoked=False)
    )
    return key


def role_for_key(session: Session, *, key: str) -> tuple[str, str] | None:
    """(name, role) of an active key, or None."""
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key)))
    if row is None or row.revoked:
        return None
    return row.name, row.role
