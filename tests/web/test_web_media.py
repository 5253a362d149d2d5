"""Audio, pictures and downloads made on demand: real renders, cached on disk, rendered once."""

from __future__ import annotations

import asyncio
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.storage import Piece, Storage
from render import RenderedPiece, RenderJob, RenderPool
from tests.web.conftest import SECRET, Site, serve
from tests.web.world import TUNE, World
from web import PageKind, SheetMusic, WebSettings, start_web
from web.media import Music21Sheets


class CountingPool:
    """The real render pool, counting renders and able to hold them until released."""

    def __init__(self, pool: RenderPool) -> None:
        self.settings = pool.settings
        self._pool = pool
        self.renders = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def render(self, job: RenderJob) -> RenderedPiece:
        self.renders += 1
        self.started.set()
        await self.release.wait()
        return await self._pool.render(job)


@pytest.fixture
async def counted(
    storage: Storage, world: World, render_pool: RenderPool, tmp_path: Path
) -> AsyncIterator[tuple[Site, CountingPool]]:
    pool = CountingPool(render_pool)
    settings = WebSettings(port=0, base_url="https://cadenza.example", burst=10_000, renders_waiting=0)
    async for site in serve(storage, world, pool, settings, tmp_path / "data"):  # type: ignore[arg-type]
        yield site, pool


async def fetch(site: Site, url: str, status: int = 200, **headers: str) -> tuple[bytes, dict[str, str]]:
    async with site.http.get(site.path(url), headers=headers) as response:
        body = await response.read()
        assert response.status == status, body[:300]
        return body, dict(response.headers)


async def test_audio_is_an_mp3_rendered_once_and_then_served_from_the_disk_cache(
    counted: tuple[Site, CountingPool],
) -> None:
    site, pool = counted
    url = site.front.piece_url(site.world.piece.id)
    first, second = await asyncio.gather(fetch(site, url + "/piece.mp3"), fetch(site, url + "/roll.png"))
    audio, headers = first
    assert headers["Content-Type"] == "audio/mpeg" and audio[:3] in (b"ID3", b"\xff\xfb")
    assert len(audio) > 20_000  # six seconds at 192 kbps is ~150 kB
    assert second[0][:8] == b"\x89PNG\r\n\x1a\n"
    await fetch(site, url + "/piece.mp3")
    assert pool.renders == 1  # the roll came with the audio; the third request read the cache
    assert list((site.front_data / "web_cache" / site.world.piece.id).iterdir())


async def test_audio_answers_range_requests_so_players_can_seek(site: Site) -> None:
    url = site.front.piece_url(site.world.piece.id) + "/piece.mp3"
    whole, _ = await fetch(site, url)
    part, headers = await fetch(site, url, 206, Range="bytes=1000-1999")
    assert part == whole[1000:2000] and headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"


async def test_downloads_are_the_stored_midi_and_readable_musicxml(site: Site) -> None:
    url = site.front.piece_url(site.world.piece.id)
    midi, headers = await fetch(site, url + "/piece.mid")
    assert midi == site.world.piece.midi
    assert headers["Content-Disposition"] == 'attachment; filename="Morning-reel.mid"'
    xml, headers = await fetch(site, url + "/piece.musicxml")
    root = ET.fromstring(xml)
    pitched = [n for n in root.iter("note") if n.find("pitch") is not None]
    assert root.tag == "score-partwise" and len(pitched) >= len(TUNE) + 3  # the tune and three bars of drone
    assert "Morning-reel.musicxml" in headers["Content-Disposition"]


async def test_the_mix_of_a_path_is_longer_than_its_last_turn(site: Site) -> None:
    session = site.front.session_url(site.world.session.id)
    mix, headers = await fetch(site, session + "/mix/2.mp3")
    turn, _ = await fetch(site, site.front.piece_url(site.world.turns[1].id) + "/piece.mp3")
    assert headers["Content-Type"] == "audio/mpeg" and len(mix) > 1.6 * len(turn)  # two turns, one crossfade
    await fetch(site, session + "/mix/9.mp3", 404)


async def test_renders_beyond_the_queue_are_refused_busy_until_room(
    counted: tuple[Site, CountingPool],
) -> None:
    site, pool = counted
    pool.release.clear()
    urls = [site.front.piece_url(p.id) + "/piece.mp3" for p in (site.world.piece, *site.world.turns)]
    rendering = asyncio.create_task(fetch(site, urls[0]))  # renders_at_once = 1, renders_waiting = 0
    await asyncio.wait_for(pool.started.wait(), timeout=30)
    _, headers = await fetch(site, urls[1], 503)
    assert int(headers["Retry-After"]) >= 1
    pool.release.set()
    await asyncio.wait_for(rendering, timeout=120)
    await fetch(site, urls[1])


async def test_a_piece_with_unreadable_midi_still_has_a_page_and_its_audio_says_why(
    site: Site, storage: Storage
) -> None:
    from bot.storage import PieceKind
    from tests.web.world import GUILD

    broken = await storage.add_piece(
        user_id=5, channel_id=7, guild_id=GUILD, kind=PieceKind.UPLOAD, midi=b"MThd not really",
        settings={}, seed=1, model="m", title="Broken", duration_s=3.0,
    )  # fmt: skip
    url = site.front.piece_url(broken.id)
    page, _ = await fetch(site, url)
    assert b'<h1 id="title">Broken</h1>' in page
    body, _ = await fetch(site, url + "/piece.mp3", 502)
    assert b"not a readable MIDI file" in body


class PageDrawingSheets:
    """A sheet maker that also draws a page (as render/'s engraver will): MusicXML from music21, a PNG."""

    draws_pages = True

    async def __call__(self, piece: Piece) -> SheetMusic:
        from PIL import Image

        xml = (await Music21Sheets()(piece)).musicxml
        buffer = io.BytesIO()
        Image.new("RGB", (600, 200), "white").save(buffer, format="PNG")
        return SheetMusic(xml, buffer.getvalue())


async def test_a_sheet_maker_that_draws_pages_puts_the_sheet_music_on_the_page(
    storage: Storage, world: World, render_pool: RenderPool, tmp_path: Path
) -> None:
    settings = WebSettings(port=0, base_url="https://cadenza.example")
    front = await start_web(
        storage, settings, SECRET, render_pool, data_dir=tmp_path, sheets=PageDrawingSheets()
    )
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{front.port}" + front.links.path(PageKind.PIECE, world.piece.id)
            async with http.get(url) as response:
                assert '<img class="sheet" src="' in await response.text()
            async with http.get(url + "/score.png") as response:
                assert response.status == 200 and (await response.read())[:4] == b"\x89PNG"
            async with http.get(url + "/piece.musicxml") as response:
                assert response.status == 200 and b"score-partwise" in await response.read()
    finally:
        await front.stop()
    assert sorted(p.name for p in (tmp_path / "web_cache" / world.piece.id).iterdir()) == [
        "piece.musicxml",
        "score.png",
    ]
