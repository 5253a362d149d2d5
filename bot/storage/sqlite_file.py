"""A SQLite file made ready for many connections and processes: WAL once per file, waits on locks.

Switching a fresh file to WAL from two connections at once makes SQLite refuse the second lock upgrade
at once ("database is locked"), without waiting for the busy timeout. So the switch is made here, once
per file, before anything else opens it, and retried while another opener holds the lock. The journal
mode is stored in the file: later connections find it in WAL and change nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

_FIRST_BACKOFF_S = 0.005  # the first wait after a refused lock; doubled up to _LAST_BACKOFF_S
_LAST_BACKOFF_S = 0.1


def is_locked(error: BaseException) -> bool:
    """Whether `error` (sqlite3's, or SQLAlchemy's wrapping it) says another connection holds a lock."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (
            sqlite3.SQLITE_BUSY,
            sqlite3.SQLITE_LOCKED,
        )  # extended codes share the low byte
    return "locked" in str(orig)


async def retry_while_locked(
    operation: Callable[[], Awaitable[T]], timeout_s: float, clock: Callable[[], float] = time.monotonic
) -> T:
    """Run `operation`, again after a short growing wait whenever it finds the database locked.

    Gives up after `timeout_s` seconds (the busy timeout) and raises the last lock error.
    """
    deadline = clock() + timeout_s
    backoff = _FIRST_BACKOFF_S
    while True:
        try:
            return await operation()
        except (sqlite3.OperationalError, DBAPIError) as e:
            if not is_locked(e) or clock() + backoff > deadline:
                raise
        await asyncio.sleep(backoff)  # a back-off between tries, not a wait for an event
        backoff = min(2 * backoff, _LAST_BACKOFF_S)


def use_wal(path: Path, busy_timeout_s: float) -> None:
    """Put the SQLite file at `path` (created if missing) in WAL mode, unless it already is."""
    with closing(sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")  # readers do not wait for the writer


async def prepare_sqlite_file(path: Path, busy_timeout_s: float) -> None:
    """Switch the file to WAL (in a thread: sqlite3 blocks), retrying on locks up to the busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await retry_while_locked(lambda: asyncio.to_thread(use_wal, path, busy_timeout_s), busy_timeout_s)
