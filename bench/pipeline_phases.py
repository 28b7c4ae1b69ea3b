"""Where the worker's time goes: the 1,300 MUC-4 dev messages with the 9,852-site registry on
SQLite, each step of ``legation.pipeline.worker`` wrapped in a timer (seconds, one run).

    .venv/bin/python bench/pipeline_phases.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import legation.pipeline.worker as worker  # noqa: E402
from legation.extract.gazetteer import gazetteer  # noqa: E402
from legation.ingest.muc import message_files, read_messages  # noqa: E402
from legation.ingest.service import store_reports  # noqa: E402
from legation.pipeline.registry import import_sites  # noqa: E402
from legation.storage.db import make_engine, session_factory  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
STEPS = (
    "extract_report",
    "_fuse",
    "candidate_incidents",
    "_reassess_sites",
    "_incident_pool",
    "_reassess_appearances",
    "find_triggers",
    "raise_alerts",
    "claim_jobs",
)


def _timed(totals: Counter[str], name: str, step: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started

    return run


def main() -> None:
    logging.disable(logging.WARNING)
    totals: Counter[str] = Counter()
    for name in STEPS:
        setattr(worker, name, _timed(totals, name, getattr(worker, name)))
    gazetteer()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/phases.db"
        upgrade(url)
        factory = session_factory(make_engine(url))
        import_sites(factory, DATA / "missions" / "embassies-wikidata-2022-11.csv")
        folder = DATA / "incidents" / "muc4" / "dev"
        store_reports(
            factory,
            [m for f in message_files(folder) for m in read_messages(f)],
            max_bytes=2_000_000,
        )
        started = time.perf_counter()
        worker.drain(factory, limit=50)
        total = time.perf_counter() - started
    print(f"worker total {total:.2f} s")
    for name, seconds in totals.most_common():
        print(f"  {name:24} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
