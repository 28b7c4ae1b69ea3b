"""End-to-end retrieval recall: does a search for a listed name find its own entry?

    .venv/bin/python bench/screening_retrieval.py [--variants]

The pair benchmark (screening_quality.py) scores pairs without the candidate index; this one
goes through ``ScreeningIndex.search`` as `legation screen` and the API do. The index holds
the UN list, the OFAC SDN CSV set, the EU and UK samples of ../shared/data/sanctions (as
``lists update`` would store them). Each strong (non-weak) name of each entry is queried as
written, with the entry's schema; a miss is a search at the default threshold (0.7) whose
ten hits do not include the entry although the scorer gives the pair 0.7 or more (a miss
the index causes, not the scorer), unless ten other entries score at least as high (a tie
crowd, counted apart). ``--variants`` also queries each strong name with one common
transliteration change ("ou"→"u", "q"→"k", "Mohamed"→"Muhammad", a vowel …), and each primary
name reversed and with its parts' initials for all but the last part. Writes
bench/results/screening_retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sanctions"
sys.path.insert(0, str(ROOT))

from legation.screening.importers import (  # noqa: E402
    parse_eu_csv,
    parse_ofac_csv,
    parse_uk_conlist,
    parse_un_xml,
)
from legation.screening.index import ScreeningIndex, subject_from_ftm  # noqa: E402
from legation.screening.matcher import Subject, score_pair  # noqa: E402


def load() -> ScreeningIndex:
    lists = {
        "un": parse_un_xml((DATA / "un_consolidated_2026-02-27.xml").read_bytes()),
        "ofac": parse_ofac_csv(
            *((DATA / f"ofac_{n}.csv").read_bytes() for n in ("sdn", "alt", "add", "sdn_comments"))
        ),
        "eu": parse_eu_csv((DATA / "eu_fsf_v1_sample_999rows_2018-07-04.csv").read_bytes()),
        "uk": parse_uk_conlist((DATA / "uk_hmt_conlist_sample_77rows.csv").read_bytes()),
    }
    index = ScreeningIndex(
        subject_from_ftm(e.to_dict(), dataset=name)
        for name, imported in lists.items()
        for e in imported.entities
    )
    index.freeze()
    return index


_RESPELLINGS = (
    ("ou", "u"), ("ee", "i"), ("y", "i"), ("mohamed", "muhammad"), ("muhammad", "mohammed"),
    ("mohammad", "muhammad"), ("abdul ", "abdel "), ("sayed", "seyed"), ("hassan", "hasan"),
    ("ahmed", "ahmad"), ("q", "k"), ("kh", "h"), ("i", "ee"), ("a", "e"), ("e", "a"), ("o", "u"),
)  # fmt: skip


def respelt(text: str, rng: random.Random) -> str:
    """One common transliteration change (the first of a shuffled list that applies)."""
    lower = text.lower()
    changes = list(_RESPELLINGS)
    rng.shuffle(changes)
    for old, new in changes:
        if old in lower:
            return lower.replace(old, new, 1)
    return lower


def queries(index: ScreeningIndex, variants: bool) -> list[tuple[int, str, str]]:
    out = []
    rng = random.Random(5)
    for s, entry in enumerate(index.subjects):
        for n, name in enumerate(entry.names):
            if name.weak:
                continue
            out.append((s, "as listed", name.text))
            if variants:
                out.append((s, "respelt", respelt(name.text, rng)))
            words = name.text.split()
            if variants and n == 0 and len(words) >= 2:
                out.append((s, "reversed", " ".join(reversed(words))))
                if entry.schema == "Person":
                    initials = " ".join(w[0] + "." for w in words[:-1] if w[:1].isalpha())
                    out.append((s, "initials", f"{initials} {words[-1]}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args()
    index = load()
    asked = Counter()
    misses: Counter[str] = Counter()
    crowded: Counter[str] = Counter()
    examples: list[dict[str, object]] = []
    t0 = time.perf_counter()
    for s, kind, text in queries(index, args.variants):
        entry = index.subjects[s]
        schema = entry.schema if entry.schema in ("Person", "Organization") else "LegalEntity"
        query = Subject.build("q", schema, [text])
        if not query.names:
            continue
        own = score_pair(query, entry).score
        if own < 0.7:
            continue  # the scorer's miss, measured by screening_quality.py
        asked[kind] += 1
        hits = index.search(query)
        if any(h.subject is entry for h in hits):
            continue
        if len(hits) == 10 and min(h.score for h in hits) >= own:
            crowded[kind] += 1
            continue
        misses[kind] += 1
        if sum(e["kind"] == kind for e in examples) < 15:
            examples.append(
                {"list": entry.dataset, "id": entry.id, "kind": kind, "query": text,
                 "own_score": round(own, 3),
                 "hits": [(h.subject.id, round(h.score, 2)) for h in hits[:3]]}
            )  # fmt: skip
    seconds = time.perf_counter() - t0
    result = {
        "command": "python bench/screening_retrieval.py " + " ".join(sys.argv[1:]),
        "entries": len(index),
        "by_kind": {
            kind: {
                "queries": asked[kind],
                "misses": misses[kind],
                "tie_crowded": crowded[kind],
                "recall": round(1 - misses[kind] / asked[kind], 4) if asked[kind] else None,
            }
            for kind in asked
        },
        "seconds": round(seconds, 1),
        "examples": examples,
    }
    out = ROOT / "bench" / "results" / "screening_retrieval.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=2))
    for example in examples:
        print(example)


if __name__ == "__main__":
    main()
