"""Pipeline throughput: the 1,300 MUC-4 dev messages through ingest, extraction, fusion,
assessment and alerting, on SQLite and on PostgreSQL. Writes bench/results/throughput.json.

    .venv/bin/python bench/pipeline_throughput.py [--postgres URL] [--registry CSV]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legation.ingest.muc import message_files, read_messages  # noqa: E402
from legation.ingest.service import store_reports  # noqa: E402
from legation.pipeline.registry import import_sites  # noqa: E402
from legation.pipeline.worker import drain  # noqa: E402
from legation.storage.db import make_engine, session_factory  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "incidents" / "muc4" / "dev"
REGISTRY = ROOT.parent / "shared" / "data" / "missions" / "embassies-wikidata-2022-11.csv"


def run(url: str, registry: Path | None, batch: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    if registry is not None:
        import_sites(factory, registry)
    messages = [m for f in message_files(DEV) for m in read_messages(f)]
    from legation.extract.gazetteer import gazetteer
    from legation.extract.language import _detector

    gazetteer()  # built once per process; timed separately
    _detector()
    started = time.perf_counter()
    stored = store_reports(factory, messages, max_bytes=2_000_000)
    ingested = time.perf_counter()
    result = drain(factory, limit=batch)
    finished = time.perf_counter()
    engine.dispose()
    total = finished - started
    return {
        "reports": len(messages),
        "stored": stored.new,
        "processed": result.processed,
        "failed": result.failed,
        "incidents": len(result.incidents),
        "alerts": len(result.alerts),
        "ingest_s": round(ingested - started, 2),
        "process_s": round(finished - ingested, 2),
        "total_s": round(total, 2),
        "reports_per_s": round(len(messages) / total, 1),
    }


def _postgres_database(admin: str) -> tuple[str, str]:
    import psycopg

    name = f"legation_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+psycopg://"
    ) + "/" + name


def _drop(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--no-registry", action="store_true", help="run without the 9,852 sites")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per backend; the median is reported"
    )
    args = parser.parse_args()
    registry = None if args.no_registry else REGISTRY
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "registry": bool(registry),
        "batch": args.batch,
    }
    runs: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgresql": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs["sqlite"].append(run(f"sqlite:///{tmp}/bench.db", registry, args.batch))
            print("sqlite", runs["sqlite"][-1], flush=True)
        try:
            name, url = _postgres_database(args.postgres)
        except Exception as exc:  # noqa: BLE001 - report and go on without PostgreSQL
            print(f"postgresql skipped: {exc}")
            continue
        try:
            runs["postgresql"].append(run(url, registry, args.batch))
            print("postgresql", runs["postgresql"][-1], flush=True)
        finally:
            _drop(args.postgres, name)
    for backend, done in runs.items():
        if done:
            rates = sorted(r["reports_per_s"] for r in done)
            median = sorted(done, key=lambda r: r["reports_per_s"])[len(done) // 2]
            results[backend] = {**median, "runs_reports_per_s": rates}
            print(backend, "median", median["reports_per_s"], "reports/s over", rates)
    out = ROOT / "bench" / "results" / "throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
