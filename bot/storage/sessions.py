"""Community remix sessions: the session, its turns (a tree of pieces) and members' votes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.base import StoreBase, new_id, row_values
from bot.storage.records import PieceKind, RemixSession, SessionStatus, Turn
from bot.storage.schema import pieces, sessions, turns, votes
from cadenza.errors import BadInput, Forbidden, NotFound

_VOTES = (
    sa.select(sa.func.count())
    .select_from(votes)
    .where(votes.c.piece_id == turns.c.piece_id)
    .scalar_subquery()
    .label("votes")
)
_TURNS = sa.select(turns, _VOTES)


def _session(row: sa.Row[Any]) -> RemixSession:
    return RemixSession(
        id=row.id,
        guild_id=row.guild_id,
        thread_id=row.thread_id,
        title=row.title,
        genre=row.genre,
        sound=row.sound,
        starter_id=row.starter_id,
        status=SessionStatus(row.status),
        root_piece_id=row.root_piece_id,
        turn_count=row.turn_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _turn(row: sa.Row[Any]) -> Turn:
    return Turn(
        session_id=row.session_id,
        piece_id=row.piece_id,
        number=row.number,
        author_id=row.author_id,
        kind=PieceKind(row.kind),
        parent_piece_id=row.parent_piece_id,
        created_at=row.created_at,
        votes=int(row.votes),
    )


class SessionStore(StoreBase):
    """Remix sessions, turns and votes."""

    async def create_session(
        self, *, guild_id: int, thread_id: int, title: str, genre: str, sound: str, starter_id: int
    ) -> RemixSession:
        """Open a session bound to its thread (one session per thread)."""
        now = self._now()
        session = RemixSession(
            id=new_id(),
            guild_id=guild_id,
            thread_id=thread_id,
            title=title,
            genre=genre,
            sound=sound,
            starter_id=starter_id,
            status=SessionStatus.OPEN,
            root_piece_id=None,
            turn_count=0,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._write() as conn:
                await conn.execute(sessions.insert().values(row_values(sessions, session)))
        except IntegrityError as e:
            raise BadInput("this thread already has a session") from e
        return session

    async def get_session(self, session_id: str) -> RemixSession:
        """The session with this id; NotFound if there is none."""
        async with self._read() as conn:
            return await self._session_where(conn, sessions.c.id == session_id)

    async def session_for_thread(self, thread_id: int) -> RemixSession:
        """The session that lives in this thread; NotFound if the thread has none."""
        async with self._read() as conn:
            return await self._session_where(conn, sessions.c.thread_id == thread_id)

    async def active_sessions(self, guild_id: int | None = None) -> list[RemixSession]:
        """Sessions not ended (all servers, or one), oldest first: their buttons need re-registering."""
        query = sa.select(sessions).where(sessions.c.status != SessionStatus.ENDED)
        if guild_id is not None:
            query = query.where(sessions.c.guild_id == guild_id)
        async with self._read() as conn:
            return [
                _session(r) for r in await conn.execute(query.order_by(sessions.c.created_at, sessions.c.id))
            ]

    async def set_session_status(self, session_id: str, status: SessionStatus) -> RemixSession:
        """Lock, unlock or end a session (permission checks are the caller's)."""
        values = {"status": SessionStatus(status), "updated_at": self._now()}
        async with self._write() as conn:
            await conn.execute(sessions.update().where(sessions.c.id == session_id).values(values))
            return await self._session_where(conn, sessions.c.id == session_id)

    async def _session_where(self, conn: AsyncConnection, condition: sa.ColumnElement[bool]) -> RemixSession:
        row = (await conn.execute(sa.select(sessions).where(condition))).first()
        if row is None:
            raise NotFound("that session does not exist")
        return _session(row)

    async def add_turn(
        self,
        session_id: str,
        piece_id: str,
        *,
        author_id: int,
        kind: PieceKind,
        parent_piece_id: str | None = None,
    ) -> Turn:
        """Add a stored piece as the session's next turn, built on `parent_piece_id` (an earlier turn).

        Forbidden unless the session is open; the first turn becomes the session's root piece.
        """
        async with self._write() as conn:
            if await conn.scalar(sa.select(pieces.c.id).where(pieces.c.id == piece_id)) is None:
                raise NotFound(f"piece {piece_id} does not exist")
            if await conn.scalar(sa.select(turns.c.piece_id).where(turns.c.piece_id == piece_id)) is not None:
                raise BadInput("that piece is already a turn of a session")
            if parent_piece_id is not None:
                await self._require_turn_of(conn, session_id, parent_piece_id)
            number = await self._next_turn_number(conn, session_id, piece_id)
            turn = Turn(
                session_id, piece_id, number, author_id, PieceKind(kind), parent_piece_id, self._now(), 0
            )
            await conn.execute(turns.insert().values(row_values(turns, turn)))
        return turn

    async def _require_turn_of(self, conn: AsyncConnection, session_id: str, piece_id: str) -> None:
        owner = await conn.scalar(sa.select(turns.c.session_id).where(turns.c.piece_id == piece_id))
        if owner != session_id:
            raise BadInput("a turn can only build on an earlier turn of the same session")

    async def _next_turn_number(self, conn: AsyncConnection, session_id: str, piece_id: str) -> int:
        """Count the turn in, atomically: the row update serialises concurrent turns."""
        update = (
            sessions.update()
            .where(sessions.c.id == session_id, sessions.c.status == SessionStatus.OPEN)
            .values(
                turn_count=sessions.c.turn_count + 1,
                root_piece_id=sa.func.coalesce(sessions.c.root_piece_id, piece_id),
                updated_at=self._now(),
            )
            .returning(sessions.c.turn_count)
        )
        number = await conn.scalar(update)
        if number is None:
            session = await self._session_where(conn, sessions.c.id == session_id)
            raise Forbidden(f"this session is {session.status.value}: it takes no new turns")
        return int(number)

    async def get_turn(self, piece_id: str) -> Turn:
        """The turn whose piece is `piece_id`, with its votes; NotFound if that piece is no turn."""
        async with self._read() as conn:
            row = (await conn.execute(_TURNS.where(turns.c.piece_id == piece_id))).first()
        if row is None:
            raise NotFound("that piece is not a turn of any session")
        return _turn(row)

    async def session_turns(self, session_id: str) -> list[Turn]:
        """Every turn of a session in order (the whole tree: follow `parent_piece_id`)."""
        query = _TURNS.where(turns.c.session_id == session_id).order_by(turns.c.number)
        async with self._read() as conn:
            return [_turn(row) for row in await conn.execute(query)]

    async def top_turns(self, session_id: str, limit: int = 10) -> list[Turn]:
        """The most liked turns, most votes first (earlier turns first on a tie)."""
        query = (
            _TURNS.where(turns.c.session_id == session_id)
            .order_by(sa.desc("votes"), turns.c.number)
            .limit(limit)
        )
        async with self._read() as conn:
            return [_turn(row) for row in await conn.execute(query)]

    async def vote(self, piece_id: str, user_id: int) -> bool:
        """Like a turn; True if this added the vote, False if the member had already voted."""
        insert = self._insert(votes).values(piece_id=piece_id, user_id=user_id, created_at=self._now())
        async with self._write() as conn:
            if await conn.scalar(sa.select(turns.c.piece_id).where(turns.c.piece_id == piece_id)) is None:
                raise NotFound("that piece is not a turn of any session")
            result = await conn.execute(insert.on_conflict_do_nothing())
        return result.rowcount == 1

    async def unvote(self, piece_id: str, user_id: int) -> bool:
        """Take a like back; True if there was one."""
        query = votes.delete().where(votes.c.piece_id == piece_id, votes.c.user_id == user_id)
        async with self._write() as conn:
            result = await conn.execute(query)
        return result.rowcount == 1

    async def count_recent_turns(
        self, author_id: int, *, session_id: str | None = None, within: timedelta = timedelta(hours=1)
    ) -> int:
        """How many turns a member added in the last `within` (in one session, or in all)."""
        query = sa.select(sa.func.count()).where(
            turns.c.author_id == author_id, turns.c.created_at >= self._now() - within
        )
        if session_id is not None:
            query = query.where(turns.c.session_id == session_id)
        async with self._read() as conn:
            return int(await conn.scalar(query) or 0)
