"""The bot's cache of server defaults: one database read serves a burst, and a write wins over a read."""

from __future__ import annotations

import asyncio

from bot.options import ServerDefaults
from bot.services import ServerSettingsCache
from bot.storage import Storage

GUILD = 4242


async def test_a_burst_from_one_server_makes_one_database_read(storage: Storage) -> None:
    await storage.set_guild_settings(GUILD, {"genre": "folk", "length": 20}, updated_by=1)
    cache = ServerSettingsCache(storage, ttl_s=60)
    got = await asyncio.gather(*(cache.get(GUILD) for _ in range(50)))
    assert {g.genre for g in got} == {"folk"} and {g.length for g in got} == {20}
    assert cache.reads == 1
    await cache.get(GUILD)  # fresh: from memory
    assert cache.reads == 1


async def test_a_stale_entry_is_read_again(storage: Storage) -> None:
    cache = ServerSettingsCache(storage, ttl_s=0)
    assert (await cache.get(GUILD)).genre is None
    await storage.set_guild_settings(GUILD, {"genre": "celtic"}, updated_by=1)
    assert (await cache.get(GUILD)).genre == "celtic"
    assert cache.reads == 2


async def test_a_write_during_a_read_is_what_stays_cached(storage: Storage) -> None:
    cache = ServerSettingsCache(storage, ttl_s=60)
    reading = asyncio.ensure_future(cache.get(GUILD))
    await asyncio.sleep(0)  # the read has started
    await cache.set(GUILD, ServerDefaults(genre="chorale"), updated_by=2)
    await reading
    assert (await cache.get(GUILD)).genre == "chorale"


async def test_one_cancelled_caller_does_not_fail_the_others(storage: Storage) -> None:
    await storage.set_guild_settings(GUILD, {"genre": "folk"}, updated_by=1)
    cache = ServerSettingsCache(storage, ttl_s=60)
    first = asyncio.ensure_future(cache.get(GUILD))
    second = asyncio.ensure_future(cache.get(GUILD))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).genre == "folk"
    assert cache.reads == 1
