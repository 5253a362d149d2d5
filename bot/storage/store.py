"""`Storage`: the one object the bot uses to keep pieces, settings, jobs and remix sessions."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.base import Clock, utc_now
from bot.storage.engine import create_engine, default_url, normalise_url, sqlite_file
from bot.storage.jobs import JobStore
from bot.storage.migrate import migrate_to_head
from bot.storage.pages import PageStore
from bot.storage.pieces import PieceStore
from bot.storage.sessions import SessionStore
from bot.storage.settings import StorageSettings
from bot.storage.sqlite_file import is_locked, prepare_sqlite_file, retry_while_locked
from cadenza.errors import Busy, ConfigError

if TYPE_CHECKING:
    from bot.serving import ServingConfig

log = logging.getLogger(__name__)


class Storage(PieceStore, JobStore, SessionStore, PageStore):
    """Typed async access to the database; open it with `await Storage.open(url)`."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock = utc_now, applied_migrations: tuple[str, ...] = ()
    ) -> None:
        super().__init__(engine, clock)
        self.applied_migrations = applied_migrations  # revisions this open applied; () if up to date

    @classmethod
    async def open(cls, url: str, settings: StorageSettings | None = None, *, clock: Clock = utc_now) -> Self:
        """Connect to `url` (postgresql://... or sqlite:///...) and migrate the schema to head.

        `clock` gives "now" for timestamps and time windows (tests pass their own). A database that
        cannot be reached or refuses us raises ConfigError naming it (without the password); a SQLite
        file that another process keeps locked past the busy timeout raises Busy.
        """
        settings = settings or StorageSettings()
        url = normalise_url(url)
        engine = create_engine(url, settings)
        safe_url = engine.url.render_as_string(hide_password=True)
        try:
            applied = await _prepare_and_migrate(engine, sqlite_file(url), settings.sqlite_busy_timeout_s)
        except (OSError, DBAPIError, sqlite3.Error) as e:
            await engine.dispose()
            reason = str(getattr(e, "orig", None) or e).splitlines()[0]
            if is_locked(e):
                raise Busy(f"the database {safe_url} stayed locked by another process: {reason}") from e
            raise ConfigError(f"cannot open the database {safe_url}: {reason}") from e
        except BaseException:
            await engine.dispose()
            raise
        log.info("storage open: %s", safe_url)
        return cls(engine, clock, applied)

    @classmethod
    async def from_config(cls, config: ServingConfig) -> Self:
        """Open the configured database: CADENZA_DATABASE_URL, or SQLite under the data folder."""
        url = config.secrets.database_url or default_url(Path(config.app.data_dir), config.storage)
        return await cls.open(url, config.storage)

    @property
    def url(self) -> str:
        """The database URL with any password hidden (for logs and messages)."""
        return make_url(self._engine.url).render_as_string(hide_password=True)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def _prepare_and_migrate(
    engine: AsyncEngine, file: Path | None, busy_timeout_s: float
) -> tuple[str, ...]:
    """WAL once per SQLite file, then the schema to head; both retried on locks up to the busy timeout."""
    if file is None:
        return await migrate_to_head(engine)
    await prepare_sqlite_file(file, busy_timeout_s)
    return await retry_while_locked(lambda: migrate_to_head(engine), busy_timeout_s)
