"""Storage: pieces, server settings, jobs in flight and remix sessions (SQLAlchemy async + Alembic).

SQLite under the data folder by default; PostgreSQL through CADENZA_DATABASE_URL. The schema is
migrated to the newest revision whenever `Storage.open` runs.

Names are imported on first use, so `bot.serving` can import `StorageSettings` without loading
SQLAlchemy and Alembic into every CLI command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.storage.engine import default_url, normalise_url
    from bot.storage.records import (
        GuildSettings,
        Job,
        JobStatus,
        Piece,
        PieceKind,
        RemixSession,
        SessionStatus,
        Turn,
    )
    from bot.storage.settings import StorageSettings
    from bot.storage.store import Storage

_HOMES = {
    "default_url": "engine",
    "normalise_url": "engine",
    "GuildSettings": "records",
    "Job": "records",
    "JobStatus": "records",
    "Piece": "records",
    "PieceKind": "records",
    "RemixSession": "records",
    "SessionStatus": "records",
    "Turn": "records",
    "StorageSettings": "settings",
    "Storage": "store",
}

__all__ = [
    "GuildSettings",
    "Job",
    "JobStatus",
    "Piece",
    "PieceKind",
    "RemixSession",
    "SessionStatus",
    "Storage",
    "StorageSettings",
    "Turn",
    "default_url",
    "normalise_url",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
