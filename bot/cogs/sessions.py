"""/session: community remix sessions, where a server builds one piece together in a thread.

`/session start` opens a thread with the session card and the first turn; members take turns with
the buttons under any turn (see `bot.sessions.views`) or `/session add clip`; `/session top`,
`/session tree` and `/session mix` read the session back; the starter and members with Manage
Threads `/session lock`, `unlock` and `end` it.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.compose import clip_ref
from bot.replies import COLOUR, STATUS_WORDS, top_embed
from bot.sessions.mixing import render_mix
from bot.sessions.moves import Move, TurnAsk
from bot.sessions.start import StartTask
from bot.sessions.turns import TurnMaker, is_manager
from bot.sessions.views import SESSION_ITEMS
from bot.storage import RemixSession, SessionStatus, Turn
from bot.tree import choices, set_option
from cadenza.errors import BadInput, Forbidden, NotFound
from render.tree import Node, draw_tree

if TYPE_CHECKING:
    from bot.app import CadenzaBot

TREE_NAME = "session_tree.png"
NO_MENTIONS = discord.AllowedMentions.none()


class SessionsCog(commands.GroupCog, name="Sessions", group_name="session"):
    """Build a piece together: take turns, vote, draw the family tree, mix any path."""

    add = app_commands.Group(name="add", description="Add your own material to this session.")

    def __init__(self, bot: CadenzaBot) -> None:
        self.bot = bot
        self.settings = bot.config.sessions
        self.maker = TurnMaker(bot.services, self.settings)
        checker = bot.services.checker
        set_option(self.start, "genre", choices=choices(checker.genres))
        set_option(self.start, "sound", choices=choices(checker.sounds))
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*SESSION_ITEMS)  # turn buttons keep working after a restart

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*SESSION_ITEMS)

    # -- starting ----------------------------------------------------------------------------------

    @app_commands.command(name="start")
    @app_commands.describe(
        title="what to call the session (and its thread)",
        genre="the style of the first piece (default: the server's default genre)",
        sound="the instruments (default: the genre's usual sound)",
        clip="start from your own audio clip or MIDI file instead of a new piece",
    )
    async def start(
        self,
        interaction: discord.Interaction[Any],
        title: app_commands.Range[str, 1, 80] | None = None,
        genre: str | None = None,
        sound: str | None = None,
        clip: discord.Attachment | None = None,
    ) -> None:
        """Open a remix session in a new thread, with a first piece."""
        services = self.bot.services
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            raise BadInput("Start a session in a server's text channel (not in a thread or a DM).")
        spec = services.checker.build(
            await services.servers.get(interaction.guild_id),
            genre=genre,
            seconds=self.settings.turn_seconds,
            sound=sound,
        )
        ask = TurnAsk(Move.UPLOAD if clip else Move.START, spec, clip=clip_ref(clip) if clip else None)
        name = (title or f"{interaction.user.display_name}'s session").strip()[:80]
        await services.runner.run(interaction, StartTask(self.maker, name, ask))

    # -- taking turns by command --------------------------------------------------------------------

    @add.command(name="clip")
    @app_commands.describe(
        clip="an audio clip (transcribed to notes) or a MIDI file",
        after="the turn number to splice it in after (default: the latest turn)",
    )
    async def add_clip(
        self,
        interaction: discord.Interaction[Any],
        clip: discord.Attachment,
        after: app_commands.Range[int, 1, 10_000] | None = None,
    ) -> None:
        """Splice your own clip or MIDI file into this session as a turn."""
        session = await self._session_here(interaction)
        turns = await self.bot.services.storage.session_turns(session.id)
        parent = _turn_numbered(turns, after) if after else (turns[-1] if turns else None)
        services = self.bot.services
        spec = services.checker.build(
            await services.servers.get(interaction.guild_id),
            genre=session.genre,
            seconds=self.settings.turn_seconds,
            sound=session.sound or None,
        )
        ask = TurnAsk(Move.UPLOAD, spec, parent.piece_id if parent else None, clip_ref(clip))
        await self.maker.take(interaction, session.id, ask)

    # -- reading the session back ------------------------------------------------------------------

    @app_commands.command(name="top")
    async def top(self, interaction: discord.Interaction[Any]) -> None:
        """The most liked turns of this session."""
        session = await self._session_here(interaction)
        turns = await self.bot.services.storage.top_turns(session.id, self.settings.top_count)
        names = await self._names(interaction, {t.author_id for t in turns})
        await interaction.response.send_message(embed=top_embed(session, turns, names))

    @app_commands.command(name="tree")
    async def tree(self, interaction: discord.Interaction[Any]) -> None:
        """Draw this session's family tree of turns."""
        session = await self._session_here(interaction)
        await interaction.response.defer(thinking=True)
        storage = self.bot.services.storage
        turns = await storage.session_turns(session.id)
        names = await self._names(interaction, {t.author_id for t in turns})
        nodes = []
        for turn in turns:
            settings = (await storage.get_piece(turn.piece_id)).settings
            nodes.append(
                Node(
                    number=turn.number,
                    piece_id=turn.piece_id,
                    parent_id=turn.parent_piece_id,
                    author=names.get(turn.author_id, "?"),
                    genre=str(settings.get("genre", session.genre)),
                    move=str(settings.get("move", turn.kind.value)),
                    likes=turn.votes,
                )
            )
        png = await asyncio.to_thread(draw_tree, nodes, session.title)
        embed = discord.Embed(title=f"🌳 {session.title}", colour=COLOUR)
        embed.description = f"{len(turns)} turns · {session.status.value}"
        embed.set_image(url=f"attachment://{TREE_NAME}")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), TREE_NAME))

    @app_commands.command(name="mix")
    @app_commands.describe(
        turn="the turn to end on (default: the latest); the mix plays its path from the start"
    )
    async def mix(
        self, interaction: discord.Interaction[Any], turn: app_commands.Range[int, 1, 10_000] | None = None
    ) -> None:
        """Render the path from the first turn to a turn as one track (MP3, MIDI, piano roll)."""
        session = await self._session_here(interaction)
        services = self.bot.services
        turns = await services.storage.session_turns(session.id)
        if not turns:
            raise BadInput("This session has no turns to mix yet.")
        last = _turn_numbered(turns, turn) if turn else turns[-1]
        with services.admission.admit(interaction.user.id, interaction.guild_id):
            await interaction.response.defer(thinking=True)
            mix = await render_mix(services, session, turns, last, self.settings.mix_crossfade_s)
        await interaction.followup.send(**mix)

    # -- lock, unlock, end -------------------------------------------------------------------------

    @app_commands.command(name="lock")
    async def lock(self, interaction: discord.Interaction[Any]) -> None:
        """Stop new turns for now (the starter or Manage Threads)."""
        await self._set_status(interaction, SessionStatus.LOCKED, "lock")

    @app_commands.command(name="unlock")
    async def unlock(self, interaction: discord.Interaction[Any]) -> None:
        """Take turns again (the starter or Manage Threads)."""
        await self._set_status(interaction, SessionStatus.OPEN, "unlock")

    @app_commands.command(name="end")
    async def end(self, interaction: discord.Interaction[Any]) -> None:
        """End the session for good; it stays readable (the starter or Manage Threads)."""
        await self._set_status(interaction, SessionStatus.ENDED, "end")

    async def _set_status(
        self, interaction: discord.Interaction[Any], status: SessionStatus, verb: str
    ) -> None:
        session = await self._session_here(interaction)
        if not is_manager(interaction, session):
            raise Forbidden(
                f"Only the member who started this session, or members who can Manage Threads, can {verb} it."
            )
        if session.status is SessionStatus.ENDED:
            raise BadInput(
                "This session has ended: it stays as it is. Start a new one with `/session start`."
            )
        if session.status is status:
            raise BadInput(f"This session is already {status.value}.")
        await self.bot.services.storage.set_session_status(session.id, status)
        text = STATUS_WORDS[status.value].format(who=interaction.user.mention)
        await interaction.response.send_message(text, allowed_mentions=NO_MENTIONS)

    # -- helpers -----------------------------------------------------------------------------------

    async def _session_here(self, interaction: discord.Interaction[Any]) -> RemixSession:
        """The session whose thread this is; a friendly BadInput elsewhere."""
        try:
            return await self.bot.services.storage.session_for_thread(interaction.channel_id or 0)
        except NotFound as e:
            raise BadInput("Use this inside a session's thread (start one with `/session start`).") from e

    async def _names(self, interaction: discord.Interaction[Any], ids: set[int]) -> dict[int, str]:
        """Display names of members (from the cache, else asked of Discord; a placeholder if gone)."""
        names = {}
        for user_id in ids:
            member = interaction.guild.get_member(user_id) if interaction.guild else None
            user = member or self.bot.get_user(user_id)
            if user is None:
                try:
                    user = await self.bot.fetch_user(user_id)
                except discord.HTTPException:
                    names[user_id] = f"member {str(user_id)[-4:]}"
                    continue
            names[user_id] = user.display_name
        return names


def _turn_numbered(turns: list[Turn], number: int) -> Turn:
    found = next((t for t in turns if t.number == number), None)
    if found is None:
        raise BadInput(f"This session has no turn #{number} (it has {len(turns)}).")
    return found


async def setup(bot: CadenzaBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(SessionsCog(bot))
