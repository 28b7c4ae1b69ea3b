"""STIX 2.1 mapping of incidents, places, sites, groups and source reports, both ways.

Ids are UUIDv5 under one namespace, derived from stable local keys, so that exporting
an incident again updates it (same id, later ``modified``) rather than duplicating it.
Objects are built and checked with the ``stix2`` library and handed on as plain dicts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import stix2

from legation.domain.countries import country_name
from legation.errors import InputError
from legation.sharing.model import SharedIncident, SharedPlace, SharedReport, SharedSite
from legation.sharing.stix_check import check_object
from legation.sharing.tlp import (
    LEVEL_OF_ID,
    TLP2_IDS,
    all_marking_definitions,
    object_level,
    upgrade_markings,
)

NAMESPACE = uuid.UUID("5b0f3c52-9e0c-5d4b-9a57-6c6567617469")  # Legation's id namespace
INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
LEGATION_PRODUCER_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# ``modified`` of the producer identity and the extension definition since they carry a
# TLP marking (the versions before had none): a new version, so stores take it as latest.
LEGATION_PRODUCER_MARKED = datetime(2026, 11, 30, tzinfo=UTC)


def stix_id(kind: str, key: str) -> str:
    """The deterministic STIX id of the object of type ``kind`` with local ``key``."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


LEGATION_EXTENSION = stix_id("extension-definition", "legation-incident-1.0")


def incident_id(key: str) -> str:
    """The STIX id of the incident with local ``key``; an imported incident's key is its
    STIX id already (``incidents_from_stix``), kept as it is, so that a re-export is a new
    version of the same incident, not a new one."""
    return key if key.startswith("incident--") else stix_id("incident", key)


def producer_identity(name: str) -> dict[str, Any]:
    """The organisation that publishes: ``created_by_ref`` of everything it emits.

    TLP:CLEAR, like the extension definition: every recipient of an object must be able
    to resolve its ``created_by_ref`` and its extensions, whatever its clearance.
    """
    return _dump(
        stix2.v21.Identity(
            id=stix_id("identity", f"producer/{name}"),
            name=name,
            identity_class="organization",
            created=LEGATION_PRODUCER_EPOCH,
            modified=LEGATION_PRODUCER_MARKED,
            object_marking_refs=[TLP2_IDS["clear"]],
        )
    )


def extension_definition(producer: str) -> dict[str, Any]:
    """The property extension that carries Legation's incident facts (casualties, targets)."""
    return _dump(
        stix2.v21.ExtensionDefinition(
            id=LEGATION_EXTENSION,
            created_by_ref=producer,
            name="Legation incident facts",
            description=(
                "Incident type, weapon, date (first_seen), casualties, target categories "
                "and states, confidence."
            ),
            schema="https://github.com/legation/legation/blob/main/docs/sharing.md",
            version="1.1.0",
            extension_types=["property-extension"],
            created=LEGATION_PRODUCER_EPOCH,
            modified=LEGATION_PRODUCER_MARKED,
            object_marking_refs=[TLP2_IDS["clear"]],
        )
    )


def _dump(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(obj.serialize())
    return data


def _ts(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ``created`` of objects shared between incidents (places, groups, relationships): one fixed
# moment, so that every version of an id has the same ``created``, as STIX requires.
SHARED_CREATED = datetime(1990, 1, 1, tzinfo=UTC)


def _common(key_kind: str, key: str, producer: str, tlp: str, when: datetime) -> dict[str, Any]:
    return {
        "id": stix_id(key_kind, key),
        "created_by_ref": producer,
        "object_marking_refs": [TLP2_IDS[tlp]],
        "created": SHARED_CREATED,
        "modified": max(_ts(when), SHARED_CREATED),
        "allow_custom": True,
    }


def place_key(place: SharedPlace) -> str:
    return f"{place.name}|{place.country}|{place.lat}|{place.lon}"


def shared_key(key: str, tlp: str) -> str:
    """The local key of an object several incidents share (a place, a group, a site): one
    object per TLP level.

    With one object for all levels, each incident's export was a new version of it under
    that incident's marking: a later AMBER incident hid the place of an earlier GREEN one
    from GREEN partners, who still got the GREEN ``located-at`` pointing to it. Per level,
    an object's marking never changes, and everything that refers to it has its level.
    """
    return f"{key}|tlp:{tlp}"


def location_of(place: SharedPlace, producer: str, tlp: str, when: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": place.name}
    if place.lat is not None and place.lon is not None:
        fields.update(latitude=place.lat, longitude=place.lon)
    if place.country:
        fields["country"] = place.country
    if "country" not in fields and "latitude" not in fields:
        fields["region"] = "world"
    common = _common("location", shared_key(place_key(place), tlp), producer, tlp, when)
    return _dump(stix2.v21.Location(**fields, **common))


def incident_to_stix(incident: SharedIncident, producer: str) -> list[dict[str, Any]]:
    """The incident, its place, groups, source reports and relationships as STIX dicts."""
    tlp, when = incident.tlp, incident.modified
    inc = _incident_object(incident, producer)
    out = [inc]
    if incident.place is not None:
        loc = location_of(incident.place, producer, tlp, when)
        out += [loc, _relationship("located-at", inc, loc, producer, tlp, when)]
    for name in incident.perpetrators:
        actor = _dump(
            stix2.v21.ThreatActor(
                name=name,
                threat_actor_types=["terrorist"],
                **_common("threat-actor", shared_key(name.casefold(), tlp), producer, tlp, when),
            )
        )
        out += [actor, _relationship("attributed-to", inc, actor, producer, tlp, when)]
    for state in incident.target_states:
        target = state_identity(state, producer, tlp, when)
        out += [target, _relationship("targets", inc, target, producer, tlp, when)]
    for report in incident.reports:
        out.append(_report_object(report, incident, inc["id"], producer))
    return out


def state_identity(code: str, producer: str, tlp: str, when: datetime) -> dict[str, Any]:
    """A targeted state (ISO 3166-1 alpha-2 ``code``) as an organisation: its government."""
    return _dump(
        stix2.v21.Identity(
            name=f"Government of {country_name(code)}",
            identity_class="organization",
            sectors=["government-national"],
            **_common("identity", shared_key(f"state/{code}", tlp), producer, tlp, when),
        )
    )


def _incident_object(incident: SharedIncident, producer: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "extension_type": "property-extension",
        "incident_type": incident.type,
        "weapon": incident.weapon,
        "killed": incident.killed,
        "injured": incident.injured,
        "confidence": round(incident.confidence * 100),
    }
    if incident.target_categories:
        facts["target_categories"] = list(incident.target_categories)
    if incident.target_states:
        facts["target_states"] = list(incident.target_states)
    if incident.date is not None:
        facts["first_seen"] = f"{incident.date.isoformat()}T00:00:00.000Z"
    core = incident_core(incident)
    return _dump(
        stix2.v21.Incident(
            name=incident_name(incident),
            extensions={INCIDENT_CORE: core, LEGATION_EXTENSION: facts},
            **{
                **_common("incident", incident.key, producer, incident.tlp, incident.modified),
                "id": incident_id(incident.key),
                "created": _ts(incident.created),
            },
        )
    )


def incident_core(incident: SharedIncident) -> dict[str, Any]:
    """The Incident Core extension (version 2.0) of ``incident``: only its own properties.

    ``determination`` is ``successful-attempt`` when the reports give casualties (harm
    done), else ``suspected`` (we cannot tell a failed attempt from an unreported toll);
    ``investigation_status`` is ``open`` (we go on updating an incident as reports come);
    ``impacted_entity_counts`` gives the killed and injured as ``individual`` when there
    are any (absent means not shared, and our 0 can mean unknown). Everything else of ours
    (the date included: the extension has no ``first_seen``) is in Legation's extension.
    """
    hurt = incident.killed + incident.injured
    core: dict[str, Any] = {
        "extension_type": "property-extension",
        "determination": "successful-attempt" if hurt > 0 else "suspected",
        "investigation_status": "open",
    }
    if hurt > 0:
        core["impacted_entity_counts"] = {"individual": hurt}
    return core


def incident_name(incident: SharedIncident) -> str:
    where = incident.place.name if incident.place else "unknown place"
    when = incident.date.isoformat() if incident.date else "undated"
    return f"{incident.type.replace('_', ' ')} in {where}, {when}"


def _relationship(
    kind: str,
    source: dict[str, Any],
    target: dict[str, Any],
    producer: str,
    tlp: str,
    when: datetime,
) -> dict[str, Any]:
    key = f"{kind}|{source['id']}|{target['id']}"
    return _dump(
        stix2.v21.Relationship(
            relationship_type=kind,
            source_ref=source["id"],
            target_ref=target["id"],
            **_common("relationship", key, producer, tlp, when),
        )
    )


def _report_object(
    report: SharedReport, incident: SharedIncident, incident_id: str, producer: str
) -> dict[str, Any]:
    ref: dict[str, Any] = {"source_name": report.source}
    if report.url:
        ref["url"] = report.url
    else:
        ref["description"] = f"{report.source}: {report.title}"
    key = f"{report.source}|{report.url}|{report.title}|{report.published.isoformat()}"
    common = _common("report", key, producer, incident.tlp, incident.modified)
    common["created"] = _ts(report.published)
    common["modified"] = max(_ts(report.published), _ts(incident.modified))
    return _dump(
        stix2.v21.Report(
            name=report.title,
            published=_ts(report.published),
            report_types=["threat-report"],
            object_refs=[incident_id],
            external_references=[ref],
            **common,
        )
    )


def site_to_stix(site: SharedSite, producer: str, tlp: str = "green") -> list[dict[str, Any]]:
    """A site (mission) as an identity located at its place."""
    when = LEGATION_PRODUCER_EPOCH
    identity = _dump(
        stix2.v21.Identity(
            name=site.name,
            identity_class="organization",
            sectors=["government-national"],
            description=f"{site.type} of {site.operator_code or 'unknown state'}",
            **_common("identity", shared_key(f"site/{site.key}", tlp), producer, tlp, when),
        )
    )
    place = SharedPlace(site.city or site.name, site.country_code, site.lat, site.lon)
    loc = location_of(place, producer, tlp, when)
    return [identity, loc, _relationship("located-at", identity, loc, producer, tlp, when)]


def sighting_to_stix(
    incident: SharedIncident, site: SharedSite, producer: str
) -> list[dict[str, Any]]:
    """'This incident was seen at our site': the site as identity and a sighting of the incident."""
    site_objects = site_to_stix(site, producer, incident.tlp)
    fields: dict[str, Any] = {}
    if incident.date is not None:
        fields["first_seen"] = datetime(*incident.date.timetuple()[:3], tzinfo=UTC)
    sighting = _dump(
        stix2.v21.Sighting(
            sighting_of_ref=incident_id(incident.key),
            where_sighted_refs=[site_objects[0]["id"]],
            count=1,
            **fields,
            **_common(
                "sighting",
                f"{incident.key}|{site.key}",
                producer,
                incident.tlp,
                incident.modified,
            ),
        )
    )
    return [*site_objects, sighting]


def bundle(objects: Iterable[dict[str, Any]], *, with_markings: bool = True) -> dict[str, Any]:
    """A STIX bundle of ``objects`` (deduplicated by id and version) plus the TLP definitions."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    items = [*all_marking_definitions(), *objects] if with_markings else list(objects)
    for obj in items:
        seen.setdefault((obj["id"], str(obj.get("modified", ""))), obj)
    key = "|".join(sorted(f"{i}@{m}" for i, m in seen))
    return {"type": "bundle", "id": stix_id("bundle", key), "objects": list(seen.values())}


def incidents_to_bundle(incidents: Sequence[SharedIncident], producer_name: str) -> dict[str, Any]:
    producer = producer_identity(producer_name)
    objects = [producer, extension_definition(producer["id"])]
    for incident in incidents:
        objects += incident_to_stix(incident, producer["id"])
    return bundle(objects)


# ---- import -------------------------------------------------------------------------------


def parse_objects(objects: Iterable[Any]) -> list[dict[str, Any]]:
    """Check each object with ``stix2``; TLP 1.0 marking refs become TLP 2.0. Names the bad one."""
    out = []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise InputError(f"object {index}: not a JSON object")
        out.append(parse_object(obj, index))
    return out


def parse_object(
    obj: dict[str, Any], index: int = 0, *, custom_objects: bool = True
) -> dict[str, Any]:
    """``obj`` checked as STIX 2.1 (``stix_check``), TLP 1.0 marking refs made TLP 2.0."""
    if obj.get("id") in LEVEL_OF_ID:
        return obj  # an official TLP definition: callers decide whether to take it
    check_object(obj, custom_objects=custom_objects, label=obj.get("id", f"object {index}"))
    return upgrade_markings(obj)


def incidents_from_stix(objects: Sequence[dict[str, Any]]) -> list[SharedIncident]:
    """Legation incidents described by ``objects`` (the inverse of ``incident_to_stix``)."""
    by_id = {o["id"]: o for o in objects}
    located: dict[str, str] = {}
    actors: dict[str, list[str]] = {}
    reports: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if obj["type"] == "relationship" and obj["relationship_type"] == "located-at":
            located[obj["source_ref"]] = obj["target_ref"]
        elif obj["type"] == "relationship" and obj["relationship_type"] == "attributed-to":
            actors.setdefault(obj["source_ref"], []).append(obj["target_ref"])
        elif obj["type"] == "report":
            for ref in obj.get("object_refs", []):
                reports.setdefault(ref, []).append(obj)
    out = []
    for obj in objects:
        if obj["type"] == "incident" and LEGATION_EXTENSION in obj.get("extensions", {}):
            out.append(_incident_from(obj, by_id, located, actors, reports))
    return out


def _incident_from(
    obj: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    located: dict[str, str],
    actors: dict[str, list[str]],
    reports: dict[str, list[dict[str, Any]]],
) -> SharedIncident:
    facts = obj["extensions"][LEGATION_EXTENSION]
    core = obj["extensions"].get(INCIDENT_CORE, {})
    loc = by_id.get(located.get(obj["id"], ""))
    names = [by_id[a]["name"] for a in actors.get(obj["id"], []) if a in by_id]
    # the date: Legation's extension since November 2026; Incident Core before (invalid)
    seen = facts.get("first_seen") or core.get("first_seen")
    return SharedIncident(
        key=obj["id"],
        type=facts["incident_type"],
        weapon=facts["weapon"],
        date=date.fromisoformat(seen[:10]) if seen else None,
        place=_place_from(loc) if loc else None,
        killed=facts["killed"],
        injured=facts["injured"],
        target_categories=tuple(facts.get("target_categories", ())),
        target_states=tuple(facts.get("target_states", ())),
        perpetrators=tuple(names),
        reports=tuple(_report_from(r) for r in reports.get(obj["id"], [])),
        confidence=facts["confidence"] / 100,
        created=parse_stix_time(obj["created"]),
        modified=parse_stix_time(obj["modified"]),
        tlp=object_level(obj),
    )


def _place_from(loc: dict[str, Any]) -> SharedPlace:
    return SharedPlace(loc["name"], loc.get("country"), loc.get("latitude"), loc.get("longitude"))


def _report_from(obj: dict[str, Any]) -> SharedReport:
    ref = obj["external_references"][0]
    return SharedReport(
        obj["name"], ref.get("url"), ref["source_name"], parse_stix_time(obj["published"])
    )


def parse_stix_time(text: str) -> datetime:
    """A STIX timestamp (``2026-01-01T00:00:00.000Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
