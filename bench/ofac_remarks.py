"""What the OFAC CSV reader gets out of Remarks: document items and weak a.k.a.s.

    .venv/bin/python bench/ofac_remarks.py [--code /path/to/other/checkout]

Reads ofac_sdn.csv and ofac_sdn_comments.csv of ../shared/data/sanctions. A document item
is a Remarks item (split at ';') that starts with a document kind the reader knows
(``_ID_KINDS``: 'Passport', 'National ID No.', …); it is *matched* when the reader's ``_ID``
pattern takes it, and its number is *clean* when it holds no 'issued'/'expires'/'and' word,
':' or ','. Weak a.k.a.s are counted on the entities ``parse_ofac_csv`` makes. ``--code``
imports the reader from another checkout (e.g. main) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sanctions"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, default=ROOT)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from legation.screening import importers

    sdn = (DATA / "ofac_sdn.csv").read_bytes()
    comments = (DATA / "ofac_sdn_comments.csv").read_bytes()
    extra = {r[0]: r[1] for r in csv.reader(io.StringIO(importers.decode(comments))) if len(r) >= 2}
    kinds = "|".join(re.escape(k) for k in importers._ID_KINDS)
    starts = re.compile(rf"^(?:alt\.\s+)?(?:{kinds})\s")
    items = []
    for row in csv.reader(io.StringIO(importers.decode(sdn))):
        if len(row) < 12:
            continue
        remarks = importers._clean(row[11]) + (" " + extra[row[0]] if row[0] in extra else "")
        for item in remarks.split(";"):
            item = item.strip().rstrip(".").strip()
            if starts.match(item):
                items.append(item)
    matched = [m for m in map(importers._ID.match, items) if m]
    dirty = re.compile(r"\s(?:issued|expires|and)\b|[:,]")
    clean = [m for m in matched if not dirty.search(m.group(2))]
    entities = importers.parse_ofac_csv(sdn, b"", b"", comments).entities
    weak = sum(len(e.get("weakAlias")) for e in entities)
    print(f"code: {args.code.resolve()}")
    print(f"document items {len(items)}, matched {len(matched)}, clean number {len(clean)}, "
          f"with issuing country {sum(bool(m.group(3)) for m in clean)}")  # fmt: skip
    print(f"weak a.k.a.s {weak} on {len(entities)} entities")


if __name__ == "__main__":
    main()
