"""Remix sessions on SQLite and PostgreSQL: turns as a tree of pieces, votes, locks, turn limits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.storage import PieceKind, RemixSession, SessionStatus, Storage, Turn
from cadenza.errors import BadInput, Forbidden, NotFound
from tests.storage.factories import SNOWFLAKE, FakeClock, add_piece


async def open_session(storage: Storage, thread_id: int = SNOWFLAKE) -> RemixSession:
    return await storage.create_session(
        guild_id=SNOWFLAKE - 1,
        thread_id=thread_id,
        title="Night reel",
        genre="celtic",
        sound="fiddle",
        starter_id=1,
    )


async def take_turn(
    storage: Storage,
    session: RemixSession,
    parent: Turn | None,
    author_id: int = 1,
    kind: PieceKind = PieceKind.CONTINUE,
) -> Turn:
    """A member builds a piece on `parent`'s piece and adds it as a turn."""
    parent_piece = await storage.get_piece(parent.piece_id) if parent else None
    piece = await add_piece(storage, parent_piece, user_id=author_id, kind=kind)
    return await storage.add_turn(
        session.id,
        piece.id,
        author_id=author_id,
        kind=kind,
        parent_piece_id=parent.piece_id if parent else None,
    )


async def test_session_is_found_by_id_and_by_thread(storage: Storage, clock: FakeClock) -> None:
    session = await open_session(storage)
    assert (session.status, session.turn_count, session.root_piece_id) == (SessionStatus.OPEN, 0, None)
    assert await storage.get_session(session.id) == session
    assert await storage.session_for_thread(SNOWFLAKE) == session
    assert session.created_at == clock.now


async def test_unknown_session_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.get_session("nope")
    with pytest.raises(NotFound):
        await storage.session_for_thread(42)


async def test_a_thread_holds_one_session(storage: Storage) -> None:
    await open_session(storage)
    with pytest.raises(BadInput):
        await open_session(storage)


async def test_turns_are_numbered_and_the_first_becomes_the_root(storage: Storage) -> None:
    session = await open_session(storage)
    first = await take_turn(storage, session, None, kind=PieceKind.COMPOSE)
    second = await take_turn(storage, session, first, author_id=2)
    third = await take_turn(storage, session, first, author_id=3, kind=PieceKind.REMIX)  # a branch
    assert [t.number for t in (first, second, third)] == [1, 2, 3]
    reread = await storage.get_session(session.id)
    assert (reread.root_piece_id, reread.turn_count) == (first.piece_id, 3)
    assert await storage.get_turn(third.piece_id) == third


async def test_session_turns_are_the_whole_tree_in_order(storage: Storage) -> None:
    session = await open_session(storage)
    root = await take_turn(storage, session, None, kind=PieceKind.COMPOSE)
    a = await take_turn(storage, session, root)
    b = await take_turn(storage, session, a, kind=PieceKind.HARMONIZE)
    branch = await take_turn(storage, session, root, kind=PieceKind.REMIX)
    tree = await storage.session_turns(session.id)
    assert [(t.piece_id, t.parent_piece_id) for t in tree] == [
        (root.piece_id, None),
        (a.piece_id, root.piece_id),
        (b.piece_id, a.piece_id),
        (branch.piece_id, root.piece_id),
    ]
    # The piece lineage is the path a mix renders: root to the chosen turn.
    assert [p.id for p in await storage.lineage(b.piece_id)] == [root.piece_id, a.piece_id, b.piece_id]


async def test_a_turn_builds_only_on_a_turn_of_the_same_session(storage: Storage) -> None:
    ours, theirs = await open_session(storage, 100), await open_session(storage, 200)
    foreign = await take_turn(storage, theirs, None)
    piece = await add_piece(storage)
    with pytest.raises(BadInput):
        await storage.add_turn(
            ours.id, piece.id, author_id=1, kind=PieceKind.CONTINUE, parent_piece_id=foreign.piece_id
        )
    assert (await storage.get_session(ours.id)).turn_count == 0


async def test_a_piece_is_a_turn_only_once(storage: Storage) -> None:
    session = await open_session(storage)
    turn = await take_turn(storage, session, None)
    with pytest.raises(BadInput):
        await storage.add_turn(session.id, turn.piece_id, author_id=1, kind=PieceKind.CONTINUE)


async def test_unknown_piece_or_session_cannot_become_a_turn(storage: Storage) -> None:
    session = await open_session(storage)
    with pytest.raises(NotFound):
        await storage.add_turn(session.id, "nope", author_id=1, kind=PieceKind.CONTINUE)
    piece = await add_piece(storage)
    with pytest.raises(NotFound):
        await storage.add_turn("nope", piece.id, author_id=1, kind=PieceKind.CONTINUE)


@pytest.mark.parametrize("status", [SessionStatus.LOCKED, SessionStatus.ENDED])
async def test_locked_and_ended_sessions_take_no_turns(storage: Storage, status: SessionStatus) -> None:
    session = await open_session(storage)
    first = await take_turn(storage, session, None)
    assert (await storage.set_session_status(session.id, status)).status == status
    with pytest.raises(Forbidden, match=status.value):
        await take_turn(storage, session, first)
    await storage.set_session_status(session.id, SessionStatus.OPEN)
    assert (await take_turn(storage, session, first)).number == 2


async def test_active_sessions_leave_out_ended_ones(storage: Storage, clock: FakeClock) -> None:
    made = []
    for thread in (1, 2, 3):
        made.append(await open_session(storage, thread))
        clock.advance(timedelta(seconds=1))
    kept, locked, ended = made
    await storage.set_session_status(locked.id, SessionStatus.LOCKED)
    await storage.set_session_status(ended.id, SessionStatus.ENDED)
    assert [s.id for s in await storage.active_sessions()] == [kept.id, locked.id]
    assert await storage.active_sessions(guild_id=12345) == []


async def test_concurrent_turns_get_distinct_numbers(storage: Storage) -> None:
    session = await open_session(storage)
    root = await take_turn(storage, session, None)
    turns = await asyncio.gather(*(take_turn(storage, session, root, author_id=i) for i in range(8)))
    assert sorted(t.number for t in turns) == list(range(2, 10))


async def test_voting_twice_counts_once_and_unvoting_is_idempotent(storage: Storage) -> None:
    session = await open_session(storage)
    turn = await take_turn(storage, session, None)
    assert await storage.vote(turn.piece_id, user_id=7) is True
    assert await storage.vote(turn.piece_id, user_id=7) is False
    assert await storage.vote(turn.piece_id, user_id=8) is True
    assert (await storage.get_turn(turn.piece_id)).votes == 2
    assert await storage.unvote(turn.piece_id, user_id=7) is True
    assert await storage.unvote(turn.piece_id, user_id=7) is False
    assert (await storage.get_turn(turn.piece_id)).votes == 1


async def test_voting_for_a_piece_that_is_no_turn_raises_not_found(storage: Storage) -> None:
    piece = await add_piece(storage)
    with pytest.raises(NotFound):
        await storage.vote(piece.id, user_id=7)


async def test_top_turns_rank_by_votes_then_by_age(storage: Storage) -> None:
    session = await open_session(storage)
    first = await take_turn(storage, session, None)
    second = await take_turn(storage, session, first)
    third = await take_turn(storage, session, first)
    fourth = await take_turn(storage, session, third)
    for turn, voters in ((second, 3), (third, 1), (fourth, 3)):
        for user in range(voters):
            await storage.vote(turn.piece_id, user_id=100 + user)
    top = await storage.top_turns(session.id, limit=3)
    assert [(t.piece_id, t.votes) for t in top] == [
        (second.piece_id, 3),
        (fourth.piece_id, 3),
        (third.piece_id, 1),
    ]


async def test_recent_turns_count_only_the_last_hour(storage: Storage, clock: FakeClock) -> None:
    session, other = await open_session(storage, 1), await open_session(storage, 2)
    root = await take_turn(storage, session, None, author_id=5)
    clock.advance(timedelta(minutes=30))
    await take_turn(storage, session, root, author_id=5)
    await take_turn(storage, other, None, author_id=5)
    await take_turn(storage, session, root, author_id=6)
    assert await storage.count_recent_turns(5) == 3
    assert await storage.count_recent_turns(5, session_id=session.id) == 2
    clock.advance(timedelta(minutes=31))  # the first turn is now more than an hour old
    assert await storage.count_recent_turns(5, session_id=session.id) == 1
    assert await storage.count_recent_turns(5, within=timedelta(hours=2)) == 3
