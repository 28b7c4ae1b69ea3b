"""Run a scenario folder end to end in a fresh database and report what the system concluded."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.domain.clock import as_utc
from legation.domain.models import ReportInput
from legation.errors import InputError
from legation.extract.text import clean_whitespace
from legation.ingest.documents import decode
from legation.ingest.service import store_reports
from legation.pipeline.registry import import_sites
from legation.pipeline.worker import drain
from legation.settings import Settings
from legation.storage.db import make_engine, session_factory
from legation.storage.incidents import incident_dict
from legation.storage.migrate import upgrade
from legation.storage.tables import AlertRow, ExtractionRow, IncidentRow, ReportRow, SiteRow


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    file: str
    language: str | None
    published: datetime
    source: str


def load_scenario(folder: Path) -> tuple[Path | None, list[ScenarioReport]]:
    path = folder / "scenario.json"
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"scenario {str(path)!r}: {exc}") from exc
    registry = (folder / doc["registry"]).resolve() if doc.get("registry") else None
    reports = [
        ScenarioReport(
            r["file"],
            r.get("language"),
            as_utc(datetime.fromisoformat(r["published"])),
            r.get("source", "scenario"),
        )
        for r in doc.get("reports", [])
    ]
    return registry, reports


def run_scenario(folder: Path, *, database_url: str | None = None) -> dict[str, Any]:
    """Registry, reports, pipeline as of the last publication; the conclusions as a dict.

    Runs in a fresh temporary SQLite database unless ``database_url`` names an empty one.
    """
    registry, reports = load_scenario(folder)
    with tempfile.TemporaryDirectory(prefix="legation-scenario-") as tmp:
        url = database_url or f"sqlite:///{tmp}/scenario.db"
        upgrade(url)
        engine = make_engine(url)
        try:
            factory = session_factory(engine)
            if registry is not None:
                import_sites(factory, registry)
            inputs = [_report_input(folder, r) for r in reports]
            store_reports(factory, inputs, max_bytes=Settings().max_report_bytes)
            as_of = max(r.published for r in reports)
            drain(factory, limit=100, clock=lambda: as_of)
            return _conclusions(factory)
        finally:
            engine.dispose()


def _report_input(folder: Path, report: ScenarioReport) -> ReportInput:
    path = folder / report.file
    warnings: list[str] = []
    text = clean_whitespace(decode(path.read_bytes(), str(path), warnings))
    return ReportInput(
        source=report.source,
        text=text,
        url=path.resolve().as_uri(),
        published=report.published,
        language=report.language,
        external_id=report.file,
    )


def _conclusions(factory: sessionmaker[Session]) -> dict[str, Any]:
    with factory() as session:
        files = _files_by_incident(session)
        incidents = [
            _incident_out(row, files.get(row.id, []))
            for row in session.scalars(select(IncidentRow).order_by(IncidentRow.id))
        ]
        in_incidents = {f for fs in files.values() for f in fs}
        all_files = session.scalars(select(ReportRow.external_id).order_by(ReportRow.id)).all()
        sites = session.scalars(
            select(SiteRow)
            .where(SiteRow.level >= 2)
            .order_by(SiteRow.level.desc(), SiteRow.score.desc())
        ).all()
        alerts = session.execute(
            select(AlertRow.incident_id, AlertRow.level, SiteRow.key)
            .join(SiteRow, SiteRow.id == AlertRow.site_id)
            .order_by(AlertRow.id)
        ).all()
        return {
            "incidents": incidents,
            "non_incidents": [f for f in all_files if f not in in_incidents],
            "sites": [_site_out(s) for s in sites],
            "alerts": [
                {"site_key": key, "incident_id": iid, "level": level} for iid, level, key in alerts
            ],
        }


def _files_by_incident(session: Session) -> dict[int, list[str]]:
    rows = session.execute(
        select(ExtractionRow.incident_id, ReportRow.external_id)
        .join(ReportRow, ReportRow.id == ExtractionRow.report_id)
        .where(ExtractionRow.incident_id.is_not(None))
        .order_by(ReportRow.id)
    ).all()
    out: dict[int, list[str]] = {}
    for incident_id, name in rows:
        if incident_id is not None:
            out.setdefault(incident_id, []).append(str(name))
    return out


def _incident_out(row: IncidentRow, files: list[str]) -> dict[str, Any]:
    """The stored incident, with individuals and organisations as one perpetrator list."""
    return {
        **incident_dict(row),
        "perpetrators": [*row.perpetrators, *row.organizations],
        "reports": files,
    }


def _site_out(row: SiteRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "operator": row.operator,
        "country": row.country,
        "city": row.city,
        "level": row.level,
        "reasons": list(dict.fromkeys(r["incident_id"] for r in row.reasons)),
    }
