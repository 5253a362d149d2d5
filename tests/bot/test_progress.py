"""Progress edits: one message coalesces its texts; all messages together keep to the process's pace."""

from __future__ import annotations

import asyncio
import time

from bot.progress import EditPacer, ProgressMessage


async def test_pacer_spaces_turns_first_come_first_served() -> None:
    pacer = EditPacer(per_s=50.0)
    order: list[int] = []
    started = time.monotonic()

    async def take(i: int) -> None:
        await pacer.turn()
        order.append(i)

    await asyncio.gather(*(take(i) for i in range(10)))
    assert order == list(range(10))
    assert time.monotonic() - started >= 9 / 50 * 0.95  # ten turns at 50/s: nine gaps of 20 ms


async def test_many_messages_share_the_pace_and_each_shows_its_latest_text() -> None:
    pacer = EditPacer(per_s=40.0)
    sent: list[tuple[int, str]] = []

    def message(i: int) -> ProgressMessage:
        async def edit(text: str) -> None:
            sent.append((i, text))

        return ProgressMessage(edit, interval_s=0.01, pacer=pacer)

    messages = [message(i) for i in range(20)]
    started = time.monotonic()
    for step in range(5):
        for m in messages:
            m.show(f"step {step}")
        await asyncio.sleep(0.02)
    while any(m._task is not None and not m._task.done() for m in messages):
        await asyncio.sleep(0.01)
    elapsed = time.monotonic() - started
    assert len(sent) <= 40 * elapsed + 1  # never faster than the shared pace
    assert len(sent) < 100  # far fewer than the 100 texts shown: coalesced, not queued
    last = {i: text for i, text in sent}
    assert last == {i: "step 4" for i in range(20)}  # yet every message ends on its latest text
    for m in messages:
        await m.close()
