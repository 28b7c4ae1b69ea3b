"""Site registry files: the Wikidata embassy CSV, plain CSV and GeoJSON."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legation.domain.countries import country_code
from legation.domain.models import Site
from legation.errors import InputError


@dataclass(slots=True)
class RegistryFile:
    """What a registry file yielded: sites, and per-row problems that did not stop the rest."""

    sites: list[Site] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # rows skipped
    warnings: list[str] = field(default_factory=list)  # rows imported with a gap
    lines: dict[str, int] = field(default_factory=dict)  # key -> line it was read from
    unlocated: int = 0  # sites imported without coordinates


def read_registry(path: Path) -> RegistryFile:
    """Parse a registry file by its format (detected from suffix and header)."""
    if not path.is_file():
        raise InputError(f"registry file {str(path)!r} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"registry file {str(path)!r} is not UTF-8 (byte {exc.start})") from exc
    if path.suffix.lower() in (".geojson", ".json"):
        return _read_geojson(text, path)
    first = text.split("\n", 1)[0]
    if first.startswith("operator;operatorQID"):
        return _read_wikidata(text)
    return _read_plain_csv(text)


def _read_wikidata(text: str) -> RegistryFile:
    result = RegistryFile()
    for number, row in enumerate(csv.DictReader(io.StringIO(text), delimiter=";"), start=2):
        qid = (row.get("QID") or "").rsplit("/", 1)[-1]
        if not qid.startswith("Q"):
            result.errors.append(f"line {number}: no Wikidata QID; row skipped")
            continue
        site_type = row.get("type") or "mission"
        operator, city = row.get("operator") or "", row.get("city") or ""
        name = (
            f"{site_type[:1].upper()}{site_type[1:]} of {operator} in {city or row.get('country')}"
        )
        _append(
            result,
            number,
            qid,
            name,
            site_type,
            operator,
            row.get("country") or "",
            city,
            row.get("latitude"),
            row.get("longitude"),
            qid,
        )
    return result


def _read_plain_csv(text: str) -> RegistryFile:
    result = RegistryFile()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise InputError(
            "registry CSV needs a header with at least 'name' "
            "(and key, type, operator, country, city, lat, lon)"
        )
    for number, row in enumerate(reader, start=2):
        _append_mapping(result, number, row)
    return result


def _read_geojson(text: str, path: Path) -> RegistryFile:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"GeoJSON {str(path)!r}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"GeoJSON {str(path)!r}: expected a FeatureCollection")
    result = RegistryFile()
    for number, feature in enumerate(doc.get("features", []), start=1):
        props = dict(feature.get("properties") or {})
        coords = (feature.get("geometry") or {}).get("coordinates") or [None, None]
        if (feature.get("geometry") or {}).get("type") == "Point" and len(coords) >= 2:
            props.setdefault("lon", coords[0])
            props.setdefault("lat", coords[1])
        _append_mapping(result, number, props, where="feature")
    return result


def _append_mapping(
    result: RegistryFile, number: int, row: dict[str, Any], where: str = "line"
) -> None:
    name = str(row.get("name") or "").strip()
    if not name:
        result.errors.append(f"{where} {number}: no name; row skipped")
        return
    operator, country, city = (
        str(row.get(k) or "").strip() for k in ("operator", "country", "city")
    )
    key = str(row.get("key") or row.get("qid") or "").strip() or _stable_key(
        name, operator, country, city
    )
    qid = str(row.get("qid") or "").strip() or None
    _append(
        result,
        number,
        key,
        name,
        str(row.get("type") or "mission"),
        operator,
        country,
        city,
        row.get("lat"),
        row.get("lon"),
        qid,
        where,
    )


def _stable_key(*parts: str) -> str:
    return "site-" + hashlib.sha1("|".join(parts).lower().encode()).hexdigest()[:12]


def _append(
    result: RegistryFile,
    number: int,
    key: str,
    name: str,
    site_type: str,
    operator: str,
    country: str,
    city: str,
    lat: Any,
    lon: Any,
    qid: str | None,
    where: str = "line",
) -> None:
    try:
        position = _coordinates(lat, lon)
    except ValueError as exc:
        result.errors.append(f"{where} {number} ({key}): {exc}; row skipped")
        return
    if position is None:
        result.unlocated += 1
        result.warnings.append(
            f"{where} {number} ({key}, {name}): no coordinates; "
            "imported without a position (country-level assessment only)"
        )
    lat_f, lon_f = position or (None, None)
    if key in result.lines:
        result.warnings.append(
            f"{where} {number}: key {key} repeats {where} {result.lines[key]}; "
            "the later row is used"
        )
    result.lines[key] = number
    result.sites.append(
        Site(
            key=key,
            name=name,
            type=site_type,
            operator=operator,
            operator_code=country_code(operator),
            country=country,
            country_code=country_code(country),
            city=city,
            lat=lat_f,
            lon=lon_f,
            qid=qid,
        )
    )


def _coordinates(lat: Any, lon: Any) -> tuple[float, float] | None:
    if lat in (None, "") or lon in (None, ""):
        return None
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValueError(f"coordinates {lat!r}, {lon!r} are not numbers") from None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise ValueError(f"coordinates {lat_f}, {lon_f} are out of range")
    return lat_f, lon_f
