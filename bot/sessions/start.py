"""`/session start` as a task of the one path: the first turn is made, then the thread and the session
are opened and the card and turn #1 posted there.

The first turn is made before the thread and the session exist: if it fails, nothing is left behind,
and the member just runs `/session start` again. A start in progress when the bot restarts is finished
after the restart, like any other task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import discord

from bot.attachments import check_declared
from bot.progress import ProgressMessage
from bot.replies import card_embed
from bot.sessions.moves import TurnAsk
from bot.sessions.settings import SessionSettings
from bot.sessions.turns import MadeTurn, TurnMaker, TurnTask
from bot.storage import Job
from bot.tasks import Delivery, TaskReader
from cadenza.errors import BadInput

THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week without messages before Discord hides the thread


def limits_text(settings: SessionSettings) -> str:
    """The session card's line of limits."""
    return (
        f"{settings.max_turns} turns per session · {settings.turns_per_member_per_hour} turns per member "
        f"per hour · {settings.turn_seconds} s per turn"
    )


@dataclass(frozen=True)
class StartTask:
    """A new session: its first turn, then its thread, its row, its card."""

    maker: TurnMaker
    title: str
    ask: TurnAsk
    kind: ClassVar[str] = "start"
    too_slow: ClassVar[str] = "That first piece took too long to make. Try `/session start` again."
    ready: ClassVar[str] = "✅ Your session's first piece is ready."

    @classmethod
    def reader(cls, maker: TurnMaker) -> TaskReader:
        """How a job record's request becomes this task again (after a restart)."""
        return lambda request: cls(maker, str(request["title"]), TurnAsk.from_json(request["ask"]))

    def to_json(self) -> dict[str, Any]:
        """The job record's request."""
        return {"title": self.title, "ask": self.ask.to_json()}

    async def check(self, user_id: int) -> None:
        """The hourly turn limit (the first piece is a turn), a clip declared too big."""
        await self.maker.check_hourly_limit(user_id)
        if self.ask.clip is not None:
            check_declared(self.ask.clip, self.maker.services.settings)

    async def make(self, progress: ProgressMessage) -> MadeTurn:
        """The first turn's music."""
        return await self.maker.make(self.ask, progress)

    async def deliver(self, made: MadeTurn, job: Job, delivery: Delivery) -> str:
        """Open the thread and the session, store turn #1, post the card with it, say where it is."""
        channel = await delivery.channel()
        if not isinstance(channel, discord.TextChannel):
            raise BadInput("Start a session in a server's text channel (not in a thread or a DM).")
        thread = await channel.create_thread(
            name=self.title,
            type=discord.ChannelType.public_thread,
            auto_archive_duration=THREAD_ARCHIVE_MINUTES,
        )
        spec, storage = self.ask.spec, self.maker.services.storage
        session = await storage.create_session(
            guild_id=channel.guild.id,
            thread_id=thread.id,
            title=self.title,
            genre=spec.genre,
            sound=spec.sound or "",
            starter_id=job.user_id,
        )
        posted = await self.maker.store(session, self.ask, made, job.user_id, job.guild_id)
        member = await delivery.member()
        message = await self.maker.reply(session, posted, member, job)
        await thread.send(
            content=f"{member.mention} started a remix session. Join in!",
            embeds=[card_embed(session, member, limits_text(self.maker.settings)), message.pop("embed")],
            allowed_mentions=discord.AllowedMentions.none(),
            **message,
        )
        await delivery.send(
            content=f"🎶 **{self.title}** is open in {thread.mention}: take your turns there!"
        )
        return posted.piece.id


def session_readers(maker: TurnMaker) -> dict[str, TaskReader]:
    """The session task kinds, for the runner's recovery after a restart."""
    return {TurnTask.kind: TurnTask.reader(maker), StartTask.kind: StartTask.reader(maker)}
