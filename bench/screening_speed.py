"""Screening speed on one core against the full UN + OFAC lists.

    .venv/bin/python bench/screening_speed.py [--batch 100000] [--queries 2000]
    .venv/bin/python bench/screening_speed.py --cli-batch 100000   # the real batch path only

Measures: import of the official files (UN XML + OFAC CSV set) into FtM entities; cold start
(a fresh process loading the stored FtM dicts and building the index, as `legation screen`
does from the database); query latency p50/p99 over a mix of listed-name variants, random
non-listed names and cross-script names; and the time to screen a batch of names in memory.
``--cli-batch N`` instead times the real batch path: a fresh SQLite database in a temporary
data folder, ``legation lists update`` of UN + OFAC from a loopback HTTP server, then
``legation screen --input names.csv --output out.jsonl`` on N names in a fresh process
(index snapshot load, validation, matching, an audit row per name, chunked commits, the
output file); writes bench/results/screening_cli_batch.json. The machine
is shared with other engineers, so numbers are an upper bound. Writes
bench/results/screening_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from legation.screening.importers import parse_ofac_csv, parse_un_xml  # noqa: E402
from legation.screening.index import ScreeningIndex, subject_from_ftm  # noqa: E402
from legation.screening.matcher import Subject  # noqa: E402

COLD_SNAPSHOT = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from legation.screening.index import ScreeningIndex
from legation.screening.matcher import Subject
index, _extra = ScreeningIndex.load(Path(sys.argv[1]))
hits = index.search(Subject.build("q", "Person", ["Ayman al-Zawahiri"]))
t1 = time.perf_counter()
print(json.dumps({"cold_start_s": t1 - t0, "first_hit": hits[0].subject.id if hits else None}))
"""

COLD = """
import json, sys, time
t0 = time.perf_counter()
from legation.screening.index import ScreeningIndex, subject_from_ftm
from legation.screening.matcher import Subject
data = json.load(open(sys.argv[1], encoding="utf-8"))
index = ScreeningIndex(subject_from_ftm(d) for d in data)
index.freeze()
hits = index.search(Subject.build("q", "Person", ["Ayman al-Zawahiri"]))
t1 = time.perf_counter()
print(json.dumps({"cold_start_s": t1 - t0, "first_hit": hits[0].subject.id if hits else None}))
"""

FIRST = [
    "John",
    "Maria",
    "Ahmed",
    "Olga",
    "Chen",
    "Pierre",
    "Fatima",
    "Ivan",
    "Kofi",
    "Ana",
    "Hiroshi",
    "Mehmet",
    "Priya",
    "Lars",
    "Sofia",
    "Omar",
    "Nguyen",
    "Elena",
    "Carlos",
]
LAST = [
    "Smith",
    "Garcia",
    "Hassan",
    "Ivanova",
    "Wang",
    "Dubois",
    "Khan",
    "Petrov",
    "Mensah",
    "Silva",
    "Tanaka",
    "Yilmaz",
    "Sharma",
    "Larsen",
    "Rossi",
    "Farouk",
    "Tran",
    "Popescu",
]


def pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"pinned to CPU {min(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        return "not pinned"


def queries(index: ScreeningIndex, count: int, rng: random.Random) -> list[Subject]:
    out = []
    listed = [s for s in index.subjects if s.names]
    for i in range(count):
        kind = i % 3
        if kind == 0:  # a listed name, reversed
            name = rng.choice(listed).names[0].text.split()
            text = " ".join(reversed(name))
        elif kind == 1:  # an ordinary name, mostly not listed
            text = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:  # a listed name with a typo
            base = rng.choice(listed).names[0].text
            j = rng.randrange(len(base))
            text = base[:j] + base[j + 1 :]
        out.append(Subject.build("q", "LegalEntity", [text]))
    return out


def cli_batch(count: int, pinned: str) -> None:
    """``legation screen --input`` on ``count`` names with its audit rows, timed end to end."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            return

    handler = functools.partial(Quiet, directory=str(DATA / "sanctions"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp(prefix="legation-bench-"))
    env = {
        **os.environ,
        "LEGATION_DATA_DIR": str(work / "data"),
        "LEGATION_SCREENING_SOURCES": "un,ofac",
        "LEGATION_SCREENING_UN_URL": f"{base}/un_consolidated_2026-02-27.xml",
        "LEGATION_SCREENING_OFAC_URL": base + "/ofac_{file}.csv",
        "NO_COLOR": "1",
    }
    env.pop("LEGATION_DATABASE_URL", None)
    core = str(min(os.sched_getaffinity(0)))

    def legation(*args: str) -> float:
        t0 = time.perf_counter()
        subprocess.run(
            ["taskset", "-c", core, sys.executable, "-m", "legation", *args],
            env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        return time.perf_counter() - t0

    legation("db", "upgrade")
    update_s = legation("lists", "update", "--no-rescreen")
    rng = random.Random(7)
    names = work / "names.csv"
    with names.open("w", encoding="utf-8") as fh:
        fh.write("name,schema\n")
        for _ in range(count):
            last = f"{rng.choice(LAST)}{rng.choice(['', 'a', 'ov', 'i'])}"
            fh.write(f"{rng.choice(FIRST)} {last},Person\n")
    out = work / "out.jsonl"
    batch_s = legation("screen", "--input", str(names), "--output", str(out))
    lines = out.read_text("utf-8").splitlines()
    import sqlite3

    with sqlite3.connect(work / "data" / "legation.db") as db:
        audit_rows = db.execute("select count(*) from screenings").fetchone()[0]
    server.shutdown()
    result = {
        "command": "python bench/screening_speed.py --cli-batch " + str(count),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs shared with other engineers, "
        f"{pinned}, Python {platform.python_version()}",
        "lists_update_un_ofac_s": round(update_s, 1),
        "batch_names": count,
        "batch_wall_s": round(batch_s, 1),
        "names_per_s": round(count / batch_s),
        "output_lines": len(lines),
        "output_lines_with_a_hit": sum('"entity_id"' in line for line in lines),
        "audit_rows": audit_rows,
        "database": "SQLite in a temporary folder",
    }
    import shutil

    shutil.rmtree(work)
    target = ROOT / "bench" / "results" / "screening_cli_batch.json"
    target.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--cli-batch", type=int, default=0, help="time `legation screen --input`")
    args = parser.parse_args()
    pinned = pin_one_core()
    if args.cli_batch:
        cli_batch(args.cli_batch, pinned)
        return
    rng = random.Random(5)
    t0 = time.perf_counter()
    un = parse_un_xml((DATA / "sanctions" / "un_consolidated_2026-02-27.xml").read_bytes())
    files = [
        (DATA / "sanctions" / f"ofac_{n}.csv").read_bytes()
        for n in ("sdn", "alt", "add", "sdn_comments")
    ]
    ofac = parse_ofac_csv(*files)
    import_s = time.perf_counter() - t0
    dicts = [e.to_dict() for e in un.entities + ofac.entities]
    t0 = time.perf_counter()
    index = ScreeningIndex(subject_from_ftm(d) for d in dicts)
    index.freeze()
    build_s = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(dicts, fh)
    cold_runs = []
    for _ in range(3):
        done = subprocess.run(
            [
                "taskset",
                "-c",
                str(min(os.sched_getaffinity(0))),
                sys.executable,
                "-c",
                COLD,
                fh.name,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        cold_runs.append(json.loads(done.stdout))
    os.unlink(fh.name)
    snapshot = Path(tempfile.mkdtemp()) / "index.pickle"
    index.save(snapshot)
    snapshot_runs = []
    for _ in range(3):
        done = subprocess.run(
            ["taskset", "-c", str(min(os.sched_getaffinity(0))), sys.executable, "-c",
             COLD_SNAPSHOT, str(snapshot)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        snapshot_runs.append(json.loads(done.stdout))
    snapshot_mb = snapshot.stat().st_size / 1e6
    snapshot.unlink()
    qs = queries(index, args.queries, rng)
    for q in qs[:200]:  # warm the caches the way a running service is warm
        index.search(q)
    latencies = []
    hits = 0
    for q in qs:
        t = time.perf_counter()
        found = index.search(q)
        latencies.append((time.perf_counter() - t) * 1000)
        hits += bool(found)
    latencies.sort()
    batch = [
        Subject.build(
            "q",
            "Person",
            [f"{rng.choice(FIRST)} {rng.choice(LAST)}{rng.choice(['', 'a', 'ov', 'i'])}"],
        )
        for _ in range(args.batch)
    ]
    t0 = time.perf_counter()
    batch_hits = sum(bool(index.search(q)) for q in batch)
    batch_s = time.perf_counter() - t0
    result = {
        "command": "python bench/screening_speed.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs shared with other engineers, "
        f"{pinned}, Python {platform.python_version()}",
        "entities": len(index),
        "names": sum(len(s.names) for s in index.subjects),
        "import_official_files_s": round(import_s, 2),
        "index_build_s": round(build_s, 2),
        "cold_start_s": [round(r["cold_start_s"], 2) for r in cold_runs],
        "cold_start_first_hit": cold_runs[0]["first_hit"],
        "cold_start_from_snapshot_s": [round(r["cold_start_s"], 2) for r in snapshot_runs],
        "snapshot_first_hit": snapshot_runs[0]["first_hit"],
        "snapshot_mb": round(snapshot_mb, 1),
        "queries": len(qs),
        "queries_with_hits": hits,
        "query_ms": {
            "p50": round(latencies[len(latencies) // 2], 3),
            "p90": round(latencies[int(len(latencies) * 0.9)], 3),
            "p99": round(latencies[int(len(latencies) * 0.99)], 3),
            "mean": round(statistics.fmean(latencies), 3),
        },
        "batch_names": args.batch,
        "batch_s": round(batch_s, 1),
        "batch_hits": batch_hits,
    }
    out = ROOT / "bench" / "results" / "screening_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
