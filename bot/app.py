"""The Discord bot: one Bot subclass that opens storage and the pipeline, loads the cogs, registers
the persistent buttons, syncs the command tree, and finishes jobs a previous run left behind.

`run_bot(config, token, shards=...)` is what `cadenza bot` and `python -m bot` call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot.errors import CadenzaTree
from bot.jobs import JobRunner
from bot.limits import Admission
from bot.options import SpecChecker
from bot.pages import FrontStarter
from bot.pipeline import Pipeline
from bot.pipeline_adapter import genres_of, sounds
from bot.services import ServerSettingsCache, Services
from bot.serving import ServingConfig
from bot.sessions.start import session_readers
from bot.sessions.turns import TurnMaker
from bot.storage import Storage
from bot.views import PIECE_BUTTONS
from cadenza.errors import ConfigError

log = logging.getLogger(__name__)

# Extensions loaded at start, one feature each (issue 9 adds "bot.cogs.sessions").
METRICS_INTERVAL_S = 5.0  # how often shard latency and queue depth are sampled
COGS = (
    "bot.cogs.compose",
    "bot.cogs.rewrite",
    "bot.cogs.accompany",
    "bot.cogs.info",
    "bot.cogs.settings",
    "bot.cogs.sessions",
    "bot.cogs.pieces",
)


class CadenzaBot(commands.Bot):
    """Cadenza on Discord. Cogs reach shared parts through `self.services`."""

    def __init__(self, config: ServingConfig, front: FrontStarter | None = None, **options: Any) -> None:
        intents = discord.Intents.default()  # no privileged intents: slash commands, buttons, attachments
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=CadenzaTree,
            **options,
        )
        self.config = config
        self._front = front  # starts the web front once storage and the render pool are open
        self._services: Services | None = None
        self._runner: JobRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def services(self) -> Services:
        """Storage, pipeline, limits and the job runner (available once setup_hook ran)."""
        if self._services is None:
            raise RuntimeError("the bot is not set up yet")
        return self._services

    async def setup_hook(self) -> None:
        """Open storage and the pipeline, load cogs and buttons, sync commands, resume old jobs."""
        self._services = await build_services(self.config)
        if self._front is not None:
            self._services.front = await self._front(
                self._services.storage, self._services.pipeline.render_pool
            )
        readers = session_readers(TurnMaker(self._services, self.config.sessions))
        runner = self._services.runner = self._runner = JobRunner(self._services, self, readers)
        for extension in COGS:
            await self.load_extension(extension)
        self.add_dynamic_items(*PIECE_BUTTONS)
        if self.config.bot.sync_commands:
            synced = await self.tree.sync()
            log.info("synced %d application commands", len(synced))
        self.supervise(runner.recover(), "recover-jobs")
        if self.services.metrics is not None:
            self.supervise(self._sample_metrics(), "metrics")

    async def _sample_metrics(self) -> None:
        """Every few seconds: per-shard gateway latency and the queue depth, for Prometheus."""
        metrics = self.services.metrics
        while True:
            metrics.observe_shard_latencies(
                self.latencies if isinstance(self, commands.AutoShardedBot) else [(0, self.latency)]
            )
            depth = getattr(self.services.pipeline.composer, "depth", None)
            if depth is not None:
                await depth()
            await asyncio.sleep(METRICS_INTERVAL_S)

    def supervise(self, coro: Any, name: str) -> None:
        """Run a background task that is kept, logged if it fails, and cancelled at close."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Stop background work, then close the pipeline, storage and HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.stop()  # jobs in flight stay unfinished: the next start finishes them
        await super().close()
        if self._services is not None:
            services, self._services = self._services, None
            await _close_services(services)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))


class ShardedCadenzaBot(CadenzaBot, commands.AutoShardedBot):
    """The same bot running a range of shards in one process (`--shards 0-3/8`)."""


async def build_services(config: ServingConfig) -> Services:
    """Open everything the cogs share; on failure, close what was opened."""
    storage = await Storage.from_config(config)
    metrics = _serve_metrics(config)
    try:
        pipeline = await Pipeline.create(config, metrics=metrics)  # the model from [model] checkpoint
    except BaseException:
        await storage.close()
        raise
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.bot.download_timeout_s))
    services = Services(
        config=config,
        storage=storage,
        pipeline=pipeline,
        http=http,
        checker=SpecChecker(config.bot, genres_of(pipeline), sounds()),
        admission=Admission(config.bot),
        servers=ServerSettingsCache(storage, config.bot.settings_cache_s),
        metrics=metrics,
    )
    return services


def _serve_metrics(config: ServingConfig) -> Any:
    """Prometheus metrics on [metrics] bot_port, or None when disabled; a busy port is logged, not fatal."""
    if not config.metrics.enabled:
        return None
    from bot.metrics import Metrics

    metrics = Metrics()
    try:
        metrics.serve(config.metrics.host, config.metrics.bot_port)
    except OSError as e:
        log.error(
            "cannot serve metrics on port %d (%s); composing goes on without them", config.metrics.bot_port, e
        )
    return metrics


async def _close_services(services: Services) -> None:
    if services.front is not None:  # first: its pages read storage and render in the pool
        try:
            await services.front.stop()
        except Exception:
            log.exception("stopping the web front failed")
    for name, closing in (
        ("pipeline", services.pipeline.close()),
        ("storage", services.storage.close()),
        ("http", services.http.close()),
    ):
        try:
            await closing
        except Exception:
            log.exception("closing the %s failed", name)


def parse_shards(text: str | None) -> dict[str, Any]:
    """'0-3/8' -> shard_ids [0..3] of 8; '2/8' -> shard 2 of 8; None -> no sharding options."""
    if not text:
        return {}
    try:
        span, _, count_text = text.partition("/")
        first, _, last = span.partition("-")
        ids = list(range(int(first), int(last or first) + 1))
        count = int(count_text)
    except ValueError as e:
        raise ConfigError(f"--shards must look like 0-3/8 or 2/8, got {text!r}") from e
    if not count or not ids or ids[0] < 0 or ids[-1] >= count:
        raise ConfigError(f"--shards {text!r}: shard ids must lie in 0..{count - 1}")
    return {"shard_ids": ids, "shard_count": count}


class RedactToken(logging.Filter):
    """Replaces the bot token wherever it might appear in a log line (it never should)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[token]"), None
        return True


def run_bot(
    config: ServingConfig, token: str, shards: str | None = None, front: FrontStarter | None = None
) -> int:
    """Run until interrupted (with the web front `front` starts, if any); returns the exit status."""
    sharding = parse_shards(shards)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
    bot = ShardedCadenzaBot(config, front, **sharding) if sharding else CadenzaBot(config, front)
    try:
        bot.run(token, log_handler=None)
    except discord.LoginFailure as e:
        raise ConfigError(
            "Discord refused the token in DISCORD_TOKEN; copy it again from the developer portal."
        ) from e
    return 0
