"""Live progress in the deferred message, edited at most once per interval (Discord rate-limits edits).

`show(text)` is synchronous and cheap, so progress callbacks from the engine's thread (delivered on
the event loop) can call it as often as they like; only the latest text is ever sent. An `EditPacer`
shared by every message of the process caps all progress edits together, so hundreds of jobs at once
update less often each instead of flooding the event loop (and Discord) with edits while new
interactions wait for their deferral.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import discord

log = logging.getLogger(__name__)
Edit = Callable[[str], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]


class EditPacer:
    """Hands out edit turns at most `per_s` a second, first come first served (no bursts)."""

    def __init__(
        self, per_s: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._gap = 1.0 / per_s
        self._clock = clock
        self._sleep = sleep  # with `clock`, what tests replace to run on virtual time
        self._next = -float("inf")

    async def turn(self) -> None:
        """Wait for this caller's turn."""
        now = self._clock()
        at = max(now, self._next)
        self._next = at + self._gap
        if at > now:
            # Pacing to a rate, not waiting for an event.
            await self._sleep(at - now)


class ProgressMessage:
    """Coalesces progress texts into rate-limited edits of one message."""

    def __init__(
        self,
        edit: Edit,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        pacer: EditPacer | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._edit = edit
        self._pacer = pacer
        self._interval = interval_s
        self._clock = clock
        self._sleep = sleep
        self._wanted: str | None = None
        self._shown: str | None = None
        self._last = -float("inf")
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def show(self, text: str) -> None:
        """Make `text` the message's content soon (within the edit interval)."""
        if self._closed:
            return
        self._wanted = text
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush(), name="progress-edit")

    async def _flush(self) -> None:
        while self._wanted != self._shown and not self._closed:
            wait = self._last + self._interval - self._clock()
            if wait > 0:
                # Pacing edits to Discord's rate limit, not waiting for an event.
                await self._sleep(wait)
                continue
            if self._pacer is not None:
                await self._pacer.turn()
                if self._closed:
                    return
            text = self._wanted  # the latest text: whatever arrived while waiting replaces the rest
            self._last, self._shown = self._clock(), text
            try:
                await self._edit(text or "")
            except discord.HTTPException as e:
                # A lost progress edit is harmless; the result still comes.
                log.debug("progress edit failed: %s", e)

    async def idle(self) -> None:
        """Return once every text shown so far has been sent (or the message was closed)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop editing (before the result is delivered, so no late edit overwrites anything)."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def bar(fraction: float, width: int = 12) -> str:
    """A text progress bar: ▰▰▰▱▱▱."""
    filled = max(0, min(width, round(fraction * width)))
    return "▰" * filled + "▱" * (width - filled)
