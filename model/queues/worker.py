"""The GPU worker: read jobs from the Redis stream in batches, compose them on the engine, reply.

Delivery is at least once. A job is acknowledged (XACK, then deleted) in the same MULTI/EXEC as the
publication of its reply, so a worker that dies at any moment leaves its jobs pending; while alive it
re-claims its own jobs every `heartbeat_ms` so they never look idle. Another worker takes jobs idle
for `claim_idle_ms` (XAUTOCLAIM); one handed out more than `max_deliveries` times has killed every
worker that touched it and goes to the dead-letter stream, and its asker gets GenerationFailed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from cadenza.errors import CadenzaError, GenerationFailed
from model.engine import Engine
from model.queues.observer import NullObserver, WorkerObserver
from model.queues.settings import QueueSettings
from model.queues.wire import (
    Entry,
    Fields,
    Job,
    error_to_json,
    job_from_fields,
    job_header,
    piece_to_fields,
    progress_to_json,
    stream_entries,
)
from model.request import Progress

log = logging.getLogger(__name__)
RETRY_S = 1.0  # back-off after a Redis error in the read loop (not a wait for an event)


class RedisWorker:
    """One consumer of the job stream, feeding one Engine; `run()` until `stop()`."""

    def __init__(
        self,
        engine: Engine,
        settings: QueueSettings,
        url: str,
        consumer: str | None = None,
        observer: WorkerObserver | None = None,
        capacity: int | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
        self.observer = observer or NullObserver()
        # Take only what the engine can start now, so an idle worker beside us finds work in the stream.
        self.capacity = capacity or engine.settings.max_batch
        self._redis = aioredis.Redis.from_url(url, decode_responses=False)
        self._inflight: dict[bytes, asyncio.Task[None]] = {}
        self._side_tasks: set[asyncio.Task[None]] = set()  # progress messages on their way
        self._stopping = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._claim_cursor = b"0-0"
        self._next_claim = 0.0
        self.completed = 0
        self.dead_lettered = 0

    def stop(self) -> None:
        """Stop reading new jobs; `run()` then finishes in-flight work and returns (safe in a signal handler)."""
        self._stopping.set()
        self._slot_free.set()

    async def run(self) -> None:
        """Serve until `stop()`; then finish in-flight jobs within `shutdown_grace_s`, leaving the rest for others."""
        await self._ensure_group()
        self.engine.start()
        heartbeat = asyncio.create_task(self._heartbeat(), name="cadenza-worker-heartbeat")
        log.info("worker %s reading %s (capacity %d)", self.consumer, self.settings.jobs_key, self.capacity)
        try:
            while not self._stopping.is_set():
                try:
                    await self._fill()
                except RedisError as e:
                    log.warning("Redis error in the worker loop (%s); retrying in %.0f s", e, RETRY_S)
                    await asyncio.sleep(RETRY_S)
        finally:
            await self._drain()
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await self._leave_group()
            await self._redis.aclose()
            log.info(
                "worker %s stopped: %d done, %d dead-lettered",
                self.consumer,
                self.completed,
                self.dead_lettered,
            )

    # -- taking jobs ---------------------------------------------------------------------------
    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                self.settings.jobs_key, self.settings.group, id="0", mkstream=True
            )
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _fill(self) -> None:
        """Wait for a free row, claim dead workers' jobs when due, then read new ones."""
        free = self.capacity - len(self._inflight)
        if free <= 0:
            self._slot_free.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._slot_free.wait(), self.settings.block_ms / 1000)
            return
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self.settings.heartbeat_ms / 1000
            free -= await self._claim_abandoned(free)
            if free <= 0:
                return
        s = self.settings
        batches = await self._redis.xreadgroup(
            s.group, self.consumer, {s.jobs_key: ">"}, count=min(s.read_count, free), block=s.block_ms
        )
        entries = stream_entries(batches)
        if entries:
            self.observer.jobs_read(len(entries), claimed=False)
        for entry_id, fields in entries:
            self._start(entry_id, fields, deliveries=1)

    async def _claim_abandoned(self, limit: int) -> int:
        """XAUTOCLAIM jobs idle past `claim_idle_ms` (their worker died); returns how many were taken."""
        s = self.settings
        reply: Any = await self._redis.xautoclaim(
            s.jobs_key, s.group, self.consumer, s.claim_idle_ms, start_id=self._claim_cursor, count=limit
        )
        self._claim_cursor = bytes(reply[0])
        claimed: list[Entry] = [(bytes(entry_id), dict(fields)) for entry_id, fields in reply[1] if fields]
        if not claimed:
            return 0
        counts = await self._delivery_counts([entry_id for entry_id, _ in claimed])
        log.warning("claimed %d jobs abandoned by dead workers", len(claimed))
        self.observer.jobs_read(len(claimed), claimed=True)
        for entry_id, fields in claimed:
            if entry_id in counts:  # else it was finished or taken over in the meantime: not ours
                self._start(entry_id, fields, deliveries=counts[entry_id])
        return len(claimed)

    async def _delivery_counts(self, ids: list[bytes]) -> dict[bytes, int]:
        """How many times each of these entries has been handed out, if still pending for us (XPENDING)."""
        s = self.settings
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:  # one exact lookup each: stream ids do not order as byte strings
                pipe.xpending_range(s.jobs_key, s.group, entry_id, entry_id, 1, self.consumer)
            replies: list[Any] = await pipe.execute()
        return {bytes(row["message_id"]): int(row["times_delivered"]) for rows in replies for row in rows}

    def _start(self, entry_id: bytes, fields: Fields, deliveries: int) -> None:
        if entry_id in self._inflight:
            return  # already ours (a claim raced a heartbeat); it is being composed
        if deliveries > self.settings.max_deliveries:
            task = asyncio.create_task(self._dead_letter(entry_id, fields, deliveries))
        else:
            task = asyncio.create_task(self._process(entry_id, fields))
        self._inflight[entry_id] = task
        task.add_done_callback(functools.partial(self._finished, entry_id))

    def _finished(self, entry_id: bytes, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(entry_id, None)
        self._slot_free.set()

    # -- composing and replying ----------------------------------------------------------------
    async def _process(self, entry_id: bytes, fields: Fields) -> None:
        """Compose one job and publish its result or error; any Redis failure leaves it pending."""
        try:
            job_id, reply = job_header(fields)
        except (KeyError, UnicodeDecodeError):
            log.error("job %s has no job id or reply stream; discarding it", entry_id)
            await self._ack_only(entry_id)
            return
        try:
            job = job_from_fields(fields)
            if time.time() > job.expires_at:
                raise GenerationFailed("Your request waited too long in the queue; please try again.")
            await self._compose(entry_id, job)
        except CadenzaError as e:
            self.observer.job_failed(type(e).__name__)
            await self._publish(entry_id, job_id, reply, "error", {"body": error_to_json(e)})
        except RedisError as e:
            log.warning("could not publish job %s (%s); it stays pending for another try", job_id, e)

    async def _compose(self, entry_id: bytes, job: Job) -> None:
        waited = max(0.0, time.time() - job.enqueued_at)
        on_progress = self._progress_sender(job) if job.wants_progress else None
        try:
            piece = await self.engine.generate(job.request, on_progress)
        except CadenzaError:
            raise
        except Exception as e:
            log.exception("engine failed on job %s", job.job_id)
            raise GenerationFailed("The composer hit an internal error; please try again.") from e
        piece.queue_s += waited
        await self._publish(entry_id, job.job_id, job.reply_key, "result", piece_to_fields(piece))
        self.completed += 1
        self.observer.job_done(piece.queue_s, piece.compute_s, len(piece.tokens))

    async def _publish(
        self, entry_id: bytes, job_id: str, reply: str, kind: str, fields: dict[str, bytes | str]
    ) -> None:
        """Reply and acknowledge in one transaction: either both happen or neither."""
        s = self.settings
        async with self._redis.pipeline(transaction=True) as pipe:
            entry: dict[Any, Any] = {"type": kind, "job": job_id, **fields}
            pipe.xadd(reply, entry)
            pipe.expire(reply, s.result_ttl_s)
            pipe.xack(s.jobs_key, s.group, entry_id)
            pipe.xdel(s.jobs_key, entry_id)
            await pipe.execute()

    async def _ack_only(self, entry_id: bytes) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.settings.jobs_key, self.settings.group, entry_id)
            pipe.xdel(self.settings.jobs_key, entry_id)
            await pipe.execute()

    async def _dead_letter(self, entry_id: bytes, fields: Fields, deliveries: int) -> None:
        """Move a job that keeps killing workers to the dead-letter stream and tell its asker."""
        s = self.settings
        log.error(
            "job %s was delivered %d times (limit %d): dead-lettered", entry_id, deliveries, s.max_deliveries
        )
        error = GenerationFailed(
            f"This request stopped the composer {deliveries - 1} times, so it was set aside. "
            "Please try different options; the team has been notified."
        )
        record: dict[Any, Any] = {
            **fields,
            b"entry": entry_id,
            b"deliveries": str(deliveries),
            b"dead_at": repr(time.time()),
        }
        try:
            job_id, reply = job_header(fields)
        except (KeyError, UnicodeDecodeError):
            job_id, reply = "", ""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(s.dead_key, record, maxlen=s.dead_letter_max_length, approximate=True)
            if reply:
                pipe.xadd(reply, {"type": "error", "job": job_id, "body": error_to_json(error)})
                pipe.expire(reply, s.result_ttl_s)
            pipe.xack(s.jobs_key, s.group, entry_id)
            pipe.xdel(s.jobs_key, entry_id)
            await pipe.execute()
        self.dead_lettered += 1
        self.observer.job_failed("DeadLettered")

    def _progress_sender(self, job: Job) -> Callable[[Progress], None]:
        """A progress callback that forwards at most one event per `progress_interval_s` over Redis."""
        last = [-1e9]

        def send(p: Progress) -> None:
            now = time.monotonic()
            if now - last[0] < self.settings.progress_interval_s:
                return
            last[0] = now
            task = asyncio.create_task(self._send_progress(job, p))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

        return send

    async def _send_progress(self, job: Job, p: Progress) -> None:
        try:
            await self._redis.xadd(
                job.reply_key, {"type": "progress", "job": job.job_id, "body": progress_to_json(p)}
            )
        except RedisError as e:
            log.debug("progress for job %s not sent: %s", job.job_id, e)  # progress is best effort

    # -- liveness and shutdown -----------------------------------------------------------------
    async def _heartbeat(self) -> None:
        """Keep our in-flight jobs from looking abandoned, and report queue figures."""
        s = self.settings
        while True:
            await asyncio.sleep(s.heartbeat_ms / 1000)  # a period, not a wait for an event
            try:
                if self._inflight:
                    await self._redis.xclaim(
                        s.jobs_key, s.group, self.consumer, 0, list(self._inflight), justid=True
                    )
                depth = int(await self._redis.xlen(s.jobs_key))
                self.observer.sample(
                    depth, self.engine.active_rows, self.engine.last_batch_size, self.engine.tokens_generated
                )
            except RedisError as e:
                log.warning("heartbeat failed: %s", e)

    async def _leave_group(self) -> None:
        """Remove our consumer from the group when it holds nothing, so the group lists live workers only."""
        s = self.settings
        with contextlib.suppress(RedisError):
            mine: Any = await self._redis.xpending_range(s.jobs_key, s.group, "-", "+", 1, self.consumer)
            if not mine:
                await self._redis.xgroup_delconsumer(s.jobs_key, s.group, self.consumer)

    async def _drain(self) -> None:
        """Let in-flight jobs finish for `shutdown_grace_s`; cancel the rest (they stay pending for others)."""
        tasks = list(self._inflight.values())
        if tasks:
            log.info("finishing %d in-flight jobs (up to %.0f s)", len(tasks), self.settings.shutdown_grace_s)
            _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_s or None)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if pending:
                log.warning("left %d unfinished jobs for other workers to claim", len(pending))
        await asyncio.gather(*self._side_tasks, return_exceptions=True)
