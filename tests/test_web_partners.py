"""The dashboard's Partners pages over HTTP: roles, CSRF, escaping, grants, sync state."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.domain.clock import utcnow
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.sharing_tables import GrantRow
from tests.partner_data import add_partner_data
from tests.test_web import csrf, login


@pytest.fixture
def ids(factory: sessionmaker[Session], seeded: tuple[int, int]) -> dict[str, object]:
    """The dashboard's users and hostile incident (``seeded``) and the partners' data."""
    with transaction(factory) as session:
        return add_partner_data(session)


@pytest.fixture
def client(settings: Settings, ids: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_partners_need_a_login_and_analyst_role(client: TestClient, ids: dict[str, object]) -> None:
    for path in ("/partners", f"/partners/{ids['friend']}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    login(client, "viewer")
    assert ">Partners</a>" not in client.get("/map").text
    refused = client.get("/partners")
    assert refused.status_code == 403 and "you need analyst" in refused.text
    assert client.get(f"/partners/{ids['friend']}").status_code == 403
    client.cookies.clear()
    login(client, "analyst")
    assert ">Partners</a>" in client.get("/map").text
    assert client.get("/partners").status_code == 200


def test_partners_list_shows_partners_collections_and_sync(
    client: TestClient, ids: dict[str, object]
) -> None:
    login(client, "analyst")
    page = client.get("/partners").text
    assert 'href="/partners/{}">friendly-cert</a>'.format(ids["friend"]) in page
    assert "TLP:AMBER" in page and "TLP:GREEN" in page
    assert "tr-incidents" in page and "incidents in TR" in page
    row = re.search(r"friendly-cert</a></th>(.*?)</tr>", page, re.S)
    assert row is not None
    cells = row[1]
    assert "enabled" in cells and "read + write" in cells and "(read)" in cells
    # last write is the later of the two statuses, the pull state's time is now-ish
    assert utcnow().strftime("%Y-%m-%d") in cells
    # an analyst sees no management form
    assert "Publish now" not in page and 'name="csrf" value' not in page.split("</header>")[1]
    body = page.split("</header>")[1]
    assert " style=" not in body and "<script" not in body


def test_hostile_partner_name_and_organisation_are_escaped(
    client: TestClient, ids: dict[str, object]
) -> None:
    login(client, "admin")
    for path in ("/partners", f"/partners/{ids['hostile']}", f"/partners/{ids['friend']}"):
        page = client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "<i>friends</i>" not in page and "<b>x</b>" not in page, path
    detail = client.get(f"/partners/{ids['hostile']}").text
    assert "&lt;script&gt;alert(&#34;p&#34;)&lt;/script&gt;Evil &#34;partner&#34;" in detail
    assert "identity--&lt;img src=x onerror=alert(5)&gt;" in detail
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", detail) == []


def test_partner_page_shows_grants_writes_and_pulls(
    client: TestClient, ids: dict[str, object]
) -> None:
    login(client, "analyst")
    page = client.get(f"/partners/{ids['friend']}").text
    assert "2 accepted, 1 refused; 2 requests in all" in page
    assert "2026-11-29T10:00:00.123455Z" in page and "<td>1234</td>" in page
    assert 'action="/partners/' not in page  # analysts cannot change grants
    missing = client.get("/partners/999999")
    assert missing.status_code == 404 and "partner number 999999 does not exist" in missing.text
    assert client.get("/partners/abc").status_code == 400


def test_only_an_admin_changes_access_with_a_csrf_token(
    client: TestClient, factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    path = f"/partners/{ids['hostile']}/access"
    form = {"collection": str(ids["inbox"]), "read": "on", "write": "on"}
    login(client, "analyst")
    refused = client.post(path, data={**form, "csrf": csrf(client, "/partners")})
    assert refused.status_code == 403 and "you need admin" in refused.text
    client.cookies.clear()
    login(client, "admin")
    assert client.post(path, data=form).status_code == 400  # no token
    assert client.post(path, data={**form, "csrf": "forged"}).status_code == 400
    token = csrf(client, f"/partners/{ids['hostile']}")
    with factory() as session:
        assert session.get(GrantRow, (ids["hostile"], ids["inbox"])) is None
    done = client.post(path, data={**form, "csrf": token})
    assert done.status_code == 200 and "Done: access changed" in done.text
    with factory() as session:
        row = session.get(GrantRow, (ids["hostile"], ids["inbox"]))
        assert row is not None and row.can_read and row.can_write
    read_only = client.post(
        path, data={"collection": str(ids["inbox"]), "read": "on", "csrf": token}
    )
    assert read_only.status_code == 200
    with factory() as session:
        row = session.get(GrantRow, (ids["hostile"], ids["inbox"]))
        assert row is not None and row.can_read and not row.can_write
    removed = client.post(path, data={"collection": str(ids["inbox"]), "csrf": token})
    assert "Done: access removed" in removed.text
    with factory() as session:
        assert session.get(GrantRow, (ids["hostile"], ids["inbox"])) is None
    unknown = client.post(path, data={"collection": "<nope>", "read": "on", "csrf": token})
    assert unknown.status_code == 422 and "collection &#39;&lt;nope&gt;&#39; does not exist" in (
        unknown.text
    )
    gone = client.post("/partners/999999/access", data={**form, "csrf": token})
    assert gone.status_code == 404
    with factory() as session:
        grants = session.scalars(select(GrantRow)).all()
        assert len(grants) == 3  # the seeded grants, nothing half-written


def test_admin_publishes_a_collection_now(client: TestClient, ids: dict[str, object]) -> None:
    path = f"/partners/collections/{ids['turkey']}/publish"
    login(client, "analyst")
    assert client.post(path, data={"csrf": csrf(client, "/partners")}).status_code == 403
    client.cookies.clear()
    login(client, "admin")
    page = client.get("/partners").text
    assert 'action="/partners/collections/{}/publish"'.format(ids["turkey"]) in page
    assert client.post(path, data={}).status_code == 400
    done = client.post(path, data={"csrf": csrf(client, "/partners")})
    assert done.status_code == 200
    found = re.search(r"collection tr-incidents published: (\d+) incidents, (\d+) new", done.text)
    assert found is not None and int(found[1]) >= 1 and int(found[2]) > 0
    again = client.post(path, data={"csrf": csrf(client, "/partners")})
    assert f"published: {found[1]} incidents, 0 new object versions" in again.text
    row = re.search(r"tr-incidents<div.*?</tr>", again.text, re.S)
    assert row is not None and f"<td>{found[2]}</td>" in row[0]
    # a forged message in the address is not shown
    forged = client.get("/partners?done=published&collection=x&incidents=1&added=2").text
    assert "published:" not in forged
