"""Speed of `legation extract --format jsonl` on the 1,300 MUC-4 dev texts: start-up time,
documents per second on one core, peak memory. Writes bench/results/extract_speed.json.

    .venv/bin/python bench/extract_speed.py
"""

from __future__ import annotations

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


def _lines() -> list[str]:
    messages = [m for f in message_files(DEV) for m in read_messages(f)]
    return [
        json.dumps(
            {
                "id": m.external_id,
                "text": m.text,
                "language": "en",
                "published": m.published.isoformat() if m.published else None,
            }
        )
        for m in messages
    ]


def _run(stdin: Path) -> tuple[float, int, int]:
    """Wall seconds, output lines, peak resident KiB of one `legation extract` process."""
    started = time.perf_counter()
    with stdin.open("rb") as handle:
        done = subprocess.run(
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
            capture_output=True,
            check=True,
        )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, len(done.stdout.splitlines()), peak


def main() -> None:
    lines = _lines()
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        one.write_text(lines[0] + "\n", "utf-8")
        everything = Path(tmp) / "all.jsonl"
        everything.write_text("\n".join(lines) + "\n", "utf-8")
        startup, _, _ = _run(one)
        total, produced, peak = _run(everything)
    rate = len(lines) / max(total - startup, 1e-9)
    result = {
        "documents": len(lines),
        "output_lines": produced,
        "startup_s": round(startup, 2),
        "total_s": round(total, 2),
        "docs_per_s_one_core": round(rate, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }
    print(result)
    out = ROOT / "bench" / "results" / "extract_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
