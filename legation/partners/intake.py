"""Objects arriving from partners: each checked on its own, the bad ones named, never stored."""

from __future__ import annotations

from typing import Any

from legation.errors import InputError
from legation.sharing.stix import parse_object
from legation.sharing.tlp import LEVEL_OF_ID, LEVELS, TLP2_IDS, level_rank, object_level
from legation.storage import taxii as store


def check_objects(
    objects: list[Any], policy: dict[str, Any]
) -> tuple[list[store.NewObject], list[dict[str, str]]]:
    """Valid objects ready to store, and a failure entry naming each invalid one."""
    default = policy.get("default_tlp", "amber")
    ceiling = level_rank(policy.get("max_tlp", "amber+strict"))
    accepted, failures = [], []
    for index, obj in enumerate(objects):
        try:
            accepted.append(_checked(obj, index, default, ceiling))
        except InputError as exc:
            ident = obj.get("id") if isinstance(obj, dict) else None
            failure = {"id": str(ident or f"objects[{index}]"), "message": str(exc)}
            if isinstance(obj, dict) and isinstance(obj.get("modified"), str):
                failure["version"] = obj["modified"]
            failures.append(failure)
    return accepted, failures


def _checked(obj: Any, index: int, default: str, ceiling: int) -> store.NewObject:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InputError(f"objects[{index}] is not a STIX object with an 'id'")
    if obj.get("spec_version") != "2.1":
        raise InputError(f"{obj['id']}: spec_version {obj.get('spec_version')!r}; send STIX 2.1")
    body = parse_object(obj, index)
    if body["type"] == "marking-definition":
        return store.NewObject(body, "clear", store.version_of(body))
    if not any(ref in LEVEL_OF_ID for ref in body.get("object_marking_refs", [])):
        body = {
            **body,
            "object_marking_refs": [*body.get("object_marking_refs", []), TLP2_IDS[default]],
        }
    level = object_level(body)
    if LEVELS.index(level) > ceiling:
        raise InputError(
            f"{obj['id']}: TLP:{level.upper()} is above this collection's ceiling "
            f"TLP:{LEVELS[ceiling].upper()}"
        )
    return store.NewObject(body, level, store.version_of(body))
