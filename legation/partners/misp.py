"""MISP event files from a partner into one of our collections, as STIX 2.1 (misp-stix).

The objects take the path everything a partner sends takes (``intake.check_objects``, then
``taxii.add_objects`` with the partner as provenance), so they are marked, owned and shared
by the same rules as a TAXII pull. A file is one unit: if it cannot be read, is no MISP
event, fails to convert, or any of its objects is refused, nothing of it is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from legation.errors import InputError
from legation.partners.intake import check_objects
from legation.sharing.misp import (
    events_to_stix,
    inherit_markings,
    misp_events,
    observable_versions,
)
from legation.sharing.tlp import LEVEL_OF_ID
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
            objects, collection.policy, versions=observable_versions(objects)
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
