"""What the dashboard's Partners pages show: partners, grants, collection policies, sync state.

Read straight from the sharing tables (``storage.sharing_tables``); the one write here is
:func:`set_access`, which grants or revokes a partner's read and write on a collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from legation.errors import InputError, NotFoundError
from legation.storage.sharing_tables import (
    CollectionRow,
    GrantRow,
    PartnerRow,
    PullStateRow,
    StatusRow,
    StixObjectRow,
)


@dataclass(frozen=True, slots=True)
class Write:
    """The last TAXII add request a partner sent to one of our collections."""

    at: datetime
    requests: int
    succeeded: int
    failed: int


@dataclass(frozen=True, slots=True)
class Access:
    collection_id: str
    alias: str | None
    title: str
    can_read: bool
    can_write: bool
    last_write: Write | None


@dataclass(frozen=True, slots=True)
class Pull:
    """Progress of pulls from one of the partner's collections (``legation partners pull``)."""

    collection_url: str
    added_after: str | None
    objects: int
    pages: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PartnerView:
    id: int
    name: str
    organisation: str | None
    clearance: str
    enabled: bool
    api_key: bool
    login: str | None
    url: str | None
    created_at: datetime
    access: list[Access]
    pulls: list[Pull]

    @property
    def last_pull(self) -> datetime | None:
        return max((p.updated_at for p in self.pulls), default=None)

    @property
    def last_write(self) -> datetime | None:
        return max((a.last_write.at for a in self.access if a.last_write), default=None)


@dataclass(frozen=True, slots=True)
class CollectionView:
    id: str
    alias: str | None
    title: str
    description: str
    default_tlp: str
    max_tlp: str
    publishes: list[str]
    objects: int
    readers: list[str]
    writers: list[str]
    created_at: datetime

    @property
    def name(self) -> str:
        return self.alias or self.id


def _enabled(row: PartnerRow) -> bool:
    """Whether the partner can reach our TAXII server: it has a key or a login, not disabled.

    Reads a ``disabled`` or ``enabled`` column when the partners table has one.
    """
    if getattr(row, "disabled", False) or getattr(row, "enabled", True) is False:
        return False
    return row.api_key_hash is not None or row.password_hash is not None


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def _last_writes(session: Session, partner: str | None = None) -> dict[tuple[str, str], Write]:
    """(partner, collection id) -> the latest add request, with how many there were."""
    grouped = select(
        StatusRow.partner,
        StatusRow.collection_id,
        func.max(StatusRow.request_us).label("last_us"),
        func.count().label("requests"),
    ).group_by(StatusRow.partner, StatusRow.collection_id)
    if partner is not None:
        grouped = grouped.where(StatusRow.partner == partner)
    latest = grouped.subquery()
    rows = session.execute(
        select(StatusRow, latest.c.requests).join(
            latest,
            (StatusRow.partner == latest.c.partner)
            & (StatusRow.collection_id == latest.c.collection_id)
            & (StatusRow.request_us == latest.c.last_us),
        )
    )
    found: dict[tuple[str, str], Write] = {}
    for status, requests in rows:
        found[(status.partner, status.collection_id)] = Write(
            _from_us(status.request_us),
            int(requests),
            len(status.successes or []),
            len(status.failures or []),
        )
    return found


def _pulls(session: Session, names: list[str]) -> dict[str, list[Pull]]:
    found: dict[str, list[Pull]] = {name: [] for name in names}
    query = select(PullStateRow).order_by(PullStateRow.partner, PullStateRow.collection_url)
    if len(names) == 1:
        query = query.where(PullStateRow.partner == names[0])
    for row in session.scalars(query):
        if row.partner in found:
            found[row.partner].append(
                Pull(row.collection_url, row.added_after, row.objects, row.pages, row.updated_at)
            )
    return found


def _views(session: Session, rows: list[PartnerRow]) -> list[PartnerView]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    writes = _last_writes(session, rows[0].name if len(rows) == 1 else None)
    pulls = _pulls(session, [row.name for row in rows])
    access: dict[int, list[Access]] = {i: [] for i in ids}
    granted = session.execute(
        select(GrantRow, CollectionRow)
        .join(CollectionRow, CollectionRow.id == GrantRow.collection_id)
        .where(GrantRow.partner_id.in_(ids))
        .order_by(CollectionRow.alias, CollectionRow.id)
    )
    names = {row.id: row.name for row in rows}
    for grant, collection in granted:
        access[grant.partner_id].append(
            Access(
                collection.id,
                collection.alias,
                collection.title,
                grant.can_read,
                grant.can_write,
                writes.get((names[grant.partner_id], collection.id)),
            )
        )
    return [
        PartnerView(
            id=row.id,
            name=row.name,
            organisation=row.organisation,
            clearance=row.clearance,
            enabled=_enabled(row),
            api_key=row.api_key_hash is not None,
            login=row.username,
            url=row.url,
            created_at=row.created_at,
            access=access[row.id],
            pulls=pulls[row.name],
        )
        for row in rows
    ]


def partners(session: Session) -> list[PartnerView]:
    """Every partner by name, with its grants, last writes and pull progress."""
    return _views(session, list(session.scalars(select(PartnerRow).order_by(PartnerRow.name))))


def partner(session: Session, *, partner_id: int) -> PartnerView:
    row = session.get(PartnerRow, partner_id)
    if row is None:
        raise NotFoundError(f"partner number {partner_id} does not exist")
    return _views(session, [row])[0]


def describe_policy(policy: dict[str, Any]) -> list[str]:
    """What a collection's policy puts in it, in words (as ``partners collection-add`` set it)."""
    said = []
    if policy.get("countries"):
        said.append("incidents in " + ", ".join(str(c) for c in policy["countries"]))
    if policy.get("types"):
        said.append("incidents of type " + ", ".join(str(t) for t in policy["types"]))
    if not said:
        said.append("all incidents")
    if policy.get("sightings"):
        said.append("sightings at our sites that raised alerts")
    return said


def collections(session: Session) -> list[CollectionView]:
    """Every TAXII collection with its policy, object count and who may read or write it."""
    counts = dict(
        session.execute(
            select(StixObjectRow.collection_id, func.count())
            .where(StixObjectRow.latest.is_(True))
            .group_by(StixObjectRow.collection_id)
        ).all()
    )
    readers: dict[str, list[str]] = {}
    writers: dict[str, list[str]] = {}
    grants = session.execute(
        select(GrantRow, PartnerRow.name)
        .join(PartnerRow, PartnerRow.id == GrantRow.partner_id)
        .order_by(PartnerRow.name)
    )
    for grant, name in grants:
        if grant.can_read:
            readers.setdefault(grant.collection_id, []).append(name)
        if grant.can_write:
            writers.setdefault(grant.collection_id, []).append(name)
    rows = session.scalars(select(CollectionRow).order_by(CollectionRow.alias, CollectionRow.id))
    return [
        CollectionView(
            id=row.id,
            alias=row.alias,
            title=row.title,
            description=row.description,
            # the defaults partners.publish and partners.intake apply when a key is missing
            default_tlp=str(row.policy.get("default_tlp", "amber")),
            max_tlp=str(row.policy.get("max_tlp", "amber+strict")),
            publishes=describe_policy(row.policy),
            objects=int(counts.get(row.id, 0)),
            readers=readers.get(row.id, []),
            writers=writers.get(row.id, []),
            created_at=row.created_at,
        )
        for row in rows
    ]


def set_access(
    session: Session, *, partner_id: int, collection_id: str, read: bool, write: bool
) -> str:
    """Grant or change a partner's read and write on a collection; neither removes the grant.

    Returns the collection's name. Unknown partner or collection is an error naming it.
    """
    if session.get(PartnerRow, partner_id) is None:
        raise NotFoundError(f"partner number {partner_id} does not exist")
    collection = session.get(CollectionRow, collection_id)
    if collection is None:
        raise InputError(f"collection {collection_id!r} does not exist")
    row = session.get(GrantRow, (partner_id, collection_id))
    if not read and not write:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            GrantRow(
                partner_id=partner_id, collection_id=collection_id, can_read=read, can_write=write
            )
        )
    else:
        row.can_read, row.can_write = read, write
    session.flush()
    return collection.alias or collection.id
