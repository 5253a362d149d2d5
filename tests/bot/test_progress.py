"""Progress edits: one message coalesces its texts; all messages together keep to the process's pace.

Time is virtual: the clock moves only from one sleeper's wake-up to the next, so the figures below are
exact and the tests take no wall time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from bot.progress import EditPacer, ProgressMessage

WAIT_S = 10.0  # wall-clock bound on work that takes milliseconds
MAX_YIELDS = 1000  # turns of the event loop a woken task may take before it sleeps again
STABLE_TURNS = 20  # turns with nothing changing: a chain of wake-ups (task → shield → waiter) has ended
T = TypeVar("T")


class VirtualTime:
    """A clock and a sleep on virtual time: `run` wakes sleepers earliest first, moving the clock.

    A sleeper is woken only when every task that ever slept is asleep again or done, so the clock
    never jumps past a wake-up that a running task was about to ask for.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # ties wake in the order they slept
        self._asleep: set[asyncio.Task[object]] = set()
        self._slept: set[asyncio.Task[object]] = set()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        assert task is not None
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        self._slept.add(task)
        self._asleep.add(task)
        try:
            await woken
        finally:
            self._asleep.discard(task)

    async def _settle(self, main: asyncio.Future[object]) -> None:
        """Turn the event loop until, for STABLE_TURNS turns in a row, every task sleeps or is done."""
        stable, seen = 0, None
        for _ in range(MAX_YIELDS):
            await asyncio.sleep(0)
            state = (len(self._sleepers), len(self._slept), main.done())
            quiet = all(t.done() or t in self._asleep or t is main for t in self._slept)
            stable = stable + 1 if quiet and state == seen else 0
            seen = state
            if stable >= STABLE_TURNS:
                return
        raise AssertionError("a task neither slept nor finished")

    async def run(self, body: Awaitable[T]) -> T:
        """Run `body` (the test's own steps), waking sleepers in order of their wake-up times."""
        main = asyncio.ensure_future(body)
        while True:
            await self._settle(main)
            if main.done():
                return main.result()
            assert self._sleepers, "nothing left to wake: the test would hang"
            wake, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            woken.set_result(None)


async def test_pacer_spaces_turns_first_come_first_served() -> None:
    time = VirtualTime()
    pacer = EditPacer(per_s=50.0, clock=time, sleep=time.sleep)
    order: list[tuple[int, float]] = []

    async def take(i: int) -> None:
        await pacer.turn()
        order.append((i, time.now))

    await asyncio.wait_for(time.run(asyncio.gather(*(take(i) for i in range(10)))), WAIT_S)
    assert [i for i, _ in order] == list(range(10))
    assert [t for _, t in order] == pytest.approx([i / 50 for i in range(10)])  # a turn every 20 ms


async def test_one_message_sends_its_first_text_at_once_and_then_only_the_latest() -> None:
    time = VirtualTime()
    sent: list[tuple[float, str]] = []

    async def edit(text: str) -> None:
        sent.append((time.now, text))

    message = ProgressMessage(edit, interval_s=2.0, clock=time, sleep=time.sleep)

    async def steps() -> None:
        message.show("queued")
        await message.idle()
        for text in ("10%", "20%", "30%"):
            message.show(text)
        await message.idle()

    await asyncio.wait_for(time.run(steps()), WAIT_S)
    assert sent == [(0.0, "queued"), (2.0, "30%")]
    await message.close()
    message.show("after close")
    assert sent[-1] == (2.0, "30%")


async def test_many_messages_share_the_pace_and_each_shows_its_latest_text() -> None:
    time = VirtualTime()
    pacer = EditPacer(per_s=40.0, clock=time, sleep=time.sleep)
    sent: list[tuple[float, int, str]] = []

    def message(i: int) -> ProgressMessage:
        async def edit(text: str) -> None:
            sent.append((time.now, i, text))

        return ProgressMessage(edit, interval_s=0.01, clock=time, pacer=pacer, sleep=time.sleep)

    messages = [message(i) for i in range(20)]

    async def steps() -> None:
        for step in range(5):
            for m in messages:
                m.show(f"step {step}")
            await time.sleep(0.02)
        await asyncio.gather(*(m.idle() for m in messages))

    await asyncio.wait_for(time.run(steps()), WAIT_S)
    times = [t for t, _, _ in sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 40 - 1e-9  # never faster than the shared pace
    assert len(sent) < 100  # far fewer than the 100 texts shown: coalesced, not queued
    last = {i: text for _, i, text in sent}
    assert last == {i: "step 4" for i in range(20)}  # yet every message ends on its latest text
    for m in messages:
        await m.close()
