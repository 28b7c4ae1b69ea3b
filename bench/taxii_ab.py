"""TAXII A/B on a shared machine: two checkouts' servers at once, requests alternated.

On a machine whose load swings from one minute to the next, two runs of
``taxii_vs_medallion.py`` minutes apart compare the load as much as the code. This starts
our server from two checkouts (``--before`` a directory, the other this one) on databases
of their own, then alternates them request by request (which goes first alternates too):
Add Objects of the bench's 5,000 objects in batches of 100, then Get Object by id of 300
visible objects. Each side's database is migrated by that side's own checkout, so that a
schema change is part of the comparison. ``--mode sqlite50k`` skips the adds and serves
copies of a filled SQLite file (``--db``) instead.

    git archive main | tar -x -C /tmp/base
    .venv/bin/python bench/taxii_ab.py --before /tmp/base --mode sqlite|postgresql|sqlite50k
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
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
sys.path.insert(0, str(ROOT / "bench"))
import taxii_vs_medallion as bench  # noqa: E402


def prepare(checkout: Path, url: str, owner: str) -> None:
    """``bench.prepare`` run by ``checkout``'s own code: its migrations make the schema."""
    code = (
        "import sys; sys.path.insert(0, 'bench'); import taxii_vs_medallion as b;"
        f"b.prepare({url!r}, {owner!r})"
    )
    subprocess.run([sys.executable, "-c", code], cwd=checkout, check=True, capture_output=True)


def summary(adds: list[float], gets: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"get_by_id": bench.ms(gets)}
    if adds:
        out["add_objects_per_s"] = round(5000 / sum(adds), 1)
        out["add_batch"] = bench.ms(adds)
    return out


def alternate(collections: dict[str, Collection], small: list[Any]) -> dict[str, Any]:
    sides = list(collections)
    adds: dict[str, list[float]] = {s: [] for s in sides}
    gets: dict[str, list[float]] = {s: [] for s in sides}
    for turn, start_at in enumerate(range(0, len(small), 100)):
        for side in sides if turn % 2 == 0 else sides[::-1]:
            begin = time.perf_counter()
            status = collections[side].add_objects({"objects": small[start_at : start_at + 100]})
            adds[side].append(time.perf_counter() - begin)
            assert status.status == "complete"
    return {"adds": adds, "gets": gets}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--mode", choices=["sqlite", "postgresql", "sqlite50k"], required=True)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--db", type=Path, help="a filled SQLite file (sqlite50k)")
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": ROOT}
    small = bench.shared_module("gen_data").gen(5000, 1)
    work = Path(tempfile.mkdtemp(prefix="taxii-ab-"))
    urls, databases, procs = {}, [], {}
    try:
        for port, side in enumerate(checkouts, start=5900):
            if args.mode == "postgresql":
                name = f"legation_ab_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                databases.append(name)
                urls[side] = args.postgres.rsplit("/", 1)[0] + f"/{name}"
            else:
                urls[side] = f"sqlite:///{work / f'{side}.db'}"
            if args.mode == "sqlite50k":
                assert args.db, "--db names the filled SQLite file"
                shutil.copy(args.db, work / f"{side}.db")
            else:
                prepare(checkouts[side], urls[side], small[5]["id"])
            procs[side] = bench.start_ours(urls[side], port, checkout=checkouts[side])
        collections = {
            side: Server(
                f"http://127.0.0.1:{port}/taxii2/", user=bench.USER, password=bench.PASSWORD
            )
            .api_roots[0]
            .collections[0]
            for port, side in enumerate(checkouts, start=5900)
        }
        timings = alternate(collections, [] if args.mode == "sqlite50k" else small)
        visible = [
            o["id"]
            for o in small
            if bench.RED not in o.get("object_marking_refs", [])
            and not o["id"].startswith("marking-definition--")
        ]
        for turn, ident in enumerate(random.Random(7).sample(visible, 300)):
            for side in list(checkouts) if turn % 2 == 0 else list(checkouts)[::-1]:
                begin = time.perf_counter()
                envelope = collections[side].get_object(ident)
                timings["gets"][side].append(time.perf_counter() - begin)
                assert envelope["objects"][0]["id"] == ident
        result = {
            "mode": args.mode,
            **{s: summary(timings["adds"][s], timings["gets"][s]) for s in checkouts},
        }
        print(json.dumps(result, indent=1))
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(10)
        for name in databases:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
