"""Traffic Light Protocol 2.0 as STIX marking definitions, and the clearance filter.

The five official TLP 2.0 marking-definition objects are emitted exactly as the OASIS
extension specifies them (stix2 has no constants for them). TLP 1.0 markings are accepted
on import and read as their 2.0 level (WHITE becomes CLEAR).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stix2.registry import class_for_type

from legation.errors import InputError

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# Levels from least to most restrictive.
LEVELS = ("clear", "green", "amber", "amber+strict", "red")

TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
# OpenCTI marks with the TLP 1.0 ids above for CLEAR, GREEN, AMBER and RED, and with an id
# of its own for AMBER+STRICT (a "statement" definition with x_opencti_definition).
OPENCTI_IDS = {
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "amber+strict",
}
# Marking ids of other producers that stand for a TLP level: read as that TLP 2.0 level.
FOREIGN_IDS = {**TLP1_IDS, **OPENCTI_IDS}
LEVEL_OF_ID = {**{v: k for k, v in TLP2_IDS.items()}, **FOREIGN_IDS}


def level_rank(level: str) -> int:
    """0 for CLEAR up to 4 for RED; a name that is not a TLP level is an error naming it."""
    try:
        return LEVELS.index(parse_level(level))
    except ValueError:
        message = f"TLP level {level!r} is unknown; use one of {', '.join(LEVELS)}"
        raise InputError(message) from None


def parse_level(text: str) -> str:
    """'TLP:AMBER+STRICT', 'amber+strict', 'white' -> the TLP 2.0 level name."""
    name = text.strip().lower().removeprefix("tlp:")
    return "clear" if name == "white" else name


def marking_definition(level: str) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for ``level``."""
    name = parse_level(level)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[name],
        "created": TLP2_CREATED,
        "name": f"TLP:{name.upper()}",
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": name},
        },
    }


def all_marking_definitions() -> list[dict[str, Any]]:
    return [marking_definition(level) for level in LEVELS]


def tlp2_ref(marking_id: str) -> str:
    """A TLP 1.0 (or OpenCTI) marking id becomes its TLP 2.0 id; any other id is kept."""
    level = FOREIGN_IDS.get(marking_id)
    return TLP2_IDS[level] if level else marking_id


def upgrade_markings(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` whose TLP 1.0 marking references point to the TLP 2.0 definitions.

    Shallow: the marking lists are new, every other value is shared with ``obj`` (a deep
    copy cost more than checking the object).
    """
    out = dict(obj)
    if "object_marking_refs" in out:
        out["object_marking_refs"] = _dedup(tlp2_ref(r) for r in out["object_marking_refs"])
    if "granular_markings" in out:
        out["granular_markings"] = [
            {**g, "marking_ref": tlp2_ref(g["marking_ref"])} if "marking_ref" in g else dict(g)
            for g in out["granular_markings"]
        ]
    return out


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_TLP_WORD = re.compile(r"\btlp\b", re.IGNORECASE)
_TLP_VALUE = re.compile(r"\btlp\s*[:_ -]\s*([a-z][a-z+:_-]*)", re.IGNORECASE)


def _strictest(levels: Iterable[str]) -> str | None:
    known = [level for level in levels if level in LEVELS]
    return max(known, key=LEVELS.index) if known else None


def _named_level(text: str) -> str:
    """'TLP:AMBER+STRICT', 'amber', 'white' -> the level; anything else -> RED."""
    name = parse_level(text).replace("_", "+").replace(" ", "")
    return name if name in LEVELS else "red"


def definition_level(obj: dict[str, Any]) -> str | None:
    """The TLP level a marking-definition object stands for; None if it is not about TLP.

    Known ids give their level. Otherwise a definition is about TLP when its
    ``definition_type`` is "tlp", it carries the TLP 2.0 extension, or its name, statement
    or OpenCTI hints (``x_opencti_definition_type``/``x_opencti_definition``) name TLP; the
    strictest level named anywhere in it counts, and a TLP value we do not know (or none
    at all) counts as RED: an unknown TLP marking never lets an object out.
    """
    if obj.get("type") != "marking-definition":
        return None
    ident = obj.get("id")
    if isinstance(ident, str) and ident in LEVEL_OF_ID:
        return LEVEL_OF_ID[ident]
    definition = obj.get("definition")
    definition = definition if isinstance(definition, dict) else {}
    extensions = obj.get("extensions")
    tlp2 = extensions.get(TLP2_EXTENSION) if isinstance(extensions, dict) else None
    texts = [
        v
        for v in (
            obj.get("name"),
            definition.get("statement"),
            obj.get("x_opencti_definition"),
            obj.get("x_opencti_definition_type"),
        )
        if isinstance(v, str)
    ]
    is_tlp = (
        str(obj.get("definition_type", "")).lower() == "tlp"
        or tlp2 is not None
        or any(_TLP_WORD.search(text) for text in texts)
    )
    if not is_tlp:
        return None
    levels = [_named_level(m.group(1)) for text in texts for m in _TLP_VALUE.finditer(text)]
    for value in (definition.get("tlp"), tlp2.get("tlp_2_0") if isinstance(tlp2, dict) else None):
        if value is not None:
            levels.append(_named_level(str(value)))
    return _strictest(levels) or "red"


def label_level(labels: Any) -> str | None:
    """The strictest TLP named by ``tlp:<level>`` labels (as misp-stix writes them).

    A ``tlp:`` label with a value we do not know (``tlp:ex:chr``, ``tlp:unclear``) is RED.
    """
    if not isinstance(labels, list):
        return None
    levels = [
        _named_level(label)
        for label in labels
        if isinstance(label, str) and label.strip().lower().startswith("tlp:")
    ]
    return _strictest(levels)


def object_level(obj: dict[str, Any], default: str = "red") -> str:
    """The most restrictive TLP level among the object-level markings; ``default`` if none.

    An unmarked object is treated as RED unless told otherwise: nothing leaves by accident.
    """
    levels = [LEVEL_OF_ID[r] for r in obj.get("object_marking_refs", []) if r in LEVEL_OF_ID]
    return max(levels, key=LEVELS.index) if levels else default


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives: a TLP clearance and the organisation (identity id) the recipient is."""

    clearance: str
    organisation: str | None = None


def may_receive(level: str, owner: str | None, recipient: Recipient) -> bool:
    """RED never leaves; AMBER+STRICT only to the owning organisation; else up to clearance."""
    if level == "red":
        return False
    if level == "amber+strict" and (owner is None or owner != recipient.organisation):
        return False
    return LEVELS.index(level) <= level_rank(recipient.clearance)


_FROM_OBJECT: Any = object()


def filter_object(
    obj: dict[str, Any],
    recipient: Recipient,
    default: str = "red",
    *,
    owner: str | None = _FROM_OBJECT,
) -> dict[str, Any] | None:
    """What ``recipient`` may see of ``obj``: None, or a copy with disallowed properties removed.

    The same rule holds for every type, marking definitions included; only the official
    TLP definitions go to everyone. ``owner`` is the organisation
    that AMBER+STRICT is shared with; the server passes the one it recorded from the
    authenticated sender, and only when it is not given is ``created_by_ref`` used.
    Properties under a granular marking the recipient may not see are stripped; when one
    of them is required for the object's type (``required_properties``) the whole object
    is withheld.
    """
    if obj.get("type") == "marking-definition" and obj.get("id") in LEVEL_OF_ID:
        return copy.deepcopy(obj)  # the official TLP definitions (only ours are stored)
    if owner is _FROM_OBJECT:
        ref = obj.get("created_by_ref")
        owner = ref if isinstance(ref, str) else None
    if not may_receive(object_level(obj, default), owner, recipient):
        return None
    # A shallow copy: stripping only removes top-level properties and replaces the
    # granular_markings list, so nested values can be shared with ``obj`` (a deep copy
    # was most of the cost of a page of objects).
    out = dict(obj)
    kept, rewritten = [], False
    for granular in obj.get("granular_markings", []):
        level = LEVEL_OF_ID.get(granular.get("marking_ref", ""))
        if level is None or may_receive(level, owner, recipient):
            kept.append(granular)
            continue
        for selector in granular.get("selectors", []):
            if _path(selector)[0] == "object_marking_refs":
                # The object's TLP must go with it: only its strictest TLP marking is kept.
                tlp = [r for r in obj.get("object_marking_refs", []) if r in LEVEL_OF_ID]
                if not tlp:
                    return None
                out["object_marking_refs"] = [max(tlp, key=lambda r: LEVELS.index(LEVEL_OF_ID[r]))]
                rewritten = True
            elif not _strip(out, selector, required_properties(str(obj.get("type", "")))):
                return None
    if not any(r in LEVEL_OF_ID for r in out.get("object_marking_refs", [])):
        return None  # never served without a TLP marking
    if rewritten:
        kept = _drop_selectors(kept, "object_marking_refs")
    if "granular_markings" in out:
        out["granular_markings"] = [_drop_stripped(g, out) for g in kept]
        out["granular_markings"] = [g for g in out["granular_markings"] if g["selectors"]]
        if not out["granular_markings"]:
            del out["granular_markings"]
    return out


REQUIRED = frozenset({"type", "id", "spec_version", "created", "modified"})
_STEP = re.compile(r"^\[(\d+)\]$")


def _path(selector: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in selector.split("."):
        index = _STEP.match(part)
        steps.append(int(index.group(1)) if index else part)
    return steps


@functools.cache
def required_properties(stix_type: str) -> frozenset[str]:
    """The properties an object of ``stix_type`` cannot lack, from stix2's class definitions.

    Common ones (type, id, spec_version, created, modified) always count; a type stix2 does
    not know (a custom one) has only those.
    """
    cls = class_for_type(stix_type, "2.1", "objects") or class_for_type(
        stix_type, "2.1", "markings"
    )
    if cls is None:
        return REQUIRED
    # stix2 keeps each class's properties in ``_properties``, each with a ``required`` flag.
    props: dict[str, Any] = getattr(cls, "_properties", {})
    own = {name for name, prop in props.items() if getattr(prop, "required", False)}
    return REQUIRED | own | _ONE_OF.get(stix_type, frozenset())


# Types that must have one of several properties (stix2 checks these in code, not flags):
# each of them counts as required, so that stripping never leaves the object without all.
_ONE_OF = {
    "location": frozenset({"region", "country", "latitude", "longitude"}),
    "marking-definition": frozenset({"definition_type", "definition", "extensions", "name"}),
    "malware": frozenset({"name", "is_family"}),
    "observed-data": frozenset({"objects", "object_refs"}),
}


def _strip(obj: dict[str, Any], selector: str, required: frozenset[str]) -> bool:
    """Remove the top-level property ``selector`` points into; False when it is required.

    The whole top-level property goes even when the selector names a part of it (a list
    item, a key of a nested object): the indices other selectors name never shift, and no
    nested object is left without one of its own required keys.
    """
    top = _path(selector)[0]
    if not isinstance(top, str) or top in required:
        return False
    obj.pop(top, None)
    return True


def _drop_selectors(granulars: list[dict[str, Any]], top: str) -> list[dict[str, Any]]:
    """Granular markings without their selectors into the top-level property ``top``."""
    return [
        {**g, "selectors": [s for s in g.get("selectors", []) if _path(s)[0] != top]}
        for g in granulars
    ]


def _drop_stripped(granular: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    selectors = [s for s in granular.get("selectors", []) if _exists(obj, s)]
    return {**granular, "selectors": selectors}


def _exists(obj: dict[str, Any], selector: str) -> bool:
    value: Any = obj
    for step in _path(selector):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def filter_objects(
    objects: Iterable[dict[str, Any]], recipient: Recipient, default: str = "red"
) -> list[dict[str, Any]]:
    out = []
    for obj in objects:
        kept = filter_object(obj, recipient, default)
        if kept is not None:
            out.append(kept)
    return out
