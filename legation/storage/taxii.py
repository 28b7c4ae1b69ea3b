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
from typing import Any, Protocol, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
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


@dataclass(frozen=True, slots=True)
class Collection:
    """What a request needs of a collection (read as plain columns, not an ORM row)."""

    id: str
    alias: str | None
    title: str
    description: str
    policy: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rights:
    can_read: bool
    can_write: bool


_COLLECTIONS = CollectionRow.__table__
_GRANTS = GrantRow.__table__
# Built once: building and hashing a statement per request cost more than running it.
_COLLECTION_FOR = (
    select(
        _COLLECTIONS.c.id,
        _COLLECTIONS.c.alias,
        _COLLECTIONS.c.title,
        _COLLECTIONS.c.description,
        _COLLECTIONS.c.policy,
        _GRANTS.c.can_read,
        _GRANTS.c.can_write,
    )
    .select_from(
        _COLLECTIONS.outerjoin(
            _GRANTS,
            and_(
                _GRANTS.c.collection_id == _COLLECTIONS.c.id,
                _GRANTS.c.partner_id == bindparam("partner_id"),
            ),
        )
    )
    .where(or_(_COLLECTIONS.c.id == bindparam("ident"), _COLLECTIONS.c.alias == bindparam("ident")))
    .order_by(_COLLECTIONS.c.id != bindparam("ident"))  # the id first, as before the alias
    .limit(1)
)


def collections_for(session: Session, *, partner_id: int) -> list[tuple[Collection, Rights]]:
    rows = session.connection().execute(
        select(*_COLLECTION_FOR.selected_columns)
        .join_from(_COLLECTIONS, _GRANTS, _GRANTS.c.collection_id == _COLLECTIONS.c.id)
        .where(_GRANTS.c.partner_id == partner_id)
        .order_by(_COLLECTIONS.c.created_at, _COLLECTIONS.c.id)
    )
    return [_collection(found) for found in rows]


def _collection(found: Any) -> tuple[Collection, Rights]:
    collection = Collection(found.id, found.alias, found.title, found.description, found.policy)
    return collection, Rights(bool(found.can_read), bool(found.can_write))


def collection_for(session: Session, *, partner_id: int, ident: str) -> tuple[Collection, Rights]:
    """The collection and the partner's rights on it; NotFoundError when not granted at all.

    One query: the collection with that id, else the one with that alias, and the grant.
    """
    found = (
        session.connection()
        .execute(_COLLECTION_FOR, {"partner_id": partner_id, "ident": ident})
        .first()
    )
    if found is None or found.can_read is None:
        raise NotFoundError(f"collection {ident!r} does not exist")
    return _collection(found)


@dataclass(frozen=True, slots=True)
class Lock:
    """A collection locked for an add, and what the add needs to know, read with the lock.

    ``last_added_us``: the collection's latest date_added (0 when empty), or None on
    PostgreSQL, where it is read once the lock is held, by the add's first holders query
    (``_holders``: one round trip fewer than a statement of its own); ``pages`` and
    ``recorded``: on PostgreSQL the objects table's pages on disk and as the planner last
    saw them (``_analyse_if_grown``), else None.
    """

    collection_id: str
    last_added_us: int | None
    pages: int | None
    recorded: int | None


def collection_for_add(
    session: Session, *, partner_id: int, ident: str
) -> tuple[Collection, Rights, Lock]:
    """``collection_for`` and ``_lock_collection`` in one query (one round trip fewer).

    The collection is locked even when the partner turns out not to be allowed to write;
    the transaction then ends at once with the refusal.
    """
    dialect = session.get_bind().dialect.name
    found = (
        session.connection()
        .execute(_collection_for_add(dialect), {"partner_id": partner_id, "ident": ident})
        .first()
    )
    if found is None or found.can_read is None:
        raise NotFoundError(f"collection {ident!r} does not exist")
    collection, rights = _collection(found)
    if dialect != "postgresql":
        return collection, rights, Lock(collection.id, int(found.newest), None, None)
    return collection, rights, Lock(collection.id, None, found.pages, found.recorded)


@functools.cache
def _collection_for_add(dialect: str) -> Select[Any]:
    columns: list[Any]
    if dialect == "postgresql":  # the newest is read after the lock: _holders
        columns = [_PG_PAGES.label("pages"), _PG_RECORDED.label("recorded")]
    else:
        columns = [_newest().label("newest")]
    return _COLLECTION_FOR.add_columns(*columns).with_for_update(of=_COLLECTIONS)


def _newest() -> Any:
    """The collection's latest ``added_us`` (0 when empty), as a scalar subquery."""
    objects = StixObjectRow.__table__.c
    return (
        select(func.coalesce(func.max(objects.added_us), 0))
        .where(objects.collection_id == _COLLECTIONS.c.id)
        .scalar_subquery()
    )


_PG_PAGES: ColumnElement[int] = literal_column(
    "pg_relation_size('taxii_objects'::regclass) / current_setting('block_size')::int"
)
_PG_RECORDED: ColumnElement[int] = literal_column(
    "(SELECT relpages FROM pg_class WHERE oid = 'taxii_objects'::regclass)"
)


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
    lock: Lock | None = None,
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

    ``lock``: the collection already locked in this transaction (``collection_for_add``).

    The same id and version again in ``objects`` is stored and answered once; each later
    copy goes to ``failures`` as a duplicate in this envelope.
    """
    if lock is None or lock.collection_id != collection_id:
        lock = _lock_collection(session, collection_id)
    last, pages, recorded = lock.last_added_us, lock.pages, lock.recorded
    ids = {o.body["id"] for o in objects}
    present, foreign, newest = _holders(
        session, collection_id, ids, source, everywhere=writer is not None, newest=last is None
    )
    added = max(now_us(), (newest if last is None else last) + 1)
    seen: dict[str, set[str]] = {}
    if writer is not None and (present or foreign):
        seen = _seen_versions(
            session, collection_id, set(foreign) | {i for i, _v in present}, writer
        )
    known = {stix_id for stix_id, _version in present}
    results, rows = [], []
    envelope: set[tuple[str, str]] = set()
    for obj in objects:
        key = (obj.body["id"], obj.version)
        if key in envelope:
            # One status entry per object of the request (TAXII 2.1 counts them all in
            # total_count), but only the first copy can be added: the others are refused
            # as what they are, which says nothing about what the collection holds.
            if failures is not None:
                failures.append({"id": key[0], "version": key[1], "message": _DUPLICATE})
            continue
        envelope.add(key)
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


_DUPLICATE = "duplicate in this envelope: the same id and version as an earlier object in it"

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


def _lock_collection(session: Session, collection_id: str) -> Lock:
    """Lock the collection against other adders and read what an add needs, in one query.

    The lock is PostgreSQL's FOR UPDATE (SQLite's BEGIN IMMEDIATE serialises already).
    """
    dialect = session.get_bind().dialect.name
    found = session.connection().execute(_lock_statement(dialect), {"ident": collection_id}).one()
    if dialect != "postgresql":
        return Lock(collection_id, int(found.newest), None, None)
    return Lock(collection_id, None, found.pages, found.recorded)


@functools.cache
def _lock_statement(dialect: str) -> Select[Any]:
    columns: list[Any]
    if dialect == "postgresql":  # the newest is read after the lock: _holders
        columns = [_PG_PAGES.label("pages"), _PG_RECORDED.label("recorded")]
    else:
        columns = [_newest().label("newest")]
    query = select(*columns).where(_COLLECTIONS.c.id == bindparam("ident"))
    return query.with_for_update(of=_COLLECTIONS)


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
    """The rows in one statement straight to the driver: COPY on PostgreSQL, else executemany.

    SQLAlchemy's per-row parameter processing cost more than the insert itself; the only
    conversion it did here, the body to JSON text, is the engine's own serialiser. On
    PostgreSQL a COPY of 100 bench rows took 1.6 ms against 2.6 ms for the pipelined
    executemany (0.2 against 0.9 ms of it in the client), and a multi-row INSERT longer
    still (the server plans a statement of 1,200 parameters each time). COPY runs in the
    add's transaction like any statement: nothing is stored unless the add commits.
    """
    connection = session.connection()
    values = [tuple(json_text(r[c]) if c == "body" else r[c] for c in _COLUMNS) for r in rows]
    quote = connection.dialect.identifier_preparer.quote
    table, columns = quote(StixObjectRow.__tablename__), ", ".join(quote(c) for c in _COLUMNS)
    if connection.dialect.name == "postgresql":
        driver: Any = connection.connection.driver_connection  # psycopg's, in this transaction
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
    connection.exec_driver_sql(sql, values)


def _holders(
    session: Session,
    collection_id: str,
    ids: set[str],
    source: str,
    *,
    everywhere: bool,
    newest: bool = False,
) -> tuple[set[tuple[str, str]], set[str], int]:
    """Versions of ``ids`` already in the collection, those ids another source holds, and
    (``newest``) the collection's latest ``added_us``, 0 when empty (else 0).

    "Another source" is looked for in every collection (``everywhere``: a partner posting)
    or in this one only (our publishing, pulls). One query per 500 ids serves both.

    ``newest`` is for PostgreSQL, with the collection locked in this transaction: a
    statement's snapshot is taken when it starts, so a value read in the same ``SELECT …
    FOR UPDATE`` that waited for the lock would miss what the previous holder committed
    meanwhile (and this add would reuse its date_added). This statement starts after the
    lock is held and sees it (READ COMMITTED); the first chunk's query reads it too, as a
    one-row subquery left-joined to the holders (a row of NULLs when none hold the ids).
    """
    present: set[tuple[str, str]] = set()
    foreign: set[str] = set()
    latest = 0
    ordered = sorted(ids)
    connection = session.connection()
    dialect = connection.dialect.name
    for turn, start in enumerate(range(0, max(len(ordered), 1 if newest else 0), 500)):
        chunk = ordered[start : start + 500]
        with_newest = newest and turn == 0
        query = _holders_statement(dialect, everywhere, with_newest)
        found = connection.execute(query, {"ids": chunk, "collection_id": collection_id})
        for row in found:
            if with_newest:
                latest = int(row[4])
                if row[0] is None:
                    continue
            stix_id, version, collection, holder = row[:4]
            if collection == collection_id:
                present.add((stix_id, version))
            if holder != source:
                foreign.add(stix_id)
    return present, foreign, latest


@functools.cache
def _holders_statement(dialect: str, everywhere: bool, newest: bool = False) -> Select[Any]:
    """Versions, collections and sources of the ids ``ids`` (everywhere or in the collection),
    and with ``newest`` the collection's latest ``added_us`` on every row (``_holders``).

    On PostgreSQL the ids go as one array (``= ANY``): the statement text is the same for
    any number of ids, and the server parses one parameter instead of one per id.
    """
    c = _OBJECTS.c
    if dialect == "postgresql":
        where = c.stix_id == any_(bindparam("ids", type_=ARRAY(String)))
    else:
        where = c.stix_id.in_(bindparam("ids", expanding=True))
    if not everywhere:
        where = and_(where, c.collection_id == bindparam("collection_id"))
    columns = (c.stix_id, c.version, c.collection_id, c.source)
    if not newest:
        return select(*columns).where(where)
    inner = _OBJECTS.alias("newest_of")
    latest = (
        select(func.coalesce(func.max(inner.c.added_us), 0).label("newest"))
        .where(inner.c.collection_id == bindparam("collection_id"))
        .subquery("latest")
    )
    joined = latest.outerjoin(_OBJECTS, where)
    return select(*columns, latest.c.newest).select_from(joined)


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
    shape, params = _visibility(recipient)
    return _visible_rule(shape, bindparam("tlp_owner", params.get("tlp_owner")))


_STRICT = LEVELS.index("amber+strict")


def _visibility(recipient: Recipient) -> tuple[tuple[int, bool], dict[str, Any]]:
    """The shape of ``visible_to`` (ceiling, whether an owner may see its AMBER+STRICT)."""
    ceiling = min(level_rank(recipient.clearance), _STRICT)
    if ceiling >= _STRICT and recipient.organisation:
        return (ceiling, True), {"tlp_owner": recipient.organisation}
    return (ceiling, False), {}


@functools.lru_cache(maxsize=64)
def _visible_where(shape: tuple[int, bool]) -> ColumnElement[bool]:
    """``visible_to`` for one shape, the owner left as the parameter ``tlp_owner``."""
    return _visible_rule(shape, bindparam("tlp_owner"))


def _visible_rule(shape: tuple[int, bool], owner: Any) -> ColumnElement[bool]:
    ceiling, owned = shape
    tlp = _OBJECTS.c.tlp
    allowed = tlp < _STRICT if ceiling >= _STRICT else tlp <= ceiling
    if owned:
        return or_(allowed, and_(tlp == _STRICT, _OBJECTS.c.owner == owner))
    return allowed


_OBJECTS = cast(Table, StixObjectRow.__table__)


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a query has; the statement for a shape is built once (``_where``)."""

    by_id: bool
    types: bool
    spec_versions: bool
    added_after: bool
    last: bool
    first: bool
    explicit: bool  # match[version] with timestamps


def _filter_values(query: Query) -> tuple[_Shape, dict[str, Any]]:
    """The query's shape and the values of its bind parameters."""
    values = [v for v in query.versions if v not in ("last", "first")]
    every = "all" in values
    explicit = [format_us(parse_timestamp(v, "version")) for v in values if v != "all"]
    shape = _Shape(
        by_id=bool(query.ids),
        types=bool(query.types),
        spec_versions=bool(query.spec_versions),
        added_after=query.added_after_us is not None,
        last=not every and "last" in query.versions,
        first=not every and "first" in query.versions,
        explicit=not every and bool(explicit),
    )
    params: dict[str, Any] = {
        "collection_id": query.collection_id,
        "ids": list(query.ids),
        "types": list(query.types),
        "spec_versions": list(query.spec_versions),
        "added_after_us": query.added_after_us,
        "versions": explicit,
    }
    return shape, params


@functools.lru_cache(maxsize=256)
def _where(shape: _Shape) -> tuple[ColumnElement[bool], ...]:
    c = _OBJECTS.c
    where = [c.collection_id == bindparam("collection_id")]
    if shape.by_id:
        # Written so that no index on collection_id applies: the planner must take the
        # stix_id index, not walk the whole collection in date_added order.
        where = [c.collection_id.concat("") == bindparam("collection_id")]
        where.append(c.stix_id.in_(bindparam("ids", expanding=True)))
    if shape.types:
        where.append(c.type.in_(bindparam("types", expanding=True)))
    if shape.spec_versions:
        where.append(c.spec_version.in_(bindparam("spec_versions", expanding=True)))
    if shape.added_after:
        where.append(c.added_us > bindparam("added_after_us"))
    versions: list[ColumnElement[bool]] = []
    if shape.last:
        versions.append(c.latest.is_(True))
    if shape.first:
        versions.append(c.first.is_(True))
    if shape.explicit:
        versions.append(c.version.in_(bindparam("versions", expanding=True)))
    if versions:
        where.append(or_(*versions))
    return tuple(where)


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


@functools.lru_cache(maxsize=512)
def _page_statement(
    shape: _Shape, visible: tuple[int, bool], after: bool, batch: int
) -> Select[Any]:
    """The page query for one shape of filters, built once (its values are bound)."""
    c = _OBJECTS.c
    where = [*_where(shape), _visible_where(visible)]
    if after:
        cursor = tuple_(bindparam("after_us"), bindparam("after_seq"))
        where.append(tuple_(c.added_us, c.seq) > cursor)
    return select(*_READ).where(*where).order_by(c.added_us, c.seq).limit(batch)


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
    shape, params = _filter_values(query)
    visible, owner = _visibility(recipient)
    params.update(owner)
    connection = session.connection()
    out: list[Seen] = []
    batch = limit + 1
    while True:
        statement = _page_statement(shape, visible, after is not None, batch)
        if after is not None:
            params["after_us"], params["after_seq"] = after
        rows: Sequence[Stored] = connection.execute(statement, params).all()
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
    shape, params = _filter_values(query)
    where = [*_where(shape), _OBJECTS.c.source == bindparam("source")]
    params["source"] = source
    connection = session.connection()
    found = connection.execute(select(_OBJECTS.c.stix_id, _OBJECTS.c.version).where(*where), params)
    gone = [(i, v) for i, v in found]
    if gone:
        connection.execute(delete(_OBJECTS).where(*where), params)
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
    row = {
        "id": ident,
        "collection_id": collection_id,
        "partner": partner,
        "request_us": request_us,
        "successes": successes,
        "failures": failures,
    }
    session.connection().execute(_INSERT_STATUS, row)
    return ident


_INSERT_STATUS = insert(cast(Table, StatusRow.__table__))


def get_status(session: Session, *, status_id: str, partner: str) -> StatusRow:
    row = session.get(StatusRow, status_id)
    if row is None or row.partner != partner:
        raise NotFoundError(f"status {status_id!r} does not exist")
    return row
