"""List updates, screenings with their audit trail, decisions, whitelist and re-screening."""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import queue_first_deliveries
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
    parse_uk_sanctions_list,
    parse_un_xml,
)
from legation.screening.index import Hit, ScreeningIndex, subject_from_ftm
from legation.screening.matcher import ALGORITHM, Subject, align_names
from legation.screening.query import Query as Query  # re-exported: the API, web and CLI use it
from legation.screening.query import _too_long, shorten
from legation.screening.urls import file_name, redact_text, redact_url
from legation.settings import Settings
from legation.storage.db import missing_table, transaction
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
SOURCES = ("un", "ofac", "eu", "uk", "uksl", "ftm")
MAX_STORED_ERRORS = 200


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
    if source == "uksl":
        return [settings.screening_uksl_url] if settings.screening_uksl_url else []
    if source == "ftm":
        return [settings.screening_ftm_url] if settings.screening_ftm_url else []
    raise InputError(f"unknown list source {shorten(source, 40)}; known: {', '.join(SOURCES)}")


def _looks_like_xml(data: bytes) -> bool:
    """Whether a download is XML rather than CSV: '<' first, after a UTF-8 BOM and spaces."""
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def parse_source(source: str, payloads: Sequence[bytes]) -> Imported:
    parsers: dict[str, Callable[..., Imported]] = {
        "un": parse_un_xml,
        "ofac": parse_ofac_csv,
        "eu": parse_eu_csv,
        "uk": parse_uk_conlist,
        "uksl": parse_uk_sanctions_list,
        "ftm": parse_ftm_json,
    }
    if source in ("ofac", "eu") and payloads and _looks_like_xml(payloads[0]):
        return (parse_ofac_xml if source == "ofac" else parse_eu_xml)(payloads[0])
    return parsers[source](*payloads)


def _download(client: httpx.Client, url: str, max_bytes: int) -> bytes:
    shown = redact_url(url)  # the address may carry a token: never in a message
    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise SourceError(f"{shown}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"{shown}: larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        detail = redact_text(str(exc).replace(url, shown))
        raise SourceError(f"{shown}: {type(exc).__name__}: {detail}") from None


def fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class UpdateRefused(ConflictError):
    """A list download that reads but looks wrong (most of the list gone): not stored."""


def update_lists(
    factory: sessionmaker[Session],
    settings: Settings,
    client: httpx.Client,
    *,
    sources: Sequence[str] | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> list[UpdateReport]:
    """Download, parse and store each source; a failure keeps the current version.

    A new version that would remove more than ``screening_max_removed_share`` of the current
    version's entries is refused (a cut or wrong file) unless ``force``.
    """
    now = now or utcnow()
    chosen = list(sources or settings.screening_source_list)
    unknown = [shorten(s, 40) for s in chosen if s not in SOURCES]
    if unknown:  # refused before any download: a typo must not update half the lists
        raise InputError(
            f"unknown list source {', '.join(unknown)}; known: {', '.join(SOURCES)}; "
            "nothing was updated"
        )
    try:  # an unmigrated database: said before anything is downloaded
        with transaction(factory) as session:
            session.execute(select(ListVersionRow.id).limit(1))
    except SQLAlchemyError as exc:
        table = missing_table(exc)
        if table is None:
            raise
        raise InputError(
            f"the database has no table {table}: run `legation db upgrade` first; "
            "nothing was updated"
        ) from None
    reports = []
    for source in chosen:
        urls = source_urls(settings, source)
        if not urls:
            reports.append(UpdateReport(source, "failed", message="no address configured"))
            continue
        files = ", ".join(file_name(u) for u in urls)
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
                current_id = current.id if current is not None else None
            imported = _parse_isolated(source, files, payloads)
            if current_id is not None and not force:
                limit = settings.screening_max_removed_share
                _refuse_shrinking(factory, f"{source} ({files})", current_id, imported, limit)
            report = _store_version(factory, source, redact_url(urls[0]), checksum, imported, now)
        except SQLAlchemyError as exc:  # the whole version is rolled back: the current stays
            message = f"{source} ({files}): could not be stored: {type(exc).__name__}"
            log.error("list update failed", source=source, error=message)
            reports.append(UpdateReport(source, "failed", message=message))
            continue
        except (SourceError, ListFormatError, UpdateRefused) as exc:
            message = redact_text(str(exc))
            log.warning("list update failed", source=source, error=message)
            reports.append(UpdateReport(source, "failed", message=message))
            continue
        reports.append(report)
    return reports


def _refuse_shrinking(
    factory: sessionmaker[Session], label: str, current_id: int, imported: Imported, limit: float
) -> None:
    """``UpdateRefused`` if ``imported`` lacks more than ``limit`` of version ``current_id``."""
    with transaction(factory) as session:
        before = set(
            session.scalars(
                select(ListEntityRow.entity_id).where(ListEntityRow.version_id == current_id)
            )
        )
    if not before:
        return
    removed = len(before - {str(e.id) for e in imported.entities})
    if removed / len(before) > limit:
        raise UpdateRefused(
            f"{label}: the new file would remove {removed:,} of the {len(before):,} entries of "
            f"version {current_id} ({removed / len(before):.0%}), more than the {limit:.0%} "
            "allowed (LEGATION_SCREENING_MAX_REMOVED_SHARE); not stored. Check the download; "
            "if the list really shrank, update with --force"
        )


def _parse_isolated(source: str, files: str, payloads: Sequence[bytes]) -> Imported:
    """Parse one source; any failure of the parser becomes a ``ListFormatError`` naming it."""
    try:
        imported = parse_source(source, payloads)
    except ListFormatError as exc:
        raise ListFormatError(f"{source} ({files}): {exc}") from exc
    except Exception as exc:  # one source's parser bug must not stop the others
        log.error(
            "list parser failed",
            source=source,
            files=files,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
        raise ListFormatError(
            f"{source} ({files}): could not be read: {type(exc).__name__}: {exc}"[:500]
        ) from exc
    if not imported.entities:
        raise ListFormatError(f"{source} ({files}): no entities could be read")
    return imported


def _store_version(
    factory: sessionmaker[Session],
    source: str,
    url: str,
    checksum: str,
    imported: Imported,
    now: datetime,
) -> UpdateReport:
    """One new list version with its entities (duplicates reported, counts as stored)."""
    errors = list(imported.errors)
    with transaction(factory) as session:
        version = ListVersionRow(
            source=source,
            url=url,
            fetched_at=now,
            checksum=checksum,
            entity_count=0,
            error_count=0,
            errors=[],
        )
        session.add(version)
        session.flush()
        seen: set[str] = set()
        for entity in imported.entities:
            data = entity.to_dict()
            if len(data["id"]) > MAX_ENTITY_ID_CHARS:
                errors.append(
                    f"{source}: entity id {shorten(data['id'])} is longer than "
                    f"{MAX_ENTITY_ID_CHARS} characters; skipped"
                )
                continue
            if data["id"] in seen:
                errors.append(f"{source}: duplicate entity id {data['id']} skipped")
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
        version.entity_count = len(seen)
        version.error_count = len(errors)
        version.errors = errors[:MAX_STORED_ERRORS]
        return UpdateReport(source, "new", version.id, len(seen), errors[:MAX_STORED_ERRORS])


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

Prints = dict[tuple[str, str], str]  # (list source, entity id) -> fingerprint
_CACHE: dict[tuple[tuple[int, str], ...], tuple[ScreeningIndex, Prints]] = {}
_CACHE_LOCK = threading.Lock()
# what a damaged or foreign snapshot file can raise while being unpickled
_SNAPSHOT_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    OSError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    MemoryError,
)


def load_index(
    session: Session, snapshot_dir: Path | None = None
) -> tuple[ScreeningIndex, dict[str, int], Prints]:
    """The index over the current list versions, entity fingerprints, version ids by source.

    Kept in memory per process; with ``snapshot_dir`` also as a file per set of versions, so
    that a new process starts in about a second instead of rebuilding the index.
    """
    versions = current_versions(session)
    # ids alone could collide between two databases; the checksums make the key the content
    key = tuple((v.id, v.checksum) for v in versions)
    with _CACHE_LOCK:  # API worker threads share the cache
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = _snapshot(session, versions, snapshot_dir)
        index, prints = _CACHE[key]
    return index, {v.source: v.id for v in versions}, prints


def _read_snapshot(path: Path) -> tuple[ScreeningIndex, Prints] | None:
    """A usable snapshot, or None; a damaged file is logged and deleted (then rebuilt)."""
    try:
        loaded = ScreeningIndex.load(path)
    except FileNotFoundError:
        return None
    except _SNAPSHOT_ERRORS as exc:
        log.warning(
            "index snapshot unreadable, rebuilding it",
            path=str(path),
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
        path.unlink(missing_ok=True)
        return None
    if loaded is None or not isinstance(loaded[1], dict):
        path.unlink(missing_ok=True)
        return None
    return loaded[0], loaded[1]


def _snapshot(
    session: Session,
    versions: list[ListVersionRow],
    snapshot_dir: Path | None,
) -> tuple[ScreeningIndex, Prints]:
    key = [v.id for v in versions]
    path = None
    if snapshot_dir is not None and key:
        digest = hashlib.sha256("".join(v.checksum for v in versions).encode()).hexdigest()
        path = snapshot_dir / f"index-{'-'.join(map(str, key))}-{digest[:12]}.pickle"
        found = _read_snapshot(path)
        if found is not None:
            return found
    index = ScreeningIndex()
    prints: Prints = {}
    by_id = {v.id: v.source for v in versions}
    rows = session.execute(
        select(ListEntityRow.version_id, ListEntityRow.data, ListEntityRow.fingerprint).where(
            ListEntityRow.version_id.in_(key)
        )
    )
    for version_id, data, print_ in rows:
        index.add(subject_from_ftm(data, by_id[version_id]))
        prints[(by_id[version_id], str(data["id"]))] = print_
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("index-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        try:
            index.save(path, prints)
        except OSError as exc:  # a full disk costs the quick start, not the screening
            log.warning("index snapshot not written", error=str(exc)[:300])
    index.freeze()
    return index, prints


# ---------------------------------------------------------------------------------------
# screening with audit


MAX_REASON_CHARS = 2000
MAX_ENTITY_ID_CHARS = 200


def decided_pairs(
    session: Session, decisions: Sequence[str], query_key: str | None = None
) -> set[tuple[str, str, str, str]]:
    """(query key, list, entity id, fingerprint) of the decisions of these kinds.

    A decision is on one result of one screening; the list comes from that result, so two
    lists that use the same entity id (an FtM export may) are never confused.
    """
    statement = (
        select(ScreeningDecisionRow, ScreeningRow.results)
        .join(ScreeningRow, ScreeningRow.id == ScreeningDecisionRow.screening_id)
        .where(ScreeningDecisionRow.decision.in_(decisions))
    )
    if query_key is not None:
        statement = statement.where(ScreeningDecisionRow.query_key == query_key)
    found: set[tuple[str, str, str, str]] = set()
    for decision, results in session.execute(statement):
        for result in results or []:
            if (result.get("entity_id"), result.get("fingerprint")) == (
                decision.entity_id,
                decision.fingerprint,
            ):
                found.add(
                    (decision.query_key, str(result.get("list", "")), decision.entity_id,
                     decision.fingerprint)
                )  # fmt: skip
    return found


def hit_dict(hit: Hit, prints: Prints, threshold: float) -> dict[str, Any]:
    """One result; every result is at or above ``threshold`` (lower ones are not returned)."""
    subject = hit.subject
    return {
        "entity_id": subject.id,
        "caption": subject.caption,
        "schema": subject.schema,
        "list": subject.dataset,
        "matched_name": hit.result.name,
        "score": round(hit.score, 4),
        "explanation": hit.result.explanation(),
        "fingerprint": prints.get((subject.dataset, subject.id), ""),
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
    prepared: Prepared | None = None,
    flush: bool = True,
) -> ScreeningRow:
    """Screen ``query`` against the current lists and store the screening (the audit).

    ``prepared`` (from ``prepare``, within the same transaction) saves a batch from looking
    up the list versions and the whitelist again for every query; with ``flush=False`` the
    row has its id only after the caller's next flush (a batch inserts many at once).
    """
    subject = query.subject()
    ready = prepared or prepare(session, snapshot_dir, query.key())
    if not ready.versions:
        raise ConflictError("no sanctions list is loaded yet: run `legation lists update` first")
    hits = ready.index.search(subject, threshold=threshold, limit=limit)
    key = query.key()
    results = []
    for hit in hits:
        row = hit_dict(hit, ready.prints, threshold)
        pair = (key, row["list"], row["entity_id"], row["fingerprint"])
        row["suppressed"] = pair in ready.whitelisted
        results.append(row)
    screening = ScreeningRow(
        created_at=now or utcnow(),
        actor=actor,
        subject_id=subject_id,
        query=query.as_dict(),
        query_key=key,
        list_versions=ready.versions,
        algorithm=ALGORITHM,
        threshold=threshold,
        results=results,
    )
    session.add(screening)
    if flush:
        session.flush()
    return screening


@dataclass
class Prepared:
    """What every screening in one transaction shares: the index and the whitelist."""

    index: ScreeningIndex
    versions: dict[str, int]
    prints: Prints
    whitelisted: set[tuple[str, str, str, str]]  # (query key, list, entity id, fingerprint)


def prepare(session: Session, snapshot_dir: Path | None, query_key: str | None = None) -> Prepared:
    """The current index and whitelist (of one query key, or of all for a batch)."""
    index, versions, prints = load_index(session, snapshot_dir)
    whitelisted = decided_pairs(session, ("whitelisted",), query_key) if versions else set()
    return Prepared(index, versions, prints, whitelisted)


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
    list_source: str | None = None,
    now: datetime | None = None,
) -> ScreeningDecisionRow:
    """Record an analyst's decision on one result (entity id, and list if ids repeat)."""
    if decision not in DECISIONS:
        raise InputError(f"decision {shorten(decision)}: use one of {', '.join(DECISIONS)}")
    if len(entity_id) > MAX_ENTITY_ID_CHARS:
        raise _too_long("entity_id", entity_id, MAX_ENTITY_ID_CHARS)
    if len(reason) > MAX_REASON_CHARS:
        raise _too_long("reason", reason, MAX_REASON_CHARS)
    if decision == "whitelisted" and not reason.strip():
        raise InputError("a whitelisting needs a reason")
    screening = session.get(ScreeningRow, screening_id)
    if screening is None:
        raise NotFoundError(f"screening {screening_id} does not exist")
    found = [
        r
        for r in screening.results
        if r["entity_id"] == entity_id and list_source in (None, r.get("list"))
    ]
    if not found:
        where = f" on list {shorten(list_source)}" if list_source is not None else ""
        raise NotFoundError(f"screening {screening_id} has no result {shorten(entity_id)}{where}")
    if len(found) > 1:
        lists = ", ".join(str(r.get("list")) for r in found)
        raise InputError(
            f"result {shorten(entity_id)} is on several lists ({lists}): name the list"
        )
    result = found[0]
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
        raise InputError(f"subject kind {shorten(kind)}: use staff, partner or payee")
    query = Query(name, schema, birth_date, country)  # validates and normalises
    row = ScreeningSubjectRow(
        kind=kind,
        schema=query.schema,
        name=query.name,
        birth_date=query.birth_date,
        country=query.country,
        reference=reference,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _sync_staff(session: Session) -> None:
    """Staff are screened under their current names: a new member is added, a renamed one
    screened under the new name, one who left no longer screened (past screenings keep
    their query and results; their link to the subject is cleared)."""
    subjects = {  # the ones synced from the registry (a staff subject added by hand stays)
        row.reference: row
        for row in session.scalars(
            select(ScreeningSubjectRow).where(ScreeningSubjectRow.kind == "staff")
        )
        if row.reference and row.reference.startswith("staff:")
    }
    current: set[str] = set()
    for staff in session.scalars(select(StaffRow)):
        reference = f"staff:{staff.id}"
        current.add(reference)
        row = subjects.get(reference)
        if row is None:
            session.add(
                ScreeningSubjectRow(
                    kind="staff",
                    schema="Person",
                    name=staff.name,
                    reference=reference,
                    created_at=utcnow(),
                )
            )
        elif row.name != staff.name:
            row.name = staff.name
    for reference, row in subjects.items():
        if reference not in current:
            session.delete(row)
    session.flush()


def rescreen_subjects(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    errors: list[str] | None = None,
) -> list[AlertRow]:
    """Screen every stored subject (staff included) again; new hits raise alerts.

    A subject that cannot be screened (say a name stored before today's limits) is named in
    ``errors`` and logged; the others are screened all the same.
    """
    now = now or utcnow()
    created: list[AlertRow] = []
    problems = errors if errors is not None else []
    with transaction(factory) as session:
        _sync_staff(session)
        decided = decided_pairs(session, ("false_positive", "whitelisted"))
        rules = [
            r
            for r in session.scalars(select(RuleRow).where(RuleRow.enabled.is_(True)))
            if SCREENING_ALERT_TYPE in (r.incident_types or [])
        ]
        prepared = prepare(session, snapshot_dir(settings))
        for subject in list(session.scalars(select(ScreeningSubjectRow))):
            try:
                query = Query(subject.name, subject.schema, subject.birth_date, subject.country)
                screening = screen(
                    session,
                    query,
                    actor="rescreen",
                    threshold=settings.screening_threshold,
                    subject_id=subject.id,
                    now=now,
                    prepared=prepared,
                )
            except InputError as exc:  # raised before anything is written for this subject
                problem = f"subject {subject.id} ({subject.kind}): {exc}"
                log.warning("subject not re-screened", error=problem)
                problems.append(problem)
                continue
            for result in screening.results:
                if result["suppressed"]:
                    continue
                pair = (result["list"], result["entity_id"], result["fingerprint"])
                if (screening.query_key, *pair) in decided:
                    continue
                alert = _raise_alert(session, subject, screening, result, rules, now)
                if alert is not None:
                    created.append(alert)
    return created


def alert_key(subject_id: int, result: dict[str, Any]) -> str:
    """The dedup key of a hit's alert, as stored (the column holds 200 characters)."""
    raw = f"screen:subject{subject_id}:{result['list']}:{result['entity_id']}"
    return f"{raw[:170]}:{result['fingerprint'][:16]}"


def _raise_alert(
    session: Session,
    subject: ScreeningSubjectRow,
    screening: ScreeningRow,
    result: dict[str, Any],
    rules: list[RuleRow],
    now: datetime,
) -> AlertRow | None:
    key = alert_key(subject.id, result)
    if session.scalar(select(AlertRow.id).where(AlertRow.dedup_key == key)) is not None:
        return None
    alert = AlertRow(
        dedup_key=key,
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
    queue_first_deliveries(session, alert, rules, now=now)
    return alert


# ---------------------------------------------------------------------------------------
# designated organisations <-> incident perpetrators (the start of a threat-actor register)


LINK_THRESHOLD = 0.85  # an incident's group and a listed organisation: stricter than a hit
LINK_CANDIDATES = 10
# glossary concepts that name the kind of organisation, not which one: "HAQQANI NETWORK" is
# the Haqqani; places, "state", "islamic", "army" or "brigade" tell organisations apart
# ("AL-QAIDA IN EGYPT", "ISLAMIC STATE WEST AFRICA", "HIZBALLAH BRIGADES")
LINK_GENERIC = frozenset(
    (
        "group",
        "front",
        "movement",
        "organisation",
        "network",
        "company",
        "limited",
        "office",
        "society",
        "foundation",
        "party",
    )
)


def link_accepted(group: str, hit: Hit, threshold: float) -> bool:
    """Whether a screening hit of a perpetrator group is good enough to link the incident.

    A screening hit may be a lead for an analyst; a link is stated as fact in the register.
    So the score must reach ``max(threshold, LINK_THRESHOLD)``, the name matched must be a
    strong one (not a weak alias such as "ISIS-WA"), and every part of that listed name must
    be matched except words that name the kind of organisation (``LINK_GENERIC``):
    "Hizballah" is not "KATA'IB HIZBALLAH", "Taliban" not "PAKISTANI TALIBAN", "ISIS" not
    "ISIS-EGYPT", while "Haqqani" links to "HAQQANI NETWORK".
    """
    if hit.score < max(threshold, LINK_THRESHOLD):
        return False
    name = next((n for n in hit.subject.names if n.text == hit.result.name), None)
    if name is None or name.weak:
        return False
    query = Subject.build("perpetrator", "Organization", [group])
    for query_name in query.names:
        _score, _detail, unmatched = align_names(query_name.parts, name.parts)
        if all(part.concept in LINK_GENERIC for part in unmatched):
            return True
    return False


def link_incidents(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> int:
    """Link every incident's perpetrator groups to designated organisations on the current
    lists; returns how many links are new.

    The links are computed from scratch each time and the stored set made equal to them:
    a link to an entry that is no longer on the current version of its list (delisted, or
    its list replaced) is removed, so the register never shows it as current, and the
    links do not depend on the order in which lists were updated.
    """
    now = now or utcnow()
    with transaction(factory) as session:
        index, _versions, _prints = load_index(session, snapshot_dir(settings))
        wanted: dict[tuple[int, str, str], DesignationLinkRow] = {}
        for incident in session.scalars(select(IncidentRow).order_by(IncidentRow.id)):
            groups = dict.fromkeys(
                str(g) for g in [*incident.perpetrators, *incident.organizations]
            )
            for group in groups:
                if not group.strip() or len(group) > 1000:
                    continue
                query = Subject.build("perpetrator", "Organization", [group])
                threshold = settings.screening_threshold
                for hit in index.search(query, threshold=threshold, limit=LINK_CANDIDATES):
                    key = (incident.id, hit.subject.dataset, hit.subject.id)
                    if key in wanted or not link_accepted(group, hit, threshold):
                        continue
                    wanted[key] = DesignationLinkRow(
                        incident_id=incident.id,
                        entity_id=hit.subject.id,
                        caption=hit.subject.caption[:1000],
                        list_source=hit.subject.dataset,
                        perpetrator=group,
                        score=round(hit.score, 4),
                        created_at=now,
                    )
        removed = 0
        for row in session.scalars(select(DesignationLinkRow)):
            key = (row.incident_id, row.list_source, row.entity_id)
            fresh = wanted.pop(key, None)
            if fresh is None:
                session.delete(row)
                removed += 1
            else:  # kept (with its first date), as the current version names it
                row.caption, row.perpetrator = fresh.caption, fresh.perpetrator
                row.score = fresh.score
        session.add_all(wanted.values())
        if removed:
            log.info("designation links removed", removed=removed)
    return len(wanted)


def link_dict(row: DesignationLinkRow) -> dict[str, Any]:
    return {
        "incident_id": row.incident_id,
        "entity_id": row.entity_id,
        "caption": row.caption,
        "list": row.list_source,
        "perpetrator": row.perpetrator,
        "score": row.score,
    }


def incidents_of_entity(
    session: Session, entity_id: str, list_source: str | None = None
) -> list[dict[str, Any]]:
    """Links to the entry ``entity_id`` of ``list_source``; without a list, of every list
    that uses the id (each link names its list)."""
    query = select(DesignationLinkRow).where(DesignationLinkRow.entity_id == entity_id)
    if list_source is not None:
        query = query.where(DesignationLinkRow.list_source == list_source)
    order = (DesignationLinkRow.incident_id, DesignationLinkRow.list_source)
    return [link_dict(r) for r in session.scalars(query.order_by(*order))]


def designations_of_incident(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(DesignationLinkRow)
        .where(DesignationLinkRow.incident_id == incident_id)
        .order_by(DesignationLinkRow.score.desc())
    )
    return [link_dict(r) for r in rows]
