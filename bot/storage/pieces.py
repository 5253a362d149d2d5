"""Pieces (with their MIDI and lineage) and per-server settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.base import StoreBase, new_id, row_values
from bot.storage.records import GuildSettings, Piece, PieceKind
from bot.storage.schema import guild_settings, pieces
from cadenza.errors import NotFound

MAX_LINEAGE = 10_000  # a cycle cannot be stored, but a bound keeps a bad row from looping forever


def _piece(row: sa.Row[Any]) -> Piece:
    return Piece(
        id=row.id,
        user_id=row.user_id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        parent_id=row.parent_id,
        kind=PieceKind(row.kind),
        settings=row.settings,
        seed=row.seed,
        model=row.model,
        midi=bytes(row.midi),
        title=row.title,
        duration_s=row.duration_s,
        created_at=row.created_at,
        removed_at=row.removed_at,
    )


class PieceStore(StoreBase):
    """Pieces and guild settings."""

    async def add_piece(
        self,
        *,
        user_id: int,
        channel_id: int,
        kind: PieceKind,
        midi: bytes,
        settings: Mapping[str, Any],
        seed: int,
        model: str,
        title: str = "",
        duration_s: float = 0.0,
        guild_id: int | None = None,
        parent_id: str | None = None,
    ) -> Piece:
        """Store a new piece and return it with its new id. NotFound if `parent_id` does not exist."""
        piece = Piece(
            id=new_id(),
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            parent_id=parent_id,
            kind=PieceKind(kind),
            settings=dict(settings),
            seed=seed,
            model=model,
            midi=midi,
            title=title,
            duration_s=duration_s,
            created_at=self._now(),
        )
        async with self._write() as conn:
            if parent_id is not None:
                await self._require_piece(conn, parent_id)
            await conn.execute(pieces.insert().values(row_values(pieces, piece)))
        return piece

    async def _require_piece(self, conn: AsyncConnection, piece_id: str) -> None:
        found = await conn.scalar(sa.select(pieces.c.id).where(pieces.c.id == piece_id))
        if found is None:
            raise NotFound(f"piece {piece_id} does not exist")

    async def get_piece(self, piece_id: str) -> Piece:
        """The piece with this id; NotFound if there is none."""
        async with self._read() as conn:
            row = (await conn.execute(sa.select(pieces).where(pieces.c.id == piece_id))).first()
        if row is None:
            raise NotFound(f"piece {piece_id} does not exist")
        return _piece(row)

    async def lineage(self, piece_id: str) -> list[Piece]:
        """The path from the root piece down to `piece_id` (root first, the piece itself last)."""
        start = sa.select(pieces.c.id, pieces.c.parent_id, sa.literal(0).label("depth"))
        up = start.where(pieces.c.id == piece_id).cte("up", recursive=True)
        parent = pieces.alias("parent")
        up = up.union_all(
            sa.select(parent.c.id, parent.c.parent_id, up.c.depth + 1)
            .join(up, parent.c.id == up.c.parent_id)
            .where(up.c.depth < MAX_LINEAGE)
        )
        query = sa.select(pieces).join(up, pieces.c.id == up.c.id).order_by(up.c.depth.desc())
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            raise NotFound(f"piece {piece_id} does not exist")
        return [_piece(row) for row in rows]

    async def children(self, piece_id: str) -> list[Piece]:
        """Pieces made directly from `piece_id` (continuations, takes, remixes), oldest first."""
        query = (
            sa.select(pieces).where(pieces.c.parent_id == piece_id).order_by(pieces.c.created_at, pieces.c.id)
        )
        async with self._read() as conn:
            return [_piece(row) for row in await conn.execute(query)]

    async def recent_pieces(self, user_id: int, limit: int = 10) -> list[Piece]:
        """A member's latest pieces, newest first."""
        query = (
            sa.select(pieces)
            .where(pieces.c.user_id == user_id)
            .order_by(pieces.c.created_at.desc(), pieces.c.id)
            .limit(limit)
        )
        async with self._read() as conn:
            return [_piece(row) for row in await conn.execute(query)]

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A server's stored defaults and limits; empty values if it never set any."""
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(guild_settings).where(guild_settings.c.guild_id == guild_id))
            ).first()
        if row is None:
            return GuildSettings(guild_id=guild_id, values={}, updated_by=None, updated_at=None)
        return GuildSettings(guild_id, row.settings, row.updated_by, row.updated_at)

    async def set_guild_settings(
        self, guild_id: int, values: Mapping[str, Any], *, updated_by: int | None
    ) -> GuildSettings:
        """Replace a server's settings with `values` (callers merge changes into what they read)."""
        record = GuildSettings(guild_id, dict(values), updated_by, self._now())
        row = {
            "guild_id": guild_id,
            "settings": record.values,
            "updated_by": updated_by,
            "updated_at": record.updated_at,
        }
        insert = self._insert(guild_settings).values(**row)
        upsert = insert.on_conflict_do_update(
            index_elements=[guild_settings.c.guild_id],
            set_={
                "settings": insert.excluded.settings,
                "updated_by": updated_by,
                "updated_at": record.updated_at,
            },
        )
        async with self._write() as conn:
            await conn.execute(upsert)
        return record
