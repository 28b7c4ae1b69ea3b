"""Screening quality side by side with nomenklatura's logic-v2, on the same pairs, one run.

    .venv/bin/python bench/screening_quality.py [--ru-sample 2000] [--variants 1500] [--no-glossary]

nomenklatura pulls numpy, scipy, scikit-learn and duckdb, so it is not a dev dependency: this
script makes its own virtual environment (bench/.venv-nomenklatura, pinned version below) and
scores the pairs there in a subprocess, offline. Our scores come from the same scorer as
`legation screen pairs`. Slices:

- un_original_script: each UN entry's original-script name vs its Latin name; negatives pair the
  original name with the Latin name of a different entry sharing the Latin initial.
- ru_wikidata_tokens: Russian Wikidata name tokens (Cyrillic) vs their English form.
- cross_script: the 22 hand-made pairs of the Watchman test data; negatives by rotation.
- variants: names of UN and OFAC persons/organisations, varied by reversal, initials, compounds,
  diacritics and Arabic particles; negatives pair a variant with another entry's name that
  starts with the same letter.
- cyrillic_romanisations: Russian Wikidata tokens and the UN list's Cyrillic names romanised
  by GOST 7.79-B, BGN/PCGN and ICAO 9303, vs the Wikidata/UN Latin form.

Writes bench/results/screening_quality.json. Data: ../shared/data (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
NK_VENV = ROOT / "bench" / ".venv-nomenklatura"
NK_VERSION = "4.17.4"
THRESHOLDS = (0.7, 0.8, 0.9)

sys.path.insert(0, str(ROOT))
from legation.screening.importers import parse_ofac_csv, parse_un_xml  # noqa: E402
from legation.screening.matcher import ALGORITHM, Subject, score_pair  # noqa: E402

Pair = dict[str, Any]

GOST = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
        "з": "z", "и": "i", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "cz", "ч": "ch",
        "ш": "sh", "щ": "shh", "ъ": "", "ы": "y'", "ь": "'", "э": "e'", "ю": "yu",
        "я": "ya"}  # fmt: skip
BGN = {**GOST, "ё": "yo", "й": "y", "х": "kh", "ц": "ts", "щ": "shch", "ы": "y", "ь": "",
       "э": "e"}  # fmt: skip
ICAO = {**BGN, "ё": "e", "й": "i", "ъ": "ie", "ю": "iu", "я": "ia"}


def romanise(text: str, table: dict[str, str], bgn_ye: bool = False) -> str:
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        rom = table.get(low, ch)
        if bgn_ye and low == "е" and (i == 0 or text[i - 1].lower() in "аеёиоуыэюяъь "):
            rom = "ye"
        out.append(rom.capitalize() if ch.isupper() else rom)
    return "".join(out)


SYSTEMS = {
    "gost": lambda t: romanise(t, GOST),
    "bgn": lambda t: romanise(t, BGN, bgn_ye=True),
    "icao": lambda t: romanise(t, ICAO),
}


def pair(slice_: str, left: str, right: str, label: bool, schema: str, kind: str) -> Pair:
    return {"slice": slice_, "left": left, "right": right, "label": label, "schema": schema,
            "kind": kind}  # fmt: skip


def negatives(slice_: str, lefts: list[tuple[str, str, str]], pool: list[tuple[str, str, str]],
              rng: random.Random) -> list[Pair]:  # fmt: skip
    """For (key, name, schema): a name of a different key, same schema, same initial."""
    by_initial: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, name, schema in pool:
        by_initial.setdefault((name[:1].lower(), schema), []).append((key, name))
    out = []
    for key, name, schema in lefts:
        options = [o for o in by_initial.get((name[:1].lower(), schema), []) if o[0] != key]
        if options:
            other = rng.choice(options)[1]
            out.append(pair(slice_, name, other, False, schema, "negative"))
    return out


def un_original(rng: random.Random) -> list[Pair]:
    rows = list(
        csv.DictReader((DATA / "names" / "un_name_variants_derived.csv").open(encoding="utf-8"))
    )
    pos, lefts = [], []
    pool = [(r["ref"], r["name_latin"], _schema(r["kind"])) for r in rows]
    for r in rows:
        if r["name_original_script"]:
            schema = _schema(r["kind"])
            pos.append(
                pair(
                    "un_original_script",
                    r["name_original_script"],
                    r["name_latin"],
                    True,
                    schema,
                    "positive",
                )
            )
            lefts.append((r["ref"], r["name_latin"], schema))
    negs = negatives("un_original_script", lefts, pool, rng)
    # negatives compare the original script of one entry with another entry's Latin name
    originals = {
        r["name_latin"]: r["name_original_script"] for r in rows if r["name_original_script"]
    }
    for n in negs:
        n["left"] = originals[n["left"]]
    return pos + negs


def _schema(kind: str) -> str:
    return "Person" if kind == "individual" else "Organization"


def ru_tokens(rng: random.Random, sample: int) -> tuple[list[Pair], list[tuple[str, str]]]:
    rows = []
    for line in (DATA / "names" / "coling2018_wd_russian_20.tsv").open(encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 2 and parts[0] and parts[1]:
            rows.append((parts[0], parts[1].replace(" ", "")))
    rng.shuffle(rows)
    rows = rows[:sample]
    pos = [
        pair("ru_wikidata_tokens", cyr.capitalize(), lat.capitalize(), True, "Person", "positive")
        for lat, cyr in rows
    ]
    lefts = [(lat, lat.capitalize(), "Person") for lat, _ in rows]
    negs = negatives(
        "ru_wikidata_tokens", lefts, [(lat, lat.capitalize(), "Person") for lat, _ in rows], rng
    )
    cyr_of = {lat.capitalize(): cyr.capitalize() for lat, cyr in rows}
    for n in negs:
        n["left"] = cyr_of[n["left"]]
    return pos + negs, rows


def cross_script() -> list[Pair]:
    items = []
    for line in (DATA / "names" / "watchman_cross_script_pairs.csv").open(encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        query, match = line.split(",")[:2]
        items.append((query, match))
    out = [pair("cross_script", q, m, True, "Person", "positive") for q, m in items]
    out += [
        pair("cross_script", q, items[(i + 1) % len(items)][1], False, "Person", "negative")
        for i, (q, _m) in enumerate(items)
    ]
    return out


DIACRITICS = str.maketrans(
    {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "s": "ş", "c": "ç", "g": "ğ", "n": "ñ"}
)


def vary(name: str, schema: str, rng: random.Random) -> list[tuple[str, str]]:
    tokens = name.split()
    out: list[tuple[str, str]] = []
    if len(tokens) >= 2:
        out.append(("reversal", " ".join([tokens[-1], *tokens[:-1]])))
        if schema == "Person":
            out.append(("initials", " ".join([tokens[0][0] + ".", *tokens[1:]])))
    joined = re.sub(
        r"\b(Abdul|Abd|Abu|Abdel|ABDUL|ABD|ABU|ABDEL)[\s-]+(\w)",
        lambda m: m.group(1) + m.group(2).lower(),
        name,
    )
    if joined != name:
        out.append(("compound", joined))
    elif len(tokens) >= 3:
        i = rng.randrange(len(tokens) - 1)
        out.append(
            (
                "compound",
                " ".join([*tokens[:i], tokens[i] + tokens[i + 1].lower(), *tokens[i + 2 :]]),
            )
        )
    out.append(("diacritics", name.lower().translate(DIACRITICS)))
    if re.search(r"\b(al|Al|AL|el|El|EL)[- ]", name):
        out.append(("particles", re.sub(r"\b(al|Al|AL|el|El|EL)[- ]", "", name)))
    elif re.search(r"\b(bin|BIN|ibn|IBN)\b", name):
        out.append(("particles", re.sub(r"\b(bin|BIN|ibn|IBN)\b", "ibn", name)))
    return out


def variants(rng: random.Random, count: int) -> list[Pair]:
    un = parse_un_xml((DATA / "sanctions" / "un_consolidated_2026-02-27.xml").read_bytes()).entities
    files = [
        (DATA / "sanctions" / f"ofac_{n}.csv").read_bytes()
        for n in ("sdn", "alt", "add", "sdn_comments")
    ]
    ofac = parse_ofac_csv(*files).entities
    pool = []
    for e in un + ofac:
        if e.schema.name in ("Person", "Organization"):
            latin = [n for n in e.get("name") if n.isascii()]
            if latin:
                pool.append((e.id or "", latin[0], e.schema.name))
    rng.shuffle(pool)
    chosen = pool[:count]
    pos = []
    lefts = []
    for key, name, schema in chosen:
        for kind, variant in vary(name, schema, rng):
            pos.append(pair("variants", variant, name, True, schema, kind))
            lefts.append((key, variant, schema))
    negs = negatives("variants", lefts, pool, rng)
    return pos + negs


def cyrillic(rows: list[tuple[str, str]]) -> list[Pair]:
    out = []
    for lat, cyr in rows[:500]:
        for system, fn in SYSTEMS.items():
            out.append(
                pair(
                    "cyrillic_romanisations",
                    fn(cyr.capitalize()),
                    lat.capitalize(),
                    True,
                    "Person",
                    system,
                )
            )
    un = list(
        csv.DictReader((DATA / "names" / "un_name_variants_derived.csv").open(encoding="utf-8"))
    )
    for r in un:
        if re.search("[а-яА-Я]", r["name_original_script"]):
            for system, fn in SYSTEMS.items():
                out.append(
                    pair(
                        "cyrillic_romanisations",
                        fn(r["name_original_script"]),
                        r["name_latin"],
                        True,
                        "Person",
                        system,
                    )
                )
    lefts = [(p["right"], p["left"], "Person") for p in out]
    pool = [(p["right"], p["right"], "Person") for p in out]
    return out + negatives("cyrillic_romanisations", lefts, pool, random.Random(7))


NK_RUNNER = r"""
import json, sys, time
t0 = time.perf_counter()
from followthemoney import model
from nomenklatura.matching import get_algorithm, ScoringConfig
algo = get_algorithm("logic-v2"); cfg = ScoringConfig.defaults()
def ent(i, schema, name):
    e = model.make_entity(schema); e.id = i; e.add("name", name); return e
pairs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
warm = algo.compare(ent("a", "Person", "Abu Bakr"), ent("b", "Person", "Abu Bakr"), cfg)
t1 = time.perf_counter()
scores = []
for n, p in enumerate(pairs):
    left, right = ent(f"l{n}", p["schema"], p["left"]), ent(f"r{n}", p["schema"], p["right"])
    scores.append(algo.compare(left, right, cfg).score)
t2 = time.perf_counter()
json.dump({"scores": scores, "startup_s": t1 - t0, "score_s": t2 - t1}, sys.stdout)
"""


def nomenklatura_scores(pairs: list[Pair]) -> dict[str, Any]:
    python = NK_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NK_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"nomenklatura=={NK_VERSION}"], check=True
        )
    path = ROOT / "bench" / "results" / "pairs.tmp"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), "utf-8")
    done = subprocess.run(
        [str(python), "-c", NK_RUNNER, str(path)], capture_output=True, text=True, check=True
    )
    path.unlink()
    result: dict[str, Any] = json.loads(done.stdout)
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('nomenklatura'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result["version"] = version
    return result


def metrics(pairs: list[Pair], scores: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in THRESHOLDS:
        tp = sum(1 for p, s in zip(pairs, scores, strict=True) if p["label"] and s >= t)
        fp = sum(1 for p, s in zip(pairs, scores, strict=True) if not p["label"] and s >= t)
        fn = sum(1 for p, s in zip(pairs, scores, strict=True) if p["label"] and s < t)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[str(t)] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        }
    return out


def recall_at_fpr(
    pairs: list[Pair], scores: list[float], max_fpr: float = 0.01
) -> dict[str, float]:
    neg = sorted((s for p, s in zip(pairs, scores, strict=True) if not p["label"]), reverse=True)
    pos = [s for p, s in zip(pairs, scores, strict=True) if p["label"]]
    allowed = int(max_fpr * len(neg))  # negatives allowed at or above the cut
    # the cut must sit above the (allowed+1)-th highest negative score
    cut = neg[allowed] + 1e-9 if allowed < len(neg) else 0.0
    recall = sum(1 for s in pos if s >= cut) / len(pos)
    fpr = sum(1 for s in neg if s >= cut) / len(neg)
    return {"threshold": round(cut, 4), "recall": round(recall, 4), "fpr": round(fpr, 4)}


def by_schema(pairs: list[Pair], scores: list[float], cut: dict[str, float]) -> dict[str, Any]:
    """Recall and false positives per schema at the slice's cut (persons vs organisations)."""
    out: dict[str, Any] = {}
    for schema in sorted({p["schema"] for p in pairs}):
        pos = [
            s for p, s in zip(pairs, scores, strict=True) if p["schema"] == schema and p["label"]
        ]
        neg = [
            s
            for p, s in zip(pairs, scores, strict=True)
            if p["schema"] == schema and not p["label"]
        ]
        out[schema] = {
            "positives": len(pos),
            "recall": round(sum(s >= cut["threshold"] for s in pos) / len(pos), 4),
            "false_positives": sum(s >= cut["threshold"] for s in neg),
            "negatives": len(neg),
        }
    return out


def _share(idx: list[int], pairs: list[Pair], scores: list[float], kind: str) -> float:
    chosen = [i for i in idx if pairs[i]["kind"] == kind]
    return round(sum(scores[i] >= 0.7 for i in chosen) / len(chosen), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ru-sample", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument(
        "--no-glossary",
        action="store_true",
        help="ours without the glossary of organisation words (spelling only); writes "
        "screening_quality_no_glossary.json",
    )
    args = parser.parse_args()
    if args.no_glossary:
        import legation.screening.normalise as normalise

        normalise.abjad_concept = normalise.latin_concept = lambda _word: ""
    rng = random.Random(args.seed)
    ru_pairs, ru_rows = ru_tokens(rng, args.ru_sample)
    pairs = (
        un_original(rng)
        + ru_pairs
        + cross_script()
        + variants(rng, args.variants)
        + cyrillic(ru_rows)
    )
    t0 = time.perf_counter()
    ours = [
        score_pair(
            Subject.build("l", p["schema"], [p["left"]]),
            Subject.build("r", p["schema"], [p["right"]]),
        ).score
        for p in pairs
    ]
    ours_s = time.perf_counter() - t0
    nk = nomenklatura_scores(pairs)
    slices: dict[str, Any] = {}
    for name in dict.fromkeys(p["slice"] for p in pairs):
        idx = [i for i, p in enumerate(pairs) if p["slice"] == name]
        sub = [pairs[i] for i in idx]
        entry: dict[str, Any] = {
            "pairs": len(sub),
            "positives": sum(p["label"] for p in sub),
            "legation": metrics(sub, [ours[i] for i in idx]),
            "logic_v2": metrics(sub, [nk["scores"][i] for i in idx]),
        }
        if name == "un_original_script":
            entry["recall_at_1pct_fpr"] = {
                "legation": recall_at_fpr(sub, [ours[i] for i in idx]),
                "logic_v2": recall_at_fpr(sub, [nk["scores"][i] for i in idx]),
            }
            entry["recall_at_that_cut_by_schema"] = {
                who: by_schema(sub, [scores[i] for i in idx], entry["recall_at_1pct_fpr"][who])
                for who, scores in (("legation", ours), ("logic_v2", nk["scores"]))
            }
        kinds = sorted({p["kind"] for p in sub if p["label"]})
        if len(kinds) > 1:
            entry["recall_at_0.7_by_kind"] = {
                k: {
                    "legation": _share(idx, pairs, ours, k),
                    "logic_v2": _share(idx, pairs, nk["scores"], k),
                }
                for k in kinds
            }
        slices[name] = entry
    result = {
        "command": "python bench/screening_quality.py " + " ".join(sys.argv[1:]),
        "seed": args.seed,
        "algorithm": ALGORITHM,
        "nomenklatura": {
            "version": nk["version"],
            "algorithm": "logic-v2",
            "startup_s": round(nk["startup_s"], 2),
            "score_s": round(nk["score_s"], 2),
        },
        "legation_score_s": round(ours_s, 2),
        "pairs": len(pairs),
        "machine": f"{platform.machine()} {platform.python_version()}, shared with other engineers",
        "slices": slices,
    }
    suffix = "_no_glossary" if args.no_glossary else ""
    out = ROOT / "bench" / "results" / f"screening_quality{suffix}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    for name, entry in slices.items():
        print(
            name,
            entry["pairs"],
            {
                t: (entry["legation"][t]["f1"], entry["logic_v2"][t]["f1"])
                for t in entry["legation"]
            },
        )
    if "recall_at_1pct_fpr" in slices.get("un_original_script", {}):
        print(
            "un_original_script recall at <=1% FPR",
            slices["un_original_script"]["recall_at_1pct_fpr"],
            slices["un_original_script"]["recall_at_that_cut_by_schema"],
        )


if __name__ == "__main__":
    main()
