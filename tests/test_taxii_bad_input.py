"""Bad input a JSON parser lets through is answered precisely, never with a 500: a lone
surrogate in a string and a number out of range fail their own object (the others are
stored), JSON nested too deeply is a 400 TAXII error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.partners.client import Remote, pull
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.taxii import create_collection
from tests.http_fixture import Answer, LocalServer
from tests.taxii_fixtures import ROOT, TAXII, Setup, h, make_setup, note


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    small = settings.model_copy(update={"taxii_max_content_length": 200_000})
    with TestClient(create_app(small), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(client: TestClient, setup: Setup, raw: str | bytes) -> Any:
    return client.post(
        f"{ROOT}/collections/{setup.collection}/objects/",
        content=raw,
        headers=h(setup.writer_key, **{"Content-Type": TAXII}),
    )


def _bad_batch() -> str:
    surrogate = note(2, content="bad \ud800 text")
    key = note(3)
    key["x_\ud800"] = 1  # in a property name
    big = note(4, x_big=0)
    # json.dumps writes the lone surrogates as \ud800 escapes, valid JSON text
    raw = json.dumps({"objects": [note(1), surrogate, key, big, note(5)]})
    return raw.replace('"x_big": 0', '"x_big": 1e400')


def _check_failures(failures: list[dict[str, str]]) -> None:
    failed = {f["id"]: f["message"] for f in failures}
    assert set(failed) == {note(n)["id"] for n in (2, 3, 4)}
    assert "lone UTF-16 surrogate" in failed[note(2)["id"]] and "content" in failed[note(2)["id"]]
    assert "property name" in failed[note(3)["id"]]
    assert "1e400" in failed[note(4)["id"]] and "x_big" in failed[note(4)["id"]]


def test_bad_strings_and_numbers_fail_their_object(client: TestClient, setup: Setup) -> None:
    answer = _post(client, setup, _bad_batch())
    assert answer.status_code == 202, answer.text
    status = answer.json()
    assert [s["id"] for s in status["successes"]] == [note(1)["id"], note(5)["id"]]
    _check_failures(status["failures"])
    c = f"{ROOT}/collections/{setup.collection}/objects"
    for n, code in ((1, 200), (2, 404), (4, 404), (5, 200)):
        assert client.get(f"{c}/{note(n)['id']}/", headers=h(setup.writer_key)).status_code == code
    # the status resource, stored with the failures, reads back
    again = client.get(f"{ROOT}/status/{status['id']}/", headers=h(setup.writer_key))
    assert again.status_code == 200 and again.json()["failure_count"] == 3


def test_deep_nesting_is_a_400(client: TestClient, setup: Setup) -> None:
    for deep in (
        b'{"objects": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}",
        b'{"objects": [' + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"]}",
    ):
        answer = _post(client, setup, deep)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == TAXII
        assert "nested too deeply" in answer.json()["description"]
    # nested within what the parser takes: the object is checked and answered, no 500
    answer = _post(client, setup, json.dumps({"objects": [note(6, x_deep=[[[[[]]]]])]}))
    assert answer.status_code == 202


def test_a_pull_refuses_the_same_objects(
    local_server: LocalServer, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        policy = {"max_tlp": "amber+strict", "default_tlp": "green"}
        create_collection(session, title="inbox", alias="inbox", description="", policy=policy)
    raw = '{"more": false, "objects": ' + _bad_batch()[len('{"objects": ') :]
    local_server.routes["/c/objects/"] = lambda _seen: Answer(
        200, raw.encode(), {"Content-Type": TAXII}
    )
    result = pull(factory, partner="odd", remote=Remote(local_server.url("/c/")), into="inbox")
    assert result.added == 2
    _check_failures(result.refused)
