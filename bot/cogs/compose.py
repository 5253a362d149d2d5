"""/compose, /continue and the "Continue with Cadenza" message command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import ClipRef, looks_like_clip
from bot.options import CREATIVITY, MAX_SEED, PieceSpec, Work
from bot.storage import PieceKind
from bot.tree import choices, set_option
from bot.views import piece_id_of
from cadenza.errors import BadInput

if TYPE_CHECKING:
    from bot.app import CadenzaBot

CONTEXT_MENU = "Continue with Cadenza"


def clip_ref(attachment: discord.Attachment) -> ClipRef:
    """What Discord declares about an attachment."""
    return ClipRef(attachment.filename, attachment.url, attachment.size, attachment.content_type)


class ComposeCog(commands.Cog, name="Compose"):
    """Composing new pieces and continuing members' clips and pieces."""

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot
        s, genres = bot.services.settings, bot.services.checker.genres
        for command in (self.compose, self.continue_clip):
            set_option(command, "genre", choices=choices(genres))
            set_option(command, "length", min_value=s.min_seconds, max_value=s.max_seconds)
        set_option(self.compose, "sound", choices=choices(bot.services.checker.sounds))
        set_option(self.compose, "tempo", min_value=s.min_tempo, max_value=s.max_tempo)
        self.menu = app_commands.ContextMenu(name=CONTEXT_MENU, callback=self.continue_message)
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="compose")
    @app_commands.describe(
        genre="the style to compose in (see /genres)",
        length="length of the piece in seconds",
        key="a key such as D minor or Bb major (default: one the genre likes)",
        tempo="beats per minute (default: the genre's usual tempo)",
        sound="the instruments (default: the genre's usual sound)",
        creativity="how adventurous the composer may be",
        seed="a number to get the same piece again",
        clip="an audio clip or MIDI file to continue",
    )
    @app_commands.choices(creativity=choices(CREATIVITY))
    async def compose(
        self,
        interaction: discord.Interaction[Any],
        genre: str,
        length: app_commands.Range[int, 1, 600],
        key: app_commands.Range[str, 1, 20] | None = None,
        tempo: app_commands.Range[int, 1, 400] | None = None,
        sound: str | None = None,
        creativity: str | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        clip: discord.Attachment | None = None,
    ) -> None:
        """Compose a new piece of music."""
        services = self.bot.services
        spec = services.checker.build(
            await services.servers.get(interaction.guild_id),
            genre=genre,
            seconds=length,
            key=key,
            tempo=tempo,
            sound=sound,
            creativity=creativity,
            seed=seed,
        )
        await services.runner.compose(interaction, Work(spec, clip=None if clip is None else clip_ref(clip)))

    @app_commands.command(name="continue")
    @app_commands.describe(
        clip="an audio clip (a voice message works) or a MIDI file",
        genre="the style to continue in (default: the server's default genre)",
        length="seconds of new music (default: the bot's usual length)",
    )
    async def continue_clip(
        self,
        interaction: discord.Interaction[Any],
        clip: discord.Attachment,
        genre: str | None = None,
        length: app_commands.Range[int, 1, 600] | None = None,
    ) -> None:
        """Continue your own clip or MIDI file."""
        spec = await self._spec(interaction, genre, length)
        await self.bot.services.runner.compose(interaction, Work(spec, clip=clip_ref(clip)))

    async def continue_message(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Continue the audio or MIDI attached to a message, or a Cadenza piece."""
        services = self.bot.services
        mine = self.bot.user is not None and message.author.id == self.bot.user.id
        piece_id = piece_id_of(message) if mine else None
        if piece_id is not None:
            parent = await services.storage.get_piece(piece_id)
            spec = PieceSpec.from_json(parent.settings).with_seed()
            await services.runner.compose(interaction, Work(spec, PieceKind.CONTINUE, parent_id=piece_id))
            return
        clip = next(
            (clip_ref(a) for a in message.attachments if looks_like_clip(clip_ref(a), services.settings)),
            None,
        )
        if clip is None:
            raise BadInput(
                "That message has no audio or MIDI attachment to continue. "
                "Use it on a voice message, an audio clip, a .mid file or a Cadenza piece."
            )
        spec = await self._spec(interaction, None, None)
        await services.runner.compose(interaction, Work(spec, clip=clip))

    async def _spec(
        self, interaction: discord.Interaction[Any], genre: str | None, length: int | None
    ) -> PieceSpec:
        services = self.bot.services
        server = await services.servers.get(interaction.guild_id)
        return services.checker.build(server, genre=genre, seconds=length)


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(ComposeCog(bot))
