"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium.

Runs on SQLite only (the HTTP tests in test_web.py cover both backends) to keep CI time down.
Screenshots of every page go to test-artifacts/ (git-ignored). Skipped with the reason when
/usr/bin/chromium is missing; CI installs it (.ci/run).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from legation.domain.clock import utcnow
from legation.pipeline.scenario import run_scenario
from legation.sanctions.service import update_lists
from legation.settings import Settings
from legation.storage.db import make_engine, session_factory, transaction
from legation.storage.tables import AlertRow, IncidentRow, SiteRow
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve
from tests.conftest import SHARED, shared_path
from tests.http_fixture import Answer, LocalServer
from tests.web_data import PASSWORD, add_hostile_incident, add_users

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
RUSSIAN_EMBASSY = "Q28667003"

# In CI (CI=true) nothing may be skipped: a missing browser or data folder fails the tests.
IN_CI = os.environ.get("CI", "").lower() == "true"

if not CHROMIUM.exists():
    if IN_CI:
        raise RuntimeError(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium")
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests "
        "(apt-get install -y chromium; CI does)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The Ankara scenario run into a SQLite database, users, a hostile report, a live server."""
    bundle = Path(__file__).resolve().parents[1] / "legation/web/static/build/dashboard.js"
    assert bundle.exists(), f"{bundle} is missing: build the browser code with 'make assets'"
    if IN_CI and not SHARED.joinpath("scenarios", "ankara-2016").exists():
        pytest.fail(f"{SHARED} has no scenarios/ankara-2016 in CI: the browser tests need it")
    folder = shared_path("scenarios", "ankara-2016")
    tmp = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{tmp / 'legation.db'}"
    run_scenario(folder, database_url=url)
    engine = make_engine(url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        add_users(session)
        hostile_incident, _ = add_hostile_incident(session, date(2016, 12, 18))
    with factory() as session:
        site = session.query(SiteRow).filter_by(key=RUSSIAN_EMBASSY).one()
        alert = session.query(AlertRow).filter_by(site_id=site.id).first()
        assert alert is not None, "the scenario raised no alert for the Russian embassy"
        facts = {"site_name": site.name, "alert_id": alert.id, "hostile": hostile_incident}
    engine.dispose()
    with serve(url, tmp) as base:
        yield {"base": base, "url": url, **facts}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, dashboard: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=dashboard["base"]
    )
    tab = context.new_page()
    tab.dialogs = []
    tab.console = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("console", lambda m: tab.console.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: tab.console.append(f"pageerror: {e}"))
    yield tab
    context.close()
    # Every page the test opened ran without a script error, a blocked script or style, or a
    # missing resource (a refused login or action answers 401 or 403 on purpose, a form sent
    # back with its problem named 400).
    problems = [
        c
        for c in tab.console
        if c.startswith("pageerror")
        or "Content Security Policy" in c
        or ("Failed to load resource" in c and not re.search(r"status of 40[013]", c))
    ]
    assert problems == []


def shot(page: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def log_in(page: Any, user: str) -> None:
    """Log in with the keyboard only: type, tab, type, Enter."""
    page.goto("/login?next=/map")
    page.get_by_label("User name").fill(user)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/map")


def wait_for_map(page: Any) -> None:
    page.wait_for_selector("#map[data-ready=true]", state="attached")


def test_login_page_and_wrong_password(page: Any) -> None:
    page.goto("/map")
    assert "/login" in page.url
    shot(page, "login")
    page.get_by_label("User name").fill("analyst")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."


def test_map_shows_the_russian_embassy_at_the_top_level(
    page: Any, dashboard: dict[str, Any]
) -> None:
    log_in(page, "analyst")
    wait_for_map(page)
    shot(page, "map")
    first = page.locator("#threatened li").first
    assert first.get_attribute("data-site") == RUSSIAN_EMBASSY
    assert "5 · Critical" in first.inner_text() and dashboard["site_name"] in first.inner_text()
    assert "Assassination, Ankara" in page.locator("#latest-incidents").inner_text()
    found = page.evaluate(f"window.legationMap.findSite('{RUSSIAN_EMBASSY}')")
    assert found is not None and found["level"] == 5
    assert found.get("clusterLevel", 5) == 5  # a cluster holding it shows the top level's colour
    shot(page, "map")

    page.get_by_label("Incidents in").select_option("0")
    page.get_by_label("Country").select_option("TR")
    page.get_by_label("Sites at level").select_option("5")
    assert page.evaluate("window.legationMap.state.counts.sites") >= 1
    found = page.evaluate(f"window.legationMap.findSite('{RUSSIAN_EMBASSY}')")
    assert found == {"level": 5, "clustered": False}
    assert page.evaluate("window.legationMap.timings.lastFilterMs") > 0
    shot(page, "map-filtered-turkey")


def test_a_filter_leaving_one_place_keeps_the_map_drawn(
    page: Any, dashboard: dict[str, Any]
) -> None:
    """Two sites at one coordinate, then one site: d3 fits a point at an infinite scale, which
    made NaN positions and a NaN supercluster zoom (a page error). A far-future incident is not
    "recent" and falls out of every time window."""
    engine = make_engine(dashboard["url"])
    with transaction(session_factory(engine)) as session:
        now = utcnow()
        for key, level in (("Q-reykjavik-1", 3), ("Q-reykjavik-2", 4)):
            session.add(
                SiteRow(
                    key=key,
                    name=f"Embassy {key}",
                    type="embassy",
                    operator="Test",
                    operator_code="DE",
                    country="Iceland",
                    country_code="IS",
                    city="Reykjavik",
                    lat=64.14,
                    lon=-21.94,
                    level=level,
                    score=1.0,
                    reasons=[],
                    created_at=now,
                    updated_at=now,
                )
            )
        session.add(
            IncidentRow(
                type="threat",
                weapon="unknown",
                date=date(2099, 1, 1),
                place_name="Reykjavik",
                country="IS",
                lat=64.14,
                lon=-21.94,
                precision="city",
                killed=0,
                injured=0,
                target_categories=[],
                target_states=[],
                victims=[],
                perpetrators=[],
                organizations=[],
                confidence=0.5,
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()
    log_in(page, "viewer")
    wait_for_map(page)
    page.get_by_label("Country").select_option("IS")
    for level, sites in (("3", 2), ("4", 1)):
        page.get_by_label("Sites at level").select_option(level)
        assert page.evaluate("window.legationMap.state.counts.sites") == sites
        scale = page.evaluate("window.legationMap.state.proj.scale()")
        assert 0 < scale < 1e9
        x, y = page.evaluate("window.legationMap.state.proj([-21.94, 64.14])")
        assert 0 < x < 1400 and 0 < y < 900
        assert page.evaluate("window.legationMap.state.drawn.length") >= 1
        assert "on the map" in page.locator("#map-status").inner_text()
    shot(page, "map-one-place")
    assert page.evaluate("window.legationMap.state.counts.incidents") == 0  # 2099: not in 30 days
    page.get_by_label("Incidents in").select_option("0")
    assert page.evaluate("window.legationMap.state.counts.incidents") == 1  # all time: shown


def test_clicking_a_site_on_the_map_opens_its_page(page: Any) -> None:
    log_in(page, "viewer")
    wait_for_map(page)
    page.get_by_label("Country").select_option("TR")
    where = page.evaluate(
        f"""() => {{
          const map = window.legationMap;
          const i = map.state.data.sites.key.indexOf('{RUSSIAN_EMBASSY}');
          const found = map.state.drawn.find((d) => !d.item.properties.cluster
            && d.item.properties.kind === 'site' && d.item.properties.i === i);
          return found && {{ x: found.x, y: found.y }};
        }}"""
    )
    assert where is not None
    page.locator("#map-canvas").hover(position=where)
    assert page.locator("#map-tip").inner_text().startswith("Embassy of Russia in Ankara")
    page.locator("#map-canvas").click(position=where)
    page.wait_for_url(f"**/sites/{RUSSIAN_EMBASSY}")


def test_keyboard_opens_a_mark_under_the_cross(page: Any) -> None:
    log_in(page, "viewer")
    wait_for_map(page)
    page.get_by_label("Incidents in").select_option("0")
    page.get_by_label("Incident type").select_option("assassination")
    page.get_by_label("Country").select_option("TR")
    page.get_by_label("Sites at level").select_option("5")
    page.locator("#map-canvas").focus()  # the view now fits Ankara: a site and an incident
    assert "Press Enter to open." in page.locator("#map-tip").inner_text()
    shot(page, "map-keyboard", full_page=False)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path.startswith(("/sites/", "/incidents/")))


def test_keyboard_reaches_skip_link_and_zooms_the_map(page: Any) -> None:
    log_in(page, "viewer")
    wait_for_map(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.locator("#map-canvas").focus()
    before = page.evaluate("window.legationMap.state.proj.scale()")
    page.keyboard.press("+")
    assert page.evaluate("window.legationMap.state.proj.scale()") > before


def test_incident_page_shows_three_reports_with_spans(page: Any, dashboard: dict[str, Any]) -> None:
    log_in(page, "viewer")
    page.get_by_role("link", name=dashboard["site_name"]).first.click()
    page.wait_for_url(f"**/sites/{RUSSIAN_EMBASSY}")
    assert "5 · Critical" in page.locator(".lead").inner_text()
    assert page.locator("svg.chart").count() == 1
    shot(page, "site")
    page.locator("table a[href^='/incidents/']").first.click()
    page.wait_for_url("**/incidents/*")
    reports = page.locator("article.report")
    assert reports.count() == 3
    assert sorted(reports.nth(i).get_attribute("lang") for i in range(3)) == ["en", "ru", "tr"]
    for i in range(3):
        assert reports.nth(i).locator("mark").count() >= 2, reports.nth(i).inner_text()[:200]
    assert "Assassination" in page.locator("h1").inner_text()
    assert page.locator("a[href='/sites/" + RUSSIAN_EMBASSY + "']").count() == 1
    shot(page, "incident")


def test_analyst_acknowledges_the_alert(page: Any, dashboard: dict[str, Any]) -> None:
    log_in(page, "analyst")
    page.goto("/alerts")
    item = page.locator(f"#alert-{dashboard['alert_id']}")
    shot(page, "alerts", full_page=False)
    assert (
        page.locator("ul.alerts > li").first.get_attribute("id") == f"alert-{dashboard['alert_id']}"
    )
    item.get_by_label("Note").fill("Ambassador's team informed")
    item.get_by_role("button", name="Acknowledge").click()
    assert page.get_by_role("status").first.inner_text() == "Done: acknowledged."
    page.goto("/alerts?state=acknowledged")
    done = page.locator(f"#alert-{dashboard['alert_id']}")
    assert "acknowledged by analyst" in done.inner_text()
    assert done.locator(".state").text_content() == "Acknowledged"
    shot(page, "alerts-acknowledged", full_page=False)


def test_inbox_says_when_new_alerts_arrive(page: Any, dashboard: dict[str, Any]) -> None:
    log_in(page, "viewer")
    page.goto("/alerts")
    live = page.locator("#alert-live")
    page.evaluate("window.legationInbox.check()")
    assert live.inner_text() == ""
    engine = make_engine(dashboard["url"])
    with transaction(session_factory(engine)) as session:
        now = utcnow()
        session.add(
            AlertRow(
                dedup_key="browser-new",
                level=3,
                title="A new alert",
                body="",
                state="new",
                escalations=0,
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()
    page.evaluate("window.legationInbox.check()")  # what the page does every 10 s
    assert "New alerts have arrived" in live.inner_text()
    live.get_by_role("link", name="Show them").click()
    assert page.locator("h2", has_text="A new alert").count() == 1


def test_inbox_announces_escalations_and_an_expired_session(
    page: Any, dashboard: dict[str, Any]
) -> None:
    engine = make_engine(dashboard["url"])
    factory = session_factory(engine)
    with transaction(factory) as session:
        now = utcnow()
        alert = AlertRow(
            dedup_key="browser-escalate",
            level=4,
            title="Soon escalated",
            body="",
            state="new",
            escalations=0,
            created_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.flush()
        alert_id = alert.id
    log_in(page, "viewer")
    page.goto("/alerts")
    live = page.locator("#alert-live")
    escalated_tab = page.locator('.tabs .count[data-state="escalated"]')
    before = int(escalated_tab.inner_text())
    page.evaluate("window.legationInbox.check()")
    assert live.inner_text() == ""
    with transaction(factory) as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        row.state, row.escalations, row.updated_at = "escalated", 1, utcnow()
    engine.dispose()
    page.evaluate("window.legationInbox.check()")
    assert "1 more alert has been escalated" in live.inner_text()
    assert int(escalated_tab.inner_text()) == before + 1
    shot(page, "alerts-escalated", full_page=False)
    page.context.clear_cookies()
    page.evaluate("window.legationInbox.check()")
    assert "Your session has expired" in live.inner_text()
    live.get_by_role("link", name="Log in again").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    assert page.locator('input[name="next"]').input_value() == "/alerts?state=open"


def test_viewer_is_refused(page: Any, dashboard: dict[str, Any]) -> None:
    log_in(page, "viewer")
    page.goto("/alerts?state=new")
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    token = page.locator("input[name=csrf]").first.input_value()
    answer = page.request.post(
        f"/alerts/{dashboard['alert_id']}/state", form={"state": "acknowledged", "csrf": token}
    )
    assert answer.status == 403 and "you need analyst" in answer.text()
    page.goto("/appearances")
    assert "needs the analyst role" in page.locator("main").inner_text()
    shot(page, "viewer-appearances")


def test_hostile_report_executes_nothing(page: Any, dashboard: dict[str, Any]) -> None:
    log_in(page, "analyst")
    for path in (f"/incidents/{dashboard['hostile']}", "/alerts", "/sites/Q-izmir", "/map"):
        answer = page.goto(path)
        page.wait_for_load_state("load")
        assert page.locator("[onerror], [onmouseover]").count() == 0, path
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0, path
        # The title is still the one the server sent: no script of the report's ran to change it.
        sent = re.search(r"<title>(.*?)</title>", answer.text(), re.S)
        assert sent is not None and page.title() == " ".join(html.unescape(sent[1]).split()), path
    page.goto(f"/incidents/{dashboard['hostile']}")
    text = page.locator("article.report .text").inner_text()
    assert '<img src=x onerror="alert(2)">' in text and "<script>" in text
    assert page.locator("article.report mark").count() == 3
    shot(page, "incident-hostile")
    assert page.dialogs == []
    assert [c for c in page.console if "Content Security Policy" in c or "pageerror" in c] == []


def test_plan_an_appearance_in_the_browser(page: Any) -> None:
    log_in(page, "analyst")
    page.goto("/appearances")
    page.get_by_label("New person's name").fill("Ambassador A. Karlov")
    page.get_by_label("Role").fill("Ambassador")
    page.get_by_label("Mission (site key, optional)").fill(RUSSIAN_EMBASSY)
    page.get_by_label("Nationality").fill("Russia")
    page.get_by_label("Venue").fill("Çağdaş Sanat Merkezi, Ankara")
    page.get_by_label("Country").fill("Turkey")
    page.get_by_label("Latitude").fill("39.9087")
    page.get_by_label("Longitude").fill("32.8597")
    page.get_by_label("Starts").fill("2016-12-19T18:00")
    page.get_by_label("Ends").fill("2016-12-19T20:00")
    shot(page, "appearances")
    page.get_by_role("button", name="Plan and assess").click()
    page.wait_for_url("**/appearances/*")
    assert "Ambassador A. Karlov at Çağdaş Sanat Merkezi, Ankara" in page.locator("h1").inner_text()
    assert page.locator("ol.checklist li").count() >= 1
    shot(page, "appearance")
    page.goto(f"/sites/{RUSSIAN_EMBASSY}")
    assert (
        page.get_by_role("link", name="Ambassador A. Karlov at Çağdaş Sanat Merkezi").count() == 1
    )


def test_admin_adds_a_user(page: Any) -> None:
    log_in(page, "admin")
    page.get_by_role("link", name="Users").click()
    page.get_by_label("User name").fill("duty-officer")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_label("Password (10 characters or more)").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    assert page.get_by_role("status").first.inner_text() == "Done: user created."
    name_cell = page.locator("td").filter(has_text=re.compile(r"^duty-officer$"))
    assert name_cell.count() == 1
    row = page.locator("tr", has=name_cell)
    row.get_by_role("button", name="Disable").click()
    assert "user disabled" in page.get_by_role("status").first.inner_text()
    row = page.locator("tr", has=page.locator("td").filter(has_text=re.compile(r"^duty-officer$")))
    assert "disabled" in row.inner_text()
    row.get_by_label("Role of duty-officer").select_option("viewer")
    row.get_by_role("button", name="Set role").click()
    assert page.get_by_role("status").first.inner_text() == "Done: role changed."
    shot(page, "users")


def test_screening_page_in_the_browser(
    page: Any, dashboard: dict[str, Any], local_server: LocalServer, tmp_path: Path
) -> None:
    """No list is loaded in this database: the page says so, the form names the refusal; a
    batch runs to its end with the problems named (a screening store with a list is tested
    over HTTP in test_web_screening.py)."""
    log_in(page, "analyst")
    page.get_by_role("link", name="Screening").click()
    assert "No sanctions list is loaded" in page.locator("main").inner_text()
    page.get_by_label("Name", exact=True).fill('<img src=x onerror="alert(1)">Petrov')
    page.get_by_label("Kind").select_option("Person")
    page.get_by_label("Birth date (optional").fill("1965")
    page.keyboard.press("Enter")
    assert "no sanctions list is loaded yet" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Name", exact=True).input_value().endswith("Petrov")
    page.get_by_label("Rows (or paste them here").fill("name\nPetrov\n")
    page.get_by_role("button", name="Screen the batch").click()
    page.wait_for_selector("text=Done: 1 of 1 rows screened")
    assert "no sanctions list is loaded yet" in page.locator(".problems").inner_text()
    shot(page, "screening-batch")
    page.goto("/screening")
    shot(page, "screening")

    # A list arrives (FollowTheMoney JSON lines from a local server); its names are hostile.
    hostile = '<img src=x onerror="alert(1)">Sergei Petrov<script>alert(2)</script>'
    entities = [
        {
            "id": "t-petrov",
            "schema": "Person",
            "datasets": ["test"],
            "properties": {"name": ["Sergei Petrov", hostile], "birthDate": ["1965-05-05"]},
        }
    ]
    body = "\n".join(json.dumps(e) for e in entities).encode()
    local_server.routes["/ftm.json"] = lambda _seen: Answer(200, body)
    settings = Settings(
        environment="test",
        database_url=dashboard["url"],
        data_dir=tmp_path,
        admin_api_key="test-admin-key",  # type: ignore[arg-type]
        screening_ftm_url=local_server.url("/ftm.json"),
        screening_sources="ftm",
    )
    engine = make_engine(dashboard["url"])
    with httpx.Client() as http:
        [report] = update_lists(session_factory(engine), settings, http)
    engine.dispose()
    assert report.status == "new", report.message
    page.reload()
    page.get_by_label("Name", exact=True).fill("Sergei Petrov")
    page.get_by_label("Kind").select_option("Person")
    page.get_by_label("Birth date (optional").fill("1965")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.wait_for_url(re.compile(r"/screening/\d+$"))
    hit = page.locator("#hit-1")
    assert "Sergei Petrov" in hit.locator("h2").inner_text() and "match" in hit.inner_text()
    assert page.locator("table.features tbody tr").count() >= 2  # per-feature explanation
    assert "ftm version #" in page.locator("main").inner_text()
    assert page.locator("[onerror]").count() == 0
    hit.get_by_label("Decision", exact=True).select_option("whitelisted")
    hit.get_by_label("Reason", exact=True).fill("born 1990, not him")
    hit.get_by_role("button", name="Record").click()
    assert page.get_by_role("status").first.inner_text() == "Done: decision recorded."
    assert "Whitelisted by analyst" in page.locator("#hit-1").inner_text()
    shot(page, "screening-result")
    assert page.dialogs == []
