"""Serving the pages from the bot's process: `front = await start_web(...)`, `await front.stop()`."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bot.storage import Storage
from cadenza.errors import ConfigError
from web.app import create_web_app
from web.media import RenderPoolLike, SheetMaker
from web.pages import Pages
from web.routes import PAGES
from web.settings import WebSettings

log = logging.getLogger(__name__)


class WebFront:
    """A running web front: its links (for the bot's buttons) and the port it listens on."""

    def __init__(self, runner: web.AppRunner, pages: Pages, port: int) -> None:
        self._runner = runner
        self._pages = pages
        self.links = pages.links
        self.port = port

    def piece_url(self, piece_id: str) -> str:
        """The page address of a piece (put it on the reply's link button)."""
        return self.links.piece_url(piece_id)

    def session_url(self, session_id: str) -> str:
        """The page address of a session."""
        return self.links.session_url(session_id)

    def gallery_url(self, guild_id: int) -> str:
        """The gallery address of a server (it answers only while the gallery is on)."""
        return self.links.gallery_url(guild_id)

    async def piece_removed(self, piece_id: str) -> None:
        """Call after `storage.remove_piece`: its page says removed at once and its files are deleted."""
        await self._pages.forget(piece_id)

    def guild_settings_changed(self, guild_id: int) -> None:
        """Call after a server's settings change, so links off or gallery on show at once."""
        self._pages.forget_guild(guild_id)

    async def stop(self) -> None:
        """Stop listening and finish the requests in flight."""
        await self._runner.cleanup()
        log.info("web front stopped")


async def start_web(
    storage: Storage,
    settings: WebSettings,
    secret: bytes,
    renderer: RenderPoolLike,
    *,
    data_dir: Path,
    sheets: SheetMaker | None = None,
    mix_crossfade_s: float = 0.5,
) -> WebFront:
    """Serve the pages on settings.host:settings.port (port 0 picks a free one, for tests)."""
    app = create_web_app(
        storage, settings, secret, renderer, data_dir=data_dir, sheets=sheets, mix_crossfade_s=mix_crossfade_s
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise ConfigError(
            f"the web front cannot listen on {settings.host}:{settings.port}: {e.strerror}"
        ) from e
    port = _bound_port(site, settings.port)
    log.info("web front at %s (listening on %s:%d)", settings.public_root, settings.host, port)
    return WebFront(runner, app[PAGES], port)


def _bound_port(site: web.TCPSite, asked: int) -> int:
    server = site._server  # aiohttp keeps the asyncio server here; its sockets tell the real port
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else asked
