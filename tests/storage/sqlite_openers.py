"""A process that opens fresh SQLite files together with another process, round after round.

Run by `test_sqlite_opens.py` through multiprocessing (spawn): each round both processes meet at a
barrier, then open the same fresh file from several concurrent `Storage.open` calls.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.storage import Storage

BARRIER_TIMEOUT_S = 120.0  # the other process is starting (imports) or slow on a loaded machine


async def open_together(url: str, count: int) -> list[str]:
    """Open `url` from `count` concurrent calls; the errors (as text), none when all opened."""
    results = await asyncio.gather(*(Storage.open(url) for _ in range(count)), return_exceptions=True)
    errors = []
    for result in results:
        if isinstance(result, BaseException):
            errors.append(repr(result))
        else:
            await result.close()
    return errors


def open_rounds(folder: str, rounds: int, count: int, barrier: Any, errors: Any) -> None:
    """Each round, wait for the other process, then open round's file `count` times at once."""
    for i in range(rounds):
        barrier.wait(BARRIER_TIMEOUT_S)
        url = f"sqlite:///{Path(folder) / f'round{i}.db'}"
        for error in asyncio.run(open_together(url, count)):
            errors.put(f"round {i}: {error}")
