"""Our incidents as MISP events, written with pymisp and the object templates it ships.

misp-stix's STIX 2.1 to MISP converter does not know the ``incident`` type (docs/sharing.md),
so the events are written here directly. Each object is built from a MISP object template
found in pymisp's own copy of misp-objects (nothing is fetched) and checked against it
(``to_dict(strict=True)``: required and one-of attributes, no repeated single ones):

- ``incident`` (the template that follows STIX 2.1's Incident): name, type, determination,
  and a description with the facts it has no attribute for (weapon, casualties, targets,
  confidence); the incident date is the object's ``first_seen``;
- ``geolocation``: the place's name (``text``), country code, latitude and longitude;
- ``report``, one per source report: title, source (``summary``) and URL (a ``link``);
- ``intrusion-set``, one per perpetrator group, which the incident references as
  ``attributed-to`` (pymisp ships no galaxies, so no threat-actor galaxy tags);
- ``victim`` when target states are known: the states (``name``), target categories (``roles``);
- the killed and injured counts as event attributes of MISP's ``counter`` type (no template
  has a field for casualties), so they stay numbers a MISP search can use.

The event carries exactly one ``tlp:`` tag. Every UUID (event, objects, attributes) is a
UUIDv5 of the incident's deterministic STIX id, and every timestamp is the incident's
``modified``: exporting a changed incident again gives the same event with later
timestamps, which MISP takes as an update (as it does for feeds and sync), not a new event.

pymisp is imported only when an event is built (it comes with misp-stix, the ``misp`` extra).
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from legation.errors import ConfigError, InputError
from legation.sharing.misp import INSTALL_HINT
from legation.sharing.model import SharedIncident, SharedReport
from legation.sharing.stix import NAMESPACE, incident_name, producer_identity
from legation.sharing.tlp import parse_level

# What MISP's TLP taxonomy calls each level we may export. RED is absent: it never leaves.
TLP_TAGS = {
    "clear": "tlp:clear",
    "green": "tlp:green",
    "amber": "tlp:amber",
    "amber+strict": "tlp:amber+strict",
}
# MISP's own codes: analysis 2 is "completed", threat level 4 "undefined". No
# distribution is written (MISP's feed format leaves it out): the receiving MISP sets it.
ANALYSIS_COMPLETED = 2
THREAT_LEVEL_UNDEFINED = 4


def misp_uuid(stix_id: str, part: str = "event") -> str:
    """The UUID of a part of the MISP event made of the incident with id ``stix_id``."""
    return str(uuid.uuid5(NAMESPACE, f"misp/{stix_id}/{part}"))


def incident_to_misp(
    incident: SharedIncident, *, producer: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The MISP event (``{"Event": {...}}``, MISP's feed format) for one incident, and its
    entry for a feed's ``manifest.json``.

    ``incident.key`` must be its STIX id (as ``incidents_from_stix`` gives it) and
    ``incident.tlp`` the level of everything that went into it; TLP:RED is refused.
    """
    level = parse_level(incident.tlp)
    if level not in TLP_TAGS:
        raise InputError(f"{incident.key}: TLP:{level.upper()} is never exported")
    try:
        from pymisp import MISPEvent, MISPOrganisation
    except ModuleNotFoundError as exc:
        raise ConfigError(f"MISP export needs the pymisp package: {INSTALL_HINT}") from exc
    when = incident.modified if incident.modified.tzinfo else incident.modified.replace(tzinfo=UTC)
    event = MISPEvent()
    event.uuid = misp_uuid(incident.key)
    event.info = incident_name(incident)
    event.set_date(incident.date or when.date())
    event.timestamp = event.publish_timestamp = when
    event.published = True
    event.analysis = ANALYSIS_COMPLETED
    event.threat_level_id = THREAT_LEVEL_UNDEFINED
    org = MISPOrganisation()
    org.name = producer
    org.uuid = _org_uuid(producer)
    event.Orgc = org
    event.add_tag(TLP_TAGS[level])
    _Builder(event, incident, when).build()
    for obj in event.objects:
        try:
            obj.to_dict(strict=True)  # pymisp's check against the template
        except Exception as exc:  # InvalidMISPObject and kin; all mean "not as MISP wants"
            raise InputError(f"{incident.key}: MISP object {obj.name}: {exc}") from exc
    feed: dict[str, Any] = event.to_feed()
    manifest: dict[str, Any] = event.manifest
    return feed, manifest


@functools.cache
def _org_uuid(producer: str) -> str:
    """Our producer identity's UUID (built once: stix2 takes milliseconds per object)."""
    return str(producer_identity(producer)["id"]).split("--", 1)[1]


class _Builder:
    """Fills one event: objects from templates, deterministic UUIDs, one timestamp."""

    def __init__(self, event: Any, incident: SharedIncident, when: datetime) -> None:
        self.event, self.incident, self.when = event, incident, when

    def build(self) -> None:
        incident = self.incident
        main = self._object("incident", "incident")
        self._add(main, "name", incident_name(incident))
        self._add(main, "incident_type", incident.type)
        self._add(main, "determination", "confirmed")
        self._add(main, "description", facts_text(incident))
        if incident.date is not None:
            main.first_seen = datetime(*incident.date.timetuple()[:3], tzinfo=UTC)
        if incident.place is not None:
            place = self._object("geolocation", "place")
            self._add(place, "text", incident.place.name)
            if incident.place.country:
                self._add(place, "countrycode", incident.place.country)
            if incident.place.lat is not None and incident.place.lon is not None:
                self._add(place, "latitude", incident.place.lat)
                self._add(place, "longitude", incident.place.lon)
            self._refer(main, place, "located-at")
        for name in incident.perpetrators:
            group = self._object("intrusion-set", f"group/{name.casefold()}")
            self._add(group, "name", name)
            self._refer(main, group, "attributed-to")
        if incident.target_states:
            victim = self._object("victim", "victim")
            for state in incident.target_states:
                self._add(victim, "name", state, key=state)
            for category in incident.target_categories:
                self._add(victim, "roles", category, key=category)
            self._refer(main, victim, "targets")
        for report in incident.reports:
            self._report(main, report)
        for what, count in (("killed", incident.killed), ("injured", incident.injured)):
            self.event.add_attribute(
                "counter",
                count,
                category="Other",
                comment=what,
                to_ids=False,
                uuid=misp_uuid(incident.key, f"counter/{what}"),
                timestamp=self.when,
            )

    def _report(self, main: Any, report: SharedReport) -> None:
        key = f"report/{report.source}|{report.url}|{report.title}"
        obj = self._object("report", key)
        self._add(obj, "title", report.title)
        self._add(obj, "summary", f"{report.source}, {report.published.date().isoformat()}")
        if report.url:
            self._add(obj, "link", report.url)
        obj.first_seen = report.published
        self._refer(obj, main, "describes")

    def _object(self, template: str, part: str) -> Any:
        from pymisp import MISPObject

        # strict: an unknown template, or one pymisp's copy lacks, is an error, not a guess
        obj = MISPObject(template, strict=True, standalone=False)
        obj.uuid = misp_uuid(self.incident.key, part)
        obj.timestamp = self.when
        self.event.add_object(obj)
        return obj

    def _add(self, obj: Any, relation: str, value: Any, *, key: str = "") -> None:
        if relation not in obj._definition["attributes"]:  # pymisp would only warn
            raise InputError(f"MISP template {obj.name} has no attribute {relation!r}")
        part = f"{obj.uuid}/{relation}/{key}"
        obj.add_attribute(
            relation, value, uuid=misp_uuid(self.incident.key, part), timestamp=self.when
        )

    def _refer(self, source: Any, target: Any, kind: str) -> None:
        reference = source.add_reference(target.uuid, kind)
        reference.uuid = misp_uuid(self.incident.key, f"{source.uuid}/{kind}/{target.uuid}")
        reference.timestamp = self.when


def facts_text(incident: SharedIncident) -> str:
    """What the incident template has no attribute for, in words an analyst reads."""
    parts = [
        f"Weapon: {incident.weapon}.",
        f"Killed {incident.killed}, injured {incident.injured}.",
    ]
    if incident.target_categories:
        parts.append(f"Targets: {', '.join(incident.target_categories)}.")
    if incident.target_states:
        parts.append(f"Target states: {', '.join(incident.target_states)}.")
    if incident.perpetrators:
        parts.append(f"Attributed to: {', '.join(incident.perpetrators)}.")
    parts.append(f"Confidence {round(incident.confidence * 100)}%.")
    return " ".join(parts)
