"""The fast STIX check gives the verdicts of stix2, plus the spec rules stix2 leaves out.

Valid objects of every type the fast path handles, the invalid cases of the other tests
and thousands of random mutations of them go to both the old check (``stix2.parse``) and
the new one (``stix_check.check_object``). They must agree, except where one of the
added STIX 2.1 rules (``spec_rules``) refuses an object stix2 lets through; and whenever
the fast path vouches for an object on its own, stix2 must accept it.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest
from stix2patterns.validator import run_validator

from legation.errors import InputError
from legation.partners.intake import check_objects
from legation.sharing import stix_check
from legation.sharing.stix import incidents_to_bundle
from legation.sharing.tlp import TLP2_IDS
from tests.test_sharing_stix import ankara

U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
IDENT = f"identity--{U}"
GREEN, RED = TLP2_IDS["green"], TLP2_IDS["red"]
T0, T1 = "2025-01-01T00:00:00.000Z", "2025-01-02T10:20:30.123Z"


def common(kind: str, n: int) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{U[:-3]}{n:03d}",
        "created": T0,
        "modified": T1,
        "created_by_ref": IDENT,
        "object_marking_refs": [GREEN],
    }


def seeds() -> list[dict[str, Any]]:
    """Valid objects of every type the fast path takes, using every kind of property."""
    ind = f"indicator--{U}"
    inc = f"incident--{U}"
    loc = f"location--{U}"
    refs = {"external_references": [{"source_name": "rso", "url": "https://example.org/1"}]}
    phases = {"kill_chain_phases": [{"kill_chain_name": "lockheed", "phase_name": "recon"}]}
    return [
        {**common("identity", 1), "name": "Desk", "identity_class": "organization"},
        {
            **common("location", 2),
            "name": "City",
            "country": "FR",
            "latitude": 48.85,
            "longitude": 2.35,
            "precision": 100.0,
        },
        {**common("location", 3), "region": "western-europe"},
        {
            **common("threat-actor", 4),
            "name": "Actor",
            "threat_actor_types": ["activist"],
            "first_seen": T0,
            "last_seen": T1,
            "x_legation_note": "custom",
            **phases,
        },
        {
            **common("incident", 5),
            "name": "Protest",
            "description": "Road blocked",
            "granular_markings": [{"marking_ref": RED, "selectors": ["description"]}],
            **refs,
        },
        {
            **common("indicator", 6),
            "name": "C2",
            "pattern": "[ipv4-addr:value = '198.51.1.2']",
            "pattern_type": "stix",
            "valid_from": T0,
            "valid_until": T1,
            "indicator_types": ["malicious-activity"],
            "confidence": 80,
            "labels": ["c2"],
        },
        {
            **common("indicator", 7),
            "pattern": "[domain-name:value = 'a.example'] OR "
            "[url:value = 'http://a.example/x' AND url:value != 'http://b.example/']",
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": T0,
        },
        {
            **common("indicator", 8),
            "pattern": "rule x { condition: true }",
            "pattern_type": "yara",
            "valid_from": T0,
        },
        {
            **common("sighting", 9),
            "sighting_of_ref": ind,
            "where_sighted_refs": [IDENT, loc],
            "count": 3,
            "first_seen": T0,
            "last_seen": T1,
        },
        {
            **common("relationship", 10),
            "relationship_type": "located-at",
            "source_ref": inc,
            "target_ref": loc,
            "start_time": T0,
            "stop_time": T1,
        },
        {
            **common("report", 11),
            "name": "Sitrep",
            "published": T1,
            "report_types": ["threat-report"],
            "object_refs": [ind, inc],
            **refs,
        },
        {**common("grouping", 12), "context": "suspicious-activity", "object_refs": [inc]},
        {**common("note", 13), "content": "Follow-up", "object_refs": [inc], "authors": ["a"]},
        {**common("opinion", 14), "opinion": "agree", "object_refs": [inc]},
        {**common("malware", 15), "name": "Bad", "is_family": True, "malware_types": ["rat"]},
        {**common("campaign", 16), "name": "Camp", "first_seen": T0, "last_seen": T1},
        {**common("tool", 17), "name": "nmap", **phases},
        {**common("vulnerability", 18), "name": "CVE-2024-1", **refs},
        {**common("attack-pattern", 19), "name": "Phishing", **phases},
        {**common("course-of-action", 20), "name": "Patch", "revoked": False},
        {**common("infrastructure", 21), "name": "C2 box", "first_seen": T0},
        {**common("intrusion-set", 22), "name": "Set", "aliases": ["s"], "first_seen": T0},
    ]


def passes(check: Callable[[Any], None], obj: Any) -> bool:
    try:
        check(obj)
    except InputError:
        return False
    return True


def old_verdict(obj: Any) -> bool:
    """What the check before this module said: stix2.parse with custom content allowed."""
    return passes(lambda o: stix_check.stix2_check(o, "x"), obj)


def new_verdict(obj: Any) -> bool:
    return passes(stix_check.check_object, obj)


def tightened(obj: Any) -> bool:
    """Whether one of the added spec rules refuses ``obj`` (stix2 does not apply them)."""
    return not passes(stix_check.spec_rules, obj)


def assert_same(obj: Any) -> None:
    old, new = old_verdict(obj), new_verdict(obj)
    if not old:
        assert not new, f"stix2 refuses but the new check accepts: {obj}"
    else:
        assert new == (not tightened(obj)), f"verdicts differ: {obj}"
    try:
        fast = stix_check.fast_valid(obj)
    except stix_check._Unsure:
        fast = False
    if fast:
        assert old, f"the fast path vouched for an object stix2 refuses: {obj}"


def test_every_seed_takes_the_fast_path_and_is_valid() -> None:
    for obj in seeds():
        assert stix_check.fast_valid(obj), obj["type"]
        assert old_verdict(obj) and new_verdict(obj), obj["type"]


def test_our_own_exports_take_the_fast_path_or_agree() -> None:
    bundle = incidents_to_bundle([ankara()], "Legation test")
    for obj in bundle["objects"]:
        assert_same(obj)
        assert new_verdict(obj), obj["id"]


EXISTING_INVALID = [
    {"type": "note", "id": "note--bad", "spec_version": "2.1"},  # test_taxii_server
    {"type": "incident", "id": "incident--x", "spec_version": "2.1"},  # test_sharing_stix
    {**common("note", 1), "content": "x"},  # no object_refs
    {**common("report", 1), "name": "r", "published": T0, "object_refs": []},
    {
        **common("indicator", 1),
        "pattern": "[ipv4-addr:value = '1.2.3.4'",
        "pattern_type": "stix",
        "valid_from": T0,
    },
    {
        **common("indicator", 1),
        "pattern": "[file:hashes.MD5 = 'zz']",
        "pattern_type": "stix",
        "valid_from": T0,
    },
    {**common("location", 1), "latitude": 10.0},
    {**common("location", 1), "name": "nowhere"},
    {**common("sighting", 1), "sighting_of_ref": IDENT, "count": -1},
    {**common("relationship", 1), "relationship_type": "x", "source_ref": IDENT},
    {**common("identity", 1), "name": "n", "created": "2025-13-01T00:00:00Z"},
    {**common("identity", 1), "name": "n", "created_by_ref": f"indicator--{U}"},
    {**common("identity", 1), "name": "n", "Bad": 1},
    {**common("malware", 1), "is_family": True},
    {
        **common("incident", 1),
        "name": "n",
        "granular_markings": [{"marking_ref": RED, "selectors": ["nothing_here"]}],
    },
]


@pytest.mark.parametrize("obj", EXISTING_INVALID, ids=lambda o: str(o.get("id")))
def test_invalid_cases_are_refused_by_both(obj: dict[str, Any]) -> None:
    assert not old_verdict(obj)
    assert not new_verdict(obj)


def test_the_added_spec_rules_refuse_what_stix2_lets_through() -> None:
    backwards = {**common("identity", 1), "name": "n", "created": T1, "modified": T0}
    typo = {**common("identity", 1), "type": "identty", "id": f"identty--{U}"}
    custom = {"type": "x-thing", "spec_version": "2.1", "id": f"x-thing--{U}", "created": T0}
    bad_custom = {**custom, "id": "x-thing--nope"}
    short_name = {**common("identity", 1), "name": "n", "ab": 1}
    for obj in (backwards, typo, bad_custom, short_name):
        assert old_verdict(obj) and not new_verdict(obj), obj
    assert new_verdict(custom)
    with pytest.raises(InputError, match="no custom objects"):
        stix_check.check_object(custom, custom_objects=False)
    _, failures = check_objects([custom], {"custom_objects": False})
    assert "no custom objects" in failures[0]["message"]


# ---- random mutations ----------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    [],
    {},
    "",
    "x",
    0,
    1,
    -1,
    1.5,
    float("inf"),
    True,
    False,
    ["x"],
    [1],
    [None],
    [{}],
    {"a": 1},
    T0,
    "2025-01-01T00:00:00Z",
    "2025-01-01 00:00:00Z",
    "2025-1-1T0:0:0Z",
    "2025-02-30T00:00:00.000Z",
    "2025-01-01T00:00:60Z",
    "2025-01-01T00:00:00.1234567Z",
    "2025-01-01T00:00:00.000",
    IDENT,
    f"identity--{U.upper()}",
    f"location--{U}",
    "identity--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f",
    f"marking-definition--{U}",
    RED,
    [IDENT],
    [RED],
    [f"indicator--{U}"],
    "organization",
    "agree",
    "strongly-agree",
    91,
    1_000_000_000,
    -91.0,
    "2.0",
    "2.1",
    "stix",
    "\u00e9t\u00e9",
]
NAMES = [
    "x_custom",
    "xy",
    "X_up",
    "_under",
    "1abc",
    "x-hyphen",
    "\u00e9x",
    "custom_properties",
    "allow_custom",
    "extensions",
    "revoked",
    "lang",
    "defanged",
    "labels",
]
PATTERN_BITS = [
    "[",
    "]",
    "(",
    ")",
    "ipv4-addr",
    "file",
    ":",
    "value",
    "hashes",
    ".",
    "MD5",
    "'1.2.3.4'",
    "'d41d8cd98f00b204e9800998ecf8427e'",
    "=",
    "!=",
    " ",
    "AND",
    "OR",
    "and",
    "WITHIN",
    "5",
    "SECONDS",
    "x-custom",
    "name",
    "'a\\'b'",
    "true",
    "'",
    "\\",
    "[0]",
    "*",
    "LIKE",
    "FOLLOWEDBY",
    "url",
    "domain-name",
    "_x",
    "X",
    "9",
]


def mutate(obj: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for _ in range(rnd.choice([1, 1, 1, 2, 3])):
        action = rnd.random()
        keys = list(out)
        if action < 0.25 and keys:
            del out[rnd.choice(keys)]
        elif action < 0.55 and keys:
            out[rnd.choice(keys)] = copy.deepcopy(rnd.choice(ODD_VALUES))
        elif action < 0.65:
            out[rnd.choice(NAMES)] = copy.deepcopy(rnd.choice(ODD_VALUES))
        elif action < 0.80 and isinstance(out.get("pattern"), str):
            out["pattern"] = mutate_text(out["pattern"], rnd)
        elif action < 0.9:
            key = rnd.choice(["id", "created", "modified", "created_by_ref", "type"])
            if isinstance(out.get(key), str):
                out[key] = mutate_text(out[key], rnd)
        else:
            out["granular_markings"] = [
                {
                    "marking_ref": rnd.choice([RED, GREEN, IDENT]),
                    "selectors": [
                        rnd.choice(
                            [
                                "name",
                                "description",
                                "revoked",
                                "id",
                                "x.y",
                                "object_refs.[0]",
                                "pattern",
                                "nothing",
                            ]
                        )
                    ],
                }
            ]
    return out


def mutate_text(text: str, rnd: random.Random) -> str:
    at = rnd.randrange(len(text) + 1)
    action = rnd.random()
    if action < 0.4:
        return text[:at] + rnd.choice([*PATTERN_BITS, "A", "-", "Z", "0"]) + text[at:]
    if action < 0.8:
        return text[:at] + text[at + 1 :]
    return text.upper() if rnd.random() < 0.5 else text[:at]


def test_random_mutations_get_the_same_verdict() -> None:
    rnd = random.Random(20261129)
    base = seeds()
    refused = tightened_count = 0
    for _ in range(4000):
        obj = mutate(rnd.choice(base), rnd)
        assert_same(obj)
        refused += not new_verdict(obj)
        tightened_count += old_verdict(obj) and not new_verdict(obj)
    assert refused > 1000  # the mutations do reach invalid objects
    assert tightened_count < refused


def random_pattern(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        parts = [f"[ipv4-addr:value = '10.0.0.{rnd.randrange(256)}']"]
        for _ in range(rnd.randrange(3)):
            parts.append(rnd.choice([" AND ", " OR "]) + "[url:value != 'http://x/']")
        text = "".join(parts)
        return mutate_text(text, rnd) if rnd.random() < 0.6 else text
    return "".join(rnd.choice(PATTERN_BITS) for _ in range(rnd.randrange(1, 12)))


def test_simple_patterns_are_valid_patterns() -> None:
    rnd = random.Random(7)
    simple = 0
    for _ in range(3000):
        pattern = random_pattern(rnd)
        if stix_check.simple_pattern(pattern):
            simple += 1
            assert run_validator(pattern, "2.1") == [], pattern
    assert simple > 300


def test_granular_selectors_as_stix_2_1_defines_them() -> None:
    """§7.2.3.1: names and ``[n]`` indices joined by '.', each present in the object.

    stix2 3.0.2 refuses a selector into a key of a list item (``external_references.[0].url``)
    and one whose value is false; stix2-validator and the specification accept both.
    """
    from stix2validator import ValidationOptions, validate_instance

    base = {
        **common("note", 1),
        "content": "c",
        "object_refs": [IDENT],
        "labels": ["a", "b"],
        "external_references": [{"source_name": "s", "url": "https://example.org/x"}],
        "x_flag": False,
    }
    valid = [
        "external_references.[0].url",
        "external_references.[0]",
        "external_references",
        "labels.[1]",
        "x_flag",
        "object_marking_refs.[0]",
    ]
    invalid = [
        "external_references.[1].url",  # past the end
        "external_references.[0].nothing",
        "external_references.url",  # a name into a list
        "labels.[0].x",  # into a string
        "content.[0]",  # an index into a string
        "[0]",
        "labels.[01]",
        "labels.[-1]",
        "nothing",
        "",
        "labels..[0]",
    ]
    for selector in valid:
        obj = {**base, "granular_markings": [{"marking_ref": RED, "selectors": [selector]}]}
        assert new_verdict(obj), selector
        assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid, selector
    for selector in invalid:
        obj = {**base, "granular_markings": [{"marking_ref": RED, "selectors": [selector]}]}
        assert not new_verdict(obj), selector
    # the granular marking itself is still checked
    for marking in (
        {"selectors": ["content"]},
        {"marking_ref": "note--" + U, "selectors": ["content"]},
        {"marking_ref": RED, "selectors": []},
        {"marking_ref": RED, "selectors": ["content"], "extra": 1},
        "content",
    ):
        assert not new_verdict({**base, "granular_markings": [marking]}), marking
    with pytest.raises(InputError, match=r"selector 'external_references.\[1\].url'"):
        stix_check.check_object(
            {
                **base,
                "granular_markings": [
                    {"marking_ref": RED, "selectors": ["external_references.[1].url"]}
                ],
            }
        )
