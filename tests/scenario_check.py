"""Check a scenario's conclusions against its expected.json, item by item (see its 'doc')."""

from __future__ import annotations

from typing import Any

from legation.domain.geo import distance_km


def check_scenario(
    result: dict[str, Any], expected: dict[str, Any], registry: list[dict[str, str]]
) -> list[str]:
    """Every failed expectation as a sentence; empty when all hold."""
    failures: list[str] = []
    ids: dict[str, int] = {}
    for item in expected["incidents"]:
        ids.update(_check_incident(result, item, failures))
    for name in expected["non_incidents"]:
        if any(name in i["reports"] for i in result["incidents"]):
            failures.append(f"{name} should produce no incident")
    levels = {s["key"]: s for s in result["sites"]}
    for item in expected["sites"]["levels"]:
        site = levels.get(item["key"])
        if site is None or site["level"] != item["level"]:
            failures.append(f"site {item['key']} level {site and site['level']} != {item['level']}")
        elif ids.get(item["reasons_include"]) not in site["reasons"]:
            failures.append(
                f"site {item['key']} reasons {site['reasons']} lack {item['reasons_include']}"
            )
    for item in expected["sites"]["at_least"]:
        for row in registry:
            if row["operator"] == item["operator"] and row["country"] == item["country"]:
                level = levels.get(row["key"], {"level": 1})["level"]
                if level < item["level"]:
                    failures.append(
                        f"site {row['key']} ({row['city']}) level {level} < {item['level']}"
                    )
    for item in expected["sites"]["greater_than"]:
        higher = [_level(levels, r) for r in registry if _selects(r, item["higher"])]
        lower = [_level(levels, r) for r in registry if _selects(r, item["lower"])]
        if higher and lower and min(higher) <= max(lower):
            failures.append(
                f"{item['higher']} (min {min(higher)}) not above {item['lower']} (max {max(lower)})"
            )
    for item in expected["alerts"]:
        wanted = ids.get(item["incident"])
        if not any(
            a["site_key"] == item["site_key"] and a["incident_id"] == wanted
            for a in result["alerts"]
        ):
            failures.append(f"no alert for {item['site_key']} about {item['incident']}")
    return failures


def _level(levels: dict[str, dict[str, Any]], row: dict[str, str]) -> int:
    return int(levels.get(row["key"], {"level": 1})["level"])


def _selects(row: dict[str, str], spec: dict[str, str]) -> bool:
    if "key" in spec and row["key"] != spec["key"]:
        return False
    if "city" in spec and row["city"] != spec["city"]:
        return False
    return not ("operator_not" in spec and row["operator"] == spec["operator_not"])


def _check_incident(
    result: dict[str, Any], item: dict[str, Any], failures: list[str]
) -> dict[str, int]:
    first = item["reports"][0]
    found = [i for i in result["incidents"] if first in i["reports"]]
    if not found:
        failures.append(f"no incident from {first}")
        return {}
    got = found[0]
    key = item["key"]
    if sorted(got["reports"]) != sorted(item["reports"]):
        failures.append(f"{key}: reports {got['reports']} != {item['reports']}")
    types = item.get("type_any") or [item["type"]]
    if got["type"] not in types:
        failures.append(f"{key}: type {got['type']} not in {types}")
    if got["weapon"] != item["weapon"]:
        failures.append(f"{key}: weapon {got['weapon']} != {item['weapon']}")
    if got["date"] != item["date"]:
        failures.append(f"{key}: date {got['date']} != {item['date']}")
    place, want = got["place"], item["place"]
    if place["country"] != want["country"] or place["lat"] is None:
        failures.append(f"{key}: place {place} not in {want['country']}")
    elif distance_km(place["lat"], place["lon"], want["lat"], want["lon"]) > want["max_error_km"]:
        failures.append(f"{key}: place {place} farther than {want['max_error_km']} km from {want}")
    missing = set(item["target_categories"]) - set(got["target_categories"])
    if missing:
        failures.append(f"{key}: target categories lack {sorted(missing)}")
    for victim in item.get("victims_include", []):
        if not any(victim.lower() in v.lower() for v in got["victims"]):
            failures.append(f"{key}: no victim like {victim!r} in {got['victims']}")
    options = item.get("perpetrators_include_any")
    if options and not any(o.lower() in p.lower() for o in options for p in got["perpetrators"]):
        failures.append(f"{key}: no perpetrator like {options} in {got['perpetrators']}")
    if got["killed"] < item.get("killed_min", 0):
        failures.append(f"{key}: killed {got['killed']} < {item['killed_min']}")
    return {key: got["id"]}
