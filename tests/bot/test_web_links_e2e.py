"""The bot with its web front on: every reply links to the piece's page, served over real HTTP.

`cadenza bot` (the real process) starts the front from `[web]` in config.toml with the secret from
CADENZA_WEB_SECRET; a member deletes a piece and its page says so; a server turns links off.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from model.checkpoint import read_meta
from tests.bot.conftest import COMMANDS, USERS, Harness, write_config
from tests.bot.test_bot_e2e import piece_id, piece_reply
from tests.discord_emulator import BotProcess, Emulator, EmulatorSettings, Reply

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SECRET = "a-test-secret-that-is-long-enough"


def free_port() -> int:
    """A port nothing listens on now (the front's base_url must name its port before it starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cadenza(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """The bot with `[web] enabled = true` on a free local port."""
    emu = Emulator(EmulatorSettings(user_names=USERS))
    await emu.start()
    folder, port = tmp_path_factory.mktemp("cadenza_web"), free_port()
    web = {"enabled": True, "host": "127.0.0.1", "port": port, "base_url": f"http://127.0.0.1:{port}"}
    config = write_config(
        folder / "config.toml", folder / "data", tiny_checkpoint, emu.cdn_host, {"web": web}
    )
    env = {"CADENZA_CONFIG": str(config), "CADENZA_WEB_SECRET": SECRET}
    proc = BotProcess(emu, (), env=env, log_path=folder / "bot.log")
    harness = Harness(emu, proc, config)
    await proc.start()
    await emu.wait_ready(timeout=120)
    await emu.wait_synced((*COMMANDS, "piece"), timeout=120)
    yield harness
    await harness.proc.stop()
    await harness.emu.stop()
    harness.emu.assert_no_unknown_routes()


@pytest.fixture(scope="module")
def genre(tiny_checkpoint: Path) -> str:
    return str(read_meta(tiny_checkpoint)["genres"][0])


def page_link(reply: Reply) -> str | None:
    """The URL of the reply's link button (style 5), if it has one."""
    links = [c["url"] for c in reply.walk_components() if c.get("type") == 2 and c.get("style") == 5]
    assert len(links) <= 1, links
    return links[0] if links else None


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_a_reply_links_to_its_page_and_the_page_answers(cadenza: Harness, genre: str) -> None:
    reply = await piece_reply(await cadenza.emu.slash("compose", {"genre": genre, "length": 2}, user="alice"))
    url = page_link(reply)
    assert url is not None and url.startswith("http://127.0.0.1:")
    status, html = await get(url)
    assert status == 200 and reply.embeds[0]["title"] in html and "Alice" in html
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")  # the id with a wrong signature
    assert (await get(forged))[0] == 404


async def test_a_member_deletes_their_piece_and_its_page_says_so(cadenza: Harness, genre: str) -> None:
    reply = await piece_reply(await cadenza.emu.slash("compose", {"genre": genre, "length": 2}, user="bob"))
    url, pid = page_link(reply), piece_id(reply)
    assert url is not None
    other = await (await cadenza.emu.slash("piece delete", {"piece": pid}, user="carol")).response()
    assert other.ephemeral and "only the member who made" in str(other.embeds[0].get("description"))
    assert (await get(url))[0] == 200
    done = await (await cadenza.emu.slash("piece delete", {"piece": pid}, user="bob")).response()
    assert done.ephemeral and "Removed" in (done.content or "")
    status, html = await get(url)
    assert status == 410 and "removed" in html


async def test_a_server_can_turn_links_off(cadenza: Harness, genre: str) -> None:
    saved = await (await cadenza.emu.slash("cadenza settings", {"links": "off"}, user="alice")).response()
    try:
        assert saved.ephemeral and saved.embeds[0]["title"] == "Settings saved"
        options = {"genre": genre, "length": 2}
        reply = await piece_reply(await cadenza.emu.slash("compose", options, user="member01"))
        assert page_link(reply) is None
    finally:
        await (await cadenza.emu.slash("cadenza settings", {"links": "on"}, user="alice")).response()
