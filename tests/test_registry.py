"""Registry import: the Wikidata embassy CSV, plain CSV, GeoJSON; idempotent; bad rows reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from legation.errors import InputError
from legation.pipeline.registry import import_sites
from legation.storage.tables import SiteRow
from tests.conftest import shared_path


def test_wikidata_registry_imports_all_rows_and_is_idempotent(
    factory: sessionmaker[Session],
) -> None:
    path = shared_path("data", "missions", "embassies-wikidata-2022-11.csv")
    first = import_sites(factory, path)
    assert first.added == 9851 and first.errors == []  # 9,852 rows, one QID twice
    missing = [w for w in first.warnings if "no coordinates" in w]
    assert len(missing) == 9852 - 8720  # rows without coordinates are reported
    assert [w for w in first.warnings if "repeats" in w] == [
        "line 5186: key Q106686567 repeats line 3682; the later row is used"
    ]
    again = import_sites(factory, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 9851)
    with factory() as session:
        site = session.scalar(select(SiteRow).where(SiteRow.key == "Q28667003"))
        assert site is not None
        assert (site.name, site.operator_code, site.country_code) == (
            "Embassy of Russia in Ankara",
            "RU",
            "TR",
        )
        assert session.scalar(select(func.count()).select_from(SiteRow)) == 9851


def test_plain_csv_reports_bad_rows_and_keeps_the_rest(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(
        "key,name,type,operator,country,city,lat,lon\n"
        "a,Embassy A,embassy,France,Kenya,Nairobi,-1.28,36.82\n"
        "b,Embassy B,embassy,France,Kenya,Nairobi,north,36.82\n"
        ",,embassy,France,Kenya,Nairobi,1,1\n"
        "c,Office C,office,France,Kenya,Mombasa,,\n"
        "d,Embassy D,embassy,France,Kenya,Nairobi,95,36\n",
        "utf-8",
    )
    result = import_sites(factory, path)
    assert result.added == 2
    assert [e.split(":")[0] for e in result.errors] == ["line 3 (b)", "line 4", "line 6 (d)"]
    assert "not numbers" in result.errors[0] and "out of range" in result.errors[2]
    path.write_text(
        "key,name,type,operator,country,city,lat,lon\n"
        "a,Embassy A (moved),embassy,France,Kenya,Nairobi,-1.29,36.82\n",
        "utf-8",
    )
    assert import_sites(factory, path).updated == 1


def test_geojson(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "sites.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [13.38, 52.52]},
                        "properties": {
                            "name": "Office Berlin",
                            "operator": "Norway",
                            "country": "Germany",
                            "city": "Berlin",
                        },
                    },
                ],
            }
        ),
        "utf-8",
    )
    result = import_sites(factory, path)
    assert result.added == 1
    with factory() as session:
        site = session.scalar(select(SiteRow))
        assert site is not None and (site.lat, site.lon, site.operator_code) == (52.52, 13.38, "NO")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{", "utf-8")
    with pytest.raises(InputError, match=r"bad\.geojson"):
        import_sites(factory, bad)
