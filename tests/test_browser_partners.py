"""The Partners pages in Debian's Chromium: keyboard, labels, escaping, an admin's grant change.

SQLite only, like tests/test_browser.py; screenshots go to test-artifacts/partners*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from legation.storage.db import make_engine, session_factory, transaction
from legation.storage.migrate import upgrade
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve
from tests.partner_data import HOSTILE_NAME, add_partner_data
from tests.web_data import PASSWORD, add_hostile_incident, add_users

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests "
        "(apt-get install -y chromium; CI does)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    bundle = Path(__file__).resolve().parents[1] / "legation/web/static/build/dashboard.js"
    assert bundle.exists(), f"{bundle} is missing: build the browser code with 'make assets'"
    tmp = tmp_path_factory.mktemp("partners")
    url = f"sqlite:///{tmp / 'legation.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        add_users(session)
        add_hostile_incident(session)
        ids = add_partner_data(session)
    engine.dispose()
    with serve(url, tmp) as base:
        yield {"base": base, **ids}


@pytest.fixture
def page(site: dict[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, base_url=site["base"]
        )
        tab = context.new_page()
        tab.dialogs = []
        tab.console = []
        tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        tab.on("console", lambda m: tab.console.append(f"{m.type}: {m.text}"))
        tab.on("pageerror", lambda e: tab.console.append(f"pageerror: {e}"))
        yield tab
        browser.close()
    problems = [
        c
        for c in tab.console
        if c.startswith("pageerror")
        or "Content Security Policy" in c
        or ("Failed to load resource" in c and not re.search(r"status of 403", c))
    ]
    assert problems == [] and tab.dialogs == []


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, user: str) -> None:
    page.goto("/login?next=/alerts")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/alerts")


def test_admin_reads_partners_and_grants_write_with_the_keyboard(
    page: Any, site: dict[str, Any]
) -> None:
    log_in(page, "admin")
    page.get_by_role("link", name="Partners", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/partners")
    # the hostile name is shown as text, and ran nothing
    assert page.get_by_role("link", name=HOSTILE_NAME).count() == 1
    assert page.title() == "Partners · Legation"
    assert page.locator("table.partners img, table.partners script").count() == 0
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="friendly-cert"))
    assert "TLP:AMBER" in row.inner_text() and "enabled" in row.inner_text()
    publish = page.get_by_role("button", name="Publish now to tr-incidents")
    assert publish.count() == 1
    shot(page, "partners")

    page.get_by_role("link", name="friendly-cert").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/partners/{site['friend']}")
    assert "1234" in page.locator("table.pulls").inner_text()
    write = page.get_by_label("Write tr-incidents")
    assert not write.is_checked() and page.get_by_label("Read tr-incidents").is_checked()
    write.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Save access to tr-incidents"
    page.keyboard.press("Enter")
    page.wait_for_selector("p.notice")
    assert page.locator("p.notice").inner_text() == "Done: access changed."
    assert page.get_by_label("Write tr-incidents").is_checked()
    shot(page, "partner")


def test_viewer_has_no_partners_page(page: Any) -> None:
    log_in(page, "viewer")
    assert page.get_by_role("link", name="Partners", exact=True).count() == 0
    answer = page.goto("/partners")
    assert answer is not None and answer.status == 403
    assert "you need analyst" in page.locator("main").inner_text()
    shot(page, "partners-refused-viewer")
