"""Alerts end to end: rules, e-mail to a real SMTP server, webhooks, retries, escalation."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import deliver_pending, escalate_overdue, set_alert_state
from legation.domain.models import ReportInput, Site
from legation.errors import ConflictError
from legation.ingest.service import store_reports
from legation.pipeline.worker import process_batch
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.sites import upsert_sites
from legation.storage.tables import AlertRow, ChannelRow, DeliveryRow, RuleRow, SiteRow, StaffRow
from tests.http_fixture import Answer, LocalServer

NOW = datetime(2016, 12, 20, 12, tzinfo=UTC)
REPORT = ReportInput(
    source="test",
    language="en",
    published=datetime(2016, 12, 19, 22, tzinfo=UTC),
    text="A gunman shot dead the Russian ambassador Andrei Karlov at an exhibition in Ankara "
    "on Monday evening. Three other people were wounded.",
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _setup(factory: sessionmaker[Session], server: LocalServer) -> None:
    site = Site(
        "ru-ankara",
        "Embassy of Russia in Ankara",
        "embassy",
        "Russia",
        "RU",
        "Turkey",
        "TR",
        "Ankara",
        39.8936,
        32.8528,
    )
    with transaction(factory) as session:
        upsert_sites(session, sites=[site])
        session.flush()
        site_id = session.scalar(select(SiteRow.id))
        session.add(
            StaffRow(
                site_id=site_id,
                name="Officer",
                role="security",
                email="officer@example.org",
                is_security_officer=True,
            )
        )
        channels = [
            ChannelRow(name=k, kind=k, target=server.url(f"/{k}"), enabled=True)
            for k in ("webhook", "slack", "teams")
        ]
        duty = ChannelRow(name="duty", kind="email", target="duty@example.org", enabled=True)
        session.add_all([*channels, duty])
        session.flush()
        session.add(
            RuleRow(
                name="ankara 25 km",
                site_id=site_id,
                radius_km=25.0,
                min_level=3,
                incident_types=[],
                channel_ids=[c.id for c in channels],
                escalation_channel_ids=[duty.id],
                notify_officers=True,
                enabled=True,
            )
        )


def _settings(base: Settings, port: int) -> Settings:
    return base.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})


def test_alert_reaches_every_channel_and_escalates(
    factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, int],
    local_server: LocalServer,
) -> None:
    inbox, port = smtp
    calls = {"webhook": 0}

    def flaky(_seen: Any) -> Answer:
        calls["webhook"] += 1
        return Answer(503 if calls["webhook"] == 1 else 204)

    local_server.routes = {
        "/webhook": flaky,
        "/slack": lambda _: Answer(200),
        "/teams": lambda _: Answer(200),
    }
    _setup(factory, local_server)
    store_reports(factory, [REPORT], max_bytes=100_000)
    result = process_batch(factory, limit=10, clock=lambda: NOW)
    assert len(result.alerts) == 2  # the default rule (level >= 4) and the site's radius rule

    config = _settings(settings, port)
    sent, failed = deliver_pending(factory, config)
    assert (sent, failed) == (4, 1)  # officer twice (two rules), slack, teams; webhook 503
    with transaction(factory) as session:
        session.execute(update(DeliveryRow).values(next_attempt_at=NOW))
    assert deliver_pending(factory, config) == (1, 0)

    assert sorted(m["To"] for m in inbox.messages) == ["officer@example.org"] * 2
    assert "Karlov" in inbox.messages[0].get_payload()
    bodies = {s.path: json.loads(s.body) for s in local_server.seen if s.method == "POST"}
    assert bodies["/webhook"]["alert"]["incident_id"] == result.incidents[0]
    assert bodies["/slack"]["blocks"][0]["type"] == "header"
    assert bodies["/teams"]["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert all(s.headers.get("idempotency-key") for s in local_server.seen)

    with transaction(factory) as session:
        escalated = escalate_overdue(
            session, settings=config, now=datetime.now(UTC) + timedelta(minutes=16)
        )
    assert len(escalated) == 2
    with transaction(factory) as session:
        session.execute(update(DeliveryRow).values(next_attempt_at=NOW))
    deliver_pending(factory, config)
    assert "duty@example.org" in [m["To"] for m in inbox.messages]
    assert any(m["Subject"].startswith("ESCALATION") for m in inbox.messages)


def test_acknowledged_alert_does_not_escalate(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    local_server.routes = {}
    _setup(factory, local_server)
    store_reports(factory, [REPORT], max_bytes=100_000)
    process_batch(factory, limit=10, clock=lambda: NOW)
    with transaction(factory) as session:
        ids = session.scalars(select(AlertRow.id)).all()
        for alert_id in ids:
            set_alert_state(session, alert_id=alert_id, state="acknowledged", user="duty officer")
    with transaction(factory) as session:
        assert (
            escalate_overdue(session, settings=settings, now=datetime.now(UTC) + timedelta(hours=2))
            == []
        )
        with pytest.raises(ConflictError):
            set_alert_state(session, alert_id=ids[0], state="new", user="x")


def test_same_incident_twice_raises_no_second_alert(
    factory: sessionmaker[Session], local_server: LocalServer
) -> None:
    _setup(factory, local_server)
    store_reports(factory, [REPORT], max_bytes=100_000)
    first = process_batch(factory, limit=10, clock=lambda: NOW)
    again = ReportInput(
        source="other",
        language="en",
        published=REPORT.published,
        text="Russia's envoy Andrei Karlov was shot dead by a gunman in Ankara on Monday.",
    )
    store_reports(factory, [again], max_bytes=100_000)
    second = process_batch(factory, limit=10, clock=lambda: NOW)
    assert second.incidents == first.incidents
    assert second.alerts == []


def test_unreachable_smtp_is_retried_then_failed(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    local_server.routes = {k: (lambda _: Answer(200)) for k in ("/webhook", "/slack", "/teams")}
    _setup(factory, local_server)
    store_reports(factory, [REPORT], max_bytes=100_000)
    process_batch(factory, limit=10, clock=lambda: NOW)
    config = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": 9, "delivery_attempts": 2}
    )
    for _ in range(2):
        deliver_pending(factory, config)
        with transaction(factory) as session:
            session.execute(update(DeliveryRow).values(next_attempt_at=NOW))
    with factory() as session:
        failed = session.scalars(select(DeliveryRow).where(DeliveryRow.state == "failed")).all()
    assert failed and all("127.0.0.1:9" in (d.last_error or "") for d in failed)
