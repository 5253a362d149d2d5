"""The web front: a page for every piece and session, and a server's gallery (aiohttp, no CDN, no frameworks).

Public API (what the bot calls):
- `WebSettings`: the `[web]` table of config.toml.
- `secret_from_env(os.environ)`: the link signing key (CADENZA_WEB_SECRET); ConfigError when unset.
- `front = await start_web(storage, settings, secret, render_pool, data_dir=...)`: serve the pages;
  `front.piece_url(piece_id)`, `front.session_url(session_id)`, `front.gallery_url(guild_id)` for link
  buttons; `await front.piece_removed(piece_id)` after a removal, `front.guild_settings_changed(guild_id)`
  after `/cadenza settings`; `await front.stop()` on shutdown.
- `Links(settings, LinkSigner(secret))`: the same addresses without a server (for other processes).
- `create_web_app(...)`: the aiohttp application itself (tests, other runners).
- `LINKS_KEY`, `GALLERY_KEY`: the guild settings that turn links off and the gallery on.
- `SheetMaker`, `SheetMusic`: what writes sheet music (music21's MusicXML until render/ engraves).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.app import create_web_app
    from web.links import Links, LinkSigner, PageKind, secret_from_env
    from web.media import SheetMaker, SheetMusic
    from web.pages import GALLERY_KEY, LINKS_KEY
    from web.server import WebFront, start_web
    from web.settings import SECRET_ENV, WebSettings

# Names load their module on first use: reading config (web.settings) must not pull in aiohttp's app,
# jinja2, SQLAlchemy and render/ for every `cadenza` command.
_LAZY = {
    "create_web_app": "web.app",
    "LinkSigner": "web.links",
    "Links": "web.links",
    "PageKind": "web.links",
    "secret_from_env": "web.links",
    "SheetMaker": "web.media",
    "SheetMusic": "web.media",
    "GALLERY_KEY": "web.pages",
    "LINKS_KEY": "web.pages",
    "WebFront": "web.server",
    "start_web": "web.server",
    "SECRET_ENV": "web.settings",
    "WebSettings": "web.settings",
}

__all__ = [
    "GALLERY_KEY",
    "LINKS_KEY",
    "SECRET_ENV",
    "LinkSigner",
    "Links",
    "PageKind",
    "SheetMaker",
    "SheetMusic",
    "WebFront",
    "WebSettings",
    "create_web_app",
    "secret_from_env",
    "start_web",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'web' has no attribute {name!r}")
