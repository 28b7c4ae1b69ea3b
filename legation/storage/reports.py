"""Reports: storage with exact and near-duplicate detection, and the job that processes each."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.domain.models import ReportInput
from legation.errors import InputError, TooLargeError
from legation.storage.tables import JobRow, ReportRow

NEAR_DUPLICATE_BITS = 3  # simhashes this close are the same text
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Stored:
    report_id: int
    status: str  # "new", "duplicate" (exact, not stored again), "near_duplicate"
    duplicate_of: int | None = None


def content_hash(text: str) -> str:
    normalised = " ".join(_WORD.findall(text.lower()))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def simhash(text: str) -> int:
    """64-bit SimHash over word 3-shingles."""
    words = _WORD.findall(text.lower())
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    weights = [0] * 64
    for shingle in shingles:
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    value = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return value - (1 << 64) if value >= 1 << 63 else value  # signed, fits BIGINT


def _bands(value: int) -> list[int]:
    unsigned = value & _MASK64
    return [(unsigned >> (16 * i)) & 0xFFFF for i in range(4)]


def _hamming(a: int, b: int) -> int:
    return ((a & _MASK64) ^ (b & _MASK64)).bit_count()


def add_report(session: Session, *, report: ReportInput, max_bytes: int) -> Stored:
    """Store a report and queue it, unless the same text is already stored."""
    size = len(report.text.encode("utf-8"))
    if size > max_bytes:
        raise TooLargeError(
            f"report {report.url or report.source!r} is {size} bytes; "
            f"the limit is {max_bytes} (LEGATION_MAX_REPORT_BYTES)"
        )
    if not report.text.strip():
        raise InputError(f"report {report.url or report.source!r} has no text")
    digest = content_hash(report.text)
    existing = session.scalar(select(ReportRow.id).where(ReportRow.content_hash == digest))
    if existing is not None:
        return Stored(existing, "duplicate", existing)
    fingerprint = simhash(report.text)
    near = _near_duplicate(session, fingerprint)
    now = utcnow()
    row = ReportRow(
        source=report.source,
        external_id=report.external_id,
        url=report.url,
        title=report.title,
        published=report.published,
        received_at=now,
        language=report.language,
        raw=report.raw,
        text=report.text,
        content_hash=digest,
        simhash=fingerprint,
        **dict(zip(("band0", "band1", "band2", "band3"), _bands(fingerprint), strict=True)),
        duplicate_of=near,
    )
    session.add(row)
    session.flush()
    session.add(JobRow(report_id=row.id, available_at=now, created_at=now))
    return Stored(row.id, "near_duplicate" if near else "new", near)


def _near_duplicate(session: Session, fingerprint: int) -> int | None:
    """Pigeonhole: within 3 bits, at least one 16-bit band is equal."""
    bands = _bands(fingerprint)
    columns = (ReportRow.band0, ReportRow.band1, ReportRow.band2, ReportRow.band3)
    query = (
        select(ReportRow.id, ReportRow.simhash)
        .where(or_(*(c == b for c, b in zip(columns, bands, strict=True))))
        .order_by(ReportRow.id)
        .limit(200)
    )
    for report_id, other in session.execute(query):
        if _hamming(fingerprint, other) <= NEAR_DUPLICATE_BITS:
            return int(report_id)
    return None
