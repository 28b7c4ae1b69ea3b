"""Objects arriving from partners: each checked on its own, the bad ones named, never stored."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from legation.errors import InputError
from legation.sharing.stix import parse_object
from legation.sharing.tlp import (
    LEVEL_OF_ID,
    LEVELS,
    OPENCTI_IDS,
    TLP2_IDS,
    definition_level,
    label_level,
    level_rank,
    object_level,
)
from legation.storage import taxii as store

_ANYONE: Any = object()


class Infinite:
    """A JSON number too large for a float (``1e400``), kept as its text to be refused.

    ``finite_float`` gives one to ``json.loads`` (``parse_float``) instead of ``inf``, which
    the JSON columns would store as null; ``unstorable`` then refuses its object.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def finite_float(text: str) -> float | Infinite:
    value = float(text)
    return value if math.isfinite(value) else Infinite(text)


def unstorable(objects: list[Any]) -> tuple[list[Any], list[dict[str, str]]]:
    """``objects`` less those that cannot be stored as JSON, and a failure naming each.

    Refused: a string (a value or a key) holding a lone UTF-16 surrogate (``"\\ud800"``
    is valid JSON text but no Unicode, so it cannot be written as UTF-8), and a number out
    of a float's range (an ``Infinite``). Failure entries never repeat the bad string.
    """
    kept, failures = [], []
    for index, obj in enumerate(objects):
        try:
            problem = _bad_value(obj, "")
        except RecursionError:
            problem = "nested too deeply to check"
        if problem is None:
            kept.append(obj)
            continue
        ident = obj.get("id") if isinstance(obj, dict) else None
        label = ident if isinstance(ident, str) and _clean(ident) else f"objects[{index}]"
        failure = {"id": label, "message": f"{label}: {problem}"}
        stamp = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else None
        if isinstance(stamp, str) and _clean(stamp):
            failure["version"] = stamp
        failures.append(failure)
    return kept, failures


def _clean(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_value(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        if _clean(value):
            return None
        return (
            f"the string at {path or 'the top'} holds a lone UTF-16 surrogate; send valid Unicode"
        )
    if isinstance(value, Infinite):
        return (
            f"the number {value.text} at {path} is out of range; JSON numbers here must be finite"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if not _clean(key):
                return f"a property name in {path or 'the object'} holds a lone UTF-16 surrogate"
            problem = _bad_value(item, f"{path}.{key}" if path else key)
            if problem:
                return problem
    elif isinstance(value, list):
        for position, item in enumerate(value):
            problem = _bad_value(item, f"{path}.[{position}]")
            if problem:
                return problem
    return None


def check_objects(
    objects: list[Any],
    policy: dict[str, Any],
    *,
    sender: str | None = _ANYONE,
    versions: Mapping[str, str] | None = None,
    skip_tlp_definitions: bool = False,
) -> tuple[list[store.NewObject], list[dict[str, str]]]:
    """Valid objects ready to store, and a failure entry naming each invalid one.

    ``sender`` is the identity id of the partner posting (None: it has none): an object
    whose ``created_by_ref`` names anyone else is refused. Left out (objects we pull), any
    ``created_by_ref`` is kept. The official TLP marking definitions are never taken from
    outside: ours are the ones used. ``versions`` gives a version (a timestamp) to objects
    that carry none of their own (cyber-observables, by id); any other such object is refused.

    TLP markings of other producers count as the TLP 2.0 level they stand for: OpenCTI's
    ids, any marking definition in ``objects`` that is about TLP (``definition_level``; an
    unknown value is RED) and ``tlp:<level>`` labels (misp-stix); the object is then marked
    with the official TLP 2.0 definition of the strictest of them. Such TLP definitions are
    never stored: refused (a failure) or, with ``skip_tlp_definitions`` (pulls), left out.
    """
    default = policy.get("default_tlp", "amber")
    ceiling = level_rank(policy.get("max_tlp", "amber+strict"))
    custom = bool(policy.get("custom_objects", True))
    theirs = _tlp_definitions(objects)
    if skip_tlp_definitions:
        objects = [o for o in objects if not (isinstance(o, dict) and o.get("id") in theirs)]
    accepted, failures = [], []
    for index, obj in enumerate(objects):
        try:
            checked = _checked(
                obj, index, default, ceiling, versions or {}, theirs=theirs, custom=custom
            )
            author = checked.body.get("created_by_ref")
            if sender is not _ANYONE and author is not None and author != sender:
                raise InputError(
                    f"{checked.body['id']}: created_by_ref {author!r} is not the sending "
                    "partner's identity; send objects of your own, or leave it out"
                )
            accepted.append(checked)
        except (InputError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = InputError(f"objects[{index}]: nested too deeply to check")
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
    theirs: Mapping[str, str],
    custom: bool,
) -> store.NewObject:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InputError(f"objects[{index}] is not a STIX object with an 'id'")
    if obj.get("spec_version") != "2.1":
        raise InputError(f"{obj['id']}: spec_version {obj.get('spec_version')!r}; send STIX 2.1")
    if obj["id"] in OPENCTI_IDS:
        raise InputError(
            f"{obj['id']}: is OpenCTI's TLP:{OPENCTI_IDS[obj['id']].upper()} marking "
            "definition; objects marked with it are stored with the official TLP 2.0 "
            "definition of that level instead"
        )
    if obj["id"] in LEVEL_OF_ID:
        raise InputError(
            f"{obj['id']}: is an official TLP marking definition; those are never taken "
            "from partners (this server holds the originals)"
        )
    if obj["id"] in theirs:
        raise InputError(
            f"{obj['id']}: is a TLP marking definition (read as "
            f"TLP:{theirs[obj['id']].upper()}); objects marked with it are stored with the "
            "official TLP 2.0 definition of that level instead"
        )
    body = _as_tlp2(parse_object(obj, index, custom_objects=custom), theirs)
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


def _tlp_definitions(objects: list[Any]) -> dict[str, str]:
    """id -> TLP level of each marking definition in ``objects`` that is about TLP."""
    out = {}
    for obj in objects:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            level = definition_level(obj)
            if level is not None and obj["id"] not in LEVEL_OF_ID:
                out[obj["id"]] = level
    return out


def _as_tlp2(body: dict[str, Any], theirs: Mapping[str, str]) -> dict[str, Any]:
    """``body`` with other producers' TLP markings (definitions, labels) made TLP 2.0."""
    refs = body.get("object_marking_refs", [])
    granular = body.get("granular_markings", [])
    from_label = label_level(body.get("labels"))
    if (
        not from_label
        and not any(r in theirs for r in refs)
        and not any(g.get("marking_ref") in theirs for g in granular)
    ):
        return body
    out = dict(body)
    marks = [TLP2_IDS[theirs[r]] if r in theirs else r for r in refs]
    marked = [LEVEL_OF_ID[r] for r in marks if r in LEVEL_OF_ID]
    strictest = max(marked, key=LEVELS.index) if marked else None
    if from_label and (strictest is None or level_rank(from_label) > level_rank(strictest)):
        marks.append(TLP2_IDS[from_label])
    out["object_marking_refs"] = list(dict.fromkeys(marks))
    if granular:
        out["granular_markings"] = [
            {**g, "marking_ref": TLP2_IDS[theirs[g["marking_ref"]]]}
            if g.get("marking_ref") in theirs
            else g
            for g in granular
        ]
    return out
