"""Storage on SQLite and PostgreSQL: migrations at open, pieces and lineage, guild settings, jobs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage import JobStatus, PieceKind, Storage, StorageSettings, default_url, normalise_url
from bot.storage.schema import metadata
from cadenza.errors import ConfigError, NotFound
from launch.config import config_from_tables
from tests.servers import free_port
from tests.storage.factories import SNOWFLAKE, FakeClock, add_piece

MIDI = bytes(range(256)) * 40  # every byte value, as a real MIDI file may hold
TABLES = {"pieces", "guild_settings", "jobs", "sessions", "turns", "votes", "member_names", "alembic_version"}


async def _on_connection(url: str, work: Callable[[sa.Connection], Any]) -> Any:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


# --- Migrations --------------------------------------------------------------------------------


async def test_open_migrates_an_empty_database_to_head(database_url: str) -> None:
    async with await Storage.open(database_url) as storage:
        assert storage.applied_migrations == ("0001", "0002")
    tables = await _on_connection(database_url, lambda c: set(sa.inspect(c).get_table_names()))
    assert tables >= TABLES


async def test_reopening_a_migrated_database_applies_nothing(database_url: str) -> None:
    async with await Storage.open(database_url):
        pass
    async with await Storage.open(database_url) as storage:
        assert storage.applied_migrations == ()


async def test_migrations_create_exactly_the_declared_schema(database_url: str) -> None:
    async with await Storage.open(database_url):
        pass

    def differences(conn: sa.Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    assert await _on_connection(database_url, differences) == []


async def test_concurrent_opens_migrate_once(database_url: str) -> None:
    stores = await asyncio.gather(*(Storage.open(database_url) for _ in range(8)))
    try:
        assert sorted(s.applied_migrations for s in stores) == [()] * 7 + [("0001", "0002")]
        piece = await add_piece(stores[0])
        assert (await stores[7].get_piece(piece.id)).id == piece.id
    finally:
        await asyncio.gather(*(s.close() for s in stores))


# --- URLs and settings (no database needed) ------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:pw@db:5432/cadenza", "postgresql+asyncpg://u:pw@db:5432/cadenza"),
        ("postgres://u@db/cadenza", "postgresql+asyncpg://u@db/cadenza"),
        ("postgresql+asyncpg://u@db/cadenza", "postgresql+asyncpg://u@db/cadenza"),
        ("sqlite:///data/cadenza.db", "sqlite+aiosqlite:///data/cadenza.db"),
    ],
)
def test_normalise_url_picks_the_async_driver(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_normalise_url_rejects_other_databases_without_echoing_the_password() -> None:
    with pytest.raises(ConfigError, match="mysql") as error:
        normalise_url("mysql://user:s3cret@db/cadenza")
    assert "s3cret" not in str(error.value)


async def test_in_memory_sqlite_keeps_data_while_open() -> None:
    async with await Storage.open("sqlite://") as storage:
        piece = await add_piece(storage)
        assert (await storage.lineage(piece.id))[0].id == piece.id


async def test_open_names_an_unreachable_database_without_its_password() -> None:
    url = f"postgresql://cadenza:s3cret@127.0.0.1:{free_port()}/cadenza"
    with pytest.raises(ConfigError, match="cannot open the database") as error:
        await Storage.open(url)
    assert "s3cret" not in str(error.value)


def test_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data", StorageSettings(sqlite_file="bot.db"))
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}"


async def test_from_config_creates_the_data_folder_and_database(tmp_path: Path) -> None:
    config = config_from_tables({"app": {"data_dir": str(tmp_path / "data")}}, env={})
    async with await Storage.from_config(config.serving()) as storage:
        await add_piece(storage)
    assert (tmp_path / "data" / "cadenza.db").is_file()


@pytest.mark.parametrize(
    "table", [{"pool_size": 0}, {"sqlite_file": "a/b.db"}, {"sqlite_busy_timeout_s": 0}, {"poolsize": 3}]
)
def test_config_rejects_bad_storage_settings(table: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"storage"):
        config_from_tables({"storage": table}, env={})


# --- Pieces ----------------------------------------------------------------------------------------


async def test_piece_round_trips_with_its_midi_and_settings(storage: Storage, clock: FakeClock) -> None:
    settings = {
        "genre": "celtic",
        "length": 30,
        "key": "D minor",
        "tempo": 112,
        "creativity": 0.9,
        "seed": 2**62,
    }
    stored = await storage.add_piece(
        user_id=SNOWFLAKE,
        guild_id=SNOWFLAKE + 1,
        channel_id=SNOWFLAKE + 2,
        kind=PieceKind.COMPOSE,
        midi=MIDI,
        settings=settings,
        seed=2**62,
        model="transformer-4x192",
        title="Reel in D",
        duration_s=30.5,
    )
    loaded = await storage.get_piece(stored.id)
    assert loaded == stored
    assert loaded.midi == MIDI
    assert loaded.settings == settings
    assert loaded.created_at == clock.now


async def test_piece_ids_are_short_url_safe_and_unique(storage: Storage) -> None:
    ids = [(await add_piece(storage)).id for _ in range(30)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,20}", i) for i in ids)


async def test_get_piece_of_unknown_id_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.get_piece("nope")


async def test_add_piece_refuses_an_unknown_parent(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.add_piece(
            user_id=1,
            channel_id=2,
            kind=PieceKind.TAKE,
            midi=b"",
            settings={},
            seed=1,
            model="m",
            parent_id="gone",
        )


async def test_lineage_runs_from_the_root_to_the_piece(storage: Storage) -> None:
    root = await add_piece(storage)
    middle = await add_piece(storage, root)
    await add_piece(storage, middle)  # a sibling branch, not on the path
    leaf = await add_piece(storage, middle, kind=PieceKind.REMIX)
    assert [p.id for p in await storage.lineage(leaf.id)] == [root.id, middle.id, leaf.id]
    assert [p.id for p in await storage.lineage(root.id)] == [root.id]


async def test_lineage_of_unknown_piece_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.lineage("nope")


async def test_children_are_direct_descendants_oldest_first(storage: Storage, clock: FakeClock) -> None:
    root = await add_piece(storage)
    first = await add_piece(storage, root)
    clock.advance(timedelta(seconds=5))
    second = await add_piece(storage, root, kind=PieceKind.TAKE)
    await add_piece(storage, first)  # a grandchild
    assert [p.id for p in await storage.children(root.id)] == [first.id, second.id]


async def test_recent_pieces_are_a_members_newest_first(storage: Storage, clock: FakeClock) -> None:
    made = []
    for _ in range(4):
        made.append(await add_piece(storage, user_id=10))
        clock.advance(timedelta(minutes=1))
    await add_piece(storage, user_id=11)
    assert [p.id for p in await storage.recent_pieces(10, limit=3)] == [p.id for p in made[::-1][:3]]


# --- Guild settings ---------------------------------------------------------------------------------


async def test_guild_settings_are_empty_until_set(storage: Storage) -> None:
    settings = await storage.get_guild_settings(SNOWFLAKE)
    assert (settings.values, settings.updated_by, settings.updated_at) == ({}, None, None)


async def test_set_guild_settings_replaces_the_previous_values(storage: Storage, clock: FakeClock) -> None:
    await storage.set_guild_settings(5, {"default_genre": "folk", "max_length_s": 60}, updated_by=1)
    clock.advance(timedelta(hours=1))
    await storage.set_guild_settings(5, {"default_genre": "chorale", "hourly_quota": 5}, updated_by=2)
    settings = await storage.get_guild_settings(5)
    assert settings.values == {"default_genre": "chorale", "hourly_quota": 5}
    assert (settings.updated_by, settings.updated_at) == (2, clock.now)
    assert (await storage.get_guild_settings(6)).values == {}


# --- Jobs in flight ------------------------------------------------------------------------------------


async def add_job(storage: Storage, job_id: str) -> None:
    await storage.add_job(
        job_id=job_id,
        request={"genre": "folk", "length_s": 30},
        user_id=SNOWFLAKE,
        guild_id=3,
        channel_id=4,
        application_id=SNOWFLAKE + 9,
        interaction_token="aW50ZXJhY3Rpb24.token",
    )


async def test_job_round_trips_and_hides_its_token_from_repr(storage: Storage) -> None:
    await add_job(storage, "job-1")
    job = await storage.get_job("job-1")
    assert (job.status, job.request, job.application_id) == (
        JobStatus.QUEUED,
        {"genre": "folk", "length_s": 30},
        SNOWFLAKE + 9,
    )
    assert job.interaction_token == "aW50ZXJhY3Rpb24.token"
    assert "aW50ZXJhY3Rpb24" not in repr(job)


async def test_unfinished_jobs_are_those_queued_or_running(storage: Storage, clock: FakeClock) -> None:
    piece = await add_piece(storage)
    for name in ("queued", "running", "done", "failed"):
        await add_job(storage, name)
        clock.advance(timedelta(seconds=1))
    await storage.set_job_status("running", JobStatus.RUNNING)
    done = await storage.set_job_status("done", JobStatus.DONE, piece_id=piece.id)
    failed = await storage.set_job_status("failed", JobStatus.FAILED, error="the model timed out")
    assert [j.id for j in await storage.unfinished_jobs()] == ["queued", "running"]
    assert (done.piece_id, failed.error, failed.updated_at) == (piece.id, "the model timed out", clock.now)


async def test_set_status_of_unknown_job_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.set_job_status("nope", JobStatus.DONE)


async def test_deleting_jobs(storage: Storage, clock: FakeClock) -> None:
    for name in ("old-done", "old-queued", "new-done"):
        await add_job(storage, name)
    await storage.set_job_status("old-done", JobStatus.DONE)
    clock.advance(timedelta(days=2))
    await storage.set_job_status("new-done", JobStatus.DONE)
    assert await storage.delete_finished_jobs(older_than=timedelta(days=1)) == 1
    assert await storage.delete_job("old-queued") is True
    assert await storage.delete_job("old-queued") is False
    assert [j.id for j in await storage.unfinished_jobs()] == []
    assert (await storage.get_job("new-done")).status == JobStatus.DONE
