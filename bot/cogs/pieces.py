"""/piece delete: a member removes their own piece; its web page then says it was removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.pieces_ref import piece_of, recent_choices

if TYPE_CHECKING:
    from bot.app import CadenzaBot


class PiecesCog(commands.GroupCog, name="Pieces", group_name="piece", group_description="Your pieces"):
    """What a member may do with the pieces they made."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="delete")
    @app_commands.describe(piece="one of your recent pieces, or the link of its message")
    async def delete(
        self, interaction: discord.Interaction[Any], piece: app_commands.Range[str, 1, 200]
    ) -> None:
        """Remove one of your pieces: its page and files go (the Discord message stays yours to delete)."""
        services = self.bot.services
        stored = await piece_of(self.bot, services.storage, piece)
        removed = await services.storage.remove_piece(
            stored.id, interaction.user.id
        )  # Forbidden if not theirs
        if services.front is not None:
            await services.front.piece_removed(stored.id)
        text = f"Removed **{stored.title}**." if removed else f"**{stored.title}** was already removed."
        await interaction.response.send_message(f"{text} Its page now says it was removed.", ephemeral=True)

    @delete.autocomplete("piece")
    async def _pieces(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await recent_choices(self.bot.services.storage, interaction.user.id, current)


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(PiecesCog(bot))
