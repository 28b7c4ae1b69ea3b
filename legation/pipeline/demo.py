"""The demo: a small registry and a corpus of past incidents, replayed as of the last report."""

from __future__ import annotations

import csv
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import alert_dict
from legation.ingest.documents import read_file
from legation.ingest.service import store_batch
from legation.pipeline.registry import import_sites
from legation.pipeline.worker import drain
from legation.settings import Settings
from legation.storage.db import make_engine, session_factory, transaction
from legation.storage.migrate import upgrade
from legation.storage.sites import get_site, site_dict
from legation.storage.tables import AlertRow, ReportRow, SiteRow, StaffRow
from legation.storage.users import UserRow, create_user

DEMO_USER = "demo-admin"


def _demo_login(factory: sessionmaker[Session], settings: Settings) -> dict[str, str] | None:
    """Outside production, a first run makes an admin login for the dashboard with a fresh
    random password (shown once, never stored in clear); later runs make none."""
    if settings.environment == "production":
        return None
    with transaction(factory) as session:
        if session.scalar(select(UserRow.id).limit(1)) is not None:
            return None
        password = secrets.token_urlsafe(12)
        create_user(session, username=DEMO_USER, password=password, role="admin")
    return {"username": DEMO_USER, "password": password}


def demo_file(name: str) -> Path:
    return Path(str(resources.files("legation.demo").joinpath(name)))


def run_demo(settings: Settings) -> dict[str, Any]:
    """Migrate, load registry, staff and reports (idempotent), process, summarise."""
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        factory = session_factory(engine)
        import_sites(factory, demo_file("registry.csv"))
        _load_staff(factory)
        batch = read_file(
            demo_file("reports.jsonl"), source="demo", max_bytes=settings.max_report_bytes
        )
        store_batch(factory, batch, max_bytes=settings.max_report_bytes)
        as_of = max(r.published for r in batch.reports if r.published)
        drain(factory, limit=settings.worker_batch, clock=lambda: as_of)
        login = _demo_login(factory, settings)
        with factory() as session:
            sites = session.scalars(
                select(SiteRow).order_by(SiteRow.level.desc(), SiteRow.score.desc())
            ).all()
            alerts = session.scalars(
                select(AlertRow).order_by(AlertRow.level.desc(), AlertRow.id)
            ).all()
            reports = session.scalar(select(ReportRow.id).order_by(ReportRow.id.desc()))
            return {
                "as_of": as_of.isoformat(),
                "sites": [
                    {**site_dict(s), "reasons": [r["incident_id"] for r in s.reasons]}
                    for s in sites
                ],
                "alerts": [alert_dict(a) for a in alerts],
                "last_report": reports,
                "login": login,
            }
    finally:
        engine.dispose()


def _load_staff(factory: Any) -> None:
    with transaction(factory) as session, demo_file("staff.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if session.scalar(select(StaffRow.id).where(StaffRow.email == row["email"])) is None:
                site = get_site(session, key=row["site_key"])
                session.add(
                    StaffRow(
                        site_id=site.id,
                        name=row["name"],
                        role=row["role"],
                        email=row["email"],
                        is_security_officer=row["is_security_officer"] == "true",
                    )
                )
