"""Time ``export_misp``: N published incidents in a fresh SQLite collection, exported as MISP
events for a TLP:GREEN partner, several runs; prints the median. Incidents differ by key and
place, so each event has its own objects.

    .venv/bin/python bench/misp_export.py [--incidents 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legation.partners.misp import export_misp  # noqa: E402
from legation.sharing.model import SharedIncident, SharedPlace, SharedReport  # noqa: E402
from legation.sharing.stix import incident_to_stix, producer_identity  # noqa: E402
from legation.sharing.tlp import Recipient, object_level  # noqa: E402
from legation.storage.db import make_engine, session_factory, transaction  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402
from legation.storage.taxii import NewObject, add_objects, create_collection, version_of  # noqa: E402

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
BASE = SharedIncident(
    key="incident/0",
    type="bombing",
    weapon="ied",
    date=date(2026, 2, 28),
    place=None,
    killed=2,
    injured=5,
    target_categories=("embassy",),
    target_states=("FR",),
    perpetrators=("Group A",),
    reports=(SharedReport("Blast near embassy", "https://news.example.org/1", "wire", WHEN),),
    confidence=0.8,
    created=WHEN,
    modified=WHEN,
    tlp="green",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="misp-export-") as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        factory = session_factory(make_engine(url))
        producer = producer_identity("Legation")["id"]
        objects = []
        for i in range(args.incidents):
            place = SharedPlace(f"Place {i}", "TR", 39.0 + i / 10_000, 32.0)
            incident = replace(BASE, key=f"incident/{i}", place=place)
            objects += incident_to_stix(incident, producer)
        with transaction(factory) as session:
            row = create_collection(
                session, title="out", alias="out", description="", policy={"max_tlp": "red"}
            )
            stored = [NewObject(o, object_level(o), version_of(o)) for o in objects]
            add_objects(session, collection_id=row.id, objects=stored, source="local")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = export_misp(
                factory, collection="out", recipient=Recipient("green"), producer="Legation"
            )
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"{args.incidents} incidents, {len(result.events)} events: median {median:.2f} s "
        f"({median / max(len(result.events), 1) * 1000:.1f} ms/event); runs "
        + ", ".join(f"{t:.2f}" for t in times)
    )


if __name__ == "__main__":
    main()
