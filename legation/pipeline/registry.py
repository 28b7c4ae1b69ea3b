"""Importing a site registry file into the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from legation.ingest.registry import read_registry
from legation.storage.db import transaction
from legation.storage.sites import upsert_sites


@dataclass(slots=True)
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unlocated: int = 0


def import_sites(factory: sessionmaker[Session], path: Path) -> ImportResult:
    """Read a registry file and upsert its sites in one transaction (idempotent)."""
    parsed = read_registry(path)
    with transaction(factory) as session:
        added, updated, unchanged = upsert_sites(session, sites=parsed.sites)
    return ImportResult(added, updated, unchanged, parsed.errors, parsed.warnings, parsed.unlocated)
