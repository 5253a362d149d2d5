"""Restarts and long jobs: buttons outlive the process, unfinished jobs are finished, and a result
that would outlive its interaction token is posted in the channel instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.options import PieceSpec, Work
from bot.storage import JobStatus, Storage
from model.checkpoint import read_meta
from tests.bot.conftest import StartCadenza
from tests.discord_emulator import ReplyKind

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
