"""The long-running worker: poll feeds, process reports, deliver and escalate alerts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import deliver_pending, escalate_overdue
from legation.domain.clock import utcnow
from legation.ingest.service import poll_due_feeds
from legation.logs import get_logger
from legation.pipeline.worker import BatchResult, process_batch
from legation.settings import Settings
from legation.storage.db import transaction

log = get_logger(__name__)


@dataclass(slots=True)
class Tick:
    """What one pass of the loop did."""

    new_reports: int
    batch: BatchResult
    sent: int
    escalated: int


def tick(factory: sessionmaker[Session], settings: Settings, client: httpx.Client) -> Tick:
    polled = poll_due_feeds(factory, settings, client)
    batch = process_batch(factory, limit=settings.worker_batch)
    sent, _failed = deliver_pending(factory, settings, client=client)
    with transaction(factory) as session:
        escalated = escalate_overdue(session, settings=settings, now=utcnow())
    if escalated:
        deliver_pending(factory, settings, client=client)
    return Tick(polled.new, batch, sent, len(escalated))


def run_worker(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    stop: threading.Event,
    on_tick: Callable[[Tick], None] | None = None,
) -> None:
    """Loop until ``stop`` is set; sleeps only when there was nothing to do."""
    with httpx.Client(timeout=settings.http_timeout_seconds) as client:
        while not stop.is_set():
            result = tick(factory, settings, client)
            if on_tick is not None:
                on_tick(result)
            busy = result.batch.processed + result.batch.failed
            if busy:
                log.info(
                    "batch",
                    processed=result.batch.processed,
                    failed=result.batch.failed,
                    incidents=len(result.batch.incidents),
                    alerts=len(result.batch.alerts),
                )
            else:
                stop.wait(settings.worker_idle_seconds)
