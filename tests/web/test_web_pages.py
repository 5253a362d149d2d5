"""The pages over real HTTP: what a piece, a session and a gallery show, and what they refuse."""

from __future__ import annotations

import re

import pytest

from bot.storage import Storage
from tests.web.conftest import Site
from tests.web.world import ADA, BO, GUILD, NAMES
from web import GALLERY_KEY, LINKS_KEY


async def get_text(site: Site, url: str, status: int = 200) -> str:
    async with site.http.get(site.path(url)) as response:
        body = await response.text()
        assert response.status == status, body
        return body


async def test_piece_page_shows_its_facts_maker_and_family(site: Site) -> None:
    world = site.world
    html = await get_text(site, site.front.piece_url(world.piece.id))
    assert '<h1 id="title">Morning reel</h1>' in html
    for fact in ("celtic", "D major", "120 bpm", "folk band", "1834502211"):
        assert fact in html
    assert '<span id="maker">Ada</span>' in html and "composed from nothing" in html
    assert site.front.piece_url(world.child.id).removeprefix(site.settings.public_root) in html
    for name in ("piece.mp3", "piece.mid", "piece.musicxml", "roll.png"):
        assert f"/{name}" in html
    assert str(ADA) not in html and str(GUILD) not in html  # display names only, never ids


async def test_child_page_links_its_parent_and_says_what_it_is(site: Site) -> None:
    html = await get_text(site, site.front.piece_url(site.world.child.id))
    assert "a continuation of" in html and NAMES[BO] in html
    parent = re.search(r'<a id="parent" href="([^"]+)">Morning reel</a>', html)
    assert parent is not None and parent.group(1) == site.front.piece_url(site.world.piece.id)


async def test_turn_page_links_its_session(site: Site) -> None:
    html = await get_text(site, site.front.piece_url(site.world.turns[1].id))
    assert f'turn #2 of <a id="session" href="{site.front.session_url(site.world.session.id)}">' in html


async def test_session_page_draws_the_tree_with_a_link_to_every_turn(site: Site) -> None:
    html = await get_text(site, site.front.session_url(site.world.session.id))
    svg = html[html.index("<svg") : html.index("</svg>")]
    for number, turn in enumerate(site.world.turns, start=1):
        assert f'<a href="{site.front.piece_url(turn.id)}" id="tree-turn-{number}">' in svg
    assert svg.count('class="edge"') == 2  # #1 -> #2 and #1 -> #3
    for move in ("start", "continue", "remix"):
        assert f'<g class="node move-{move}">' in svg and f">{move} · celtic</text>" in svg
    likes = re.findall(r'<td class="likes">(\d+)</td>', html)
    assert likes == ["0", "2", "1"]
    assert len(re.findall(r"<audio controls preload=\"none\" src=\"[^\"]+/mix/\d\.mp3\">", html)) == 3
    assert "started by Ada" in html


async def test_a_wrong_or_tampered_token_opens_nothing(site: Site) -> None:
    url = site.front.piece_url(site.world.piece.id)
    tampered = url[:-1] + ("A" if url[-1] != "A" else "B")
    await get_text(site, tampered, 404)
    await get_text(site, url.replace("/p/", "/s/"), 404)  # a piece's token does not open a session
    await get_text(site, f"/p/{site.world.piece.id}", 404)  # the bare id is not enough
    await get_text(site, "/p/../../etc/passwd", 404)


async def test_removed_piece_says_so_with_410_and_serves_none_of_its_files(site: Site) -> None:
    piece = site.world.piece
    url = site.front.piece_url(piece.id)
    async with site.http.get(site.path(url) + "/roll.png") as response:
        assert response.status == 200
    assert await site.storage.remove_piece(piece.id, ADA)
    await site.front.piece_removed(
        piece.id
    )  # the bot says so; other processes' fronts wait out records_ttl_s
    html = await get_text(site, url, 410)
    assert "This piece was removed" in html and "Morning reel" not in html
    for name in ("piece.mp3", "piece.mid", "roll.png", "piece.musicxml"):
        await get_text(site, url + "/" + name, 410)
    child = await get_text(site, site.front.piece_url(site.world.child.id))
    assert "a removed piece" in child and 'id="parent"' not in child


async def test_a_server_can_turn_its_links_off(site: Site, storage: Storage) -> None:
    await storage.set_guild_settings(GUILD, {LINKS_KEY: False}, updated_by=ADA)
    site.front.guild_settings_changed(GUILD)
    await get_text(site, site.front.piece_url(site.world.piece.id), 403)
    await get_text(site, site.front.session_url(site.world.session.id), 403)
    await get_text(site, site.front.gallery_url(GUILD), 403)


async def test_gallery_lists_recent_and_most_liked_only_when_the_server_turned_it_on(
    site: Site, storage: Storage
) -> None:
    html = await get_text(site, site.front.gallery_url(GUILD))
    liked = html[html.index('id="liked"') : html.index("</ol>")]
    assert liked.index("Harbour lights: continue") < liked.index("Harbour lights: remix")
    assert "2 likes" in liked and "1 like<" in liked
    assert html.count("<li>") == 2 + 5  # two liked turns; all five pieces are recent
    await storage.set_guild_settings(GUILD, {GALLERY_KEY: False}, updated_by=ADA)
    site.front.guild_settings_changed(GUILD)
    await get_text(site, site.front.gallery_url(GUILD), 404)
    await get_text(site, site.front.gallery_url(GUILD + 1), 404)


@pytest.mark.parametrize("path", ["/", "/p/x.y", "/static/playhead.js", "/nothing/here"])
async def test_every_response_carries_the_security_headers(site: Site, path: str) -> None:
    async with site.http.get(site.root + path) as response:
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
