"""Objects arriving from partners: each checked on its own, the bad ones named, never stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legation.errors import InputError
from legation.sharing.stix import parse_object
from legation.sharing.tlp import LEVEL_OF_ID, LEVELS, TLP2_IDS, level_rank, object_level
from legation.storage import taxii as store

_ANYONE: Any = object()


def check_objects(
    objects: list[Any],
    policy: dict[str, Any],
    *,
    sender: str | None = _ANYONE,
    versions: Mapping[str, str] | None = None,
) -> tuple[list[store.NewObject], list[dict[str, str]]]:
    """Valid objects ready to store, and a failure entry naming each invalid one.

    ``sender`` is the identity id of the partner posting (None: it has none): an object
    whose ``created_by_ref`` names anyone else is refused. Left out (objects we pull), any
    ``created_by_ref`` is kept. The official TLP marking definitions are never taken from
    outside: ours are the ones used. ``versions`` gives a version (a timestamp) to objects
    that carry none of their own (cyber-observables, by id); any other such object is refused.
    """
    default = policy.get("default_tlp", "amber")
    ceiling = level_rank(policy.get("max_tlp", "amber+strict"))
    custom = bool(policy.get("custom_objects", True))
    accepted, failures = [], []
    for index, obj in enumerate(objects):
        try:
            checked = _checked(obj, index, default, ceiling, versions or {}, custom=custom)
            author = checked.body.get("created_by_ref")
            if sender is not _ANYONE and author is not None and author != sender:
                raise InputError(
                    f"{checked.body['id']}: created_by_ref {author!r} is not the sending "
                    "partner's identity; send objects of your own, or leave it out"
                )
            accepted.append(checked)
        except InputError as exc:
            ident = obj.get("id") if isinstance(obj, dict) else None
            failure = {"id": str(ident or f"objects[{index}]"), "message": str(exc)}
            stamp = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else None
            if isinstance(stamp, str):
                failure["version"] = stamp
            failures.append(failure)
    return accepted, failures


def _checked(
    obj: Any,
    index: int,
    default: str,
    ceiling: int,
    versions: Mapping[str, str],
    *,
    custom: bool,
) -> store.NewObject:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InputError(f"objects[{index}] is not a STIX object with an 'id'")
    if obj.get("spec_version") != "2.1":
        raise InputError(f"{obj['id']}: spec_version {obj.get('spec_version')!r}; send STIX 2.1")
    if obj["id"] in LEVEL_OF_ID:
        raise InputError(
            f"{obj['id']}: is an official TLP marking definition; those are never taken "
            "from partners (this server holds the originals)"
        )
    body = parse_object(obj, index, custom_objects=custom)
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
    if body["id"] in versions and not (body.get("modified") or body.get("created")):
        return store.NewObject(body, level, store.version_of({"created": versions[body["id"]]}))
    return store.NewObject(body, level, store.version_of(body))
