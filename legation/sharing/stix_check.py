"""Checking incoming STIX 2.1 objects quickly, with the same verdicts as the ``stix2`` library.

Building a ``stix2`` object to check a posted one costs about half a millisecond (an
indicator's pattern goes through an ANTLR parser), which limited how fast partners can
post. Most of what partners send is plain: a known type whose properties are strings,
timestamps, references, numbers, lists of those and simple pattern comparisons. Those
are checked here directly, against the property definitions ``stix2`` itself declares
(``_properties``: kinds, required flags, allowed reference types), with each type's
cross-property rules restated. Whatever this module cannot vouch for (an extension, an
observable, a hash, a complex pattern, an odd value a ``stix2`` cleaner might coerce) is
handed to ``stix2.parse`` as before, which then decides and words the error. So the fast
path only ever says "valid" when ``stix2`` would; invalid objects are always judged (and
described) by ``stix2``. ``tests/test_stix_check.py`` holds both to the same verdicts.

On top of what ``stix2`` checks, the STIX 2.1 rules it leaves out are enforced for every
object (:func:`spec_rules`): ``modified`` not before ``created``, custom property names
of lowercase letters, digits and ``_`` (3 to 250 characters), and types ``stix2`` does
not know accepted only as custom objects (an ``x-`` type or one defined by a new-object
extension) that follow the common-property rules, and only when the policy allows them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2 import properties as sp
from stix2.registry import class_for_type
from stix2.v21.common import ExternalReference, GranularMarking, KillChainPhase

from legation.errors import InputError

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_ID = re.compile(rf"^([a-z][a-z0-9-]*)--{UUID}$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$")
_LOOSE_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$"
)
CUSTOM_PROPERTY = re.compile(r"^[a-z0-9_]{3,250}$")
CUSTOM_TYPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_NEW_OBJECT = {"new-sdo", "new-sco", "new-sro"}
# Keyword arguments of stix2's constructors: an object using them as property names goes
# to stix2, whose verdict on that oddity is the reference.
_RESERVED = {"allow_custom", "interoperability", "custom_properties"}
# Properties every STIX object may carry: not custom on a custom object either.
COMMON = {
    "type",
    "id",
    "spec_version",
    "created",
    "modified",
    "created_by_ref",
    "revoked",
    "labels",
    "confidence",
    "lang",
    "external_references",
    "object_marking_refs",
    "granular_markings",
    "extensions",
    "defanged",
}


class _Unsure(Exception):
    """The fast path cannot vouch for this object: stix2 decides."""


def check_object(obj: dict[str, Any], *, custom_objects: bool = True, label: Any = None) -> None:
    """Raise InputError naming ``obj`` when it is not valid STIX 2.1; return when it is.

    ``custom_objects``: whether types ``stix2`` does not know are taken at all (as custom
    objects); a collection's policy says so. ``label`` names the object in errors (its id).
    """
    label = label or obj.get("id", "object")
    spec_rules(obj, custom_objects=custom_objects, label=label)
    try:
        if fast_valid(obj):
            return
    except _Unsure:
        pass
    stix2_check(obj, label)


def stix2_check(obj: dict[str, Any], label: Any) -> None:
    """The verdict of ``stix2`` (custom content allowed, as the STIX 2.1 spec allows it).

    Granular markings' selectors are checked here (``selector_problem``), not by stix2:
    stix2 3.0.2 refuses a valid selector into an embedded object in a list
    (``external_references.[0].url``: it walks its own ExternalReference objects, which
    are not dicts) and one whose value is false, 0 or "". stix2 still checks each granular
    marking itself (``marking_ref`` or ``lang``, ``selectors`` a list of strings).
    """
    granular = obj.get("granular_markings")
    checked = obj
    if type(granular) is list and granular:
        for marking in granular:
            if type(marking) is not dict:
                raise InputError(f"{label}: granular_markings: {marking!r} is not an object")
            try:
                GranularMarking(**marking)
            except Exception as exc:
                raise InputError(f"{label}: granular_markings: {exc}") from exc
            for selector in marking["selectors"]:
                problem = selector_problem(obj, selector)
                if problem is not None:
                    raise InputError(f"{label}: granular_markings selector {selector!r}: {problem}")
        checked = {k: v for k, v in obj.items() if k != "granular_markings"}
    try:
        stix2.parse(checked, allow_custom=True, version="2.1")
    except Exception as exc:  # stix2 raises many kinds; all mean invalid input
        raise InputError(f"{label}: {exc}") from exc


_INDEX = re.compile(r"^\[(0|[1-9][0-9]*)\]$")


def selector_problem(obj: dict[str, Any], selector: Any) -> str | None:
    """Why ``selector`` does not select content of ``obj`` (STIX 2.1 §7.2.3.1), or None.

    A selector is property names and list indices (``[n]``) joined by ``.``: the first
    step a top-level property, a name only into a JSON object, an index only into a list,
    and each step must exist in the object (``description``, ``labels.[2]``,
    ``external_references.[0].url``).
    """
    if not isinstance(selector, str) or not selector:
        return "a selector is a non-empty string"
    value: Any = obj
    for n, step in enumerate(selector.split(".")):
        index = _INDEX.match(step)
        if index is not None:
            if n == 0 or type(value) is not list:
                return f"{step} is a list index where there is no list"
            if int(index.group(1)) >= len(value):
                return f"{step} is past the end of the list ({len(value)} items)"
            value = value[int(index.group(1))]
        elif type(value) is dict and step in value:
            value = value[step]
        else:
            return f"{step!r} is not a property there"
    return None


# ---- the rules stix2 leaves out ----------------------------------------------------------


def known_type(stix_type: Any) -> bool:
    """Whether ``stix2`` has a class for this STIX 2.1 type (object or observable)."""
    if not isinstance(stix_type, str):
        return False
    return _class(stix_type) is not None


@functools.cache
def _class(stix_type: str) -> Any:
    return class_for_type(stix_type, "2.1", "objects") or class_for_type(
        stix_type, "2.1", "observables"
    )


def spec_rules(obj: dict[str, Any], *, custom_objects: bool = True, label: Any = None) -> None:
    """STIX 2.1 rules that ``stix2.parse`` does not apply; InputError naming the rule."""
    label = label or obj.get("id", "object")
    stix_type = obj.get("type")
    known = known_type(stix_type)
    if not known:
        _custom_object(obj, label, custom_objects)
    created, modified = obj.get("created"), obj.get("modified")
    if isinstance(created, str) and isinstance(modified, str):
        early, late = _order_key(created), _order_key(modified)
        if early is not None and late is not None and late < early:
            raise InputError(f"{label}: modified {modified!r} is before created {created!r}")
    defined = _defined(str(stix_type)) if known else COMMON
    extension_props = _toplevel_extension(obj)
    for name in obj:
        if name in defined or name in extension_props:
            continue
        if not CUSTOM_PROPERTY.match(name):
            raise InputError(
                f"{label}: custom property {name!r}: names are 3 to 250 characters of a-z, "
                "0-9 and _ (STIX 2.1, 11.1)"
            )


def _custom_object(obj: dict[str, Any], label: Any, allowed: bool) -> None:
    stix_type = obj.get("type")
    if not isinstance(stix_type, str) or not stix_type:
        raise InputError(f"{label}: has no 'type'")
    extensions = obj.get("extensions")
    defined = isinstance(extensions, dict) and any(
        isinstance(k, str)
        and k.startswith("extension-definition--")
        and isinstance(v, dict)
        and v.get("extension_type") in _NEW_OBJECT
        for k, v in extensions.items()
    )
    if not (stix_type.startswith("x-") or defined):
        raise InputError(
            f"{label}: unknown STIX type {stix_type!r}; a custom type starts with 'x-' or is "
            "defined by a new-sdo/new-sco/new-sro extension"
        )
    if not allowed:
        raise InputError(
            f"{label}: custom type {stix_type!r}: this collection takes no custom objects"
        )
    if not CUSTOM_TYPE.match(stix_type) or not 3 <= len(stix_type) <= 250:
        raise InputError(
            f"{label}: type {stix_type!r}: a custom type is 3 to 250 characters of a-z, 0-9 "
            "and single hyphens"
        )
    ident = obj.get("id")
    if not isinstance(ident, str) or not re.match(rf"^{re.escape(stix_type)}--{UUID}$", ident):
        raise InputError(f"{label}: the id must be '{stix_type}--<UUID>' (RFC 4122, lowercase)")
    for name in ("created", "modified"):
        value = obj.get(name)
        if value is not None and _timestamp_or_none(value) is None:
            raise InputError(
                f"{label}: {name} {value!r} is not a timestamp like 2016-12-19T17:05:00.000Z"
            )


def _toplevel_extension(obj: dict[str, Any]) -> set[str]:
    """Property names a toplevel-property extension may add: all, when one is present."""
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and any(
        isinstance(v, dict) and v.get("extension_type") == "toplevel-property-extension"
        for v in extensions.values()
    ):
        return set(obj)
    return set()


@functools.cache
def _defined(stix_type: str) -> frozenset[str]:
    props: dict[str, Any] = getattr(_class(stix_type), "_properties", {})
    return frozenset(props) | {"id"}


@functools.lru_cache(maxsize=4096)
def _order_key(text: str) -> tuple[str, str] | None:
    """A key that sorts timestamps of the form ``YYYY-MM-DDTHH:MM:SS[.f]Z`` by time.

    Left None (no order rule) for other strings: their format is judged elsewhere.
    """
    if not _LOOSE_TIMESTAMP.match(text):
        return None
    return text[:19], text[20:-1].rstrip("0")  # decimals without trailing zeros sort right


# ---- the fast path -----------------------------------------------------------------------

Check = Callable[[Any], Any]


def fast_valid(obj: dict[str, Any]) -> bool:
    """True when ``obj`` is valid as stix2 would judge it; _Unsure when this cannot tell.

    Never False: only stix2 rejects, so that the verdict and its wording stay the same.
    """
    stix_type = obj.get("type")
    plan = _plan(stix_type) if isinstance(stix_type, str) else None
    if plan is None:
        raise _Unsure
    checks, required, constraint = plan
    values: dict[str, Any] = {}
    for name, value in obj.items():
        if value is None or value == [] or name in _RESERVED:
            raise _Unsure
        check = checks.get(name)
        if check is None:
            if name == "extensions" or not name[:1].islower() or not name[:1].isascii():
                raise _Unsure
            continue  # a custom property: stix2 takes any value
        values[name] = check(value)
    if not required <= values.keys():
        raise _Unsure
    for marking in obj.get("granular_markings", []):
        # stix2 counts a selector only where the value is truthy (False, 0, "" are not),
        # and also finds defaulted properties and nested paths: those go to stix2.
        if not all(obj.get(selector) for selector in marking["selectors"]):
            raise _Unsure
    constraint(values, obj)
    return True


# Types whose cross-property rules are restated below; all other types go to stix2.
def _no_rule(_values: dict[str, Any], _obj: dict[str, Any]) -> None:
    return None


def _seen(first: str, last: str, strict: bool = False) -> Callable[[dict[str, Any], Any], None]:
    def rule(values: dict[str, Any], _obj: dict[str, Any]) -> None:
        if first not in values or last not in values:
            return
        if values[last] < values[first] or (strict and values[last] == values[first]):
            raise _Unsure

    return rule


def _location(values: dict[str, Any], _obj: dict[str, Any]) -> None:
    lat, lon = "latitude" in values, "longitude" in values
    if "precision" in values and not (lat and lon):
        raise _Unsure
    if lat != lon or not ("region" in values or "country" in values or lat):
        raise _Unsure


def _malware(values: dict[str, Any], obj: dict[str, Any]) -> None:
    _seen("first_seen", "last_seen")(values, obj)
    if values.get("is_family") and "name" not in values:
        raise _Unsure


def _indicator(values: dict[str, Any], obj: dict[str, Any]) -> None:
    until, since = values.get("valid_until"), values.get("valid_from")
    if until is not None and (since is None or until <= since):
        raise _Unsure  # without valid_from stix2 compares with the current time
    stix = obj.get("pattern_type") == "stix"
    if stix and (obj.get("pattern_version", "2.1") != "2.1" or not simple_pattern(obj["pattern"])):
        raise _Unsure


RULES: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "attack-pattern": _no_rule,
    "campaign": _seen("first_seen", "last_seen"),
    "course-of-action": _no_rule,
    "grouping": _no_rule,
    "identity": _no_rule,
    "incident": _no_rule,
    "indicator": _indicator,
    "infrastructure": _seen("first_seen", "last_seen"),
    "intrusion-set": _seen("first_seen", "last_seen"),
    "location": _location,
    "malware": _malware,
    "note": _no_rule,
    "opinion": _no_rule,
    "report": _no_rule,
    "threat-actor": _seen("first_seen", "last_seen"),
    "tool": _no_rule,
    "vulnerability": _no_rule,
    "relationship": _seen("start_time", "stop_time", strict=True),
    "sighting": _seen("first_seen", "last_seen"),
}
Plan = tuple[dict[str, Check], frozenset[str], Callable[[dict[str, Any], dict[str, Any]], None]]


@functools.cache
def _plan(stix_type: str) -> Plan | None:
    """Checks per property of ``stix_type`` from stix2's own definitions; None: not here."""
    if stix_type not in RULES:
        return None
    cls = class_for_type(stix_type, "2.1", "objects")
    props: dict[str, Any] = getattr(cls, "_properties", {})
    checks = {name: _checker(name, prop, stix_type) for name, prop in props.items()}
    required = frozenset(n for n, p in props.items() if p.required) | {
        "id",
        "created",
        "modified",
        "spec_version",
    }
    return checks, required, RULES[stix_type]


def _checker(name: str, prop: Any, stix_type: str) -> Check:
    if name == "type":
        return _fixed(stix_type)
    if name == "spec_version":
        return _fixed("2.1")
    if name == "granular_markings":
        return _granular
    return _kind(prop, stix_type)


def _kind(prop: Any, stix_type: str) -> Check:
    if isinstance(prop, sp.IDProperty):
        return _identifier(prop.required_prefix)
    if isinstance(prop, sp.ReferenceProperty):
        return _reference(prop)
    if isinstance(prop, sp.TimestampProperty):
        return _timestamp
    if isinstance(prop, sp.EnumProperty):
        return _enum(frozenset(prop.allowed))
    if isinstance(prop, sp.StringProperty) and not hasattr(prop, "_fixed_value"):
        return _string
    if isinstance(prop, sp.BooleanProperty):
        return _boolean
    if isinstance(prop, sp.IntegerProperty):
        return _number(prop.min, prop.max, integer=True)
    if isinstance(prop, sp.FloatProperty):
        return _number(prop.min, prop.max, integer=False)
    if isinstance(prop, sp.ListProperty):
        return _list(prop.contained, stix_type)
    return _unsure


def _unsure(_value: Any) -> Any:
    raise _Unsure


def _fixed(expected: str) -> Check:
    def check(value: Any) -> Any:
        if value != expected or not isinstance(value, str):
            raise _Unsure
        return value

    return check


def _identifier(prefix: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not value.startswith(prefix) or not _ID.match(value):
            raise _Unsure
        return value

    return check


def _reference(prop: sp.ReferenceProperty) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise _Unsure
        stix_type = _id_type(value)
        if stix_type is None or not _may_point_to(prop, stix_type):
            raise _Unsure
        return value

    return check


@functools.lru_cache(maxsize=4096)
def _id_type(value: str) -> str | None:
    """The type part of a well-formed id, else None; remembered, since the same references
    (markings, the author, places) recur in most objects of a post."""
    match = _ID.match(value)
    return match.group(1) if match else None


_SOME_UUID = "00000000-0000-4000-8000-000000000000"


@functools.cache
def _may_point_to(prop: sp.ReferenceProperty, stix_type: str) -> bool:
    """stix2's own type rule for a reference, asked once per property and target type.

    The rule depends only on the type in the id; the UUID part has been checked already.
    """
    try:
        prop.clean(f"{stix_type}--{_SOME_UUID}", True)
    except Exception:  # noqa: BLE001 - stix2 will word the error
        return False
    return True


def _timestamp(value: Any) -> str:
    """A key that sorts like the instant (for the cross-property rules); _Unsure if odd."""
    key = _timestamp_key(value) if isinstance(value, str) else None
    if key is None:
        raise _Unsure
    return key


@functools.lru_cache(maxsize=4096)
def _timestamp_key(value: str) -> str | None:
    """``_timestamp`` of a string, None when odd; remembered, since an object usually
    repeats one instant (created, modified, valid_from, published)."""
    if not _TIMESTAMP.match(value) or not _real(value):
        return None
    return value[:19] + value[20:-1].ljust(6, "0")


def _timestamp_or_none(value: Any) -> str | None:
    try:
        return _timestamp(value)
    except _Unsure:
        return None


def _real(value: str) -> bool:
    """Whether a timestamp of the canonical shape names a real date and time of day."""
    return (
        _real_date(value[:10])
        and value[11:13] < "24"
        and value[14:16] < "60"
        and (value[17:19] < "60")
    )


@functools.lru_cache(maxsize=4096)
def _real_date(text: str) -> bool:
    try:
        datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), tzinfo=UTC)
    except ValueError:
        return False
    return True


def _enum(allowed: frozenset[str]) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in allowed:
            raise _Unsure
        return value

    return check


def _string(value: Any) -> Any:
    if not isinstance(value, str):
        raise _Unsure
    return value


def _boolean(value: Any) -> Any:
    if type(value) is not bool:
        raise _Unsure
    return value


def _number(low: Any, high: Any, *, integer: bool) -> Check:
    kinds = (int,) if integer else (int, float)

    def check(value: Any) -> Any:
        if type(value) not in kinds or (type(value) is float and not math.isfinite(value)):
            raise _Unsure
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Unsure
        return value

    return check


def _list(contained: Any, stix_type: str) -> Check:
    if contained is ExternalReference:
        item: Check = _external_reference
    elif contained is KillChainPhase:
        item = _kill_chain_phase
    elif isinstance(contained, sp.Property):
        item = _kind(contained, stix_type)
    else:
        return _unsure

    def check(value: Any) -> Any:
        if type(value) is not list or not value:
            raise _Unsure
        return [item(v) for v in value]

    return check


def _embedded(value: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if type(value) is not dict or not required <= value.keys():
        raise _Unsure
    for key, item in value.items():
        if key not in allowed or not isinstance(item, str):
            raise _Unsure
    return value


_EXTERNAL = {"source_name", "description", "url", "external_id"}


def _external_reference(value: Any) -> Any:
    _embedded(value, _EXTERNAL, {"source_name"})
    if not value.keys() & {"description", "external_id", "url"}:
        raise _Unsure
    return value


def _kill_chain_phase(value: Any) -> Any:
    return _embedded(value, {"kill_chain_name", "phase_name"}, {"kill_chain_name", "phase_name"})


_SELECTOR = re.compile(r"^[a-z0-9_-]{3,250}$")
_MARKING_REF = _reference(GranularMarking._properties["marking_ref"])


def _granular(value: Any) -> Any:
    """Granular markings whose selectors are top-level property names (checked later)."""
    if type(value) is not list or not value:
        raise _Unsure
    for marking in value:
        if type(marking) is not dict or not marking.keys() <= {"marking_ref", "selectors"}:
            raise _Unsure
        _MARKING_REF(marking.get("marking_ref"))
        selectors = marking.get("selectors")
        if type(selectors) is not list or not selectors:
            raise _Unsure
        for selector in selectors:
            if not isinstance(selector, str) or not _SELECTOR.match(selector):
                raise _Unsure
    return value


# ---- indicator patterns -------------------------------------------------------------------

_OBJECT_TYPE = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_STEP = r"[a-z_][a-z0-9_]*"
_STRING = r"'[^'\\\x00-\x1f]*'"
_COMPARISON = rf"{_OBJECT_TYPE}:{_STEP}(?:\.{_STEP})* ?!?= ?{_STRING}"
_OBSERVATION = rf"\[ ?{_COMPARISON}(?: (?:AND|OR) {_COMPARISON})* ?\]"
_PATTERN = re.compile(rf"^{_OBSERVATION}(?: (?:AND|OR) {_OBSERVATION})*$")
_STEPS = re.compile(_STEP)


def simple_pattern(pattern: Any) -> bool:
    """Whether ``pattern`` is of a plain shape the STIX pattern grammar certainly accepts.

    Observations of ``type:path = 'string'`` comparisons (``!=`` too), joined with AND/OR:
    what indicators of addresses, domains and URLs look like. Anything else (hashes, which
    the pattern validator checks per algorithm, numbers, qualifiers, escapes) is left to
    the full ANTLR validator.
    """
    if not isinstance(pattern, str) or not _PATTERN.match(pattern):
        return False
    outside = re.sub(_STRING, "''", pattern)
    steps = set(_STEPS.findall(outside.replace("'", " ")))
    return not steps & {"hashes", "true", "false"}
