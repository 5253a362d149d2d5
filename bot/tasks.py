"""What the one path (`bot.jobs.JobRunner`) makes, and where it posts the result.

A `Task` is one thing a member asked for that makes music: a piece (`bot.piece_task`), a session's
turn or its start (`bot.sessions.turn_tasks`). The runner does the same around every task — check,
admit, defer, progress, time limit, make, deliver, job record, recovery after a restart — and a task
says only what is its own. A `Delivery` posts the result once, wherever it can still go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import discord

from bot.progress import ProgressMessage
from bot.settings import BotSettings
from bot.storage import Job
from cadenza.errors import GenerationFailed

log = logging.getLogger(__name__)


class Task(Protocol):
    """One thing to make for a member; `bot.jobs.JobRunner` does everything around it."""

    @property
    def kind(self) -> str:
        """Names the task in its job record ("piece", "turn", "start")."""
        ...

    @property
    def too_slow(self) -> str:
        """What the member is told when making it outlasts the job time limit."""
        ...

    @property
    def ready(self) -> str:
        """The progress message's last words (`{seconds}` is filled in)."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The job record's request: enough to make it again after a restart."""
        ...

    async def check(self, user_id: int) -> None:
        """Refuse it (a CadenzaError) before anything is admitted or deferred."""
        ...

    async def make(self, progress: ProgressMessage) -> Any:
        """The music, with progress shown as it goes."""
        ...

    async def deliver(self, made: Any, job: Job, delivery: Delivery) -> str:
        """Store what was made and post it through `delivery`; the stored piece's id."""
        ...


TaskReader = Callable[[Mapping[str, Any]], Task]  # a job record's request back into its task


class Delivery:
    """Posts a finished task once: as the interaction's followup while its token lives, else in the
    job's channel with a mention (after a restart there is no interaction at all)."""

    def __init__(
        self,
        bot: discord.Client,
        settings: BotSettings,
        job: Job,
        interaction: discord.Interaction[Any] | None,
    ) -> None:
        self.bot, self.settings, self.job, self.interaction = bot, settings, job, interaction

    async def member(self) -> discord.abc.User:
        """Who asked (from the interaction, or fetched after a restart)."""
        if self.interaction is not None:
            return self.interaction.user
        return self.bot.get_user(self.job.user_id) or await self.bot.fetch_user(self.job.user_id)

    async def send(self, **message: Any) -> None:
        """Post `message` (content, embed, files, view...): the followup, or the channel with a mention."""
        if self.interaction is not None and self._token_lives(self.interaction):
            await self.interaction.followup.send(**message)
            return
        log.info("job %s has no live interaction token; posting in the channel", self.job.id)
        text = message.pop("content", None) or "here is your piece."
        await post_in_channel(
            self.bot,
            self.job.channel_id,
            content=f"<@{self.job.user_id}> {text}",
            allowed_mentions=discord.AllowedMentions(users=True, roles=False, everyone=False),
            **message,
        )

    async def channel(self) -> discord.abc.Messageable:
        """The channel (or thread) the member asked in."""
        return await channel_of(self.bot, self.job.channel_id)

    def _token_lives(self, interaction: discord.Interaction[Any]) -> bool:
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        return self.settings.token_lifetime_s - age > self.settings.token_margin_s


async def channel_of(bot: discord.Client, channel_id: int) -> discord.abc.Messageable:
    """A channel or thread by id (from the cache, else asked of Discord)."""
    channel = bot.get_channel(channel_id) or await bot.fetch_channel(channel_id)
    if not isinstance(channel, discord.abc.Messageable):
        raise GenerationFailed("I can't post in that channel any more.")
    return channel


async def post_in_channel(bot: discord.Client, channel_id: int, **message: Any) -> None:
    """A message in a channel or thread (for when the interaction token is gone)."""
    await (await channel_of(bot, channel_id)).send(**message)
