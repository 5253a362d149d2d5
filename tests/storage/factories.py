"""What the storage tests build: a hand-moved clock and pieces with plain defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage import Piece, PieceKind, Storage

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SNOWFLAKE = 1_180_000_000_000_000_123  # Discord ids need 64 bits


class FakeClock:
    """Callable like `bot.storage.base.utc_now`; `advance` moves it forward."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def add_piece(storage: Storage, parent: Piece | None = None, user_id: int = 1, **kw: Any) -> Piece:
    """Store a small piece (a continuation of `parent` when given)."""
    return await storage.add_piece(
        user_id=user_id,
        channel_id=2,
        kind=kw.pop("kind", PieceKind.CONTINUE if parent else PieceKind.COMPOSE),
        midi=kw.pop("midi", b"MThd"),
        settings=kw.pop("settings", {"genre": "folk"}),
        seed=kw.pop("seed", 7),
        model="tiny",
        parent_id=parent.id if parent else None,
        **kw,
    )
