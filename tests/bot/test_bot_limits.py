"""Fairness through Discord: rate limits, per-member job limits and a full bot, each refusal
ephemeral and saying when to try again. One bot with strict limits serves the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import pytest_asyncio

from model.checkpoint import read_meta
from tests.bot.conftest import Harness, StartCadenza, melody_midi
from tests.discord_emulator import CallbackType, InteractionTrace

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
RETRY = re.compile(r"Try again .*\d+ s")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def strict(cadenza_bot: StartCadenza) -> Harness:
    """A bot where a member may make 2 requests then one per minute, one job at a time; 3 jobs in all."""
    return await cadenza_bot(
        user_burst=2,
        user_refill_s=60.0,
        max_jobs_per_user=1,
        guild_burst=100,
        guild_refill_s=0.01,
        max_jobs=2,
    )


@pytest.fixture(scope="module")
def genre(tiny_checkpoint: Path) -> str:
    """A genre the tiny model knows."""
    return str(read_meta(tiny_checkpoint)["genres"][0])


async def refused(trace: InteractionTrace) -> str:
    """The ephemeral first response's text (refusals come before any deferral)."""
    reply = await trace.response(timeout=30)
    assert reply.callback_type is CallbackType.CHANNEL_MESSAGE and reply.ephemeral
    return str(reply.embeds[0]["description"])


async def test_member_rate_limit_says_when_to_retry(strict: Harness, genre: str) -> None:
    first = await strict.emu.slash("compose", {"genre": genre, "length": 2}, user="member01")
    await first.followup(timeout=180)
    second = await strict.emu.slash("compose", {"genre": genre, "length": 2}, user="member01")
    await second.followup(timeout=180)
    third = await strict.emu.slash("compose", {"genre": genre, "length": 2}, user="member01")
    text = await refused(third)
    assert "composing fast" in text and RETRY.search(text)


async def running_jobs(strict: Harness, genre: str, *users: str) -> list[InteractionTrace]:
    """One job per user that is certainly still running: each waits on its clip's download."""
    clip = await strict.emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
    traces = [
        await strict.emu.slash("compose", {"genre": genre, "length": 2, "clip": clip}, user=user)
        for user in users
    ]
    await strict.emu.wait_cdn_held(strict.emu.cdn_held + len(users))
    return traces


async def test_second_job_while_the_first_runs_is_refused(strict: Harness, genre: str) -> None:
    async with strict.emu.cdn_slowed():
        [running] = await running_jobs(strict, genre, "member02")
        again = await strict.emu.slash("compose", {"genre": genre, "length": 2}, user="member02")
        text = await refused(again)
    assert "already have 1 pieces composing" in text and RETRY.search(text)
    await running.followup(timeout=180)


async def test_full_bot_answers_busy(strict: Harness, genre: str) -> None:
    async with strict.emu.cdn_slowed():
        long_ones = await running_jobs(strict, genre, "member03", "member04")
        busy = await strict.emu.slash("compose", {"genre": genre, "length": 2}, user="member05")
        text = await refused(busy)
    assert "as many pieces as I can" in text and RETRY.search(text)
    for trace in long_ones:
        await trace.followup(timeout=180)
