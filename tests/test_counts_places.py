"""Casualty counts read by grammar, and the place rules of the geo2 branch."""

from __future__ import annotations

import pytest

from legation.extract.extractor import extract_report, locate


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        (
            "At least 31 people, including 5 policemen and 2 children, were killed and 40 "
            "others wounded after a suicide bomber blew himself up outside a polling station.",
            31,
            40,
        ),
        (
            "Militants attacked the stock exchange. Three security guards and a police sub "
            "inspector were killed, while 7 people were injured during the attack.",
            4,
            7,
        ),
        ("Two bombs killed 44 and injured at least 155 people in Istanbul.", 44, 155),
        (
            "Gunmen attacked a restaurant. At least 22 civilians, 2 police officers, and 5 "
            "attackers were killed in shoot outs.",
            24,
            0,
        ),
        (
            "A militant opened fire on a patrol, killing 2 policemen and 2 soldiers.",
            4,
            0,
        ),
        ("Twenty-two people were killed when a bomb exploded at a market.", 22, 0),
        ("A suicide bomber blew himself up in a mosque. Only the attacker was killed.", 0, 0),
        ("24 militants killed in overnight battles as a bomb exploded in Kandahar.", 24, 0),
        (
            "A soldier who won medals in 1995 was among those killed when gunmen attacked "
            "the base, killing 7 security force members.",
            7,
            0,
        ),
        ("Pak roadside blasts kill one soldier, 3 injured", 1, 3),
    ],
)
def test_counts(text: str, killed: int, injured: int) -> None:
    result = extract_report(text, language="en")
    assert result.is_incident
    assert (result.killed_count, result.injured_count) == (killed, injured)


def test_counts_in_languages_without_count_words_keep_the_nearest_number() -> None:
    result = extract_report("В результате взрыва в Анкаре погибли 12 человек.", language="ru")
    assert result.killed_count == 12


@pytest.mark.parametrize(
    ("text", "country", "city"),
    [
        # a group that acts in one country hints at it when no place is named
        ("Al Shabaab militants detonated a car bomb outside a hotel, killing 15.", "SO", None),
        # the group's name is no place ('Iraq' of ISIL)
        (
            "At least 85 people were killed in the bombing of a school in the Afghan capital, "
            "in a neighbourhood attacked by the Islamic State of Iraq and the Levant.",
            "AF",
            "Kabul",
        ),
        ("A bomb exploded near the town of Newtownbutler, Northern Ireland.", "GB", None),
        ("A militant attacked a patrol in Tripoli, Lebanon, with a bomb, killing 4.", "LB", None),
        ("Twin bombings in the Old City of Damascus killed at least 74 people.", "SY", None),
        (
            "A truck bomb exploded outside the German consulate in Mazar i Sharif, killing 4.",
            "AF",
            None,
        ),
    ],
)
def test_places(text: str, country: str, city: str | None) -> None:
    result = extract_report(text, language="en")
    assert result.place is not None and result.place.country == country
    if city is not None:
        assert result.place.name == city


def test_a_town_after_a_given_name_in_capitals_is_a_surname() -> None:
    text = (
        "SAN SALVADOR, 17 NOV 89 -- [TEXT] U.S. AMBASSADOR WILLIAM WALKER CONDEMNED THE "
        "BOMBING THAT KILLED THREE PEOPLE IN SAN SALVADOR TODAY."
    )
    result = extract_report(text, language="en")
    assert result.place is not None and result.place.country == "SV"


def test_a_district_missing_from_the_region_table_is_placed_at_its_town() -> None:
    place = locate("Mosimbara village, Moyamba district, Southern province, Sierra Leone")
    assert place is not None and place.precision == "city" and place.name == "Moyamba"
