"""Query latency of two code bases side by side, in CPU time, on a shared machine.

    .venv/bin/python bench/screening_latency_ab.py OTHER_CHECKOUT [--runs 3] [--queries 3000]

OTHER_CHECKOUT is another checkout of the repository (e.g. ``git worktree add /tmp/x main``).
Each run builds the full UN + OFAC index in a fresh process pinned to one core, warms it with
200 queries and times 3,000 (the query mix of screening_speed.py, same seed for both sides)
with ``time.thread_time``: CPU time of the process's thread, which other people's processes
on the machine inflate far less than the wall clock does. The two code bases take turns, run
after run; the medians of the runs are printed and written to
bench/results/screening_latency_ab.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sanctions"

# runs inside the checkout being measured (its own legation package first on sys.path)
ONE_RUN = r"""
import json, os, random, sys, time
sys.path.insert(0, os.getcwd())
from legation.screening.importers import parse_ofac_csv, parse_un_xml
from legation.screening.index import ScreeningIndex, subject_from_ftm
from legation.screening.matcher import Subject
data, count, seed, speed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
un = parse_un_xml(open(os.path.join(data, "un_consolidated_2026-02-27.xml"), "rb").read())
files = [open(os.path.join(data, f"ofac_{n}.csv"), "rb").read()
         for n in ("sdn", "alt", "add", "sdn_comments")]
entities = un.entities + parse_ofac_csv(*files).entities
t0 = time.process_time()
index = ScreeningIndex(subject_from_ftm(e.to_dict()) for e in entities)
index.freeze()
build = time.process_time() - t0
sys.path.insert(0, os.path.dirname(speed))
from screening_speed import queries
qs = queries(index, count, random.Random(seed))
for q in qs[:200]:
    index.search(q)
cpu, wall = [], []
for q in qs:
    w, c = time.perf_counter(), time.thread_time()
    index.search(q)
    cpu.append((time.thread_time() - c) * 1000)
    wall.append((time.perf_counter() - w) * 1000)
def pct(xs, p):
    xs = sorted(xs)
    return xs[int(p * (len(xs) - 1))]
print(json.dumps({"names": sum(len(s.names) for s in index.subjects), "build_cpu_s": build,
                  "cpu_p50": pct(cpu, 0.5), "cpu_p99": pct(cpu, 0.99),
                  "wall_p50": pct(wall, 0.5), "wall_p99": pct(wall, 0.99)}))
"""


def one_run(checkout: Path, queries: int, seed: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(DATA), str(queries), str(seed),
         str(ROOT / "bench" / "screening_speed.py")],
        cwd=checkout, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("other", type=Path, help="another checkout of the repository")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    sides = {"other": args.other.resolve(), "this": ROOT}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for seed in range(1, args.runs + 1):
        for name, checkout in sides.items():
            runs[name].append(one_run(checkout, args.queries, seed))
            print(name, seed, json.dumps(runs[name][-1]), flush=True)
    medians = {
        name: {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}
        for name, rows in runs.items()
    }
    result = {
        "command": "python bench/screening_latency_ab.py " + " ".join(sys.argv[1:]),
        "other": str(sides["other"]),
        "medians": medians,
        "runs": runs,
    }
    out = ROOT / "bench" / "results" / "screening_latency_ab.json"
    out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()
