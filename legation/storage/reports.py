"""Reports: storage with exact and near-duplicate detection, and the job that processes each."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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


def _spread_table() -> list[int]:
    """Byte -> its 8 bits spread into 8 lanes of 16 bits (so sums count bits per position)."""
    return [sum(((b >> j) & 1) << (16 * j) for j in range(8)) for b in range(256)]


_SPREAD = _spread_table()


def simhash(text: str) -> int:
    """64-bit SimHash over word 3-shingles (bit counts summed in 16-bit lanes of one integer)."""
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    total = 0
    for shingle in shingles:
        digest = hashlib.blake2b(shingle.encode(), digest_size=8).digest()
        total += sum(_SPREAD[byte] << (128 * k) for k, byte in enumerate(digest))
    half = len(shingles) / 2
    value = sum(1 << bit for bit in range(64) if (total >> (16 * bit)) & 0xFFFF > half)
    return value - (1 << 64) if value >= 1 << 63 else value  # signed, fits BIGINT


def _bands(value: int) -> list[int]:
    unsigned = value & _MASK64
    return [(unsigned >> (16 * i)) & 0xFFFF for i in range(4)]


def _hamming(a: int, b: int) -> int:
    return ((a & _MASK64) ^ (b & _MASK64)).bit_count()


def validate_report(report: ReportInput, *, max_bytes: int) -> None:
    """Refuse oversized and empty reports, naming them."""
    size = len(report.text.encode("utf-8"))
    if size > max_bytes:
        raise TooLargeError(
            f"report {report.url or report.external_id or report.source!r} is {size} bytes; "
            f"the limit is {max_bytes} (LEGATION_MAX_REPORT_BYTES)"
        )
    if not report.text.strip():
        raise InputError(
            f"report {report.url or report.external_id or report.source!r} has no text"
        )


def add_report(session: Session, *, report: ReportInput, max_bytes: int) -> Stored:
    """Store a report and queue it, unless the same text is already stored."""
    result = add_reports(session, reports=[report], max_bytes=max_bytes)[0]
    if isinstance(result, InputError):
        raise result
    return result


def add_reports(
    session: Session, *, reports: Sequence[ReportInput], max_bytes: int, chunk: int = 200
) -> list[Stored | InputError]:
    """Store and queue many reports; per report either how it was stored or why it was refused."""
    results: list[Stored | InputError] = []
    for start in range(0, len(reports), chunk):
        results.extend(_add_chunk(session, reports[start : start + chunk], max_bytes))
    return results


def _add_chunk(
    session: Session, reports: Sequence[ReportInput], max_bytes: int
) -> list[Stored | InputError]:
    digests: dict[int, str | InputError] = {}
    for number, report in enumerate(reports):
        try:
            validate_report(report, max_bytes=max_bytes)
        except InputError as exc:
            digests[number] = exc
        else:
            digests[number] = content_hash(report.text)
    hashes = [d for d in digests.values() if isinstance(d, str)]
    query = select(ReportRow.content_hash, ReportRow.id).where(ReportRow.content_hash.in_(hashes))
    known = {str(h): int(i) for h, i in session.execute(query)}
    fingerprints = {
        n: simhash(r.text) for n, r in enumerate(reports) if isinstance(digests[n], str)
    }
    stored_near = _near_duplicates(session, list(fingerprints.values()))
    now = utcnow()
    pending: dict[str, ReportRow] = {}
    outcome: list[tuple[ReportInput, str, ReportRow | int | InputError]] = []
    for number, report in enumerate(reports):
        digest = digests[number]
        if isinstance(digest, InputError):
            outcome.append((report, "refused", digest))
            continue
        if digest in known or digest in pending:
            outcome.append((report, "duplicate", known.get(digest) or pending[digest]))
            continue
        fingerprint = fingerprints[number]
        near = _closest(fingerprint, stored_near) or _closest_pending(fingerprint, pending)
        row = _report_row(report, digest, fingerprint, near, now)
        pending[digest] = row
        outcome.append((report, "near_duplicate" if near else "new", row))
    session.add_all(pending.values())
    session.flush()
    session.add_all(
        JobRow(report_id=r.id, available_at=now, created_at=now) for r in pending.values()
    )
    return [_stored(status, value) for _, status, value in outcome]


def _stored(status: str, value: ReportRow | int | InputError) -> Stored | InputError:
    if isinstance(value, InputError):
        return value
    if isinstance(value, int):
        return Stored(value, status, value)
    if status == "duplicate":
        return Stored(value.id, status, value.id)
    return Stored(value.id, status, _original_id(value))


def _original_id(row: ReportRow) -> int | None:
    original = row.duplicate_of
    return original if isinstance(original, int) else None


def _report_row(
    report: ReportInput, digest: str, fingerprint: int, near: ReportRow | int | None, now: datetime
) -> ReportRow:
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
    )
    if isinstance(near, ReportRow):
        row.original = near
    else:
        row.duplicate_of = near
    return row


def _closest(fingerprint: int, stored: list[tuple[int, int]]) -> int | None:
    for report_id, other in stored:
        if _hamming(fingerprint, other) <= NEAR_DUPLICATE_BITS:
            return report_id
    return None


def _closest_pending(fingerprint: int, pending: dict[str, ReportRow]) -> ReportRow | None:
    for row in pending.values():
        if _hamming(fingerprint, row.simhash) <= NEAR_DUPLICATE_BITS:
            return row
    return None


def _near_duplicates(session: Session, fingerprints: list[int]) -> list[tuple[int, int]]:
    """Stored reports sharing a 16-bit band with any fingerprint (pigeonhole: within 3 bits,
    at least one of four bands is equal); Hamming distance is checked by the caller."""
    if not fingerprints:
        return []
    columns = (ReportRow.band0, ReportRow.band1, ReportRow.band2, ReportRow.band3)
    wanted = [sorted({_bands(f)[i] for f in fingerprints}) for i in range(4)]
    query = (
        select(ReportRow.id, ReportRow.simhash)
        .where(or_(*(c.in_(w) for c, w in zip(columns, wanted, strict=True))))
        .order_by(ReportRow.id)
    )
    return [(int(i), int(h)) for i, h in session.execute(query)]
