"""Alembic environment for Cadenza's database.

At run time `bot.storage.migrate` hands us an open connection (in `config.attributes`), already
holding the migration lock, and we migrate through it. From the command line (`alembic -c
bot/storage/alembic.ini -x url=... upgrade head`, or `revision --autogenerate`) we open an async
engine ourselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.engine import create_engine, normalise_url
from bot.storage.schema import metadata
from bot.storage.settings import StorageSettings

config = context.config


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by copying them; batch mode does that
        compare_type=True,
        on_version_apply=config.attributes.get("on_version_apply", ()),
        **kwargs,
    )


def _migrate(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database: alembic -x url=postgresql://... (or sqlite:///data/cadenza.db)")
    return normalise_url(url)


async def _migrate_online() -> None:
    engine = create_engine(_url(), StorageSettings())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
    elif context.is_offline_mode():
        _configure(url=_url(), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_migrate_online())


main()
