"""Web fixtures: a real SQLite store with a small world, a real render pool, the real app on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.storage import Storage
from render import RenderPool, RenderSettings
from tests.web.world import World, build_world
from web import Links, LinkSigner, WebFront, WebSettings, start_web

SECRET = b"test-secret-for-web-pages-0123456789"
# Small and fast: the SoundFont shipped with pretty_midi, one thread each, a small picture.
RENDER = RenderSettings(
    soundfont="builtin", pool_kind="thread", workers=1, synth_threads=1, encode_threads=1, nice=0
)


@dataclass
class Site:
    """A running web front and what the tests need to talk to it."""

    front: WebFront
    storage: Storage
    world: World
    http: aiohttp.ClientSession
    root: str
    settings: WebSettings
    front_data: Path

    def path(self, url: str) -> str:
        """A public page address (or a path) as an address on the test server."""
        return self.root + url.removeprefix(self.settings.public_root)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(f"sqlite:///{tmp_path / 'cadenza.db'}")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def world(storage: Storage) -> World:
    return await build_world(storage)


@pytest.fixture
async def render_pool() -> AsyncIterator[RenderPool]:
    pool = RenderPool(RENDER)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def web_settings() -> WebSettings:
    """Generous rate limits (tests that check limiting make their own)."""
    return WebSettings(enabled=True, port=0, base_url="https://cadenza.example", burst=10_000)


async def serve(
    storage: Storage, world: World, pool: RenderPool, settings: WebSettings, data_dir: Path
) -> AsyncIterator[Site]:
    """Start the front, hand out a Site, stop it."""
    front = await start_web(storage, settings, SECRET, pool, data_dir=data_dir)
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(front, storage, world, http, f"http://127.0.0.1:{front.port}", settings, data_dir)
    finally:
        await front.stop()


@pytest.fixture
async def site(
    storage: Storage, world: World, render_pool: RenderPool, web_settings: WebSettings, tmp_path: Path
) -> AsyncIterator[Site]:
    async for running in serve(storage, world, render_pool, web_settings, tmp_path / "data"):
        yield running


@pytest.fixture
def links(web_settings: WebSettings) -> Links:
    return Links(web_settings, LinkSigner(SECRET))
