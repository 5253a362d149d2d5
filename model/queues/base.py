"""The one thing the bot needs from a queue, and the in-process queue that wraps an Engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cadenza.errors import ConfigError
from model.engine import Engine, ProgressCallback
from model.queues.client import RedisQueue
from model.queues.settings import QueueSettings
from model.request import GeneratedPiece, GenerationRequest


class GenerationQueue(Protocol):
    """Where the bot sends requests: the engine in this process, or GPU workers behind Redis."""

    backend: str  # "inprocess" or "redis", for metrics and logs

    async def start(self) -> None:
        """Connect / start threads (idempotent)."""

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Compose one piece. Raises BadInput, Busy or GenerationFailed (all user-safe)."""
        ...

    async def depth(self) -> int:
        """Jobs waiting or in flight."""
        ...

    async def close(self) -> None:
        """Stop taking work, let in-flight work finish (bounded), release resources."""


class InProcessQueue:
    """The engine in this process: nothing to install, one machine."""

    backend = "inprocess"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def start(self) -> None:
        """Start the engine thread."""
        self.engine.start()

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Compose one piece on the local engine."""
        return await self.engine.generate(request, on_progress)

    async def depth(self) -> int:
        """Requests waiting plus rows being generated."""
        return self.engine.queue_depth + self.engine.active_rows

    async def close(self) -> None:
        """Stop the engine; waiting requests get GenerationFailed."""
        await self.engine.close()


def open_queue(
    settings: QueueSettings, redis_url: str | None, engine_factory: Callable[[], Engine]
) -> GenerationQueue:
    """The queue `settings.backend` asks for; the engine is only built (checkpoint loaded) in-process."""
    if settings.backend == "inprocess":
        return InProcessQueue(engine_factory())
    if not redis_url:
        raise ConfigError('queue.backend = "redis" needs CADENZA_REDIS_URL (e.g. redis://redis:6379/0)')
    return RedisQueue(settings, redis_url)
