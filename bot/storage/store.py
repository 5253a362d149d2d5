"""`Storage`: the one object the bot uses to keep pieces, settings, jobs and remix sessions."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.base import Clock, utc_now
from bot.storage.engine import create_engine, default_url, normalise_url
from bot.storage.jobs import JobStore
from bot.storage.migrate import migrate_to_head
from bot.storage.pages import PageStore
from bot.storage.pieces import PieceStore
from bot.storage.sessions import SessionStore
from bot.storage.settings import StorageSettings
from cadenza.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Config

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
        cannot be reached or refuses us raises ConfigError naming it (without the password).
        """
        settings = settings or StorageSettings()
        engine = create_engine(normalise_url(url), settings)
        safe_url = engine.url.render_as_string(hide_password=True)
        try:
            applied = await migrate_to_head(engine)
        except (OSError, DBAPIError) as e:
            await engine.dispose()
            reason = str(getattr(e, "orig", None) or e).splitlines()[0]
            raise ConfigError(f"cannot open the database {safe_url}: {reason}") from e
        except BaseException:
            await engine.dispose()
            raise
        log.info("storage open: %s", safe_url)
        return cls(engine, clock, applied)

    @classmethod
    async def from_config(cls, config: Config) -> Self:
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
