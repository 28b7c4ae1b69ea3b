"""The durable work queue: jobs are claimed and finished inside the caller's transaction.

A worker claims jobs, does their work and marks them done in one transaction. If it dies
anywhere before the commit, the database rolls everything back and the jobs are pending
again; once committed, the job is done and its results are stored together.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.storage.tables import JobRow

MAX_ATTEMPTS = 5


def claim_jobs(session: Session, *, limit: int) -> list[JobRow]:
    """Pending jobs that are due, oldest first; on PostgreSQL other workers skip them."""
    query = (
        select(JobRow)
        .where(JobRow.state == "pending", JobRow.available_at <= utcnow())
        .order_by(JobRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def finish_job(job: JobRow) -> None:
    job.state = "done"
    job.done_at = utcnow()
    job.attempts += 1


def fail_job(job: JobRow, error: str) -> None:
    """Retry later with exponential backoff; give up after MAX_ATTEMPTS."""
    job.attempts += 1
    job.last_error = error[:2000]
    if job.attempts >= MAX_ATTEMPTS:
        job.state = "failed"
    else:
        job.available_at = utcnow() + timedelta(seconds=2**job.attempts)


def queue_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(JobRow.state, func.count()).group_by(JobRow.state))
    return {state: int(count) for state, count in rows}
