"""The dashboard's screening page over HTTP: one query, a batch with progress, decisions;
names from the lists are hostile input too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app  # first: legation.web needs the API loaded
from legation.sanctions.service import update_lists
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.screening import ScreeningDecisionRow
from tests.http_fixture import Answer, LocalServer
from tests.test_web import csrf, login
from tests.web_data import add_users

HOSTILE_NAME = '<img src=x onerror="alert(1)">Ivan Hostile<script>alert(2)</script>'
ENTITIES = [
    {
        "id": "t-hostile",
        "schema": "Person",
        "datasets": ["test"],
        "properties": {"name": [HOSTILE_NAME], "birthDate": ["1970-01-01"]},
    },
    {
        "id": "t-petrov",
        "schema": "Person",
        "datasets": ["test"],
        "properties": {"name": ["Sergei Petrov"], "birthDate": ["1965-05-05"]},
    },
]


@pytest.fixture
def client(
    settings: Settings, factory: sessionmaker[Session], local_server: LocalServer
) -> Iterator[TestClient]:
    body = "\n".join(json.dumps(e) for e in ENTITIES).encode()
    local_server.routes["/ftm.json"] = lambda _seen: Answer(200, body)
    settings = settings.model_copy(
        update={"screening_ftm_url": local_server.url("/ftm.json"), "screening_sources": "ftm"}
    )
    with transaction(factory) as session:
        add_users(session)
    with httpx.Client() as http:
        [report] = update_lists(factory, settings, http)
    assert report.status == "new", report.message
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_screen_one_name_shows_hits_explanations_and_list_versions(client: TestClient) -> None:
    login(client, "viewer")
    page = client.get("/screening").text
    assert 'href="/screening" aria-current="page"' in page and "ftm" in page
    assert 'action="/screening"' not in page  # viewers read only
    refused = client.post("/screening", data={"csrf": csrf(client, "/screening"), "name": "x"})
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, "analyst")
    token = csrf(client, "/screening")
    empty = client.post("/screening", data={"csrf": token, "name": " "})
    assert empty.status_code == 400 and "name is empty" in empty.text
    bad_date = client.post(
        "/screening", data={"csrf": token, "name": "Petrov", "birth_date": "1999-13"}
    )
    assert bad_date.status_code == 400 and "birth_date &#39;1999-13&#39;" in bad_date.text
    assert 'value="Petrov"' in bad_date.text  # the form keeps what was typed
    done = client.post(
        "/screening",
        data={"csrf": token, "name": "Sergei Petrov", "schema": "Person", "birth_date": "1965"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    result = client.get(done.headers["location"]).text
    assert "Sergei Petrov" in result and "ftm version #1" in result
    assert "score" in result and "birth date" in result  # per-feature explanation rows
    assert 'aria-label="Decision on Sergei Petrov"' in result


def test_list_names_are_escaped_and_decisions_are_recorded(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst")
    token = csrf(client, "/screening")
    done = client.post(
        "/screening",
        data={"csrf": token, "name": HOSTILE_NAME, "schema": "Person"},
        follow_redirects=False,
    )
    location = done.headers["location"]
    sid = int(location.rsplit("/", 1)[1])
    page = client.get(location).text
    assert "<script>alert(2)" not in page and "<img src=x" not in page
    escaped = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Ivan Hostile&lt;script&gt;"
    assert page.count(escaped) >= 2  # the query in the heading, the list's caption in the hit
    assert 'id="hit-1"' in page
    whitelist = client.post(
        f"/screening/{sid}/decisions",
        data={"csrf": token, "entity_id": "t-hostile", "decision": "whitelisted", "reason": ""},
    )
    assert whitelist.status_code == 400 and "a whitelisting needs a reason" in whitelist.text
    reason = "<b>not him</b>: born 1990"
    ok = client.post(
        f"/screening/{sid}/decisions",
        data={"csrf": token, "entity_id": "t-hostile", "decision": "whitelisted", "reason": reason},
    )
    assert ok.status_code == 200 and "Done: decision recorded" in ok.text
    assert "Whitelisted by analyst" in ok.text and "&lt;b&gt;not him&lt;/b&gt;" in ok.text
    with factory() as session:
        [row] = session.query(ScreeningDecisionRow).all()
        assert row.decision == "whitelisted" and row.user == "analyst"
    forged = client.post(
        f"/screening/{sid}/decisions",
        data={"csrf": "x", "entity_id": "t-hostile", "decision": "true_match"},
    )
    assert forged.status_code == 400
    client.cookies.clear()
    login(client, "viewer")
    viewer_page = client.get(location).text
    assert "Whitelisted by analyst" in viewer_page and "/decisions" not in viewer_page
    refused = client.post(
        f"/screening/{sid}/decisions",
        data={"csrf": csrf(client, location), "entity_id": "t-hostile", "decision": "true_match"},
    )
    assert refused.status_code == 403


def test_batch_screens_rows_names_bad_ones_and_shows_progress(client: TestClient) -> None:
    login(client, "analyst")
    token = csrf(client, "/screening")
    rows = "name,schema,birth_date,country\nSergei Petrov,Person,1965,\n ,Person,,\nX,Alien,,\n"
    started = client.post(
        "/screening/batch",
        data={"csrf": token, "format": "csv", "rows": rows},
        follow_redirects=False,
    )
    assert started.status_code == 303
    location = started.headers["location"]
    for _ in range(100):
        page = client.get(location).text
        if "Done:" in page:
            break
        assert 'http-equiv="refresh"' in page and "<progress" in page
        time.sleep(0.05)
    assert "Done: 3 of 3 rows screened, 2 with a problem" in page
    assert 'http-equiv="refresh"' not in page
    assert "Line 3: name is empty" in page
    assert "Line 4: schema &#39;Alien&#39; is unknown" in page
    assert "<td>2</td><td>Sergei Petrov</td><td>1</td>" in page, page
    jsonl = '{"name": "Ivan Hostile"}\nnot json\n[1]\n'
    started = client.post(
        "/screening/batch", data={"csrf": token, "format": "jsonl", "rows": jsonl}
    )
    for _ in range(100):
        if "Done:" in started.text:
            break
        time.sleep(0.05)
        started = client.get(str(started.url))
    assert "Line 2: not JSON" in started.text and "Line 3: not a JSON object" in started.text
    assert "<script>alert(2)" not in started.text
    no_header = client.post(
        "/screening/batch", data={"csrf": token, "format": "csv", "rows": "Petrov\n"}
    )
    assert no_header.status_code == 400 and "header line with a &#39;name&#39; column" in (
        no_header.text
    )
    client.cookies.clear()
    login(client, "viewer")
    assert client.get(location).status_code == 404  # a batch is its owner's
