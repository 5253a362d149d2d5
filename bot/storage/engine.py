"""Database URLs and engines: asyncpg for PostgreSQL, aiosqlite for the default SQLite file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.storage.settings import StorageSettings
from cadenza.errors import ConfigError

log = logging.getLogger(__name__)

# Connection execution option naming the statement that opens a SQLite transaction.
SQLITE_BEGIN = "cadenza_sqlite_begin"

_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_SUPPORTED = {"postgresql+asyncpg", "sqlite+aiosqlite"}


def normalise_url(url: str) -> str:
    """Give a database URL its async driver: `postgresql://` -> `postgresql+asyncpg://`, same for SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ConfigError("the database URL (CADENZA_DATABASE_URL) is not a valid URL") from e
    drivername = _DRIVERS.get(parsed.drivername, parsed.drivername)
    if drivername not in _SUPPORTED:
        # Name only the scheme: the rest of the URL may hold a password.
        raise ConfigError(
            f"unsupported database {parsed.drivername!r}: use postgresql://... or sqlite:///..."
        )
    return parsed.set(drivername=drivername).render_as_string(hide_password=False)


def default_url(data_dir: Path, settings: StorageSettings) -> str:
    """The SQLite file under the data folder, used when no database URL is configured."""
    return f"sqlite+aiosqlite:///{(data_dir / settings.sqlite_file).resolve()}"


def create_engine(url: str, settings: StorageSettings) -> AsyncEngine:
    """An async engine for `url` (already normalised), tuned for its database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, settings)
    return create_async_engine(
        parsed,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,  # survive a database restart without failing the next request
    )


def _sqlite_engine(url: sa.URL, settings: StorageSettings) -> AsyncEngine:
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": settings.sqlite_busy_timeout_s}}
    if memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own empty database
    else:
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=settings.echo, **kwargs)
    _make_sqlite_transactional(engine)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions (which it does late, and not for DDL).

    This is SQLAlchemy's documented recipe; it makes migrations transactional and lets a writer take
    the write lock up front (`BEGIN IMMEDIATE`) so two writers queue instead of deadlocking. WAL is not
    set here: switching to it from two connections at once fails (see `bot.storage.sqlite_file`).
    """

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")  # SQLite ignores foreign keys unless asked
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(SQLITE_BEGIN, "BEGIN"))
