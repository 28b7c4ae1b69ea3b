"""Raising alerts from triggers, delivering them, escalation and acknowledgement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.channels import post_webhook, send_email
from legation.alerting.rules import Trigger, rule_matches
from legation.domain.clock import as_utc, utcnow
from legation.errors import ConflictError, DeliveryError, NotFoundError
from legation.logs import get_logger
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.tables import (
    AlertRow,
    ChannelRow,
    DeliveryRow,
    IncidentRow,
    RuleRow,
    SiteRow,
    StaffRow,
)

log = get_logger(__name__)
ALERT_STATES = ("new", "acknowledged", "escalated", "resolved", "duplicate", "false_positive")


def find_triggers(
    session: Session, *, sites: Iterable[tuple[SiteRow, list[int]]], incidents: list[IncidentRow]
) -> list[Trigger]:
    """Rules matched by (site, contributing incident) pairs and by area rules."""
    rules = list(session.scalars(select(RuleRow).where(RuleRow.enabled.is_(True))))
    by_id = {i.id: i for i in incidents}
    triggers: list[Trigger] = []
    for site, incident_ids in sites:
        for incident_id in incident_ids:
            incident = by_id.get(incident_id)
            if incident is None:
                continue
            triggers.extend(
                Trigger(r, site, incident, site.level)
                for r in rules
                if rule_matches(r, site, incident)
            )
    for incident in incidents:
        triggers.extend(
            Trigger(r, None, incident, 0) for r in rules if rule_matches(r, None, incident)
        )
    return triggers


def raise_alerts(session: Session, *, triggers: list[Trigger], now: datetime) -> list[AlertRow]:
    """One alert per (rule, site, incident), with its deliveries queued (an outbox)."""
    created = []
    for trigger in triggers:
        site_part = trigger.site.id if trigger.site else "area"
        key = f"rule{trigger.rule.id}:site{site_part}:incident{trigger.incident.id}"
        if session.scalar(select(AlertRow.id).where(AlertRow.dedup_key == key)) is not None:
            continue
        alert = AlertRow(
            dedup_key=key,
            rule_id=trigger.rule.id,
            site_id=trigger.site.id if trigger.site else None,
            incident_id=trigger.incident.id,
            level=trigger.level,
            title=_title(trigger),
            body=_body(trigger),
            state="new",
            escalations=0,
            created_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.flush()
        _queue_deliveries(session, alert, trigger.rule, round_=0, now=now)
        created.append(alert)
    return created


def _title(trigger: Trigger) -> str:
    incident = trigger.incident
    where = incident.place_name or incident.country or "unknown place"
    subject = f"{trigger.site.name}: level {trigger.level}" if trigger.site else trigger.rule.name
    return f"{subject} — {incident.type.replace('_', ' ')} in {where} on {incident.date}"


def _body(trigger: Trigger) -> str:
    i = trigger.incident
    lines = [
        f"Incident #{i.id}: {i.type.replace('_', ' ')}, weapon {i.weapon}, {i.date}, "
        f"{i.place_name or '?'} ({i.country or '?'})",
        f"Killed {i.killed}, injured {i.injured}; targets: {', '.join(i.target_categories) or '?'}",
    ]
    if i.victims:
        lines.append(f"Victims: {', '.join(i.victims)}")
    if i.perpetrators or i.organizations:
        lines.append(f"Perpetrators: {', '.join([*i.perpetrators, *i.organizations])}")
    if trigger.site is not None:
        lines.append(
            f"Site {trigger.site.key} ({trigger.site.city}, {trigger.site.country}) "
            f"is now at level {trigger.site.level}."
        )
    lines.append(f"Rule: {trigger.rule.name}")
    return "\n".join(lines)


def _queue_deliveries(
    session: Session, alert: AlertRow, rule: RuleRow, *, round_: int, now: datetime
) -> None:
    for kind, target in _recipients(session, alert, rule, escalation=round_ > 0):
        session.add(
            DeliveryRow(
                alert_id=alert.id,
                channel_kind=kind,
                target=target,
                round=round_,
                state="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )


def queue_first_deliveries(
    session: Session, alert: AlertRow, rules: list[RuleRow], *, now: datetime
) -> None:
    """Queue the first round of deliveries of a new ``alert`` raised outside the rule engine
    (e.g. a sanctions hit) to the recipients of each of ``rules``."""
    for rule in rules:
        _queue_deliveries(session, alert, rule, round_=0, now=now)


def _recipients(
    session: Session, alert: AlertRow, rule: RuleRow, *, escalation: bool
) -> list[tuple[str, str]]:
    ids = list(rule.channel_ids) + (list(rule.escalation_channel_ids) if escalation else [])
    found: dict[tuple[str, str], None] = {}
    if ids:
        for channel in session.scalars(select(ChannelRow).where(ChannelRow.id.in_(ids))):
            if channel.enabled:
                found[(channel.kind, channel.target)] = None
    if rule.notify_officers and alert.site_id is not None:
        officers = select(StaffRow.email).where(
            StaffRow.site_id == alert.site_id,
            StaffRow.is_security_officer.is_(True),
            StaffRow.email.is_not(None),
        )
        for email in session.scalars(officers):
            found[("email", str(email))] = None
    return list(found)


def alert_dict(alert: AlertRow) -> dict[str, Any]:
    return {
        "id": alert.id,
        "dedup_key": alert.dedup_key,
        "rule_id": alert.rule_id,
        "site_id": alert.site_id,
        "incident_id": alert.incident_id,
        "level": alert.level,
        "title": alert.title,
        "body": alert.body,
        "state": alert.state,
        "escalations": alert.escalations,
        "created_at": as_utc(alert.created_at).isoformat(),
        "acknowledged_by": alert.acknowledged_by,
    }


def deliver_pending(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    limit: int = 100,
) -> tuple[int, int]:
    """Send due deliveries, one transaction each: (sent, failed attempts)."""
    sent = failed = 0
    own = client is None
    http = client or httpx.Client(timeout=settings.http_timeout_seconds)
    try:
        with transaction(factory) as session:
            due = session.scalars(
                select(DeliveryRow.id)
                .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= utcnow())
                .order_by(DeliveryRow.id)
                .limit(limit)
            ).all()
        for delivery_id in due:
            ok = _deliver_one(factory, settings, http, delivery_id)
            sent, failed = sent + ok, failed + (not ok)
    finally:
        if own:
            http.close()
    return sent, failed


def _deliver_one(
    factory: sessionmaker[Session], settings: Settings, http: httpx.Client, delivery_id: int
) -> bool:
    with transaction(factory) as session:
        delivery = session.get(DeliveryRow, delivery_id)
        if delivery is None or delivery.state != "pending":
            return True
        alert = session.get(AlertRow, delivery.alert_id)
        assert alert is not None
        try:
            _send(settings, http, delivery, alert_dict(alert))
        except DeliveryError as exc:
            delivery.attempts += 1
            delivery.last_error = str(exc)
            retry = delivery.attempts < settings.delivery_attempts
            delivery.state = "pending" if retry else "failed"
            delivery.next_attempt_at = utcnow() + timedelta(seconds=5 * 2**delivery.attempts)
            log.warning("delivery failed", delivery=delivery.id, error=str(exc), retry=retry)
            return False
        delivery.state, delivery.sent_at = "sent", utcnow()
        delivery.attempts += 1
        return True


def _send(
    settings: Settings, http: httpx.Client, delivery: DeliveryRow, alert: dict[str, Any]
) -> None:
    if delivery.channel_kind == "email":
        prefix = "ESCALATION: " if delivery.round else ""
        send_email(
            settings, to=delivery.target, subject=prefix + alert["title"], body=alert["body"]
        )
    else:
        post_webhook(http, url=delivery.target, kind=delivery.channel_kind, alert=alert)


def escalate_overdue(session: Session, *, settings: Settings, now: datetime) -> list[int]:
    """Alerts still unacknowledged after the escalation delay go to the escalation channels."""
    delay = timedelta(minutes=settings.escalation_minutes)
    escalated = []
    for alert in session.scalars(select(AlertRow).where(AlertRow.state.in_(("new", "escalated")))):
        if as_utc(alert.created_at) + delay * (alert.escalations + 1) > now:
            continue
        alert.escalations += 1
        alert.state, alert.updated_at = "escalated", now
        rule = session.get(RuleRow, alert.rule_id) if alert.rule_id else None
        if rule is not None:
            _queue_deliveries(session, alert, rule, round_=alert.escalations, now=now)
        escalated.append(alert.id)
    return escalated


def set_alert_state(
    session: Session, *, alert_id: int, state: str, user: str, note: str | None = None
) -> AlertRow:
    """Acknowledge, resolve, or mark an alert as duplicate or false positive (kept for learning)."""
    if state not in ALERT_STATES or state in ("new", "escalated"):
        raise ConflictError(
            f"alert state {state!r} cannot be set; use one of "
            "acknowledged, resolved, duplicate, false_positive"
        )
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} does not exist")
    now = utcnow()
    alert.state, alert.updated_at, alert.note = state, now, note
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user, now
    return alert
