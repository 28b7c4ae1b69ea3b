"""Storing what was read, and polling the sources that are due."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from legation.domain.clock import utcnow
from legation.domain.models import ReportInput
from legation.errors import InputError, SourceError
from legation.ingest.documents import Batch
from legation.ingest.web import FeedState, fetch_feed, next_poll
from legation.logs import get_logger
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.reports import Stored, add_reports
from legation.storage.tables import SourceRow

log = get_logger(__name__)


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)

    def count(self, stored: Stored) -> None:
        self.report_ids.append(stored.report_id)
        if stored.status == "new":
            self.new += 1
        elif stored.status == "duplicate":
            self.duplicates += 1
        else:
            self.near_duplicates += 1


def store_reports(
    factory: sessionmaker[Session], reports: list[ReportInput], *, max_bytes: int
) -> IngestResult:
    """Store reports in one transaction; a bad one is reported and the others are kept."""
    result = IngestResult()
    with transaction(factory) as session:
        for outcome in add_reports(session, reports=reports, max_bytes=max_bytes):
            if isinstance(outcome, InputError):
                result.errors.append(str(outcome))
            else:
                result.count(outcome)
    return result


def store_batch(factory: sessionmaker[Session], batch: Batch, *, max_bytes: int) -> IngestResult:
    result = store_reports(factory, batch.reports, max_bytes=max_bytes)
    result.errors = [*batch.errors, *result.errors]
    return result


def add_source(
    session: Session, *, kind: str, location: str, name: str = "", interval: int
) -> SourceRow:
    row = session.scalar(select(SourceRow).where(SourceRow.location == location))
    if row is None:
        row = SourceRow(
            kind=kind,
            location=location,
            name=name or location,
            interval_seconds=interval,
            failures=0,
            enabled=True,
            next_poll_at=utcnow(),
        )
        session.add(row)
        session.flush()
    return row


def poll_due_feeds(
    factory: sessionmaker[Session], settings: Settings, client: httpx.Client
) -> IngestResult:
    """Poll every feed whose time has come; failures back off exponentially."""
    total = IngestResult()
    with transaction(factory) as session:
        due = session.scalars(
            select(SourceRow).where(
                SourceRow.kind == "feed",
                SourceRow.enabled.is_(True),
                or_(SourceRow.next_poll_at.is_(None), SourceRow.next_poll_at <= utcnow()),
            )
        ).all()
        sources = [
            (s.id, s.location, FeedState(s.etag, s.last_modified), s.failures, s.interval_seconds)
            for s in due
        ]
    for source_id, url, state, failures, interval in sources:
        try:
            fetched = fetch_feed(client, url, state)
        except SourceError as exc:
            _record_failure(factory, source_id, failures + 1, interval, str(exc))
            total.errors.append(str(exc))
            continue
        result = store_batch(factory, fetched.batch, max_bytes=settings.max_report_bytes)
        _record_success(factory, source_id, fetched.state, interval)
        total.new += result.new
        total.duplicates += result.duplicates
        total.errors.extend(result.errors)
    return total


def _record_failure(
    factory: sessionmaker[Session], source_id: int, failures: int, interval: int, error: str
) -> None:
    with transaction(factory) as session:
        row = session.get(SourceRow, source_id)
        if row is not None:
            row.failures, row.last_error = failures, error
            row.next_poll_at = next_poll(failures, interval)
            log.warning(
                "feed failed",
                url=row.location,
                failures=failures,
                next_poll=row.next_poll_at.isoformat(),
                error=error,
            )


def _record_success(
    factory: sessionmaker[Session], source_id: int, state: FeedState, interval: int
) -> None:
    with transaction(factory) as session:
        row = session.get(SourceRow, source_id)
        if row is not None:
            row.etag, row.last_modified = state.etag, state.last_modified
            row.failures, row.last_error = 0, None
            row.next_poll_at = next_poll(0, interval)
