"""What public pages read and change: removing a piece, members' display names, a server's gallery."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sqlalchemy as sa

from bot.storage.base import StoreBase
from bot.storage.pieces import _piece
from bot.storage.records import Piece
from bot.storage.schema import member_names, pieces, turns, votes
from cadenza.errors import Forbidden, NotFound

DIRECT_MESSAGES = 0  # member_names' guild_id for names seen in direct messages
MAX_NAME = 100

_LIKES = (
    sa.select(sa.func.count())
    .select_from(votes)
    .where(votes.c.piece_id == pieces.c.id)
    .scalar_subquery()
    .label("likes")
)


class PageStore(StoreBase):
    """Removal, display names and gallery queries."""

    async def remove_piece(self, piece_id: str, user_id: int) -> bool:
        """Mark a member's own piece removed; False if it already was. Forbidden for anyone else's."""
        async with self._write() as conn:
            row = (
                await conn.execute(
                    sa.select(pieces.c.user_id, pieces.c.removed_at).where(pieces.c.id == piece_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"piece {piece_id} does not exist")
            if row.user_id != user_id:
                raise Forbidden("only the member who made a piece can remove it")
            if row.removed_at is not None:
                return False
            await conn.execute(pieces.update().where(pieces.c.id == piece_id).values(removed_at=self._now()))
        return True

    async def remember_name(self, guild_id: int | None, user_id: int, display_name: str) -> None:
        """Keep the name a member goes by on a server (pages show it; they never show user ids)."""
        guild = DIRECT_MESSAGES if guild_id is None else guild_id
        values = {"display_name": display_name[:MAX_NAME], "updated_at": self._now()}
        insert = self._insert(member_names).values(guild_id=guild, user_id=user_id, **values)
        upsert = insert.on_conflict_do_update(
            index_elements=[member_names.c.guild_id, member_names.c.user_id], set_=values
        )
        async with self._write() as conn:
            await conn.execute(upsert)

    async def display_names(self, guild_id: int | None, user_ids: Collection[int]) -> Mapping[int, str]:
        """The remembered names of these members on a server; members never seen are left out."""
        if not user_ids:
            return {}
        guild = DIRECT_MESSAGES if guild_id is None else guild_id
        query = sa.select(member_names.c.user_id, member_names.c.display_name).where(
            member_names.c.guild_id == guild, member_names.c.user_id.in_(sorted(set(user_ids)))
        )
        async with self._read() as conn:
            return {row.user_id: row.display_name for row in await conn.execute(query)}

    async def guild_recent_pieces(self, guild_id: int, limit: int = 20) -> list[Piece]:
        """A server's newest pieces that were not removed, newest first."""
        query = (
            sa.select(pieces)
            .where(pieces.c.guild_id == guild_id, pieces.c.removed_at.is_(None))
            .order_by(pieces.c.created_at.desc(), pieces.c.id)
            .limit(limit)
        )
        async with self._read() as conn:
            return [_piece(row) for row in await conn.execute(query)]

    async def guild_most_liked(self, guild_id: int, limit: int = 20) -> list[tuple[Piece, int]]:
        """A server's liked pieces (session turns) with their likes, most first, newer first on a tie."""
        query = (
            sa.select(pieces, _LIKES)
            .join(turns, turns.c.piece_id == pieces.c.id)
            .where(pieces.c.guild_id == guild_id, pieces.c.removed_at.is_(None), _LIKES > 0)
            .order_by(sa.desc("likes"), pieces.c.created_at.desc(), pieces.c.id)
            .limit(limit)
        )
        async with self._read() as conn:
            return [(_piece(row), int(row.likes)) for row in await conn.execute(query)]
