"""/cadenza settings: per-server defaults and limits, for members with Manage Server."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.options import CREATIVITY, PICTURES, ServerDefaults
from bot.replies import COLOUR
from bot.tree import choices, set_option
from cadenza.errors import BadInput, Forbidden

ON_OFF = ("on", "off")

if TYPE_CHECKING:
    from bot.app import CadenzaBot


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)  # Discord sets permissions per top-level command
class SettingsCog(
    commands.GroupCog, name="Settings", group_name="cadenza", group_description="Cadenza for this server"
):
    """Server settings (the `/cadenza` group, so future server-wide commands can join it)."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot
        super().__init__()
        checker, s = bot.services.checker, bot.services.settings
        set_option(self.settings, "genre", choices=choices(checker.genres))
        set_option(self.settings, "sound", choices=choices(checker.sounds))
        for name in ("length", "max_length"):
            set_option(self.settings, name, min_value=s.min_seconds, max_value=s.max_seconds)

    @app_commands.command(name="settings")
    @app_commands.describe(
        genre="default genre for /continue and the context menu",
        sound="default sound for new pieces",
        length="default length in seconds",
        max_length="longest piece members may ask for here",
        creativity="default creativity",
        picture="the picture in a piece's message: the sheet music or the piano roll",
        links="a link button under every piece to its web page (when the bot serves pages)",
        gallery="a public gallery page of this server's recent and most liked pieces",
        reset="forget all of this server's settings",
    )
    @app_commands.choices(
        creativity=choices(CREATIVITY),
        picture=choices(PICTURES),
        links=choices(ON_OFF),
        gallery=choices(ON_OFF),
    )
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        genre: str | None = None,
        sound: str | None = None,
        length: app_commands.Range[int, 1, 600] | None = None,
        max_length: app_commands.Range[int, 1, 600] | None = None,
        creativity: str | None = None,
        picture: str | None = None,
        links: str | None = None,
        gallery: str | None = None,
        reset: bool = False,
    ) -> None:
        """Show or change this server's Cadenza defaults and limits (Manage Server)."""
        services = self.bot.services
        if interaction.guild_id is None:
            raise BadInput("Settings belong to a server: use this command in one.")
        # default_permissions only hides the command; the permission is checked again here.
        if not interaction.permissions.manage_guild:
            raise Forbidden("You need the **Manage Server** permission to change Cadenza's settings.")
        current = ServerDefaults() if reset else await services.servers.get(interaction.guild_id)
        changed = self._changes(genre, sound, length, max_length, creativity)
        if picture is not None:
            changed["picture"] = _picture(picture)
        for name, value in (("links", links), ("gallery", gallery)):
            if value is not None:
                changed[name] = _on(value, name)
        new = replace(current, **changed)
        checker = services.checker
        if new.length is not None and new.max_length is not None and new.length > new.max_length:
            raise BadInput(
                f"The default length ({new.length} s) can't be longer than the limit ({new.max_length} s)."
            )
        if changed or reset:
            await services.servers.set(interaction.guild_id, new, interaction.user.id)
            if services.front is not None:
                services.front.guild_settings_changed(interaction.guild_id)
        title = "Settings saved" if changed or reset else "Cadenza settings for this server"
        await interaction.response.send_message(
            embed=self.settings_embed(new, title, checker.max_seconds(new)), ephemeral=True
        )

    def _changes(
        self,
        genre: str | None,
        sound: str | None,
        length: int | None,
        max_length: int | None,
        creativity: str | None,
    ) -> dict[str, Any]:
        """The options given, each validated again (Discord's checks are not trusted)."""
        checker, empty = self.bot.services.checker, ServerDefaults()
        changes: dict[str, Any] = {}
        if genre is not None:
            changes["genre"] = checker.genre(genre)
        if sound is not None:
            changes["sound"] = checker.sound(sound)
        if max_length is not None:
            changes["max_length"] = checker.seconds(max_length, empty)
        if length is not None:
            changes["length"] = checker.seconds(length, empty)
        if creativity is not None:
            changes["creativity"] = checker.creativity(creativity)
        return changes

    @staticmethod
    def settings_embed(values: ServerDefaults, title: str, longest: int) -> discord.Embed:
        """What is in force now."""
        embed = discord.Embed(title=title, colour=COLOUR)
        embed.add_field(name="Default genre", value=values.genre or "—")
        embed.add_field(name="Default sound", value=values.sound or "the genre's own")
        embed.add_field(
            name="Default length", value=f"{values.length} s" if values.length else "the bot's default"
        )
        embed.add_field(name="Longest piece", value=f"{longest} s")
        embed.add_field(name="Default creativity", value=values.creativity or "balanced")
        embed.add_field(name="Picture", value=values.picture or PICTURES[0])
        embed.add_field(name="Page links", value="off" if values.links is False else "on")
        embed.add_field(name="Gallery", value="on" if values.gallery else "off")
        return embed


def _on(value: str, name: str) -> bool:
    """on or off (checked again: Discord's choices are not trusted)."""
    word = value.strip().lower()
    if word not in ON_OFF:
        raise BadInput(f"`{name}` must be on or off.")
    return word == "on"


def _picture(value: str) -> str:
    """pianoroll or score (checked again: Discord's choices are not trusted)."""
    name = value.strip().lower()
    if name not in PICTURES:
        raise BadInput(f"The picture must be one of: {', '.join(PICTURES)}.")
    return name


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(SettingsCog(bot))
