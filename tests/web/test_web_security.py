"""Security cases: hostile text is escaped, no inline script anywhere, requests limited per address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.storage import PieceKind, Storage
from render import RenderPool
from tests.web.conftest import Site, serve
from tests.web.world import GUILD, World, tune_midi

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class ScriptFinder(HTMLParser):
    """Collects what a content security policy would have to allow: inline scripts, handlers, styles."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            self.scripts.append(names.get("src") or "")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (value or "").strip().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")
        if tag in ("style", "iframe", "object", "embed"):
            self.problems.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = tag != "script" and self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")


async def page(site: Site, url: str, status: int = 200) -> str:
    async with site.http.get(site.path(url)) as response:
        assert response.status == status
        return await response.text()


async def test_hostile_titles_names_and_file_names_are_escaped(site: Site, storage: Storage) -> None:
    await storage.remember_name(GUILD, 666, HOSTILE)
    piece = await storage.add_piece(
        user_id=666, channel_id=7, guild_id=GUILD, kind=PieceKind.UPLOAD, midi=tune_midi(),
        settings={"genre": HOSTILE, "clip": f'"{HOSTILE}.wav', "sound": HOSTILE}, seed=1, model="m",
        title=HOSTILE, duration_s=1.0,
    )  # fmt: skip
    html = await page(site, site.front.piece_url(piece.id))
    assert HOSTILE not in html and "<script>alert" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 4  # title x2, maker, genre, clip
    finder = ScriptFinder()
    finder.feed(html)
    assert finder.problems == [] and finder.scripts == ["/static/playhead.js"]


@pytest.mark.parametrize("which", ["piece", "session", "gallery", "error"])
async def test_no_page_needs_inline_script_or_style(site: Site, which: str) -> None:
    urls = {
        "piece": site.front.piece_url(site.world.child.id),
        "session": site.front.session_url(site.world.session.id),
        "gallery": site.front.gallery_url(GUILD),
        "error": "/p/nothing.here",
    }
    html = await page(site, urls[which], 404 if which == "error" else 200)
    finder = ScriptFinder()
    finder.feed(html)
    assert finder.problems == [] and finder.scripts == ["/static/playhead.js"]


async def test_the_script_is_served_from_the_package_as_javascript(site: Site) -> None:
    async with site.http.get(site.root + "/static/playhead.js") as response:
        assert response.status == 200 and response.content_type in (
            "text/javascript",
            "application/javascript",
        )
        assert "playhead" in await response.text()


@pytest.fixture
async def strict_site(
    storage: Storage, world: World, render_pool: RenderPool, tmp_path: Path
) -> AsyncIterator[Site]:
    from web import WebSettings

    settings = WebSettings(port=0, base_url="https://cadenza.example", burst=3, requests_per_minute=6)
    async for site in serve(storage, world, render_pool, settings, tmp_path / "data"):
        yield site


async def test_an_address_past_its_burst_is_told_to_slow_down(strict_site: Site) -> None:
    site = strict_site
    url = site.front.piece_url(site.world.piece.id)
    for _ in range(3):
        await page(site, url)
    async with site.http.get(site.path(url)) as response:
        assert response.status == 429 and 1 <= int(response.headers["Retry-After"]) <= 10
        assert "Content-Security-Policy" in response.headers
    for _ in range(5):  # static files cost nothing, so the page still styles itself
        async with site.http.get(site.root + "/static/style.css") as response:
            assert response.status == 200


async def test_forwarded_for_is_ignored_unless_trusted(strict_site: Site) -> None:
    site = strict_site
    for n in range(4):
        async with site.http.get(site.root + "/", headers={"X-Forwarded-For": f"10.0.0.{n}"}) as response:
            status = response.status
    assert status == 429  # all four came from 127.0.0.1, whatever the header claimed


async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_bucket(
    storage: Storage, world: World, render_pool: RenderPool, tmp_path: Path
) -> None:
    from web import WebSettings

    settings = WebSettings(port=0, base_url="https://cadenza.example", burst=1, trust_forwarded_for=True)
    async for site in serve(storage, world, render_pool, settings, tmp_path / "data"):
        statuses = []
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
            async with site.http.get(
                site.root + "/", headers={"X-Forwarded-For": f"{address}, 1.2.3.4"}
            ) as r:
                statuses.append(r.status)
        assert statuses == [200, 200, 429]
