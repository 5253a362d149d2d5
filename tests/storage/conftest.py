"""Every storage test runs twice: on a SQLite file and on a fresh database in the private PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.storage.factories import FakeClock


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cadenza.db'}"
    server = request.getfixturevalue("postgres_service")
    return str(server.create_database(f"test_{uuid.uuid4().hex[:16]}"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def storage(database_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    """A migrated, empty store on each database kind."""
    store = await Storage.open(database_url, clock=clock)
    try:
        yield store
    finally:
        await store.close()
