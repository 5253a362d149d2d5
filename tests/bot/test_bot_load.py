"""Fifty members at once: every interaction deferred inside Discord's 3 s, every one answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from model.checkpoint import read_meta
from tests.bot.conftest import StartCadenza
from tests.discord_emulator import CallbackType

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
MEMBERS = 50


async def test_fifty_interactions_at_once_are_all_deferred_and_answered(
    cadenza_bot: StartCadenza, tiny_checkpoint: Path
) -> None:
    cadenza = await cadenza_bot()
    genres = read_meta(tiny_checkpoint)["genres"]
    traces = await asyncio.gather(
        *(
            cadenza.emu.slash(
                "compose", {"genre": genres[i % len(genres)], "length": 1}, user=f"member{i:02d}"
            )
            for i in range(MEMBERS)
        )
    )
    firsts = [await t.response(timeout=10) for t in traces]
    # The emulator refuses a first response later than 3 s (Unknown interaction), so a deferral that
    # arrived and was not refused arrived in time.
    assert all(r.callback_type is CallbackType.DEFERRED_CHANNEL_MESSAGE for r in firsts)
    assert not [t.refusals for t in traces if t.refusals]
    results = [await t.followup(timeout=600) for t in traces]
    unanswered = [r.embeds[0].get("description") if r.embeds else r.content for r in results if not r.files]
    assert not unanswered, f"{len(unanswered)} members got no piece: {unanswered}"
    assert all(r.file("piece.mid").data[:4] == b"MThd" for r in results)
