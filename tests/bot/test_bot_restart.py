"""Restarts and long jobs: buttons outlive the process, unfinished jobs are finished (a /compose job
and a session turn the bot was making when it stopped), and a result that would outlive its
interaction token is posted in the channel instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.options import PieceSpec, Work
from bot.storage import JobStatus, Storage
from model.checkpoint import read_meta
from tests.bot.conftest import COMMANDS, StartCadenza
from tests.discord_emulator import Reply, ReplyKind

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


async def test_buttons_work_after_a_restart_and_unfinished_jobs_are_finished(
    cadenza_bot: StartCadenza, tiny_checkpoint: Path
) -> None:
    cadenza = await cadenza_bot()
    genre = read_meta(tiny_checkpoint)["genres"][0]
    before = await (await cadenza.emu.slash("compose", {"genre": genre, "length": 1}, user="bob")).followup(
        timeout=180
    )
    piece_id = before.embeds[0]["footer"]["text"].split()[1]
    carol = cadenza.emu.user("carol")
    channel = cadenza.emu.channel()

    async def leave_a_job_unfinished() -> None:
        async with await Storage.open(cadenza.database) as storage:
            work = Work(PieceSpec(genre=genre, seconds=3, seed=99))
            await storage.add_job(
                job_id="left-over",
                request=work.to_json(),
                user_id=carol.id,
                channel_id=channel.id,
                application_id=cadenza.emu.world.application_id,
                interaction_token="expired-token",
                guild_id=cadenza.emu.world.guild.id,
            )

    await cadenza.restart(while_stopped=leave_a_job_unfinished)
    resumed = await cadenza.emu.wait_reply(
        lambda r: r.kind is ReplyKind.CHANNEL_MESSAGE and f"<@{carol.id}>" in (r.content or ""), timeout=180
    )
    # Finished, or cleanly failed (the tiny model can compose nothing at all): never left hanging.
    async with await Storage.open(cadenza.database) as storage:
        status = (await storage.get_job("left-over")).status
    assert status in (JobStatus.DONE, JobStatus.FAILED)
    if status is JobStatus.DONE:
        assert resumed.file("piece.mid").data[:4] == b"MThd"
    else:
        assert "couldn't finish it" in (resumed.content or "")

    trace = await cadenza.emu.press_button(before, f"cadenza:take:{piece_id}", user="bob")
    after = await trace.followup(timeout=180)
    assert f"from piece {piece_id}" in after.embeds[0]["footer"]["text"]


async def test_result_that_would_outlive_the_token_is_posted_in_the_channel(
    cadenza_bot: StartCadenza, tiny_checkpoint: Path
) -> None:
    # The bot believes tokens last 3.5 s and keeps a 3.4 s margin: every result goes to the channel.
    cadenza = await cadenza_bot(token_lifetime_s=3.5, token_margin_s=3.4)
    genre = read_meta(tiny_checkpoint)["genres"][0]
    alice = cadenza.emu.user("alice")
    trace = await cadenza.emu.slash("compose", {"genre": genre, "length": 1}, user="alice")
    assert (await trace.response()).deferred
    posted = await cadenza.emu.wait_reply(
        lambda r: r.kind is ReplyKind.CHANNEL_MESSAGE and f"<@{alice.id}>" in (r.content or ""), timeout=180
    )
    assert posted.file("piece.mp3").data and posted.embeds[0]["image"]["url"] == "attachment://piece.png"
    assert not trace.followups


async def test_a_session_turn_composing_when_the_bot_stops_is_posted_once_after_the_restart(
    cadenza_bot: StartCadenza, tiny_checkpoint: Path
) -> None:
    # A lone request waits 2 s for company before composing: a window in which the turn is in flight.
    cadenza = await cadenza_bot(tables={"engine": {"batch_wait_ms": 2000}})
    emu = cadenza.emu
    await emu.wait_synced((*COMMANDS, "session"), timeout=120)
    genre = read_meta(tiny_checkpoint)["genres"][0]
    await emu.slash("session start", {"title": "Restart jam", "genre": genre}, user="alice")
    first = await emu.wait_reply(
        lambda r: (
            r.kind is ReplyKind.CHANNEL_MESSAGE
            and bool(r.embeds)
            and r.embeds[0]["title"] == "🎶 Restart jam"
        ),
        timeout=180,
    )
    thread, t1 = (
        first.channel_id,
        next(c.rsplit(":", 1)[1] for c in first.custom_ids() if c.startswith("cadenza:turn:continue:")),
    )
    carol = emu.user("carol")
    pressed = await emu.press_button(first, f"cadenza:turn:continue:{t1}", user="carol")
    in_flight = ("⏳ In the queue", "🎼")  # the progress texts of a turn waiting for or at the composer
    await pressed.reply(
        lambda r: (r.content or "").startswith(in_flight), timeout=60, what="the turn in flight"
    )

    await cadenza.restart()  # Ctrl-C while the turn waits for the composer

    def is_turn_two(r: Reply) -> bool:
        return r.channel_id == thread and bool(r.embeds) and str(r.embeds[-1]["title"]).startswith("Turn #2")

    posted = await emu.wait_reply(is_turn_two, timeout=180, what="turn #2 after the restart")
    assert posted.kind is ReplyKind.CHANNEL_MESSAGE and f"<@{carol.id}>" in (posted.content or "")
    assert str(posted.embeds[-1]["title"]) == "Turn #2: Carol continued #1"
    assert posted.file("piece.mid").data[:4] == b"MThd"
    assert not pressed.followups  # the stopped process posted nothing
    async with await Storage.open(cadenza.database) as storage:
        session = await storage.session_for_thread(thread or 0)
        turns = await storage.session_turns(session.id)
    assert [t.number for t in turns] == [1, 2]
    assert sum(is_turn_two(r) for r in emu.replies) == 1
