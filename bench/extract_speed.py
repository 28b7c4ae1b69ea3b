"""Speed of `legation extract --format jsonl` on the 1,300 MUC-4 dev texts: start-up time,
documents per second on one core, peak memory. Writes bench/results/extract_speed.json.

    .venv/bin/python bench/extract_speed.py
    .venv/bin/python bench/extract_speed.py --lines 100000   # the dev texts over and over:
        # peak memory must stay that of 1,300 lines (the stream holds one line at a time);
        # writes bench/results/extract_speed_100000.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legation.ingest.muc import message_files, read_messages  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "incidents" / "muc4" / "dev"


def _write_lines(path: Path, count: int | None) -> int:
    """Write the dev texts as input lines (cycled to ``count``); the lines are streamed to the
    file, not held: a forked child starts with its parent's memory, which would count in its
    peak."""
    messages = [m for f in message_files(DEV) for m in read_messages(f)]
    chosen = messages if count is None else itertools.islice(itertools.cycle(messages), count)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for n, m in enumerate(chosen):
            line = {
                "id": f"{m.external_id}-{n}",
                "text": m.text,
                "language": "en",
                "published": m.published.isoformat() if m.published else None,
            }
            handle.write(json.dumps(line) + "\n")
            written += 1
    return written


def _run(stdin: Path) -> tuple[float, int, int]:
    """Wall seconds, output lines, peak resident KiB of one `legation extract` process."""
    started = time.perf_counter()
    output = stdin.with_suffix(".out")
    with stdin.open("rb") as handle, output.open("wb") as sink:
        subprocess.run(
            [
                "taskset",
                "-c",
                "0",
                sys.executable,
                "-m",
                "legation",
                "extract",
                "--format",
                "jsonl",
            ],
            stdin=handle,
            stdout=sink,
            check=True,
        )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with output.open("rb") as produced:
        lines = sum(1 for _ in produced)
    return elapsed, lines, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=None, help="repeat the dev texts to N lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        _write_lines(one, 1)
        everything = Path(tmp) / "all.jsonl"
        documents = _write_lines(everything, args.lines)
        startup, _, _ = _run(one)
        total, produced, peak = _run(everything)
    rate = documents / max(total - startup, 1e-9)
    result = {
        "documents": documents,
        "output_lines": produced,
        "startup_s": round(startup, 2),
        "total_s": round(total, 2),
        "docs_per_s_one_core": round(rate, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }
    print(result)
    name = "extract_speed.json" if args.lines is None else f"extract_speed_{args.lines}.json"
    out = ROOT / "bench" / "results" / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
