"""What every part of `Storage` shares: the engine, the clock, transactions and new ids."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import SQLITE_BEGIN

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the only kind the database accepts)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A short random url-safe id (12 chars, 72 bits): unguessable, and fits a Discord custom_id."""
    return secrets.token_urlsafe(9)


class StoreBase:
    """Holds the engine; subclasses add the typed methods of one area each."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._now = clock

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading (its transaction is rolled back at the end)."""
        async with self._engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction, committed at the end unless the block raises.

        On SQLite it takes the write lock at once, so a transaction that reads and then writes queues
        behind another writer instead of failing with "database is locked".
        """
        async with self._engine.connect() as conn:
            if self.dialect == "sqlite":
                conn = await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            async with conn.begin():
                yield conn

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that supports ON CONFLICT on this database."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)


def row_values(table: sa.Table, record: object) -> dict[str, Any]:
    """The column values of a record whose attributes are named like the table's columns."""
    return {column.name: getattr(record, column.name) for column in table.columns}
