"""Bring the database schema to the newest revision at start-up, once, even with many processes.

Several bots and workers may start together against one PostgreSQL: they queue on an advisory lock,
the first migrates and the others find nothing to do. On SQLite the migration transaction takes the
write lock up front (`BEGIN IMMEDIATE`), which serialises concurrent starters the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import SQLITE_BEGIN

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_lock key: any fixed 64-bit number that no other application on the database uses.
ADVISORY_LOCK_KEY = 0x0CADE2A_0001


async def migrate_to_head(engine: AsyncEngine) -> tuple[str, ...]:
    """Upgrade the schema to head; return the revisions this call applied (empty if up to date)."""
    applied: list[str] = []
    postgres = engine.dialect.name == "postgresql"
    async with engine.connect() as conn:
        if not postgres:
            conn = await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        # This first statement opens the transaction Alembic then runs in (it joins an open one), so
        # the version check and every migration happen under the lock.
        if postgres:
            # A session-level lock: it outlives a failed transaction, so it is released explicitly below.
            await conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        else:
            await conn.execute(sa.text("SELECT 1"))
        try:
            await conn.run_sync(_upgrade, applied)
            await conn.commit()
        finally:
            if postgres:
                await conn.rollback()
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                await conn.commit()
    if applied:
        log.info("database migrated through %s", ", ".join(applied))
    return tuple(applied)


def _upgrade(connection: sa.Connection, applied: list[str]) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["on_version_apply"] = (lambda *, step, **_: applied.extend(_revisions(step)),)
    command.upgrade(config, "head")


def _revisions(step: Any) -> list[str]:
    return [step.up_revision_id] if step.up_revision_id else []


def alembic_config() -> AlembicConfig:
    """Alembic's configuration, pointed at our migrations (no alembic.ini needed at run time)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
