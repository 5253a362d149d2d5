"""/accompany and the "Accompany with Cadenza" message command: a member's melody with parts under it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import looks_like_clip
from bot.cogs.compose import clip_ref
from bot.options import Work
from bot.storage import PieceKind
from bot.tree import choices, set_option
from cadenza.errors import BadInput

if TYPE_CHECKING:
    from bot.app import CadenzaBot

CONTEXT_MENU = "Accompany with Cadenza"


class AccompanyCog(commands.Cog, name="Accompany"):
    """The model writes parts under a member's melody (a recording, a voice message or a MIDI file)."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot
        checker = bot.services.checker
        set_option(self.accompany, "genre", choices=choices(checker.genres))
        set_option(self.accompany, "sound", choices=choices(checker.sounds))
        self.menu = app_commands.ContextMenu(name=CONTEXT_MENU, callback=self.accompany_message)
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="accompany")
    @app_commands.describe(
        clip="your melody: a recording, a voice message or a MIDI file with one tune",
        genre="the style of the parts (default: the server's default genre)",
        sound="the instruments (default: the genre's usual sound)",
    )
    async def accompany(
        self,
        interaction: discord.Interaction[Any],
        clip: discord.Attachment,
        genre: str | None = None,
        sound: str | None = None,
    ) -> None:
        """Write parts under your melody, keeping it note for note."""
        await self._accompany(interaction, clip, genre, sound)

    async def accompany_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """Accompany the recording, voice message or MIDI file attached to a message."""
        settings = self.bot.services.settings
        clip = next((a for a in message.attachments if looks_like_clip(clip_ref(a), settings)), None)
        if clip is None:
            raise BadInput(
                "That message has no melody to accompany. "
                "Use it on a voice message, an audio recording or a .mid file."
            )
        await self._accompany(interaction, clip, None, None)

    async def _accompany(
        self,
        interaction: discord.Interaction[Any],
        clip: discord.Attachment,
        genre: str | None,
        sound: str | None,
    ) -> None:
        services = self.bot.services
        server = await services.servers.get(interaction.guild_id)
        spec = services.checker.build(server, genre=genre, sound=sound)
        await services.runner.compose(interaction, Work(spec, PieceKind.ACCOMPANY, clip=clip_ref(clip)))


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(AccompanyCog(bot))
