"""The web front as the bot sees it: page addresses for link buttons, and what it must hear about.

The bot does not import `web/`: `launch` starts the front and hands the bot a `FrontStarter`; the
running front (`web.WebFront`) fits `PageFront` by shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.storage import Storage
from render import RenderPool


class PageFront(Protocol):
    """A running web front: page addresses, and the changes it must show at once."""

    def piece_url(self, piece_id: str) -> str:
        """The (signed, unguessable) address of a piece's page."""
        ...

    async def piece_removed(self, piece_id: str) -> None:
        """A piece was removed by its maker: its page says so from now on."""
        ...

    def guild_settings_changed(self, guild_id: int) -> None:
        """A server turned links or its gallery on or off."""
        ...

    async def stop(self) -> None:
        """Stop serving (at the bot's shutdown)."""
        ...


FrontStarter = Callable[[Storage, RenderPool], Awaitable[PageFront]]  # what launch hands the bot
