"""What every cog and view shares: config, storage, the pipeline, fairness, the job runner.

The bot builds one `Services` in `setup_hook` and cogs reach it as `bot.services`; a new cog (remix
sessions, say) needs nothing else to compose, store and reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import aiohttp
import discord

from bot.limits import Admission
from bot.options import ServerDefaults, SpecChecker, Work
from bot.pages import PageFront
from bot.pipeline import Pipeline
from bot.progress import EditPacer, ProgressMessage
from bot.serving import ServingConfig
from bot.settings import BotSettings
from bot.storage import Storage
from bot.tasks import Task


@dataclass
class ServerSettingsCache:
    """Server defaults, re-read from the database at most every `ttl_s` seconds.

    Reads are single-flight: when a burst of interactions from one server finds the entry missing or
    stale, one database read serves them all (a burst of 200 `/compose` made 200 identical reads,
    each ahead of its member's deferral).
    """

    storage: Storage
    ttl_s: float
    clock: Callable[[], float] = time.monotonic  # seconds; tests pass their own
    _cache: dict[int, tuple[float, ServerDefaults]] = field(default_factory=dict)
    _reading: dict[int, asyncio.Future[ServerDefaults]] = field(default_factory=dict)
    reads: int = 0  # database reads made (a figure for tests and metrics)

    async def get(self, guild_id: int | None) -> ServerDefaults:
        """The server's defaults (empty in DMs)."""
        if guild_id is None:
            return ServerDefaults()
        hit = self._cache.get(guild_id)
        if hit is not None and self.clock() - hit[0] < self.ttl_s:
            return hit[1]
        reading = self._reading.get(guild_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(guild_id))
            self._reading[guild_id] = reading
            reading.add_done_callback(lambda done: self._forget(guild_id, done))
        # shield: one caller cancelled (its interaction timed out) must not fail the others' read
        return await asyncio.shield(reading)

    async def _read(self, guild_id: int) -> ServerDefaults:
        self.reads += 1
        stored = await self.storage.get_guild_settings(guild_id)
        value = ServerDefaults.from_values(stored.values)
        if self._reading.get(guild_id) is asyncio.current_task():  # not overtaken by a `set` meanwhile
            self._cache[guild_id] = (self.clock(), value)
        return value

    def _forget(self, guild_id: int, done: asyncio.Future[ServerDefaults]) -> None:
        if self._reading.get(guild_id) is done:
            del self._reading[guild_id]

    async def set(self, guild_id: int, value: ServerDefaults, updated_by: int) -> None:
        """Store new defaults (and use them at once in this process)."""
        await self.storage.set_guild_settings(guild_id, value.values(), updated_by=updated_by)
        self._reading.pop(guild_id, None)  # a read in flight began before this write: don't cache it
        self._cache[guild_id] = (self.clock(), value)


class PieceRunner(Protocol):
    """The one path that makes music for an interaction (`bot.jobs.JobRunner`); it returns the piece id."""

    async def compose(self, interaction: discord.Interaction[Any], work: Work) -> str:
        """A piece: new, another take, a continuation or a remix."""
        ...

    async def run(self, interaction: discord.Interaction[Any], task: Task) -> str:
        """Any task (a session's turn, its start)."""
        ...


class HasServices(Protocol):
    """The bot as its cogs and buttons see it (`bot.app.CadenzaBot`)."""

    @property
    def services(self) -> Services: ...


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The bot's shared services, from an interaction."""
    return cast(HasServices, interaction.client).services


@dataclass
class Services:
    """The bot's shared parts, built once at start-up."""

    config: ServingConfig
    storage: Storage
    pipeline: Pipeline
    http: aiohttp.ClientSession
    checker: SpecChecker
    admission: Admission
    servers: ServerSettingsCache
    metrics: Any = None  # bot.metrics.Metrics when [metrics] enabled
    front: PageFront | None = None  # the web front when [web] enabled (started by launch)
    runner: PieceRunner = field(init=False)
    edit_pacer: EditPacer = field(init=False)

    def __post_init__(self) -> None:
        self.edit_pacer = EditPacer(self.config.bot.progress_edits_per_s)

    def progress_message(self, interaction: discord.Interaction[Any]) -> ProgressMessage:
        """Live progress in this interaction's deferred message, paced with every other job's."""
        return ProgressMessage(
            lambda text: interaction.edit_original_response(content=text),
            self.settings.progress_edit_interval_s,
            pacer=self.edit_pacer,
        )

    def page_url(self, piece_id: str, server: ServerDefaults) -> str | None:
        """The piece's page for its link button: None when the front is off or the server turned links off."""
        if self.front is None or server.links is False:
            return None
        return self.front.piece_url(piece_id)

    @property
    def settings(self) -> BotSettings:
        """The `[bot]` table."""
        return self.config.bot
