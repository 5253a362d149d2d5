"""What web pages read: removal by the maker, remembered display names, a server's gallery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.storage import PieceKind, Storage
from cadenza.errors import Forbidden, NotFound
from tests.storage.factories import SNOWFLAKE, FakeClock, add_piece

GUILD = SNOWFLAKE


async def test_remove_piece_marks_it_removed_once(storage: Storage, clock: FakeClock) -> None:
    piece = await add_piece(storage, guild_id=GUILD, user_id=5)
    assert not piece.removed
    assert await storage.remove_piece(piece.id, 5) is True
    assert await storage.remove_piece(piece.id, 5) is False
    stored = await storage.get_piece(piece.id)
    assert stored.removed and stored.removed_at == clock.now


async def test_remove_piece_refuses_someone_elses_and_unknown_pieces(storage: Storage) -> None:
    piece = await add_piece(storage, user_id=5)
    with pytest.raises(Forbidden):
        await storage.remove_piece(piece.id, 6)
    with pytest.raises(NotFound):
        await storage.remove_piece("nope", 5)
    assert not (await storage.get_piece(piece.id)).removed


async def test_display_names_are_per_server_and_the_latest_wins(storage: Storage) -> None:
    await storage.remember_name(GUILD, SNOWFLAKE + 1, "Ada")
    await storage.remember_name(GUILD, SNOWFLAKE + 1, "Ada L.")
    await storage.remember_name(GUILD + 1, SNOWFLAKE + 1, "ada on another server")
    await storage.remember_name(None, SNOWFLAKE + 2, "Bo" * 80)
    assert await storage.display_names(GUILD, [SNOWFLAKE + 1, SNOWFLAKE + 3]) == {SNOWFLAKE + 1: "Ada L."}
    assert await storage.display_names(None, [SNOWFLAKE + 2]) == {SNOWFLAKE + 2: ("Bo" * 80)[:100]}
    assert await storage.display_names(GUILD, []) == {}


async def test_gallery_lists_a_servers_pieces_newest_first_without_removed_ones(
    storage: Storage, clock: FakeClock
) -> None:
    made = []
    for _ in range(4):
        made.append(await add_piece(storage, guild_id=GUILD, user_id=5))
        clock.advance(timedelta(minutes=1))
    await add_piece(storage, guild_id=GUILD + 1)
    await storage.remove_piece(made[1].id, 5)
    recent = await storage.guild_recent_pieces(GUILD, limit=2)
    assert [p.id for p in recent] == [made[3].id, made[2].id]
    assert [p.id for p in await storage.guild_recent_pieces(GUILD)] == [made[3].id, made[2].id, made[0].id]


async def test_most_liked_counts_likes_of_turns_and_skips_unliked_and_removed(
    storage: Storage, clock: FakeClock
) -> None:
    session = await storage.create_session(
        guild_id=GUILD, thread_id=9, title="t", genre="folk", sound="piano", starter_id=5
    )
    pieces = []
    for _ in range(4):
        parent = pieces[-1] if pieces else None
        piece = await add_piece(storage, parent, guild_id=GUILD, user_id=5)
        await storage.add_turn(
            session.id, piece.id, author_id=5, kind=PieceKind.CONTINUE, parent_piece_id=parent and parent.id
        )
        pieces.append(piece)
        clock.advance(timedelta(minutes=1))
    for piece, likes in ((pieces[0], 1), (pieces[1], 3), (pieces[2], 1), (pieces[3], 2)):
        for voter in range(likes):
            await storage.vote(piece.id, 100 + voter)
    await storage.remove_piece(pieces[3].id, 5)
    liked = await storage.guild_most_liked(GUILD)
    assert [(p.id, n) for p, n in liked] == [(pieces[1].id, 3), (pieces[2].id, 1), (pieces[0].id, 1)]
    assert await storage.guild_most_liked(GUILD + 1) == []
