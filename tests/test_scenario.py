"""The Ankara 2016 scenario, end to end, checked against its expected.json."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from legation.pipeline.scenario import run_scenario
from tests.conftest import shared_path
from tests.scenario_check import check_scenario


def _registry(folder: Path) -> list[dict[str, str]]:
    spec = json.loads((folder / "scenario.json").read_text("utf-8"))
    with (folder / spec["registry"]).open(encoding="utf-8") as handle:
        return [
            {
                "key": row["QID"].rsplit("/", 1)[-1],
                "operator": row["operator"],
                "country": row["country"],
                "city": row["city"],
            }
            for row in csv.DictReader(handle, delimiter=";")
        ]


def _expected(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "expected.json").read_text("utf-8")))


def test_scenario_command_meets_every_expectation() -> None:
    """The contract: `legation scenario PATH --format json`, cold start, under 60 s."""
    folder = shared_path("scenarios", "ankara-2016")
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "legation", "scenario", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert check_scenario(result, _expected(folder), _registry(folder)) == []
    assert elapsed < 60, f"scenario took {elapsed:.1f} s"


def test_scenario_on_each_backend(database_url: str) -> None:
    folder = shared_path("scenarios", "ankara-2016")
    result = run_scenario(folder, database_url=database_url)
    assert check_scenario(result, _expected(folder), _registry(folder)) == []


@pytest.mark.parametrize("missing", ["karlov", "berlin"])
def test_checker_notices_a_wrong_conclusion(missing: str) -> None:
    """The checker itself fails when the conclusion is wrong (guards against a vacuous test)."""
    folder = shared_path("scenarios", "ankara-2016")
    result = run_scenario(folder)
    if missing == "karlov":
        for incident in result["incidents"]:
            incident["victims"] = []
    else:
        result["incidents"] = [
            i for i in result["incidents"] if "report-en-berlin.txt" not in i["reports"]
        ]
    assert check_scenario(result, _expected(folder), _registry(folder)) != []
