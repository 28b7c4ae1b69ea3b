"""Latency from a report's arrival (HTTP push accepted) to its alert's delivery (webhook
received), p50/p95, under a steady stream. The worker, the API and the webhook receiver run
in this process on loopback; the 9,852-site registry is loaded. Writes
bench/results/latency.json.

    .venv/bin/python bench/alert_latency.py [--rate 2] [--reports 60] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legation.api import create_app  # noqa: E402
from legation.pipeline.loop import run_worker  # noqa: E402
from legation.pipeline.registry import import_sites  # noqa: E402
from legation.settings import Settings  # noqa: E402
from legation.storage.db import make_engine, session_factory, transaction  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402
from legation.storage.tables import ChannelRow, ExtractionRow, RuleRow, SiteRow  # noqa: E402

REGISTRY = ROOT.parent / "shared" / "data" / "missions" / "embassies-wikidata-2022-11.csv"
KEY = "bench-admin-key"


class Receiver:
    """Webhook endpoint: first arrival time per incident."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                receiver.arrivals.setdefault(body["alert"]["incident_id"], time.monotonic())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _cities(factory: Any, count: int) -> list[tuple[str, str]]:
    """Distinct cities with a German mission: one report per city, so each is a new incident."""
    from sqlalchemy import select

    with factory() as session:
        rows = session.execute(
            select(SiteRow.city, SiteRow.country).where(
                SiteRow.operator_code == "DE", SiteRow.lat.is_not(None)
            )
        ).all()
    seen: dict[str, str] = {}
    for city, country in rows:
        if city and city not in seen:
            seen[city] = country
    return list(seen.items())[:count]


def run(url: str, rate: float, count: int) -> dict[str, Any]:
    upgrade(url)
    factory = session_factory(make_engine(url))
    import_sites(factory, REGISTRY)
    receiver = Receiver()
    with transaction(factory) as session:
        hook = ChannelRow(name="bench", kind="webhook", target=receiver.url, enabled=True)
        session.add(hook)
        session.flush()
        session.add(
            RuleRow(
                name="german missions 50 km",
                radius_km=50.0,
                operator_code="DE",
                incident_types=[],
                channel_ids=[hook.id],
                escalation_channel_ids=[],
                notify_officers=False,
                enabled=True,
            )
        )
    settings = Settings(database_url=url, admin_api_key=KEY, worker_idle_seconds=0.05)  # type: ignore[arg-type]
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(factory, settings), kwargs={"stop": stop})
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    api = threading.Thread(target=server.run, daemon=True)
    api.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    worker.start()
    cities = _cities(factory, count)
    sent: dict[str, float] = {}
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers={"X-API-Key": KEY}
    ) as client:
        started = time.monotonic()
        for n, (city, country) in enumerate(cities):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            text = (
                f"A car bomb exploded near the market in {city}, {country}, today, "
                f"killing {n % 7 + 3} people."
            )
            sent_at = time.monotonic()
            answer = client.post(
                "/reports",
                json=[
                    {
                        "text": text,
                        "language": "en",
                        "id": city,
                        "published": datetime.now(UTC).isoformat(),
                    }
                ],
            )
            answer.raise_for_status()
            sent[city] = sent_at
        deadline = time.monotonic() + 30
        while len(receiver.arrivals) < len(cities) and time.monotonic() < deadline:
            time.sleep(0.1)
    stop.set()
    worker.join(timeout=30)
    server.should_exit = True
    from sqlalchemy import select

    from legation.storage.tables import ReportRow

    with factory() as session:
        pairs = session.execute(
            select(ReportRow.external_id, ExtractionRow.incident_id).join(
                ExtractionRow, ExtractionRow.report_id == ReportRow.id
            )
        ).all()
    latencies = sorted(
        receiver.arrivals[incident] - sent[city]
        for city, incident in pairs
        if incident in receiver.arrivals and city in sent
    )
    return {
        "reports": len(cities),
        "alerted": len(latencies),
        "rate_per_s": rate,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2.0, help="reports per second")
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/latency.db", args.rate, args.reports)
        print("sqlite", results["sqlite"], flush=True)
    try:
        import psycopg

        name = f"legation_latency_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - report and go on without PostgreSQL
        print(f"postgresql skipped: {exc}")
    else:
        url = (
            args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + "/"
            + name
        )
        try:
            results["postgresql"] = run(url, args.rate, args.reports)
            print("postgresql", results["postgresql"], flush=True)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    out = ROOT / "bench" / "results" / "latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
