"""List updates, screenings with their audit trail, decisions, whitelist and re-screening."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import _queue_deliveries
from legation.domain.clock import utcnow
from legation.errors import ConflictError, InputError, NotFoundError, SourceError
from legation.logs import get_logger
from legation.screening.importers import (
    Imported,
    ListFormatError,
    parse_eu_csv,
    parse_eu_xml,
    parse_ftm_json,
    parse_ofac_csv,
    parse_ofac_xml,
    parse_uk_conlist,
    parse_un_xml,
)
from legation.screening.index import Hit, ScreeningIndex, subject_from_ftm
from legation.screening.matcher import ALGORITHM, Subject
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.screening import (
    DesignationLinkRow,
    ListEntityRow,
    ListVersionRow,
    ScreeningDecisionRow,
    ScreeningRow,
    ScreeningSubjectRow,
)
from legation.storage.tables import AlertRow, IncidentRow, RuleRow, StaffRow

log = get_logger(__name__)
DECISIONS = ("true_match", "false_positive", "whitelisted")
SCREENING_ALERT_TYPE = "sanctions_hit"
OFAC_FILES = ("sdn", "alt", "add", "sdn_comments")


# ---------------------------------------------------------------------------------------
# list updates


@dataclass
class UpdateReport:
    source: str
    status: str  # new, unchanged, failed
    version_id: int | None = None
    entity_count: int = 0
    errors: list[str] = field(default_factory=list)
    message: str = ""


def source_urls(settings: Settings, source: str) -> list[str]:
    """The addresses one source is downloaded from (OFAC is a set of four files)."""
    if source == "un":
        return [settings.screening_un_url]
    if source == "ofac":
        url = settings.screening_ofac_url
        if "{file}" not in url:
            return [url]  # SDN.XML
        return [url.format(file=f) for f in OFAC_FILES]
    if source == "eu":
        return [settings.screening_eu_url] if settings.screening_eu_url else []
    if source == "uk":
        return [settings.screening_uk_url] if settings.screening_uk_url else []
    if source == "ftm":
        return [settings.screening_ftm_url] if settings.screening_ftm_url else []
    raise InputError(f"unknown list source {source!r}; known: un, ofac, eu, uk, ftm")


def parse_source(source: str, payloads: Sequence[bytes]) -> Imported:
    parsers: dict[str, Callable[..., Imported]] = {
        "un": parse_un_xml,
        "ofac": parse_ofac_csv,
        "eu": parse_eu_csv,
        "uk": parse_uk_conlist,
        "ftm": parse_ftm_json,
    }
    if source in ("ofac", "eu") and payloads and payloads[0].lstrip()[:1] == b"<":
        return (parse_ofac_xml if source == "ofac" else parse_eu_xml)(payloads[0])
    return parsers[source](*payloads)


def _download(client: httpx.Client, url: str, max_bytes: int) -> bytes:
    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise SourceError(f"{url}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"{url}: larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc


def fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def update_lists(
    factory: sessionmaker[Session],
    settings: Settings,
    client: httpx.Client,
    *,
    sources: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[UpdateReport]:
    """Download, parse and store each source; a failure keeps the current version."""
    now = now or utcnow()
    reports = []
    for source in sources or settings.screening_source_list:
        urls = source_urls(settings, source)
        if not urls:
            reports.append(UpdateReport(source, "failed", message="no address configured"))
            continue
        try:
            payloads = [_download(client, u, settings.screening_max_list_bytes) for u in urls]
            checksum = hashlib.sha256(b"".join(payloads)).hexdigest()
            with transaction(factory) as session:
                current = current_version(session, source)
                if current is not None and current.checksum == checksum:
                    reports.append(
                        UpdateReport(source, "unchanged", current.id, current.entity_count)
                    )
                    continue
            imported = parse_source(source, payloads)
            if not imported.entities:
                raise ListFormatError(f"{source}: no entities could be read")
        except (SourceError, ListFormatError) as exc:
            log.warning("list update failed", extra={"source": source, "error": str(exc)})
            reports.append(UpdateReport(source, "failed", message=str(exc)))
            continue
        with transaction(factory) as session:
            version = ListVersionRow(
                source=source,
                url=urls[0],
                fetched_at=now,
                checksum=checksum,
                entity_count=len(imported.entities),
                error_count=len(imported.errors),
                errors=imported.errors[:200],
            )
            session.add(version)
            session.flush()
            seen: set[str] = set()
            for entity in imported.entities:
                data = entity.to_dict()
                if data["id"] in seen:
                    imported.errors.append(f"{source}: duplicate entity id {data['id']} skipped")
                    continue
                seen.add(data["id"])
                session.add(
                    ListEntityRow(
                        version_id=version.id,
                        entity_id=data["id"],
                        schema=data["schema"],
                        caption=entity.caption[:1000],
                        fingerprint=fingerprint(data),
                        data=data,
                    )
                )
            reports.append(
                UpdateReport(source, "new", version.id, len(seen), imported.errors[:200])
            )
    return reports


def snapshot_dir(settings: Settings) -> Path:
    return settings.data_dir / "screening"


def current_version(session: Session, source: str) -> ListVersionRow | None:
    return session.scalars(
        select(ListVersionRow)
        .where(ListVersionRow.source == source)
        .order_by(ListVersionRow.id.desc())
        .limit(1)
    ).first()


def current_versions(session: Session) -> list[ListVersionRow]:
    latest = select(func.max(ListVersionRow.id)).group_by(ListVersionRow.source).scalar_subquery()
    return list(
        session.scalars(
            select(ListVersionRow)
            .where(ListVersionRow.id.in_(latest))
            .order_by(ListVersionRow.source)
        )
    )


def list_versions(session: Session) -> list[ListVersionRow]:
    return list(session.scalars(select(ListVersionRow).order_by(ListVersionRow.id)))


@dataclass
class ListDiff:
    source: str
    old: int | None
    new: int
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[tuple[str, str]]


def diff_versions(
    session: Session, source: str, *, old: int | None = None, new: int | None = None
) -> ListDiff:
    """Who was added, removed or changed between two versions (default: the last two)."""
    ids = list(
        session.scalars(
            select(ListVersionRow.id)
            .where(ListVersionRow.source == source)
            .order_by(ListVersionRow.id.desc())
        )
    )
    if not ids:
        raise NotFoundError(f"no versions of list {source!r}")
    new_id = new if new is not None else ids[0]
    if new_id not in ids:
        raise NotFoundError(f"list {source!r} has no version {new_id}")
    older = [i for i in ids if i < new_id]
    old_id = old if old is not None else (older[0] if older else None)
    if old_id is not None and old_id not in ids:
        raise NotFoundError(f"list {source!r} has no version {old_id}")

    def entries(version: int | None) -> dict[str, tuple[str, str]]:
        if version is None:
            return {}
        rows = session.execute(
            select(ListEntityRow.entity_id, ListEntityRow.caption, ListEntityRow.fingerprint).where(
                ListEntityRow.version_id == version
            )
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    before, after = entries(old_id), entries(new_id)
    return ListDiff(
        source,
        old_id,
        new_id,
        added=sorted((k, v[0]) for k, v in after.items() if k not in before),
        removed=sorted((k, v[0]) for k, v in before.items() if k not in after),
        changed=sorted((k, v[0]) for k, v in after.items() if k in before and before[k][1] != v[1]),
    )


# ---------------------------------------------------------------------------------------
# the index over the current versions (cached per process by version ids)

_CACHE: dict[tuple[tuple[int, str], ...], tuple[ScreeningIndex, dict[str, str]]] = {}


def load_index(
    session: Session, snapshot_dir: Path | None = None
) -> tuple[ScreeningIndex, dict[str, int], dict[str, str]]:
    """The index over the current list versions, entity fingerprints, version ids by source.

    Kept in memory per process; with ``snapshot_dir`` also as a file per set of versions, so
    that a new process starts in about a second instead of rebuilding the index.
    """
    versions = current_versions(session)
    # ids alone could collide between two databases; the checksums make the key the content
    key = tuple((v.id, v.checksum) for v in versions)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _snapshot(session, versions, snapshot_dir)
    index, prints = _CACHE[key]
    return index, {v.source: v.id for v in versions}, prints


def _snapshot(
    session: Session,
    versions: list[ListVersionRow],
    snapshot_dir: Path | None,
) -> tuple[ScreeningIndex, dict[str, str]]:
    key = [v.id for v in versions]
    path = None
    if snapshot_dir is not None and key:
        digest = hashlib.sha256("".join(v.checksum for v in versions).encode()).hexdigest()
        path = snapshot_dir / f"index-{'-'.join(map(str, key))}-{digest[:12]}.pickle"
        if path.exists():
            loaded = ScreeningIndex.load(path)
            if loaded is not None and isinstance(loaded[1], dict):
                return loaded[0], loaded[1]
    index = ScreeningIndex()
    prints: dict[str, str] = {}
    by_id = {v.id: v.source for v in versions}
    rows = session.execute(
        select(ListEntityRow.version_id, ListEntityRow.data, ListEntityRow.fingerprint).where(
            ListEntityRow.version_id.in_(key)
        )
    )
    for version_id, data, print_ in rows:
        index.add(subject_from_ftm(data, by_id[version_id]))
        prints[str(data["id"])] = print_
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("index-*.pickle"):
            old.unlink(missing_ok=True)
        index.save(path, prints)
    index.freeze()
    return index, prints


# ---------------------------------------------------------------------------------------
# screening with audit


@dataclass
class Query:
    name: str
    schema: str = "LegalEntity"
    birth_date: str | None = None
    country: str | None = None
    identifiers: tuple[str, ...] = ()

    def subject(self) -> Subject:
        if not self.name.strip():
            raise InputError("name is empty")
        if len(self.name) > 1000:
            raise InputError(f"name is {len(self.name)} characters long; at most 1000 are screened")
        if self.birth_date and not _plausible_date(self.birth_date):
            raise InputError(f"birth date {self.birth_date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
        return Subject.build(
            "query",
            self.schema,
            [self.name],
            birth_dates=[self.birth_date] if self.birth_date else [],
            countries=[self.country] if self.country else [],
            identifiers=self.identifiers,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schema": self.schema,
            "birth_date": self.birth_date,
            "country": self.country,
            "identifiers": list(self.identifiers),
        }

    def key(self) -> str:
        parts = [" ".join(self.name.lower().split()), self.birth_date or "", self.country or ""]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _plausible_date(value: str) -> bool:
    import re
    from datetime import date

    found = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value)
    if not found:
        return False
    year = int(found.group(1))
    if not 1850 <= year <= utcnow().year:
        return False
    try:
        date(year, int(found.group(2) or 1), int(found.group(3) or 1))
    except ValueError:
        return False
    return True


def hit_dict(hit: Hit, prints: dict[str, str], threshold: float) -> dict[str, Any]:
    subject = hit.subject
    return {
        "entity_id": subject.id,
        "caption": subject.caption,
        "schema": subject.schema,
        "list": subject.dataset,
        "matched_name": hit.result.name,
        "score": round(hit.score, 4),
        "match": hit.score >= threshold,
        "explanation": hit.result.explanation(),
        "fingerprint": prints.get(subject.id, ""),
    }


def screen(
    session: Session,
    query: Query,
    *,
    actor: str,
    threshold: float,
    limit: int = 10,
    subject_id: int | None = None,
    now: datetime | None = None,
    snapshot_dir: Path | None = None,
) -> ScreeningRow:
    """Screen ``query`` against the current lists and store the screening (the audit)."""
    subject = query.subject()
    index, versions, prints = load_index(session, snapshot_dir)
    if not versions:
        raise ConflictError("no sanctions list is loaded yet: run `legation lists update` first")
    hits = index.search(subject, threshold=threshold, limit=limit)
    key = query.key()
    whitelisted = {
        (d.entity_id, d.fingerprint)
        for d in session.scalars(
            select(ScreeningDecisionRow).where(
                ScreeningDecisionRow.query_key == key,
                ScreeningDecisionRow.decision == "whitelisted",
            )
        )
    }
    results = []
    for hit in hits:
        row = hit_dict(hit, prints, threshold)
        row["suppressed"] = (row["entity_id"], row["fingerprint"]) in whitelisted
        results.append(row)
    screening = ScreeningRow(
        created_at=now or utcnow(),
        actor=actor,
        subject_id=subject_id,
        query=query.as_dict(),
        query_key=key,
        list_versions=versions,
        algorithm=ALGORITHM,
        threshold=threshold,
        results=results,
    )
    session.add(screening)
    session.flush()
    return screening


def screening_dict(row: ScreeningRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "actor": row.actor,
        "query": row.query,
        "list_versions": row.list_versions,
        "algorithm": row.algorithm,
        "threshold": row.threshold,
        "results": row.results,
    }


def decide(
    session: Session,
    *,
    screening_id: int,
    entity_id: str,
    decision: str,
    reason: str,
    user: str,
    now: datetime | None = None,
) -> ScreeningDecisionRow:
    """Record an analyst's decision on one result of a screening."""
    if decision not in DECISIONS:
        raise InputError(f"decision {decision!r}: use one of {', '.join(DECISIONS)}")
    if decision == "whitelisted" and not reason.strip():
        raise InputError("a whitelisting needs a reason")
    screening = session.get(ScreeningRow, screening_id)
    if screening is None:
        raise NotFoundError(f"screening {screening_id} does not exist")
    result = next((r for r in screening.results if r["entity_id"] == entity_id), None)
    if result is None:
        raise NotFoundError(f"screening {screening_id} has no result {entity_id!r}")
    row = ScreeningDecisionRow(
        screening_id=screening_id,
        query_key=screening.query_key,
        entity_id=entity_id,
        fingerprint=result["fingerprint"],
        decision=decision,
        reason=reason,
        user=user,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------------------
# stored subjects, re-screening and alerts


def add_subject(
    session: Session,
    *,
    name: str,
    kind: str = "payee",
    schema: str = "Person",
    birth_date: str | None = None,
    country: str | None = None,
    reference: str | None = None,
) -> ScreeningSubjectRow:
    if kind not in ("staff", "partner", "payee"):
        raise InputError(f"subject kind {kind!r}: use staff, partner or payee")
    Query(name, schema, birth_date, country).subject()  # validates
    row = ScreeningSubjectRow(
        kind=kind,
        schema=schema,
        name=name,
        birth_date=birth_date,
        country=country.lower() if country else None,
        reference=reference,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _sync_staff(session: Session) -> None:
    known = set(
        session.scalars(
            select(ScreeningSubjectRow.reference).where(ScreeningSubjectRow.kind == "staff")
        )
    )
    for staff in session.scalars(select(StaffRow)):
        reference = f"staff:{staff.id}"
        if reference not in known:
            session.add(
                ScreeningSubjectRow(
                    kind="staff",
                    schema="Person",
                    name=staff.name,
                    reference=reference,
                    created_at=utcnow(),
                )
            )
    session.flush()


def rescreen_subjects(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> list[AlertRow]:
    """Screen every stored subject (staff included) again; new hits raise alerts."""
    now = now or utcnow()
    created: list[AlertRow] = []
    with transaction(factory) as session:
        _sync_staff(session)
        decided = {
            (d.query_key, d.entity_id, d.fingerprint)
            for d in session.scalars(
                select(ScreeningDecisionRow).where(
                    ScreeningDecisionRow.decision.in_(("false_positive", "whitelisted"))
                )
            )
        }
        rules = [
            r
            for r in session.scalars(select(RuleRow).where(RuleRow.enabled.is_(True)))
            if SCREENING_ALERT_TYPE in (r.incident_types or [])
        ]
        for subject in list(session.scalars(select(ScreeningSubjectRow))):
            query = Query(subject.name, subject.schema, subject.birth_date, subject.country)
            screening = screen(
                session,
                query,
                actor="rescreen",
                threshold=settings.screening_threshold,
                subject_id=subject.id,
                now=now,
                snapshot_dir=snapshot_dir(settings),
            )
            for result in screening.results:
                if result["suppressed"] or not result["match"]:
                    continue
                if (screening.query_key, result["entity_id"], result["fingerprint"]) in decided:
                    continue
                alert = _raise_alert(session, subject, screening, result, rules, now)
                if alert is not None:
                    created.append(alert)
    return created


def _raise_alert(
    session: Session,
    subject: ScreeningSubjectRow,
    screening: ScreeningRow,
    result: dict[str, Any],
    rules: list[RuleRow],
    now: datetime,
) -> AlertRow | None:
    key = f"screen:subject{subject.id}:{result['entity_id']}:{result['fingerprint'][:16]}"
    if session.scalar(select(AlertRow.id).where(AlertRow.dedup_key == key)) is not None:
        return None
    alert = AlertRow(
        dedup_key=key[:200],
        rule_id=rules[0].id if rules else None,
        site_id=None,
        incident_id=None,
        level=4,
        title=f"Sanctions hit: {subject.kind} {subject.name} ~ {result['caption']}"[:500],
        body=(
            f"{subject.kind} {subject.name!r} matches {result['caption']!r} "
            f"({result['entity_id']}, list {result['list']}) with score {result['score']}.\n"
            f"Screening #{screening.id}, algorithm {screening.algorithm}.\n"
            f"Explanation: {json.dumps(result['explanation'], ensure_ascii=False)}"
        ),
        state="new",
        escalations=0,
        created_at=now,
        updated_at=now,
    )
    session.add(alert)
    session.flush()
    for rule in rules:
        _queue_deliveries(session, alert, rule, round_=0, now=now)
    return alert


# ---------------------------------------------------------------------------------------
# designated organisations <-> incident perpetrators (the start of a threat-actor register)


def link_incidents(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> int:
    """Link every incident's perpetrator groups to designated organisations; new links count."""
    now = now or utcnow()
    created = 0
    with transaction(factory) as session:
        index, _versions, _prints = load_index(session, snapshot_dir(settings))
        existing = {
            (r.incident_id, r.entity_id) for r in session.scalars(select(DesignationLinkRow))
        }
        for incident in session.scalars(select(IncidentRow)):
            groups = dict.fromkeys(
                str(g) for g in [*incident.perpetrators, *incident.organizations]
            )
            for group in groups:
                if not group.strip() or len(group) > 1000:
                    continue
                query = Subject.build("perpetrator", "Organization", [group])
                for hit in index.search(query, threshold=settings.screening_threshold, limit=3):
                    if (incident.id, hit.subject.id) in existing:
                        continue
                    existing.add((incident.id, hit.subject.id))
                    session.add(
                        DesignationLinkRow(
                            incident_id=incident.id,
                            entity_id=hit.subject.id,
                            caption=hit.subject.caption[:1000],
                            list_source=hit.subject.dataset,
                            perpetrator=group,
                            score=round(hit.score, 4),
                            created_at=now,
                        )
                    )
                    created += 1
    return created


def link_dict(row: DesignationLinkRow) -> dict[str, Any]:
    return {
        "incident_id": row.incident_id,
        "entity_id": row.entity_id,
        "caption": row.caption,
        "list": row.list_source,
        "perpetrator": row.perpetrator,
        "score": row.score,
    }


def incidents_of_entity(session: Session, entity_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(DesignationLinkRow)
        .where(DesignationLinkRow.entity_id == entity_id)
        .order_by(DesignationLinkRow.incident_id)
    )
    return [link_dict(r) for r in rows]


def designations_of_incident(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(DesignationLinkRow)
        .where(DesignationLinkRow.incident_id == incident_id)
        .order_by(DesignationLinkRow.score.desc())
    )
    return [link_dict(r) for r in rows]
