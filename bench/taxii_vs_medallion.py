"""TAXII 2.1 side by side: our server (SQLite and PostgreSQL) and medallion, one run, loopback.

Uses the shared medallion benchmark (../shared/bench/medallion/): its data generator for
the same seeded STIX 2.1 set, and its ``bench.py`` for the medallion numbers. Our server is
measured with the same taxii2-client calls: Add Objects in batches of 100 (5,000 objects),
then the collection filled to 50,000 objects and the first page (limit 100) of Get Objects,
the manifest, ``match[type]=indicator`` and ``added_after`` the middle object, and Get
Object by id. Writes bench/results/taxii_vs_medallion.json.

    .venv/bin/python bench/taxii_vs_medallion.py [--postgres URL] [--large 50000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from taxii2client.v21 import Collection, Server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "bench" / "medallion"

from legation.partners.intake import check_objects  # noqa: E402
from legation.sharing.stix_check import stix2_check  # noqa: E402
from legation.sharing.tlp import LEVEL_OF_ID  # noqa: E402
from legation.storage.db import make_engine, session_factory, transaction  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402
from legation.storage.partners import add_partner  # noqa: E402
from legation.storage.taxii import create_collection, grant  # noqa: E402

USER, PASSWORD = "bench", "bench-only-loopback"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def shared_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, SHARED / f"{name}.py")
    assert spec and spec.loader, f"{SHARED / name}.py is missing"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda p: ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]  # noqa: E731
    return {
        "n": len(values),
        "mean_ms": round(1000 * statistics.mean(values), 2),
        "p50_ms": round(1000 * pick(50), 2),
        "p95_ms": round(1000 * pick(95), 2),
        "max_ms": round(1000 * max(values), 2),
    }


def medallion(objects_file: Path, mode: str, port: int, extra: list[str]) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp()) / "r.json"
    command = [
        sys.executable,
        str(SHARED / "bench.py"),
        "--data",
        str(objects_file),
        "--mode",
        mode,
        "--port",
        str(port),
        "--out",
        str(out),
        *extra,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=3600)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def prepare(url: str, owner: str) -> str:
    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        policy = {"max_tlp": "red", "default_tlp": "amber"}
        row = create_collection(
            session, title="bench", alias="bench", description="", policy=policy
        )
        partner, _key = add_partner(
            session,
            name="bench",
            clearance="amber+strict",
            organisation=owner,
            username=USER,
            password=PASSWORD,
        )
        grant(session, partner_id=partner.id, collection_id=row.id, read=True, write=True)
    engine.dispose()
    return row.id


def start_ours(url: str, port: int, checkout: Path = ROOT) -> subprocess.Popen[bytes]:
    """Our server from ``checkout`` (its own ``legation`` comes first on the path)."""
    code = (
        "import uvicorn; from legation.api import create_app;"
        "from legation.settings import Settings;"
        f"uvicorn.run(create_app(Settings(database_url={url!r}, environment='test')),"
        f" host='127.0.0.1', port={port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=checkout)
    for _ in range(300):
        try:
            import httpx

            httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=1)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    raise RuntimeError(f"our server from {checkout} did not start")


def add(collection: Collection, objects: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    latencies, start = [], time.perf_counter()
    for i in range(0, len(objects), batch):
        begin = time.perf_counter()
        status = collection.add_objects({"objects": objects[i : i + batch]})
        latencies.append(time.perf_counter() - begin)
        # Our server refuses the official TLP definitions from a client (it holds them).
        bad = [f for f in status.failures if f.get("id") not in LEVEL_OF_ID]
        assert status.status == "complete" and not bad, bad[:3]
    total = time.perf_counter() - start
    return {
        "seconds": round(total, 3),
        "objects_per_s": round(len(objects) / total, 1),
        "per_batch": ms(latencies),
    }


def first_page(fn: Any, **filters: Any) -> dict[str, Any]:
    times = []
    for _ in range(5):
        begin = time.perf_counter()
        envelope = fn(limit=100, **filters)
        times.append(time.perf_counter() - begin)
    return {"items": len(envelope.get("objects", [])), "more": envelope.get("more"), **ms(times)}


def measure_ours(
    url: str, port: int, small: list[Any], large: list[Any], owner: str
) -> dict[str, Any]:
    collection_id = prepare(url, owner)
    proc = start_ours(url, port)
    try:
        server = Server(f"http://127.0.0.1:{port}/taxii2/", user=USER, password=PASSWORD)
        collection = server.api_roots[0].collections[0]
        assert collection.id == collection_id
        result: dict[str, Any] = {"add_5000_batch_100": add(collection, small, 100)}
        rest = [o for o in large if o["id"] not in {s["id"] for s in small}]
        result["fill_to_large_batch_1000"] = add(collection, rest, 1000)
        result["large_n"] = len(large)
        result["first_page_objects"] = first_page(collection.get_objects)
        result["first_page_manifest"] = first_page(collection.get_manifest)
        result["first_page_type_indicator"] = first_page(collection.get_objects, type="indicator")
        mid = large[len(large) // 2]["id"]
        added = collection.get_manifest(id=mid)["objects"][0]["date_added"]
        result["first_page_added_after_mid"] = first_page(collection.get_objects, added_after=added)
        if url.startswith("postgresql"):
            # Right after a bulk load PostgreSQL has no statistics yet and may sort the whole
            # collection; autovacuum analyses within a minute. Measured before and after.
            with psycopg.connect(url) as conn:
                conn.execute("ANALYZE taxii_objects")
            result["after_analyze"] = {
                "first_page_objects": first_page(collection.get_objects),
                "first_page_manifest": first_page(collection.get_manifest),
                "first_page_type_indicator": first_page(collection.get_objects, type="indicator"),
                "first_page_added_after_mid": first_page(collection.get_objects, added_after=added),
            }
        visible = [o for o in large if RED not in o.get("object_marking_refs", [])]
        times = []
        for obj in random.Random(7).sample(visible, 200):
            begin = time.perf_counter()
            envelope = collection.get_object(obj["id"])
            times.append(time.perf_counter() - begin)
            assert envelope["objects"][0]["id"] == obj["id"]
        result["get_object_by_id"] = ms(times)
        return result
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument(
        "--medallion-full",
        type=int,
        default=1000,
        help="collection size for medallion's read measurements (it is O(N^2))",
    )
    args = parser.parse_args()
    gen = shared_module("gen_data")
    work = Path(tempfile.mkdtemp(prefix="taxii-bench-"))
    small, large = gen.gen(5000, 1), gen.gen(args.large, 1)
    assert large[:5000] == small, "the large set extends the 5,000 set"
    (work / "objects_5000.json").write_text(json.dumps(small))
    (work / "objects_full.json").write_text(json.dumps(gen.gen(args.medallion_full, 1)))
    owner = small[5]["id"]  # the generator's one identity: owner of everything
    checked = [o for o in small if o["id"] not in LEVEL_OF_ID]  # ours are never taken
    begin = time.perf_counter()
    accepted, failed = check_objects(checked, {"max_tlp": "red"})
    checking = time.perf_counter() - begin
    assert len(accepted) == len(checked) and not failed
    begin = time.perf_counter()
    for obj in checked:  # what every object cost before the fast check (stix_check)
        stix2_check(obj, obj["id"])
    with_stix2 = time.perf_counter() - begin
    results: dict[str, Any] = {
        "check_objects_only_per_s": round(len(checked) / checking, 1),
        "stix2_parse_only_per_s": round(len(checked) / with_stix2, 1),
        "host": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "shared 2-core machine; other engineers' jobs ran at the same time",
        },
        "medallion": {
            "add_5000_batch_100": medallion(
                work / "objects_5000.json", "add", 5851, ["--batch", "100"]
            ),
            f"full_{args.medallion_full}": medallion(
                work / "objects_full.json",
                "full",
                5852,
                ["--batch", "100", "--page", "100", "--max-page", "100"],
            ),
        },
    }
    results["ours_sqlite"] = measure_ours(
        f"sqlite:///{work / 'bench.db'}", 5853, small, large, owner
    )
    name = f"legation_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        pg = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        results["ours_postgresql"] = measure_ours(pg, 5854, small, large, owner)
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    medallion_add = results["medallion"]["add_5000_batch_100"]["add"]["objects_per_s"]
    results["ratios"] = {
        backend: {
            "add_throughput_vs_medallion": round(
                results[backend]["add_5000_batch_100"]["objects_per_s"] / medallion_add, 1
            )
        }
        for backend in ("ours_sqlite", "ours_postgresql")
    }
    out = ROOT / "bench" / "results" / "taxii_vs_medallion.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
