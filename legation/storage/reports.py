"""Reports: storage with exact and near-duplicate detection, and the job that processes each."""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.domain.models import ReportInput
from legation.errors import InputError, TooLargeError
from legation.storage.tables import JobRow, ReportKeyRow, ReportRow

SKETCH_SIZE = 32  # bottom-k MinHash sketch of word 3-shingles
INDEXED_KEYS = 8  # the smallest hashes, indexed to find candidates
NEAR_DUPLICATE_JACCARD = 0.7  # estimated shingle overlap at which two texts are one report
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Stored:
    report_id: int
    status: str  # "new", "duplicate" (exact, not stored again), "near_duplicate"
    duplicate_of: int | None = None


def content_hash(text: str) -> str:
    normalised = " ".join(_WORD.findall(text.lower()))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def sketch(text: str) -> list[int]:
    """The SKETCH_SIZE smallest 63-bit hashes of the text's word 3-shingles, ascending."""
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    hashes = (
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") >> 1
        for s in shingles
    )
    return heapq.nsmallest(SKETCH_SIZE, hashes)


def jaccard_estimate(left: Sequence[int], right: Sequence[int]) -> float:
    """Bottom-k estimate of the shingle Jaccard similarity of two texts."""
    if not left or not right:
        return 0.0
    union = heapq.nsmallest(SKETCH_SIZE, set(left) | set(right))
    both = set(left) & set(right)
    return sum(1 for h in union if h in both) / len(union)


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
    sketches = {n: sketch(r.text) for n, r in enumerate(reports) if isinstance(digests[n], str)}
    pool = _Pool()
    for report_id, stored_sketch in _near_duplicate_candidates(session, list(sketches.values())):
        pool.add(report_id, stored_sketch)
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
        signature = sketches[number]
        near = pool.closest(signature)
        row = _report_row(report, digest, signature, near, now)
        pending[digest] = row
        pool.add(row, signature)
        outcome.append((report, "near_duplicate" if near else "new", row))
    session.add_all(pending.values())
    session.flush()
    for row in pending.values():
        session.add(JobRow(report_id=row.id, available_at=now, created_at=now))
        session.add_all(ReportKeyRow(report_id=row.id, key=k) for k in row.sketch[:INDEXED_KEYS])
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
    report: ReportInput,
    digest: str,
    signature: list[int],
    near: ReportRow | int | None,
    now: datetime,
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
        sketch=signature,
    )
    if isinstance(near, ReportRow):
        row.original = near
    else:
        row.duplicate_of = near
    return row


class _Pool:
    """Sketches to compare against, indexed by their smallest hashes."""

    def __init__(self) -> None:
        self.by_key: dict[int, list[tuple[int | ReportRow, list[int]]]] = {}

    def add(self, item: int | ReportRow, signature: list[int]) -> None:
        for key in signature[:INDEXED_KEYS]:
            self.by_key.setdefault(key, []).append((item, signature))

    def closest(self, signature: list[int]) -> int | ReportRow | None:
        shared: dict[int, int] = {}
        found: dict[int, tuple[int | ReportRow, list[int]]] = {}
        for key in signature[:INDEXED_KEYS]:
            for item, other in self.by_key.get(key, ()):
                shared[id(item)] = shared.get(id(item), 0) + 1
                found[id(item)] = (item, other)
        for ident, count in shared.items():
            item, other = found[ident]
            if count >= 2 and jaccard_estimate(signature, other) >= NEAR_DUPLICATE_JACCARD:
                return item
        return None


def _near_duplicate_candidates(
    session: Session, sketches: list[list[int]]
) -> list[tuple[int, list[int]]]:
    """Stored reports sharing at least two indexed hashes with any sketch, with their sketches.

    Two texts with shingle overlap J share each of their smallest hashes with probability
    about J, so near-duplicates share several of the indexed ones; the caller verifies.
    """
    keys = sorted({k for s in sketches for k in s[:INDEXED_KEYS]})
    if not keys:
        return []
    shared = (
        select(ReportKeyRow.report_id)
        .where(ReportKeyRow.key.in_(keys))
        .group_by(ReportKeyRow.report_id)
        .having(func.count() >= 2)
    )
    query = (
        select(ReportRow.id, ReportRow.sketch)
        .where(ReportRow.id.in_(shared))
        .order_by(ReportRow.id)
    )
    return [(int(i), list(s)) for i, s in session.execute(query)]
