"""/rewrite: bars of a piece written anew by the model, everything around them kept note for note."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bars import parse_bars
from bot.pieces_ref import piece_of, recent_choices
from bot.views import rewrite_piece

if TYPE_CHECKING:
    from bot.app import CadenzaBot


class RewriteCog(commands.Cog, name="Rewrite"):
    """Rewriting bars of a stored piece (the "Rewrite bars" button under a piece does the same)."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot

    @app_commands.command(name="rewrite")
    @app_commands.describe(
        piece="one of your recent pieces, or the link of a Cadenza piece's message",
        bars="the bars to write anew, like 5-8 (or one bar: 5)",
    )
    async def rewrite(
        self,
        interaction: discord.Interaction[Any],
        piece: app_commands.Range[str, 1, 200],
        bars: app_commands.Range[str, 1, 20],
    ) -> None:
        """Write some bars of a piece anew, keeping everything around them."""
        stored = await piece_of(self.bot, self.bot.services.storage, piece)
        await rewrite_piece(interaction, stored.id, parse_bars(bars))

    @rewrite.autocomplete("piece")
    async def _pieces(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await recent_choices(self.bot.services.storage, interaction.user.id, current)


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(RewriteCog(bot))
