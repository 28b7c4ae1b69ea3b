"""A worker killed at any point loses nothing and processes nothing twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from legation.ingest.muc import message_files, read_messages
from legation.ingest.service import store_reports
from legation.storage.tables import ExtractionRow, IncidentRow, JobRow, ReportRow
from tests.conftest import shared_path

REPORTS = 600
KILLS = 4


def _done(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(JobRow.state == "done")) or 0)


def _worker(database_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LEGATION_DATABASE_URL": database_url,
        "LEGATION_WORKER_BATCH": "2",
        "LEGATION_DATA_DIR": str(tmp_path),
        "LEGATION_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "worker.log").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "legation", "run", "--once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    finally:
        log.close()  # the child has its own copy


def _kill_mid_run(
    factory: sessionmaker[Session], proc: subprocess.Popen[bytes], rng: random.Random
) -> bool:
    """SIGKILL the worker soon after it commits a batch; True if it was still working."""
    before = _done(factory)
    deadline = time.monotonic() + 60
    while _done(factory) == before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 0.4))  # land anywhere inside the next batch
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return alive


def test_killed_worker_loses_nothing_and_repeats_nothing(
    database_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = shared_path("data", "incidents", "muc4", "dev")
    messages = [m for f in message_files(folder) for m in read_messages(f)][:REPORTS]
    stored = store_reports(factory, messages, max_bytes=1_000_000)
    assert stored.new + stored.near_duplicates == REPORTS

    rng = random.Random(7)
    killed_mid_run = attempts = 0
    while killed_mid_run < KILLS and attempts < 2 * KILLS and _done(factory) < REPORTS:
        attempts += 1
        worker = _worker(database_url, tmp_path)
        alive = _kill_mid_run(factory, worker, rng)
        if not alive:  # it ended by itself: only a clean end of the backlog is acceptable
            assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
        killed_mid_run += alive
        assert 0 < _done(factory) <= REPORTS
    log = (tmp_path / "worker.log").read_text()
    assert killed_mid_run >= 2, f"the worker was killed mid-run only {killed_mid_run} times\n{log}"

    final = _worker(database_url, tmp_path)
    final.wait(timeout=300)
    assert final.returncode == 0, (tmp_path / "worker.log").read_text()

    with factory() as session:
        jobs = session.scalars(select(JobRow)).all()
        assert len(jobs) == REPORTS
        assert {j.state for j in jobs} == {"done"}
        assert {j.attempts for j in jobs} == {1}, "a job was committed more than once"
        per_report = session.execute(
            select(ExtractionRow.report_id, func.count()).group_by(ExtractionRow.report_id)
        ).all()
        assert len(per_report) == REPORTS
        assert {count for _, count in per_report} == {1}
        linked = set(
            session.scalars(
                select(ExtractionRow.incident_id).where(ExtractionRow.incident_id.is_not(None))
            )
        )
        assert linked == set(session.scalars(select(IncidentRow.id))), (
            "an incident without its reports"
        )
        assert session.scalar(select(func.count()).select_from(ReportRow)) == REPORTS
