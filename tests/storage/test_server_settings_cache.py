"""The bot's cache of server defaults: one database read serves a burst, and a write wins over a read.

The store is the real one; its server-settings reads, once they have read, wait at a gate the test
opens, so a read is in flight (and holds what the database held) exactly when the test says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.options import ServerDefaults
from bot.services import ServerSettingsCache
from bot.storage import GuildSettings, Storage

GUILD = 4242
WAIT_S = 10.0  # for an event that takes milliseconds; generous for a loaded machine


class GatedStorage(Storage):
    """The real store; `get_guild_settings` reads, says so, and returns only once `gate` opens."""

    read_started: asyncio.Event
    gate: asyncio.Event

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        read = await super().get_guild_settings(guild_id)
        self.read_started.set()
        await self.gate.wait()
        return read


class Clock:
    """Seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def gated(database_url: str) -> AsyncIterator[GatedStorage]:
    store = await GatedStorage.open(database_url)
    store.read_started, store.gate = asyncio.Event(), asyncio.Event()
    try:
        yield store
    finally:
        await store.close()


async def test_a_burst_from_one_server_makes_one_database_read(gated: GatedStorage) -> None:
    await gated.set_guild_settings(GUILD, {"genre": "folk", "length": 20}, updated_by=1)
    cache = ServerSettingsCache(gated, ttl_s=60)
    burst = [asyncio.ensure_future(cache.get(GUILD)) for _ in range(50)]
    # The read task was scheduled by the first caller, after all 50: when it starts, all have asked.
    await asyncio.wait_for(gated.read_started.wait(), WAIT_S)
    gated.gate.set()
    got = await asyncio.wait_for(asyncio.gather(*burst), WAIT_S)
    assert {g.genre for g in got} == {"folk"} and {g.length for g in got} == {20}
    assert cache.reads == 1
    await cache.get(GUILD)  # fresh: from memory
    assert cache.reads == 1


async def test_a_stale_entry_is_read_again(gated: GatedStorage) -> None:
    gated.gate.set()
    clock = Clock()
    cache = ServerSettingsCache(gated, ttl_s=60, clock=clock)
    assert (await cache.get(GUILD)).genre is None
    await gated.set_guild_settings(GUILD, {"genre": "celtic"}, updated_by=1)
    clock.now += 59.9
    assert (await cache.get(GUILD)).genre is None  # still fresh: the other process's write is not seen
    clock.now += 0.2
    assert (await cache.get(GUILD)).genre == "celtic"
    assert cache.reads == 2


async def test_a_write_during_a_read_is_what_stays_cached(gated: GatedStorage) -> None:
    cache = ServerSettingsCache(gated, ttl_s=60)
    reading = asyncio.ensure_future(cache.get(GUILD))
    await asyncio.wait_for(gated.read_started.wait(), WAIT_S)  # read before the write, not yet returned
    await cache.set(GUILD, ServerDefaults(genre="chorale"), updated_by=2)
    gated.gate.set()
    assert (await asyncio.wait_for(reading, WAIT_S)).genre is None  # what the database held when asked
    assert (await cache.get(GUILD)).genre == "chorale"
    assert cache.reads == 1


async def test_one_cancelled_caller_does_not_fail_the_others(gated: GatedStorage) -> None:
    await gated.set_guild_settings(GUILD, {"genre": "folk"}, updated_by=1)
    cache = ServerSettingsCache(gated, ttl_s=60)
    first = asyncio.ensure_future(cache.get(GUILD))
    second = asyncio.ensure_future(cache.get(GUILD))
    await asyncio.wait_for(gated.read_started.wait(), WAIT_S)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gated.gate.set()
    assert (await asyncio.wait_for(second, WAIT_S)).genre == "folk"
    assert cache.reads == 1
