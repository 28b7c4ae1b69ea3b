"""Sites, staff, protected persons and appearances."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from legation.domain.clock import as_utc, utcnow
from legation.domain.geo import covering_boxes
from legation.domain.models import Site
from legation.errors import NotFoundError
from legation.storage.tables import LevelHistoryRow, SiteRow

_SITE_FIELDS = (
    "name",
    "type",
    "operator",
    "operator_code",
    "country",
    "country_code",
    "city",
    "lat",
    "lon",
    "qid",
)


def upsert_sites(session: Session, *, sites: Iterable[Site]) -> tuple[int, int, int]:
    """Insert new sites and update changed ones, keyed by ``key``: (added, updated, unchanged)."""
    incoming = {s.key: s for s in sites}
    existing = {
        row.key: row
        for chunk in _chunks(list(incoming), 500)
        for row in session.scalars(select(SiteRow).where(SiteRow.key.in_(chunk)))
    }
    now = utcnow()
    added = updated = 0
    for key, site in incoming.items():
        values = {f: getattr(site, f) for f in _SITE_FIELDS}
        row = existing.get(key)
        if row is None:
            session.add(
                SiteRow(
                    key=key,
                    **values,
                    level=1,
                    score=0.0,
                    reasons=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            row.updated_at = now
            updated += 1
    return added, updated, len(incoming) - added - updated


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def site_from_row(row: SiteRow) -> Site:
    return Site(key=row.key, **{f: getattr(row, f) for f in _SITE_FIELDS})


def get_site(session: Session, *, key: str) -> SiteRow:
    row = session.scalar(select(SiteRow).where(SiteRow.key == key))
    if row is None:
        raise NotFoundError(f"site {key!r} does not exist")
    return row


@dataclass(frozen=True, slots=True)
class SiteBrief:
    """The columns an assessment needs, without loading the whole row."""

    id: int
    type: str
    operator_code: str | None
    country_code: str | None
    lat: float | None
    lon: float | None
    level: int
    score: float


def sites_near(
    session: Session,
    *,
    points: Sequence[tuple[float | None, float | None]],
    radius_km: float,
    countries: Sequence[str],
) -> list[SiteBrief]:
    """Sites within a bounding box of any of the points, plus every site in the countries."""
    clauses: list[ColumnElement[bool]] = []
    located = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
    for lat0, lat1, lon0, lon1 in covering_boxes(located, radius_km):
        clauses.append(SiteRow.lat.between(lat0, lat1) & SiteRow.lon.between(lon0, lon1))
    if countries:
        clauses.append(SiteRow.country_code.in_(sorted(set(countries))))
    if not clauses:
        return []
    columns = (
        SiteRow.id,
        SiteRow.type,
        SiteRow.operator_code,
        SiteRow.country_code,
        SiteRow.lat,
        SiteRow.lon,
        SiteRow.level,
        SiteRow.score,
    )
    return [SiteBrief(*row) for row in session.execute(select(*columns).where(or_(*clauses)))]


def sites_by_id(session: Session, *, ids: Sequence[int]) -> dict[int, SiteRow]:
    return {s.id: s for s in session.scalars(select(SiteRow).where(SiteRow.id.in_(list(ids))))}


def record_level(
    session: Session,
    *,
    row: SiteRow,
    level: int,
    score: float,
    reasons: list[dict[str, object]],
    as_of: datetime,
) -> bool:
    """Store a site's current level; history gets a row when the level changes.

    ``assessed_at`` is the time of the assessment that produced the stored values: an
    unchanged result writes nothing.
    """
    changed = row.level != level
    if not changed and row.score == score and row.reasons == reasons:
        return False
    row.level, row.score, row.reasons, row.assessed_at = level, score, reasons, as_of
    if changed:
        session.add(
            LevelHistoryRow(site_id=row.id, level=level, score=score, reasons=reasons, as_of=as_of)
        )
    return changed


def site_dict(row: SiteRow) -> dict[str, object]:
    return {
        **asdict(site_from_row(row)),
        "level": row.level,
        "score": row.score,
        "reasons": row.reasons,
        "assessed_at": as_utc(row.assessed_at).isoformat() if row.assessed_at else None,
    }
