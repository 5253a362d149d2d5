"""One SQLite file opened from many connections and processes at once: WAL once, locks waited out."""

from __future__ import annotations

import multiprocessing
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage import Storage, StorageSettings
from cadenza.errors import Busy, ConfigError
from tests.storage.sqlite_openers import open_rounds, open_together

ROUNDS = 50  # the count: a 1-in-9 failure would show many times over


def journal_mode(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


@pytest.mark.slow
async def test_eight_concurrent_opens_of_a_fresh_file_never_fail(tmp_path: Path) -> None:
    for i in range(ROUNDS):
        path = tmp_path / f"round{i}.db"
        assert await open_together(f"sqlite:///{path}", 8) == [], f"round {i}"
        assert journal_mode(path) == "wal"


@pytest.mark.slow
def test_two_processes_opening_fresh_files_together_never_fail(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier, errors = spawn.Barrier(2), spawn.Queue()
    procs = [
        spawn.Process(target=open_rounds, args=(str(tmp_path), ROUNDS, 4, barrier, errors)) for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=240)
    assert [proc.exitcode for proc in procs] == [0, 0]
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert {journal_mode(tmp_path / f"round{i}.db") for i in range(ROUNDS)} == {"wal"}


async def test_a_file_kept_locked_past_the_busy_timeout_is_busy_not_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another process's long write, say
        with pytest.raises(Busy, match="locked") as error:
            await Storage.open(f"sqlite:///{path}", StorageSettings(sqlite_busy_timeout_s=0.3))
        assert not isinstance(error.value, ConfigError)
        holder.execute("ROLLBACK")
    async with await Storage.open(f"sqlite:///{path}") as storage:
        assert storage.applied_migrations == ("0001", "0002")
    assert journal_mode(path) == "wal"


async def test_an_existing_rollback_journal_file_is_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE kept (x INTEGER)")
    assert journal_mode(path) == "delete"
    async with await Storage.open(f"sqlite:///{path}"):
        assert journal_mode(path) == "wal"
