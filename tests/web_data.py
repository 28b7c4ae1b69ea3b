"""Rows for dashboard tests: users, a site, an incident with reports and spans, an alert."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.extract.text import read_text
from legation.storage.tables import AlertRow, ExtractionRow, IncidentRow, ReportRow, SiteRow
from legation.storage.users import create_user

PASSWORD = "correct horse battery"
HOSTILE = (
    'Gunmen attacked the consulate <script>document.title="pwned";alert(1)</script> in Izmir; '
    '<img src=x onerror="alert(2)"> two guards were <b onmouseover=alert(3)>wounded</b>.'
)


def add_users(session: Session) -> None:
    for role in ("viewer", "analyst", "admin"):
        create_user(session, username=role, password=PASSWORD, role=role)


def add_report(
    session: Session, *, incident_id: int, text: str, title: str, spans: dict[str, str]
) -> ReportRow:
    """A report linked to an incident, with evidence spans for the given field -> words."""
    now = utcnow()
    report = ReportRow(
        source="test wire",
        url="javascript:alert(4)",
        title=title,
        published=now,
        received_at=now,
        language="en",
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        sketch=[],
    )
    session.add(report)
    session.flush()
    data: dict[str, object] = {"language": "en", "is_incident": True}
    read = read_text(title, text)  # spans are offsets into what the extractor read
    for field, words in spans.items():
        start = read.index(words)
        evidence = {
            "value": words,
            "confidence": 0.9,
            "span": {"start": start, "end": start + len(words), "text": words},
        }
        data[field] = [evidence] if field == "perpetrator_individuals" else evidence
    session.add(
        ExtractionRow(
            report_id=report.id,
            is_incident=True,
            confidence=0.9,
            language="en",
            data=data,
            incident_id=incident_id,
            created_at=now,
        )
    )
    return report


def add_hostile_incident(session: Session, day: date | None = None) -> tuple[int, int]:
    """A site at level 4, an incident whose report carries script payloads, and its alert."""
    now = utcnow()
    incident = IncidentRow(
        type="armed_assault",
        weapon="firearm",
        date=day or date.today() - timedelta(days=1),
        place_name="Izmir <i>onerror</i>",
        country="TR",
        lat=38.42,
        lon=27.14,
        precision="city",
        killed=0,
        injured=2,
        target_categories=["diplomat"],
        target_states=[],
        victims=[],
        perpetrators=['<img src=x onerror="alert(5)">'],
        organizations=[],
        confidence=0.8,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    site = SiteRow(
        key="Q-izmir",
        name="Consulate <script>alert(6)</script> in Izmir",
        type="consulate",
        operator="Germany",
        operator_code="DE",
        country="Turkey",
        country_code="TR",
        city="Izmir",
        lat=38.43,
        lon=27.15,
        level=4,
        score=9.0,
        reasons=[{"incident_id": incident.id, "points": 9.0, "distance_km": 1.2, "why": ["near"]}],
        created_at=now,
        updated_at=now,
    )
    session.add(site)
    session.flush()
    add_report(
        session,
        incident_id=incident.id,
        text=HOSTILE,
        title='<script>alert("title")</script>',
        spans={"type": "attacked", "place_evidence": "Izmir", "injured": "two guards were <b"},
    )
    alert = AlertRow(
        dedup_key=f"test-{incident.id}",
        site_id=site.id,
        incident_id=incident.id,
        level=4,
        title='Level 4 at <img src=x onerror="alert(7)">',
        body="<script>alert(8)</script>",
        state="new",
        escalations=0,
        created_at=now,
        updated_at=now,
    )
    session.add(alert)
    session.flush()
    return incident.id, alert.id
