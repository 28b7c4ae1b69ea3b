"""Fixtures of the dashboard tests over HTTP (test_web, test_web_fixes, test_web_partners):
users, a hostile incident and a test client; a module that defines its own ``client`` keeps
it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.storage.db import transaction
from tests.web_data import add_hostile_incident, add_users


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> tuple[int, int]:
    with transaction(factory) as session:
        add_users(session)
        return add_hostile_incident(session)


@pytest.fixture
def client(settings: Settings, seeded: tuple[int, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
