"""MISP event files: from a partner into one of our collections, as STIX 2.1 (misp-stix);
and our incidents out to a partner as MISP events (pymisp, ``legation.sharing.misp_export``).

The objects take the path everything a partner sends takes (``intake.check_objects``, then
``taxii.add_objects`` with the partner as provenance), so they are marked, owned and shared
by the same rules as a TAXII pull. A file is one unit: if it cannot be read, is no MISP
event, fails to convert, or any of its objects is refused, nothing of it is stored.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from legation.errors import InputError
from legation.partners.client import visible_versions
from legation.partners.intake import check_objects
from legation.sharing.misp import (
    events_to_stix,
    inherit_markings,
    misp_events,
    observable_versions,
)
from legation.sharing.misp_export import incident_to_misp
from legation.sharing.stix import incidents_from_stix, parse_stix_time
from legation.sharing.tlp import LEVEL_OF_ID, LEVELS, Recipient
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.partners import get_partner


@dataclass(slots=True)
class MispImport:
    """What one file brought: events, STIX objects made of them, versions new to us."""

    events: int
    objects: int
    added: int
    warnings: list[str] = field(default_factory=list)


def import_misp_file(
    factory: sessionmaker[Session], path: Path, *, partner: str, into: str
) -> MispImport:
    """Convert the MISP events in ``path`` and store them in ``into`` as sent by ``partner``.

    Unmarked objects of an event take the event's TLP; what is still unmarked (the creator
    organisation's identity) gets the collection's ``default_tlp``, as in a pull. Importing
    the same file again adds nothing.
    """
    label = str(path)
    events = misp_events(_read_json(path), label)
    converted = events_to_stix(events, label)
    # The official TLP definitions are ours; a partner's copy is never stored.
    objects = [o for o in inherit_markings(converted.objects) if o["id"] not in LEVEL_OF_ID]
    with transaction(factory) as session:
        owner = get_partner(session, name=partner).organisation
        collection = store.find_collection(session, ident=into)
        accepted, failures = check_objects(
            objects,
            collection.policy,
            versions=observable_versions(objects),
            skip_tlp_definitions=True,
        )
        if not failures:
            results = store.add_objects(
                session,
                collection_id=collection.id,
                objects=accepted,
                source=f"partner:{partner}",
                owner=owner,
                failures=failures,
            )
        if failures:  # raising here rolls the whole file back
            named = "; ".join(f"{f['id']}: {f['message']}" for f in failures[:5])
            more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
            raise InputError(
                f"{label}: {len(failures)} objects refused, nothing stored: {named}{more}"
            )
    added = sum(1 for *_rest, message in results if message == "added")
    return MispImport(len(events), len(objects), added, converted.warnings)


def _read_json(path: Path) -> object:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: is not JSON: {exc}") from exc


# ---- export -------------------------------------------------------------------------------


@dataclass(slots=True)
class MispExport:
    """MISP events made for one recipient, and what could not be made into one (and why)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def export_misp(
    factory: sessionmaker[Session], *, collection: str, recipient: Recipient, producer: str
) -> MispExport:
    """One MISP event per Legation incident in ``collection`` that ``recipient`` may see.

    The objects are those a TAXII read or a push would give the recipient
    (``visible_versions``): an incident above its clearance is not there, a place, group or
    report it may not see is left out of the event, and TLP:RED is never there. The event's
    TLP is the strictest of the incident's and of every object that went into it.
    Incidents other producers wrote without Legation's facts are skipped, named.
    """
    seen = [s for batch in visible_versions(factory, collection, recipient) for s in batch]
    objects = [s.body for s in seen]
    try:
        incidents = incidents_from_stix(objects)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"collection {collection}: an incident cannot be read: {exc!r}") from exc
    out = MispExport()
    made = {incident.key for incident in incidents}
    for obj in objects:
        if obj["type"] == "incident" and obj["id"] not in made:
            out.skipped.append(f"{obj['id']}: not a Legation incident (no incident facts)")
    parts = _parts(objects)
    for incident in incidents:
        # Every part is visible to the recipient already. An event is as strict as its
        # strictest part, and as recent as its latest: a place or report that changed, or
        # that the partner may now see, makes a later event, which MISP takes as an update.
        mine = [seen[i] for i in parts.get(incident.key, [])]
        level = max((LEVELS[s.row.tlp] for s in mine), key=LEVELS.index)
        changed = [parse_stix_time(s.body["modified"]) for s in mine if "modified" in s.body]
        latest = max([incident.modified, *changed])
        try:
            event, manifest = incident_to_misp(
                replace(incident, tlp=level, modified=latest), producer=producer
            )
        except InputError as exc:
            out.skipped.append(str(exc))
            continue
        out.events.append(event)
        out.manifest.update(manifest)
    return out


def _parts(objects: list[dict[str, Any]]) -> dict[str, list[int]]:
    """For each object id, the positions of it and of what an event made of it holds: the
    relationships from it, their targets, the reports that refer to it."""
    position = {obj["id"]: index for index, obj in enumerate(objects)}
    out: dict[str, list[int]] = {obj["id"]: [index] for index, obj in enumerate(objects)}
    for index, obj in enumerate(objects):
        if obj["type"] == "relationship" and obj.get("source_ref") in out:
            out[obj["source_ref"]].append(index)
            if obj.get("target_ref") in position:
                out[obj["source_ref"]].append(position[obj["target_ref"]])
        elif obj["type"] == "report":
            for ref in obj.get("object_refs", []):
                if ref in out:
                    out[ref].append(index)
    return out


def write_feed(directory: Path, export: MispExport) -> list[Path]:
    """Write the events as a MISP feed: ``<event uuid>.json`` each, and ``manifest.json``.

    Each file is written whole under a temporary name and then renamed, so a reader (or a
    crash) never sees half a file. The manifest lists this export's events only, and the
    event files a previous export listed that this one does not (an incident the partner
    may no longer see) are removed: the directory never offers more than the partner may
    now receive. Other files in it are left alone.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        before = _listed(directory / "manifest.json")
        written = [
            _write_whole(directory / f"{event['Event']['uuid']}.json", event)
            for event in export.events
        ]
        written.append(_write_whole(directory / "manifest.json", export.manifest))
        for stale in before - set(export.manifest):
            (directory / f"{stale}.json").unlink(missing_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write the MISP feed: {exc}") from exc
    return written


def _listed(manifest: Path) -> set[str]:
    """The event UUIDs an earlier export's manifest lists (none if there is none)."""
    try:
        listed = json.loads(manifest.read_text("utf-8"))
    except FileNotFoundError:
        return set()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{manifest}: is not a MISP feed manifest: {exc}") from exc
    if not isinstance(listed, dict):
        raise InputError(f"{manifest}: is not a MISP feed manifest (not a JSON object)")
    return {key for key in listed if _is_uuid(key)}


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _write_whole(path: Path, document: object) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document, indent=1, ensure_ascii=False), "utf-8")
    temporary.replace(path)
    return path
