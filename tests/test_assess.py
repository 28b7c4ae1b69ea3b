"""Threat levels: properties that must hold for any incidents, and explanations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from legation.assess.appearances import assess_appearance
from legation.assess.levels import Target, assess
from legation.domain.models import IncidentSummary
from legation.domain.vocab import INCIDENT_TYPES, TARGET_CATEGORIES

AS_OF = datetime(2020, 6, 1, 12, tzinfo=UTC)
SITE = Target(50.0, 10.0, "DE", "FR", diplomatic=True)

incidents = st.builds(
    IncidentSummary,
    id=st.integers(1, 10_000),
    type=st.sampled_from(INCIDENT_TYPES),
    date=st.dates(date(2019, 10, 1), date(2020, 6, 1)),
    lat=st.floats(48.0, 52.0),
    lon=st.floats(8.0, 12.0),
    country=st.sampled_from(["DE", "FR", None]),
    killed=st.integers(0, 300),
    injured=st.integers(0, 1000),
    target_categories=st.lists(st.sampled_from(TARGET_CATEGORIES), max_size=3).map(tuple),
    target_states=st.lists(st.sampled_from(["FR", "DE", "RU"]), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(incidents, max_size=8), incidents)
def test_an_incident_added_nearby_never_lowers_the_level(
    existing: list[IncidentSummary], added: IncidentSummary
) -> None:
    before = assess(SITE, existing, AS_OF)
    after = assess(SITE, [*existing, added], AS_OF)
    assert after.level >= before.level
    assert after.score >= before.score


@settings(max_examples=300, deadline=None)
@given(st.lists(incidents, min_size=1, max_size=8), st.integers(0, 400), st.integers(1, 400))
def test_levels_decay_as_time_passes(found: list[IncidentSummary], start: int, step: int) -> None:
    early = AS_OF + timedelta(days=start)
    late = early + timedelta(days=step)
    assert assess(SITE, found, late).level <= assess(SITE, found, early).level


def test_explanation_names_the_incident_and_why() -> None:
    attack = IncidentSummary(
        7, "assassination", date(2020, 5, 30), 50.01, 10.01, "DE", 1, 0, ("diplomat",), ("FR",)
    )
    result = assess(SITE, [attack], AS_OF)
    assert result.level == 5
    (contribution,) = result.contributions
    assert contribution.incident_id == 7
    assert "diplomats targeted" in contribution.reasons
    assert any("sending state" in r for r in contribution.reasons)


def test_far_and_foreign_incidents_do_not_count() -> None:
    far = IncidentSummary(1, "bombing", date(2020, 5, 30), -33.9, 18.4, "ZA", 50, 100, (), ())
    assert assess(SITE, [far], AS_OF).level == 1


def test_appearance_gets_level_reasons_and_checklist() -> None:
    nearby = IncidentSummary(
        3, "bombing", date(2020, 5, 31), 50.0, 10.0, "DE", 5, 20, ("civilians",), ()
    )
    risk = assess_appearance(
        lat=50.0,
        lon=10.0,
        country_code="DE",
        nationality="FR",
        starts_at=AS_OF + timedelta(days=2),
        incidents=[nearby],
        as_of=AS_OF,
    )
    assert risk.assessment.level >= 3
    assert risk.assessment.incident_ids == [3]
    assert len(risk.checklist) >= 3
