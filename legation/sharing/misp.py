"""MISP event JSON to STIX 2.1, through the ``misp-stix`` package (the ``misp`` extra).

misp-stix is imported here only, and only when a conversion runs: importing it takes about a
second (it loads pymisp and the STIX 1.x libraries), which the command line must not pay at
every start.

MISP tags an event with its TLP and lets the event's attributes and objects inherit it;
misp-stix puts that TLP on the STIX ``report`` (or ``grouping``) it makes of the event
only. ``inherit_markings`` hands it down, so that the attributes of a TLP:RED event never
arrive unmarked and then take a laxer default. TLP tags become TLP 1.0 marking references
(``tlp:white`` the TLP:WHITE definition) or TLP 2.0 ones (``tlp:clear``,
``tlp:amber+strict``); the import path reads both (WHITE is CLEAR).

The other way does not go through misp-stix: its STIX 2.1 to MISP converter does not know
the ``incident`` type, the object everything we publish hangs on, so ``misp_export`` writes
MISP events with pymisp (docs/sharing.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from legation.errors import ConfigError, InputError
from legation.sharing.tlp import LEVEL_OF_ID, LEVELS, TLP2_IDS

INSTALL_HINT = "pip install -c constraints.txt -e '.[misp]'"


@dataclass(slots=True)
class Conversion:
    """STIX 2.1 objects made of MISP events, and what misp-stix warned about on the way."""

    objects: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


def misp_events(document: Any, label: str) -> list[dict[str, Any]]:
    """The MISP events in a parsed JSON document; anything else is an error naming ``label``.

    Taken: ``{"Event": {...}}`` (what MISP's JSON export writes), a list of those, the
    ``{"response": [...]}`` of MISP's REST search, or one bare event object.
    """
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        document = document["response"]
    items = document if isinstance(document, list) else [document]
    if not items:
        raise InputError(f"{label}: holds no MISP event")
    events = []
    for index, item in enumerate(items):
        event = item.get("Event", item) if isinstance(item, dict) else None
        where = f"{label}: item {index}" if isinstance(document, list) else label
        if not isinstance(event, dict):
            raise InputError(f"{where}: is not a MISP event (a JSON object with 'Event')")
        missing = [k for k in ("uuid", "info") if not isinstance(event.get(k), str)]
        if missing:
            raise InputError(
                f"{where}: is not a MISP event: no {' or '.join(repr(k) for k in missing)}"
            )
        events.append(event)
    return events


def events_to_stix(events: list[dict[str, Any]], label: str) -> Conversion:
    """Convert with misp-stix; an event it fails on, or reports an error for, fails the lot.

    misp-stix records some losses as errors and carries on (an attribute of an unknown type
    is left out); taking what is left would store a part of the event, so any error refuses
    the whole input. Its warnings (e.g. an attribute type kept as a custom object) are
    returned for the operator.
    """
    try:
        from misp_stix_converter import MISPtoSTIX21Parser
    except ModuleNotFoundError as exc:
        raise ConfigError(f"MISP import needs the misp-stix package: {INSTALL_HINT}") from exc
    parser = MISPtoSTIX21Parser()
    for event in events:
        try:
            parser.parse_misp_event(event)
        except Exception as exc:  # misp-stix raises many kinds; all mean it could not convert
            raise InputError(
                f"{label}: misp-stix could not convert event {event['uuid']}: {exc}"
            ) from exc
    if parser.errors:
        raise InputError(
            f"{label}: misp-stix reported errors, nothing imported: {_flat(parser.errors)}"
        )
    objects: list[dict[str, Any]] = json.loads(parser.bundle.serialize())["objects"]
    return Conversion(objects, [f"{key}: {text}" for key, text in _pairs(parser.warnings)])


def _pairs(messages: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(key, text) for key, texts in messages.items() for text in texts]


def _flat(messages: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}: {text}" for key, text in _pairs(messages))


def _tlp(obj: dict[str, Any]) -> str | None:
    levels = [LEVEL_OF_ID[r] for r in obj.get("object_marking_refs", []) if r in LEVEL_OF_ID]
    return max(levels, key=LEVELS.index) if levels else None


def inherit_markings(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects without a TLP take the strictest TLP of the objects that refer to them.

    References are followed through ``object_refs`` (report -> observed-data -> the
    observables), as far as they go. Objects no marked object refers to stay unmarked and
    get the receiving collection's default when stored.
    """
    by_id = {o["id"]: o for o in objects}
    given: dict[str, str] = {}
    todo = [(o, level) for o in objects if (level := _tlp(o)) is not None]
    while todo:
        container, level = todo.pop()
        for ref in container.get("object_refs", []):
            target = by_id.get(ref)
            if target is None or _tlp(target) is not None:
                continue
            if ref in given and LEVELS.index(given[ref]) >= LEVELS.index(level):
                continue
            given[ref] = level
            todo.append((target, level))
    return [
        {**o, "object_marking_refs": [TLP2_IDS[given[o["id"]]]]} if o["id"] in given else o
        for o in objects
    ]


def observable_versions(objects: list[dict[str, Any]]) -> dict[str, str]:
    """A version for each object that has no ``modified`` or ``created`` (observables).

    STIX 2.1 cyber-observables carry no timestamps, and a stored object needs a version: an
    observable takes the latest ``modified`` (else ``created``) of the objects referring to
    it through ``object_refs``, the observed-data or report it came in.
    """
    versions: dict[str, tuple[datetime, str]] = {}
    for obj in objects:
        stamp = obj.get("modified") or obj.get("created")
        if not isinstance(stamp, str):
            continue
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        for ref in obj.get("object_refs", []):
            if ref not in versions or versions[ref][0] < moment:
                versions[ref] = (moment, stamp)
    stamped = {o["id"] for o in objects if o.get("modified") or o.get("created")}
    return {ref: stamp for ref, (_moment, stamp) in versions.items() if ref not in stamped}
