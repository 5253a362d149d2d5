"""Prometheus metrics for bots and workers (the `[metrics]` table), served on an HTTP port.

Each process builds one `Metrics` on its own registry and serves it; the worker's engine reports
through `WorkerMetrics` (a `model.queues.WorkerObserver`), the bot's queue through `MeteredQueue`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from cadenza.errors import CadenzaError

if TYPE_CHECKING:  # torch comes with these; config loading must stay light
    from model.engine import ProgressCallback
    from model.queues.base import GenerationQueue
    from model.request import GeneratedPiece, GenerationRequest

log = logging.getLogger(__name__)

# Seconds buckets from a fast tiny-model reply to a slow 5-minute piece on a busy CPU.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True)
class MetricsSettings:
    """Where each process serves /metrics (Prometheus text format)."""

    enabled: bool = True  # serve metrics at all; the Docker health check reads this endpoint
    host: str = "0.0.0.0"  # listen address; inside a container, all interfaces
    bot_port: int = 9100  # `cadenza bot` serves here
    worker_port: int = (
        9101  # `cadenza worker` serves here (one worker per container; --metrics-port overrides)
    )

    def __post_init__(self) -> None:
        for name, port in (("bot_port", self.bot_port), ("worker_port", self.worker_port)):
            if not 0 <= port <= 65535:
                raise ValueError(f"{name} must be a TCP port (0 = any free one), got {port}")


class Metrics:
    """Every metric a Cadenza process exports, on a private registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge(
            "cadenza_queue_depth", "Jobs waiting or in flight in the job queue", registry=r
        )
        self.batch_size = Gauge(
            "cadenza_batch_size", "Rows decoded together in the engine's last step", registry=r
        )
        self.active_rows = Gauge(
            "cadenza_engine_active_rows", "Requests being composed right now", registry=r
        )
        self.jobs_per_read = Histogram(
            "cadenza_jobs_per_read",
            "Jobs a worker took per stream read",
            ["source"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("cadenza_tokens_generated", "Tokens generated (rate() = tokens/s)", registry=r)
        self.tokens_per_second = Gauge(
            "cadenza_tokens_per_second", "Tokens/s over the last sample period", registry=r
        )
        self.time_in_queue = Histogram(
            "cadenza_time_in_queue_seconds",
            "From request to the start of composing",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.compute_time = Histogram(
            "cadenza_compute_seconds", "Composing time of one piece", buckets=LATENCY_BUCKETS, registry=r
        )
        self.time_to_reply = Histogram(
            "cadenza_time_to_reply_seconds",
            "From generate() to the piece in hand",
            ["backend"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.defer_age = Histogram(
            "cadenza_defer_age_seconds",
            "Age of an interaction (from its snowflake) when the bot deferred it; Discord drops it past 3 s",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
            registry=r,
        )
        self.jobs = Counter("cadenza_jobs", "Jobs finished, by outcome", ["outcome"], registry=r)
        self.errors = Counter("cadenza_errors", "Errors by kind (exception class)", ["kind"], registry=r)
        self.shard_latency = Gauge(
            "cadenza_shard_latency_seconds",
            "Discord gateway heartbeat latency per shard",
            ["shard"],
            registry=r,
        )
        self.heartbeat = Gauge(
            "cadenza_last_heartbeat_timestamp_seconds", "When the process last reported", registry=r
        )

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on host:port in a daemon thread; returns the port (useful when port is 0)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        bound = int(server.server_port)
        log.info("metrics on http://%s:%d/metrics", host, bound)
        return bound

    def observe_shard_latencies(self, latencies: Iterable[tuple[int, float]]) -> None:
        """Record discord.py's `bot.latencies` ((shard id, seconds) pairs); NaN before the first heartbeat is skipped."""
        for shard, seconds in latencies:
            if seconds == seconds:  # NaN != NaN
                self.shard_latency.labels(shard=str(shard)).set(seconds)
        self.heartbeat.set_to_current_time()


class WorkerMetrics(Metrics):
    """Metrics of a `cadenza worker`, fed by the RedisWorker's observer hooks."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__(registry)
        self._last_sample: tuple[float, int] | None = None

    def jobs_read(self, count: int, claimed: bool) -> None:
        """A read of `count` jobs (claimed from a dead worker or new)."""
        self.jobs_per_read.labels(source="claimed" if claimed else "new").observe(count)

    def job_done(self, queue_s: float, compute_s: float, tokens: int) -> None:
        """A piece was published."""
        self.jobs.labels(outcome="done").inc()
        self.time_in_queue.observe(queue_s)
        self.compute_time.observe(compute_s)

    def job_failed(self, kind: str) -> None:
        """A job ended in an error (or was dead-lettered)."""
        self.jobs.labels(outcome="dead_lettered" if kind == "DeadLettered" else "error").inc()
        self.errors.labels(kind=kind).inc()

    def sample(self, queue_depth: int, active_rows: int, batch_size: int, tokens_generated: int) -> None:
        """Periodic engine and queue figures (tokens/s from the change since the last sample)."""
        now = time.monotonic()
        self.queue_depth.set(queue_depth)
        self.active_rows.set(active_rows)
        self.batch_size.set(batch_size)
        if self._last_sample is not None:
            then, tokens_then = self._last_sample
            new = max(0, tokens_generated - tokens_then)
            self.tokens.inc(new)
            self.tokens_per_second.set(new / max(1e-9, now - then))
        self._last_sample = (now, tokens_generated)
        self.heartbeat.set_to_current_time()


class MeteredQueue:
    """A GenerationQueue that records time to reply, time in queue, outcomes and errors by kind."""

    def __init__(self, queue: GenerationQueue, metrics: Metrics) -> None:
        self.queue, self.metrics = queue, metrics
        self.backend = queue.backend

    async def start(self) -> None:
        """Start the wrapped queue."""
        await self.queue.start()

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Compose through the wrapped queue, timing it; errors are counted by class and re-raised."""
        started = time.monotonic()
        try:
            piece = await self.queue.generate(request, on_progress)
        except CadenzaError as e:
            self.metrics.errors.labels(kind=type(e).__name__).inc()
            self.metrics.jobs.labels(outcome="error").inc()
            raise
        self.metrics.time_to_reply.labels(backend=self.backend).observe(time.monotonic() - started)
        self.metrics.time_in_queue.observe(piece.queue_s)
        self.metrics.compute_time.observe(piece.compute_s)
        self.metrics.jobs.labels(outcome="done").inc()
        return piece

    async def depth(self) -> int:
        """Jobs waiting or in flight (also recorded as cadenza_queue_depth)."""
        depth = await self.queue.depth()
        self.metrics.queue_depth.set(depth)
        return depth

    async def close(self) -> None:
        """Close the wrapped queue."""
        await self.queue.close()
