"""TAXII 2.1 persistence: collections, object versions in a total order, cursors, statuses.

Knows no HTTP. Times are microseconds since the epoch (``*_us``); a collection's
``date_added`` values are strictly increasing, so paging by ``added_after`` never skips
an object even when thousands arrive in one request.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.errors import InputError, NotFoundError
from legation.sharing.tlp import LEVELS, Recipient, filter_object, level_rank
from legation.storage.db import json_text
from legation.storage.sharing_tables import (
    CollectionRow,
    CursorRow,
    GrantRow,
    StatusRow,
    StixObjectRow,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")


def now_us() -> int:
    return to_us(utcnow())


def to_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_us(us: int) -> str:
    """A TAXII timestamp with microseconds: ``2016-12-19T17:05:00.000001Z``."""
    m = EPOCH + timedelta(microseconds=us)  # an f-string: strftime cost more than the rest
    return (
        f"{m.year}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond:06d}Z"
    )


def parse_timestamp(text: str, what: str = "timestamp") -> int:
    """A STIX/TAXII timestamp (``...Z``, any fraction) as microseconds; InputError names it."""
    match = _TS.match(text.strip())
    if not match:
        raise InputError(f"{what} {text!r} is not a timestamp like 2016-12-19T17:05:00.000Z")
    *parts, fraction = match.groups()
    year, month, day, hour, minute, second = (int(p) for p in parts)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise InputError(f"{what} {text!r}: {exc}") from exc
    return to_us(moment) + int((fraction or "0")[:6].ljust(6, "0"))


def version_of(obj: dict[str, Any]) -> str:
    """The object's version (``modified``, else ``created``) in a form that sorts by time."""
    stamp = obj.get("modified") or obj.get("created")
    if not isinstance(stamp, str):
        raise InputError(f"{obj.get('id', 'object')}: has neither 'modified' nor 'created'")
    if _CANONICAL.match(stamp) and stamp[11:19] < "24:00:00" and _real_day(stamp[:10]):
        # What format_us(parse_timestamp(stamp)) gives, without the round trip through time.
        return f"{stamp[:19]}.{stamp[20:-1].ljust(6, '0')}Z"
    return format_us(parse_timestamp(stamp, f"{obj.get('id')} version"))


_CANONICAL = re.compile(
    r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z$"
)


@functools.lru_cache(maxsize=4096)
def _real_day(text: str) -> bool:
    try:
        datetime(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


# ---- collections and grants --------------------------------------------------------------


def create_collection(
    session: Session, *, title: str, alias: str | None, description: str, policy: dict[str, Any]
) -> CollectionRow:
    row = CollectionRow(
        id=str(uuid.uuid4()),
        alias=alias,
        title=title,
        description=description,
        policy=policy,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def find_collection(session: Session, *, ident: str) -> CollectionRow:
    row = session.get(CollectionRow, ident) or session.scalar(
        select(CollectionRow).where(CollectionRow.alias == ident)
    )
    if row is None:
        raise NotFoundError(f"collection {ident!r} does not exist")
    return row


def grant(
    session: Session, *, partner_id: int, collection_id: str, read: bool, write: bool
) -> None:
    row = session.get(GrantRow, (partner_id, collection_id))
    if row is None:
        session.add(
            GrantRow(
                partner_id=partner_id, collection_id=collection_id, can_read=read, can_write=write
            )
        )
    else:
        row.can_read, row.can_write = read, write


def collections_for(session: Session, *, partner_id: int) -> list[tuple[CollectionRow, GrantRow]]:
    rows = session.execute(
        select(CollectionRow, GrantRow)
        .join(GrantRow, GrantRow.collection_id == CollectionRow.id)
        .where(GrantRow.partner_id == partner_id)
        .order_by(CollectionRow.created_at, CollectionRow.id)
    )
    return [(c, g) for c, g in rows]


def collection_for(
    session: Session, *, partner_id: int, ident: str
) -> tuple[CollectionRow, GrantRow]:
    """The collection and the partner's rights on it; NotFoundError when not granted at all.

    One query: the collection with that id, else the one with that alias, and the grant.
    """
    grant_of = and_(GrantRow.collection_id == CollectionRow.id, GrantRow.partner_id == partner_id)
    found = session.execute(
        select(CollectionRow, GrantRow)
        .outerjoin(GrantRow, grant_of)
        .where(or_(CollectionRow.id == ident, CollectionRow.alias == ident))
        .order_by(CollectionRow.id != ident)  # the id first, as before the alias
        .limit(1)
    ).first()
    if found is None or found[1] is None:
        raise NotFoundError(f"collection {ident!r} does not exist")
    return found[0], found[1]


# ---- adding objects ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewObject:
    body: dict[str, Any]
    tlp: str
    version: str


_CREATED_BY: Any = object()


def add_objects(
    session: Session,
    *,
    collection_id: str,
    objects: Sequence[NewObject],
    source: str,
    owner: str | None = _CREATED_BY,
    writer: Recipient | None = None,
    failures: list[dict[str, str]] | None = None,
) -> list[tuple[str, str, str]]:
    """Store new versions in one go; returns (id, version, message) for each stored object.

    ``source`` is the provenance ("local" or "partner:<name>"). ``owner`` is the organisation
    AMBER+STRICT objects are shared with: a partner's own organisation for what it sends;
    left out, each object's ``created_by_ref`` (our own exports).

    An id some other source holds is never given a new version: such an object is appended
    to ``failures``. A partner posting (``writer``) is checked against every collection; our
    own publishing and pulls against the target collection only (a pull may bring an object
    we also hold elsewhere from its producer). ``writer`` (a partner posting) learns nothing about
    versions it cannot see: a version already present, or an id held by another source,
    that it may not read is answered "added" like a new one, and nothing is stored; only
    versions it can see are "already present" or refused as another producer's.
    """
    last, pages, recorded = _lock_collection(session, collection_id)
    added = max(now_us(), last + 1)
    ids = {o.body["id"] for o in objects}
    present, foreign = _holders(session, collection_id, ids, source, everywhere=writer is not None)
    seen: dict[str, set[str]] = {}
    if writer is not None and (present or foreign):
        seen = _seen_versions(
            session, collection_id, set(foreign) | {i for i, _v in present}, writer
        )
    known = {stix_id for stix_id, _version in present}
    results, rows = [], []
    for obj in objects:
        key = (obj.body["id"], obj.version)
        visible = writer is None or bool(seen.get(key[0]))
        if key[0] in foreign:
            if visible:
                message = (
                    f"{key[0]} belongs to another producer; only its producer sends new versions"
                )
                if failures is not None:
                    failures.append({"id": key[0], "version": key[1], "message": message})
            else:
                results.append((*key, "added"))  # not stored; see the docstring
            continue
        if key in present:
            mine = writer is None or key[1] in seen.get(key[0], set())
            results.append((*key, "already present" if mine else "added"))
            continue
        present.add(key)
        rows.append(_row(collection_id, obj, added, source, owner))
        results.append((*key, "added"))
        added += 1
    if rows:
        _insert_rows(session, rows)
        _analyse_if_grown(session, pages, recorded)
    counts = Counter(row["stix_id"] for row in rows)
    # Objects new to the collection with one version are first and latest already.
    _mark_ends(session, collection_id, {i for i, n in counts.items() if n > 1 or i in known})
    return results


# Columns the planner needs statistics on (everything but the bodies, costly to sample).
_PLANNED = (
    "collection_id, stix_id, type, version, spec_version, added_us, latest, first, tlp, owner"
)


def _analyse_if_grown(session: Session, pages: int | None, recorded: int | None) -> None:
    """On PostgreSQL, ANALYZE the objects table once it has doubled since last looked at.

    Right after a bulk load the planner has no statistics on taxii_objects; it then sorts a
    whole collection for a first page (70 ms at 50,000 objects instead of under 1 ms) and
    may scan the table for an add's id lookups. Autovacuum analyses within a minute or so;
    this does it at once. ``pages`` is the table's size on disk, ``recorded`` the pages the
    planner last saw (``relpages``, set by ANALYZE and VACUUM), both read by
    ``_lock_collection`` in the same round trip; the test never fires for deletions. A
    table that grows from nothing to 50,000 objects is so analysed about nine times, each
    some tens of milliseconds. None (SQLite): nothing to do, its planner takes the index.
    """
    if pages is not None and recorded is not None and pages > 2 * recorded + 16:
        session.execute(text(f"ANALYZE taxii_objects ({_PLANNED})"))


def _lock_collection(session: Session, collection_id: str) -> tuple[int, int | None, int | None]:
    """Lock the collection against other adders and read what an add needs, in one query.

    The lock is PostgreSQL's FOR UPDATE (SQLite's BEGIN IMMEDIATE serialises already).
    Returns the collection's latest ``added_us`` (0 when empty) and, on PostgreSQL, the
    objects table's pages on disk and as the planner last recorded them (else None, None).
    """
    newest = (
        select(func.coalesce(func.max(StixObjectRow.added_us), 0))
        .where(StixObjectRow.collection_id == CollectionRow.id)
        .scalar_subquery()
    )
    columns: list[Any] = [newest]
    if session.get_bind().dialect.name == "postgresql":
        columns += [
            literal_column(
                "pg_relation_size('taxii_objects'::regclass) / current_setting('block_size')::int"
            ),
            literal_column("(SELECT relpages FROM pg_class WHERE oid = 'taxii_objects'::regclass)"),
        ]
    query = select(*columns).where(CollectionRow.id == collection_id)
    found = session.execute(query.with_for_update(of=CollectionRow)).one()
    return int(found[0]), *(tuple(found[1:]) or (None, None))


_COLUMNS = (
    "collection_id",
    "stix_id",
    "type",
    "version",
    "spec_version",
    "added_us",
    "latest",
    "first",
    "tlp",
    "owner",
    "source",
    "body",
)


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany straight to the driver (psycopg pipelines it into one round trip).

    SQLAlchemy's per-row parameter processing cost more than the insert itself; the only
    conversion it did here, the body to JSON text, is the engine's own serialiser.
    """
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(StixObjectRow.__tablename__)} "
        f"({', '.join(quote(c) for c in _COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
    )
    values = [tuple(json_text(r[c]) if c == "body" else r[c] for c in _COLUMNS) for r in rows]
    connection.exec_driver_sql(sql, values)


def _holders(
    session: Session, collection_id: str, ids: set[str], source: str, *, everywhere: bool
) -> tuple[set[tuple[str, str]], set[str]]:
    """Versions of ``ids`` already in the collection, and those ids another source holds.

    "Another source" is looked for in every collection (``everywhere``: a partner posting)
    or in this one only (our publishing, pulls). One query per 500 ids serves both.
    """
    present: set[tuple[str, str]] = set()
    foreign: set[str] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = select(
            StixObjectRow.stix_id,
            StixObjectRow.version,
            StixObjectRow.collection_id,
            StixObjectRow.source,
        ).where(StixObjectRow.stix_id.in_(chunk))
        if not everywhere:
            query = query.where(StixObjectRow.collection_id == collection_id)
        for stix_id, version, collection, holder in session.execute(query):
            if collection == collection_id:
                present.add((stix_id, version))
            if holder != source:
                foreign.add(stix_id)
    return present, foreign


def _seen_versions(
    session: Session, collection_id: str, ids: set[str], reader: Recipient
) -> dict[str, set[str]]:
    """The versions of ``ids`` in the collection that ``reader`` may see, by id."""
    out: dict[str, set[str]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = select(StixObjectRow).where(
            StixObjectRow.collection_id == collection_id,
            StixObjectRow.stix_id.in_(chunk),
            visible_to(reader),
        )
        for row in session.scalars(query):
            if seen_by(row, reader) is not None:
                out.setdefault(row.stix_id, set()).add(row.version)
    return out


def _row(
    collection_id: str, obj: NewObject, added_us: int, source: str, owner: str | None
) -> dict[str, Any]:
    if owner is _CREATED_BY:
        ref = obj.body.get("created_by_ref")
        owner = ref if isinstance(ref, str) else None
    return {
        "collection_id": collection_id,
        "stix_id": obj.body["id"],
        "type": obj.body["type"],
        "version": obj.version,
        "spec_version": obj.body.get("spec_version", "2.1"),
        "added_us": added_us,
        "latest": True,
        "first": True,
        "tlp": LEVELS.index(obj.tlp),
        "owner": owner,
        "source": source,
        "body": obj.body,
    }


def _mark_ends(session: Session, collection_id: str, ids: Iterable[str]) -> None:
    """Set the ``latest`` and ``first`` flags of the objects ``ids`` from their versions."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        where = and_(StixObjectRow.collection_id == collection_id, StixObjectRow.stix_id.in_(chunk))
        ends = session.execute(
            select(
                StixObjectRow.stix_id,
                func.max(StixObjectRow.version),
                func.min(StixObjectRow.version),
            )
            .where(where)
            .group_by(StixObjectRow.stix_id)
        )
        latest, first = [], []
        for stix_id, high, low in ends:
            latest.append((stix_id, high))
            first.append((stix_id, low))
        session.execute(update(StixObjectRow).where(where).values(latest=False, first=False))
        pair = tuple_(StixObjectRow.stix_id, StixObjectRow.version)
        if latest:
            session.execute(
                update(StixObjectRow).where(where, pair.in_(latest)).values(latest=True)
            )
            session.execute(update(StixObjectRow).where(where, pair.in_(first)).values(first=True))


# ---- reading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """Filters of a Get Objects / Manifest / Object / Versions request."""

    collection_id: str
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    added_after_us: int | None = None
    kind: str = "objects"
    extra: tuple[str, ...] = field(default_factory=tuple)

    def digest(self, partner: str) -> str:
        text = repr((self.collection_id, self.ids, self.types, self.versions))
        text += repr((self.spec_versions, self.added_after_us, self.kind, self.extra, partner))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def visible_to(recipient: Recipient) -> ColumnElement[bool]:
    """SQL for the TLP rule: up to clearance, never RED, AMBER+STRICT only to the owner."""
    ceiling = min(level_rank(recipient.clearance), LEVELS.index("amber+strict"))
    strict = LEVELS.index("amber+strict")
    allowed = StixObjectRow.tlp < strict if ceiling >= strict else StixObjectRow.tlp <= ceiling
    if ceiling >= strict and recipient.organisation:
        owner_strict = and_(
            StixObjectRow.tlp == strict, StixObjectRow.owner == recipient.organisation
        )
        return or_(allowed, owner_strict)
    return allowed


def _filters(query: Query) -> list[ColumnElement[bool]]:
    where = [StixObjectRow.collection_id == query.collection_id]
    if query.ids:
        # Written so that no index on collection_id applies: the planner must take the
        # stix_id index, not walk the whole collection in date_added order.
        where = [StixObjectRow.collection_id.concat("") == query.collection_id]
        where.append(StixObjectRow.stix_id.in_(query.ids))
    if query.types:
        where.append(StixObjectRow.type.in_(query.types))
    if query.spec_versions:
        where.append(StixObjectRow.spec_version.in_(query.spec_versions))
    if query.added_after_us is not None:
        where.append(StixObjectRow.added_us > query.added_after_us)
    versions: list[ColumnElement[bool]] = []
    for value in query.versions:
        if value == "all":
            versions = []
            break
        if value == "last":
            versions.append(StixObjectRow.latest.is_(True))
        elif value == "first":
            versions.append(StixObjectRow.first.is_(True))
        else:
            versions.append(StixObjectRow.version == format_us(parse_timestamp(value, "version")))
    if versions:
        where.append(or_(*versions))
    return where


class Stored(Protocol):
    """A stored version as reads see it: an ORM row or a plain result row of its columns."""

    @property
    def stix_id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def added_us(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def tlp(self) -> int: ...
    @property
    def owner(self) -> str | None: ...
    @property
    def body(self) -> dict[str, Any]: ...


def seen_by(row: Stored, reader: Recipient) -> dict[str, Any] | None:
    """What ``reader`` may see of one stored version, or None: the one visibility decision.

    Every TAXII answer (objects, object by id, manifest, versions, headers, counts, ``more``)
    and every push goes through it, after the SQL prefilter ``visible_to``.
    """
    return filter_object(row.body, reader, default=LEVELS[row.tlp], owner=row.owner)


@dataclass(frozen=True, slots=True)
class Seen:
    """A stored version and what the reader may see of it."""

    row: Stored
    body: dict[str, Any]


# Pages read plain rows of these columns: loading ORM objects cost more than the query.
_READ = tuple(StixObjectRow.__table__.c)


def page(
    session: Session,
    *,
    query: Query,
    recipient: Recipient,
    limit: int,
    after: tuple[int, int] | None = None,
) -> tuple[list[Seen], bool]:
    """Up to ``limit`` visible versions in (date_added, seq) order after ``after``; more?

    Versions the reader may not see are skipped here, before anything is counted, so a page
    is full unless it is the last, and ``more`` is true only when a visible version follows.
    """
    where = [*_filters(query), visible_to(recipient)]
    out: list[Seen] = []
    batch = limit + 1
    while True:
        bounded = list(where)
        if after is not None:
            bounded.append(tuple_(StixObjectRow.added_us, StixObjectRow.seq) > tuple_(*after))
        rows: Sequence[Stored] = session.execute(
            select(*_READ)
            .where(*bounded)
            .order_by(StixObjectRow.added_us, StixObjectRow.seq)
            .limit(batch)
        ).all()
        for row in rows:
            body = seen_by(row, recipient)
            if body is None:
                continue
            out.append(Seen(row, body))
            if len(out) > limit:
                return out[:limit], True
        if len(rows) < batch:
            return out, False
        after = (rows[-1].added_us, rows[-1].seq)
        batch = min(batch * 2, 5_000)


def delete_versions(session: Session, *, query: Query, source: str) -> list[tuple[str, str]]:
    """Remove the matching versions that ``source`` itself added; returns (id, version) gone.

    Nothing another source added (our own objects, other partners', the TLP definitions)
    is ever deleted this way.
    """
    where = [*_filters(query), StixObjectRow.source == source]
    gone = [
        (i, v)
        for i, v in session.execute(
            select(StixObjectRow.stix_id, StixObjectRow.version).where(*where)
        )
    ]
    if gone:
        session.execute(delete(StixObjectRow).where(*where))
        _mark_ends(session, query.collection_id, query.ids)
    return gone


# ---- cursors -----------------------------------------------------------------------------


def save_cursor(
    session: Session, *, digest: str, partner: str, after: tuple[int, int], ttl_seconds: int
) -> str:
    token = secrets.token_urlsafe(24)
    session.execute(delete(CursorRow).where(CursorRow.expires_us < now_us()))
    session.add(
        CursorRow(
            token=token,
            query=digest,
            partner=partner,
            after_us=after[0],
            after_seq=after[1],
            expires_us=now_us() + ttl_seconds * 1_000_000,
        )
    )
    return token


def load_cursor(session: Session, *, token: str, digest: str, partner: str) -> tuple[int, int]:
    row = session.get(CursorRow, token)
    if row is None or row.partner != partner:
        raise InputError(f"'next' value {token!r} is not valid (unknown or already expired)")
    if row.expires_us < now_us():
        raise InputError(f"'next' value {token!r} has expired; start again without 'next'")
    if row.query != digest:
        raise InputError(
            f"'next' value {token!r} belongs to a request with other filters; "
            "repeat the same filters with 'next'"
        )
    return row.after_us, row.after_seq


# ---- statuses ----------------------------------------------------------------------------


def save_status(
    session: Session,
    *,
    collection_id: str,
    partner: str,
    request_us: int,
    successes: list[dict[str, str]],
    failures: list[dict[str, str]],
) -> str:
    """Store a status resource; its id. A Core insert: the ORM's flush cost a millisecond."""
    ident = str(uuid.uuid4())
    session.execute(
        insert(StatusRow).values(
            id=ident,
            collection_id=collection_id,
            partner=partner,
            request_us=request_us,
            successes=successes,
            failures=failures,
        )
    )
    return ident


def get_status(session: Session, *, status_id: str, partner: str) -> StatusRow:
    row = session.get(StatusRow, status_id)
    if row is None or row.partner != partner:
        raise NotFoundError(f"status {status_id!r} does not exist")
    return row
