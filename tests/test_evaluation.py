"""The MUC-4 key parser and the template scorer, on small hand-made cases; the extract stream."""

from __future__ import annotations

import json

from legation.evaluation.muc4 import gold_dates, gold_places
from legation.evaluation.muc4_keys import GoldEntity, GoldTemplate, parse_templates
from legation.evaluation.scoring import Predicted, Score, normalise, score_document
from legation.evaluation.train_roles import Message, train
from legation.extract.lexicon import Hit
from legation.extract.roles import Candidate
from legation.extract.stream import extract_lines

KEY = """
0.  MESSAGE: ID                     DEV-MUC3-0001 (NCCOSC)
1.  MESSAGE: TEMPLATE               2
2.  INCIDENT: DATE                  - 03 JAN 90
3.  INCIDENT: LOCATION              EL SALVADOR: APOPA (CITY)
4.  INCIDENT: TYPE                  ATTACK
6.  INCIDENT: INSTRUMENT ID         "MORTAR"
                                    "RIFLE"
9.  PERP: INDIVIDUAL ID             ? "TERRORIST"
10. PERP: ORGANIZATION ID           "FARABUNDO MARTI NATIONAL LIBERATION FRONT" / "FMLN"
12. PHYS TGT: ID                    "LAS CANAS BRIDGE"
18. HUM TGT: NAME                   -
19. HUM TGT: DESCRIPTION            "MONSIGNOR": "ARNULFO ROMERO"
                                    "NATIONAL GUARD UNITS"

0.  MESSAGE: ID                     DEV-MUC3-0002 (NCCOSC)
1.  MESSAGE: TEMPLATE               *
4.  INCIDENT: TYPE                  *
"""


def _gold() -> GoldTemplate:
    templates = list(parse_templates(KEY))
    assert [t.type for t in templates] == ["ATTACK", ""]
    return templates[0]


def test_key_parser_reads_alternatives_optional_fills_and_descriptions() -> None:
    gold = _gold()
    assert gold.roles["perpetrator_organizations"] == [
        GoldEntity(("FARABUNDO MARTI NATIONAL LIBERATION FRONT", "FMLN"))
    ]
    assert gold.roles["perpetrator_individuals"] == [GoldEntity(("TERRORIST",), optional=True)]
    assert [e.alternatives for e in gold.roles["weapons"]] == [("MORTAR",), ("RIFLE",)]
    assert [e.alternatives for e in gold.roles["human_targets"]] == [
        ("MONSIGNOR",),
        ("NATIONAL GUARD UNITS",),
    ]
    assert gold_places(gold.location) == ({"SV"}, {"apopa"})
    low, high = gold_dates(gold.date) or (None, None)
    assert (
        high is not None
        and high.isoformat() == "1990-01-03"
        and low is not None
        and low.year == 1900
    )


def test_scoring_counts_exact_spans_alternatives_and_optional_fills() -> None:
    gold = _gold()
    predicted = Predicted(
        "ATTACK",
        {
            "perpetrator_organizations": ["the FMLN"],  # article dropped: matches an alternative
            "weapons": ["mortar", "mortar", "grenade"],  # repeated filler counts once
            "human_targets": ["national guard"],  # partial span: wrong
            "physical_targets": ["Las Canas bridge"],
        },
    )
    score = Score()
    score_document([predicted], [gold], score)
    roles = score.roles
    assert (roles["incident_type"].tp, roles["incident_type"].gold) == (1, 1)
    assert (roles["perpetrator_organizations"].tp, roles["perpetrator_organizations"].gold) == (
        1,
        1,
    )
    assert (roles["weapons"].tp, roles["weapons"].predicted, roles["weapons"].gold) == (1, 2, 2)
    assert (roles["human_targets"].tp, roles["human_targets"].gold) == (0, 2)
    assert roles["perpetrator_individuals"].gold == 0  # optional and not found: no penalty
    assert score.micro().tp == 4


def test_a_template_of_another_type_is_not_aligned() -> None:
    score = Score()
    score_document([Predicted("BOMBING", {"weapons": ["mortar"]})], [_gold()], score)
    assert score.micro().tp == 0
    assert score.roles["incident_type"].predicted == 1 and score.roles["incident_type"].gold == 1


def test_normalise() -> None:
    assert normalise("The  F.M.L.N.'s") == "f m l n s"
    assert normalise("an army patrol") == "army patrol"


def test_extract_stream_is_one_line_per_input_line() -> None:
    lines = [
        json.dumps(
            {
                "id": 1,
                "text": "A car bomb exploded in Lima on Monday, killing two policemen.",
                "published": "2020-01-08T09:00:00Z",
                "language": "en",
            }
        ),
        "{not json",
        "",
        json.dumps({"id": 4, "text": "Ministers met to discuss trade.", "published": "yesterday"}),
        json.dumps({"id": 5, "text": "Ministers met to discuss trade."}),
    ]
    out = [json.loads(x) for x in extract_lines(lines)]
    assert [o.get("id") for o in out] == [1, None, None, 4, 5]
    assert (
        out[0]["incidents"][0]["type"] == "bombing"
        and out[0]["incidents"][0]["place"]["country"] == "PE"
    )
    assert (
        "not JSON" in out[1]["error"]
        and "empty" in out[2]["error"]
        and "ISO 8601" in out[3]["error"]
    )
    assert out[4]["incidents"] == []


def test_wcep_and_wikipedia_evaluators_count_what_they_claim(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from legation.evaluation.datasets import evaluate_wcep, evaluate_wikipedia

    wcep = tmp_path / "wcep.json"
    wcep.write_text(
        json.dumps(
            [
                {
                    "date": "2015-09-03",
                    "description": "A car bomb exploded in Kabul, killing five people.",
                    "category": {"name": "War_Conflict"},
                },
                {
                    "date": "2015-09-04",
                    "description": "The central bank raised interest rates.",
                    "category": {"name": "Business_Finance"},
                },
            ]
        ),
        "utf-8",
    )
    result = evaluate_wcep(wcep)
    assert result["detection"]["tp"] == 1 and result["detection"]["fp"] == 0
    assert result["date_exact"]["right"] == 1
    wiki = tmp_path / "wiki.json"
    wiki.write_text(
        json.dumps(
            [
                {
                    "Year": "2017",
                    "Category": "Explosion",
                    "Country": "Afghanistan",
                    "Perpetrator": "Taliban",
                    "Dead": "5",
                    "Injured": "unknown",
                    "Description": "A Taliban car bomb exploded in Kabul, killing five people.",
                }
            ]
        ),
        "utf-8",
    )
    scores = evaluate_wikipedia(wiki)
    assert scores["country"]["right"] == 1 and scores["killed_exact"]["right"] == 1
    assert scores["perpetrator"]["right"] == 1 and scores["category"]["right"] == 1
    assert scores["injured_exact"]["total"] == 0


def test_the_role_trainer_learns_which_features_mark_a_filler() -> None:
    def candidate(feature: str) -> Candidate:
        return Candidate(Hit("weapon_noun", "weapon_noun", 0, 0), 0, "BOMB", "bomb", (feature,))

    features = ["used", "seized"] * 20
    message = Message([], [candidate(f) for f in features], [f == "used" for f in features], [])
    weights = train([message])
    assert weights["used"] > 1.0 and weights["seized"] < -1.0
