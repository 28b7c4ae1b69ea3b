"""The Incident Core extension we emit matches its OASIS definition (version 2.0, March
2023, extension-definition--ef765651-680c-498d-9894-99799f2fa126): only its properties,
the two it requires, and values from its enumerations and vocabularies.

The schema below is written here from the prose specification (section 2 properties,
section 3 vocabularies, section 4 enumerations), with additionalProperties false as the
published JSON schema has it."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings

from legation.sharing.model import SharedIncident
from legation.sharing.stix import INCIDENT_CORE, LEGATION_EXTENSION, incident_to_stix
from tests.test_sharing_stix import incidents

OPEN_VOCAB = {"type": "string", "minLength": 1}
INCIDENT_CORE_2_0: dict[str, Any] = {
    "type": "object",
    "required": ["extension_type", "determination", "investigation_status"],
    "additionalProperties": False,
    "properties": {
        "extension_type": {"const": "property-extension"},
        "determination": {
            "enum": [
                "blocked",
                "failed-attempt",
                "false-positive",
                "low-value",
                "successful-attempt",
                "suspected",
            ]
        },
        # an open vocabulary; we hold ourselves to its values
        "investigation_status": {"enum": ["closed", "new", "open"]},
        "criticality": {"type": "integer", "minimum": 0, "maximum": 100},
        "detection_methods": {"type": "array", "minItems": 1, "items": OPEN_VOCAB},
        "impacted_entity_counts": {
            "type": "object",
            "minProperties": 1,
            # keys SHOULD come from identity-class-ov
            "propertyNames": {
                "enum": ["individual", "group", "system", "organization", "class", "unknown"]
            },
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "incident_types": {"type": "array", "minItems": 1, "items": OPEN_VOCAB},
        "recoverability": {
            "enum": ["extended", "not-applicable", "not-recoverable", "regular", "supplemented"]
        },
        "scores": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": "number"},
                    "description": {"type": "string"},
                },
            },
        },
    },
}


def test_the_schema_refuses_what_we_emitted_before() -> None:
    before = {
        "extension_type": "property-extension",
        "determination": "confirmed",
        "first_seen": "2016-12-19T00:00:00.000Z",
    }
    errors = list(jsonschema.Draft7Validator(INCIDENT_CORE_2_0).iter_errors(before))
    assert len(errors) == 3  # no investigation_status, 'confirmed', 'first_seen'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incidents())
def test_emitted_incident_core_matches_the_schema(incident: SharedIncident) -> None:
    (obj,) = [
        o
        for o in incident_to_stix(incident, "identity--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12)
        if o["type"] == "incident"
    ]
    core = obj["extensions"][INCIDENT_CORE]
    jsonschema.Draft7Validator(INCIDENT_CORE_2_0).validate(core)
    hurt = incident.killed + incident.injured
    assert core["determination"] == ("successful-attempt" if hurt else "suspected")
    assert core.get("impacted_entity_counts") == ({"individual": hurt} if hurt else None)
    facts = obj["extensions"][LEGATION_EXTENSION]
    if incident.date is not None:
        assert facts["first_seen"].startswith(incident.date.isoformat())
    else:
        assert "first_seen" not in facts
