"""A crawl of 10,000 random ids: every answer a clean 404, and the server's memory does not grow."""

from __future__ import annotations

import asyncio
import gc
import random
import secrets
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Storage
from render import RenderPool
from tests.web.conftest import SECRET, Site, serve
from tests.web.world import World
from web import Links, LinkSigner, WebSettings

CRAWL = 10_000
WARM_UP = 1_000
CLIENTS = 8
RECORDS = 100


def rss_bytes() -> int:
    """This process's resident memory (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def random_paths(count: int, links: Links, rng: random.Random) -> list[str]:
    """Made-up tokens of every shape, and one in ten correctly signed but for ids that do not exist."""
    paths = []
    for n in range(count):
        kind = rng.choice("psg")
        if n % 10 == 0:
            ident = str(rng.randrange(10**18)) if kind == "g" else secrets.token_urlsafe(9)
            url = {"p": links.piece_url, "s": links.session_url}.get(
                kind, lambda i: links.gallery_url(int(i))
            )(ident)
            path = url.removeprefix("https://cadenza.example")
        else:
            path = f"/{kind}/{secrets.token_urlsafe(9)}.{secrets.token_urlsafe(rng.randrange(1, 24))}"
        suffix = rng.choice(
            ["", "", "/piece.mp3", "/roll.png", "/piece.mid", "/piece.musicxml", "/mix/1.mp3"]
        )
        paths.append(path + suffix)
    return paths


@pytest.fixture
async def crawl_site(
    storage: Storage, world: World, render_pool: RenderPool, tmp_path: Path
) -> AsyncIterator[Site]:
    settings = WebSettings(port=0, base_url="https://cadenza.example", burst=10**6, records_cached=RECORDS)
    async for site in serve(storage, world, render_pool, settings, tmp_path / "data"):
        yield site


async def crawl(site: Site, paths: list[str]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    queue = iter(paths)

    async def client() -> None:
        for path in queue:
            async with site.http.get(site.root + path) as response:
                await response.read()
                statuses[response.status] += 1

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses


@pytest.mark.slow
async def test_a_crawl_of_random_ids_gets_404s_without_errors_or_memory_growth(crawl_site: Site) -> None:
    links = Links(crawl_site.settings, LinkSigner(SECRET))
    rng = random.Random(18)
    assert await crawl(crawl_site, random_paths(WARM_UP, links, rng)) == Counter({404: WARM_UP})
    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    statuses = await crawl(crawl_site, random_paths(CRAWL, links, rng))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    rss_grown = rss_bytes() - rss_before
    print(f"crawl: {statuses}, traced growth {grown / 1024:.0f} KiB, RSS growth {rss_grown / 2**20:.1f} MiB")
    assert statuses == Counter({404: CRAWL})
    # Measured ~430 KiB: RECORDS "not found" markers, connection buffers, the SQLite driver's queue.
    # A leak of one small object per request would pass 80 bytes a request (800 KB).
    assert grown < 80 * CRAWL
    assert rss_grown < 16 * 2**20
