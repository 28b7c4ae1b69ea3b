"""Extraction baseline: fields, spans, dates resolved against publication, languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from legation.extract.extractor import extract_report, read_report
from legation.extract.language import detect_language
from legation.extract.lexicon import Hit
from legation.extract.roles import Candidate, role_model, select
from tests.conftest import shared_path

MONDAY_EVENING = datetime(2016, 12, 19, 23, 40, tzinfo=UTC)


def _read(name: str) -> str:
    return shared_path("scenarios", "ankara-2016", name).read_text("utf-8")


@pytest.mark.parametrize(
    ("text", "language", "published", "expected"),
    [
        (
            "A bomb exploded on Monday near the market, killing two people.",
            "en",
            datetime(2016, 12, 21, 9, tzinfo=UTC),
            date(2016, 12, 19),
        ),
        (
            "Вечером 19 декабря в центре города прогремел взрыв, погибли два человека.",
            "ru",
            datetime(2017, 1, 3, 9, tzinfo=UTC),
            date(2016, 12, 19),
        ),
        (
            "19 Aralık akşamı düzenlenen silahlı saldırıda iki kişi hayatını kaybetti.",
            "tr",
            datetime(2016, 12, 20, 9, tzinfo=UTC),
            date(2016, 12, 19),
        ),
        (
            "Gunmen attacked a checkpoint yesterday, killing three soldiers.",
            "en",
            datetime(2020, 3, 2, 9, tzinfo=UTC),
            date(2020, 3, 1),
        ),
        (
            "On December 30, 2015 a car bomb exploded outside the hotel, wounding five.",
            "en",
            datetime(2016, 1, 2, tzinfo=UTC),
            date(2015, 12, 30),
        ),
    ],
)
def test_dates_resolve_against_publication(
    text: str, language: str, published: datetime, expected: date
) -> None:
    result = extract_report(text, language=language, published=published)
    assert result.is_incident
    assert result.date == expected


def test_a_date_in_december_read_in_january_is_last_year() -> None:
    result = extract_report(
        "On 30 December a grenade exploded, injuring four people.",
        language="en",
        published=datetime(2017, 1, 2, tzinfo=UTC),
    )
    assert result.date == date(2016, 12, 30)


def test_every_field_carries_its_span() -> None:
    text = _read("report-ru.txt")
    result = extract_report(text, language="ru", published=MONDAY_EVENING)
    evidence = [
        result.type,
        result.weapon,
        result.place_evidence,
        result.date_evidence,
        result.killed,
        result.injured,
        *result.human_targets,
        *result.perpetrator_individuals,
        *result.target_categories,
    ]
    assert all(e is not None for e in evidence)
    for item in evidence:
        assert item is not None and item.span is not None
        assert text[item.span.start : item.span.end] == item.span.text
        assert 0.0 < item.confidence <= 1.0
    assert result.injured is not None and result.injured.value == "3"
    assert result.place is not None and result.place.name == "Ankara"


def test_berlin_report() -> None:
    result = extract_report(_read("report-en-berlin.txt"), language="en", published=MONDAY_EVENING)
    assert (result.type_name, result.weapon_name) == ("vehicle_ramming", "vehicle")
    assert result.place is not None and (result.place.name, result.place.country) == (
        "Berlin",
        "DE",
    )
    assert result.killed_count == 12
    assert result.date == date(2016, 12, 19)
    assert "civilians" in [c.value for c in result.target_categories]


def test_diplomatic_talks_are_not_an_incident() -> None:
    result = extract_report(_read("report-en-talks.txt"), language="en", published=MONDAY_EVENING)
    assert not result.is_incident


def test_targeted_state_is_read_from_the_title() -> None:
    result = extract_report(_read("report-tr.txt"), language="tr", published=MONDAY_EVENING)
    assert result.target_states == ["RU"]
    assert result.type_name == "assassination"
    assert [p.value for p in result.perpetrator_individuals] == ["Mevlüt Mert Altıntaş"]


def test_upper_case_wire_copy_still_yields_type_and_place() -> None:
    text = (
        "LIMA, 9 JAN 90 (RADIO) -- A CAR BOMB EXPLODED TODAY IN FRONT OF THE US EMBASSY "
        "IN LIMA, KILLING TWO POLICEMEN AND INJURING SEVEN PEOPLE."
    )
    result = extract_report(text, language="en", published=datetime(1990, 1, 9, tzinfo=UTC))
    assert result.type_name == "bombing"
    assert result.place is not None and result.place.country == "PE"
    assert (result.killed_count, result.injured_count) == (2, 7)
    assert "diplomat" in [c.value for c in result.target_categories]


@pytest.mark.parametrize(
    ("name", "language"),
    [("report-ru.txt", "ru"), ("report-tr.txt", "tr"), ("report-en-berlin.txt", "en")],
)
def test_language_detection(name: str, language: str) -> None:
    assert detect_language(_read(name)) == language


def test_names_in_all_caps_wire_copy_are_victims_or_speakers() -> None:
    text = (
        "LIMA, 9 JAN 90 -- AUTHORITIES REPORTED THAT FORMER DEFENSE MINISTER GENERAL\n"
        "ENRIQUE LOPEZ ALBUJAR DIED TODAY AFTER GUNMEN SHOT HIM.  THE KIDNAPPING OF\n"
        "UNION LEADER HECTOR OQUELI\nCOLINDRES WAS ALSO REPORTED.  PRESIDENT ALAN GARCIA\n"
        "SAID THE KILLING OF LOPEZ WAS A CRIME."
    )
    extraction = extract_report(text, language="en", published=date(1990, 1, 9))
    victims = {e.value for e in extraction.human_targets}
    assert "ENRIQUE LOPEZ ALBUJAR" in victims
    assert "HECTOR OQUELI\nCOLINDRES" in victims  # a line break inside a name does not end it
    assert "ALAN GARCIA" not in victims  # the speaker of a statement is not a victim


def test_a_name_before_a_passive_verb_is_a_victim_not_a_perpetrator() -> None:
    text = "Ambassador Juan Perez was killed by gunmen in Lima on Monday, police said."
    extraction = extract_report(text, language="en", published=date(2024, 5, 8))
    assert [e.value for e in extraction.perpetrator_individuals] != ["Juan Perez"]
    assert "Juan Perez" in {e.value for e in extraction.human_targets}


def test_the_dateline_date_is_not_the_event_date() -> None:
    text = (
        "SAN SALVADOR, 27 OCT 89 (ACAN-EFE) -- [TEXT] URBAN GUERRILLAS BOMBED A BUS LAST NIGHT "
        "IN SOYAPANGO, KILLING TWO PEOPLE."
    )
    extraction = extract_report(text, language="en", published=date(1989, 10, 27))
    assert extraction.date == date(1989, 10, 26)


def test_a_date_at_the_start_of_a_sentence_still_counts() -> None:
    text = "19 December: a gunman shot the ambassador dead at an art gallery in Ankara."
    extraction = extract_report(text, language="en", published=date(2016, 12, 20))
    assert extraction.date == date(2016, 12, 19)


def test_a_nationality_before_what_it_qualifies_is_not_a_perpetrator() -> None:
    text = (
        "A truck bomb exploded near Zanbaq Square in Kabul, close to the German embassy, "
        "killing at least ninety people."
    )
    extraction = extract_report(text, language="en", published=date(2017, 5, 31))
    assert "German" not in [e.value for e in extraction.perpetrator_individuals]
    assert "truck" not in [e.value for e in extraction.physical_targets]  # it carried the bomb


def test_the_role_model_keeps_the_victims_and_doers_of_an_all_caps_report() -> None:
    text = (
        "SAN SALVADOR, 12 JAN 90 (RADIO) -- [TEXT] URBAN GUERRILLAS KILLED THREE PEASANTS AND "
        "DESTROYED A BUS WITH DYNAMITE IN SAN MIGUEL TODAY."
    )
    extraction = extract_report(text, language="en", published=date(1990, 1, 12))
    assert role_model("en") is not None and role_model("ru") is None  # ru keeps the rules
    assert [e.value for e in extraction.perpetrator_individuals] == ["URBAN GUERRILLAS"]
    assert [e.value for e in extraction.physical_targets] == ["BUS"]
    assert [e.value for e in extraction.weapon_mentions] == ["DYNAMITE"]


def test_another_kind_of_event_in_the_report_is_named_in_also() -> None:
    text = (
        "Gunmen attacked a patrol and killed two policemen in the north. "
        "In another incident, a bomb exploded outside a bank in the capital."
    )
    extraction = extract_report(text, language="en", published=date(2020, 3, 2))
    assert extraction.type_name == "armed_assault"
    assert [e.value for e in extraction.also] == ["bombing"]


def test_of_a_phrase_and_its_qualified_variant_only_the_likelier_is_kept() -> None:
    def candidate(base: int, first: int, text: str) -> Candidate:
        return Candidate(Hit("victim_noun", "victim_noun", first, 3), base, text, text, ())

    found = [candidate(0, 3, "MINISTER"), candidate(0, 2, "PRESIDENCY MINISTER")]
    found.append(candidate(2, 3, "PEASANTS"))
    assert select(found, [0.4, 0.7, 0.2], 0.3) == [1]  # the variant; PEASANTS too unlikely
    assert select(found, [0.4, 0.1, 0.9], 0.3) == [0, 2]


def test_of_the_perpetrators_only_the_likeliest_group_is_kept() -> None:
    def group(base: int, name: str) -> Candidate:
        return Candidate(Hit("group_name", name, base, base), base, name, name, ())

    found = [group(0, "FMLN"), group(1, "ELN"), group(2, "FPL")]
    assert select(found, [0.5, 0.8, 0.2], 0.3) == [1]


def test_descriptions_are_candidates_with_their_count_and_an_of_phrase() -> None:
    text = (
        "BOGOTA, 3 MAR 90 (EFE) -- [TEXT] GUERRILLAS KILLED THE MAYOR OF ABREGO AND FIVE "
        "SOLDIERS WITH DYNAMITE IN NORTE DE SANTANDER TODAY."
    )
    _, found = read_report(text, language="en", published=date(1990, 3, 3))
    texts = {c.text for c in found}
    assert {"MAYOR OF ABREGO", "FIVE SOLDIERS", "SOLDIERS", "MAYOR"} <= texts


def test_an_all_caps_name_stops_at_a_comma_and_drops_a_possessive() -> None:
    text = (
        "BOGOTA, 18 AUG 89 (EFE) -- [TEXT] GUNMEN MURDERED SENATOR LUIS CARLOS GALAN, ERNESTO "
        "SAMPER SAID TODAY. LUIS CARLOS GALAN'S MURDER SHOCKED THE COUNTRY."
    )
    _, found = read_report(text, language="en", published=date(1989, 8, 18))
    names = {c.text for c in found if c.hit.group == "victim_name"}
    assert names == {"LUIS CARLOS GALAN", "ERNESTO SAMPER"}
