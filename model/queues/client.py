"""The bot side of the Redis Streams queue: add jobs, read replies, hand each to the task that asked.

Every bot process owns one reply stream (`<prefix>:reply:<client id>`). A single reader task reads it
and resolves the waiting future of each job; progress events go to that job's callback. A result for
a job that is no longer waiting (a duplicate from a worker that was presumed dead, or a job that timed
out here) is dropped and counted, so a user sees exactly one reply per request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cadenza.errors import Busy, ConfigError, GenerationFailed
from model.engine import ProgressCallback
from model.queues.settings import QueueSettings
from model.queues.wire import (
    Fields,
    Job,
    error_from_json,
    piece_from_fields,
    progress_from_json,
    stream_entries,
)
from model.request import GeneratedPiece, GenerationRequest

log = logging.getLogger(__name__)

# Check the length and append in one step, so two bots can never both squeeze past the cap.
# ARGV[1] = cap, ARGV[2..] = field, value, field, value ... Returns the entry id, or nil when full.
ADD_IF_ROOM = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
"""
READ_BATCH = 256  # replies taken per XREAD
REMEMBER_FINISHED = 10_000  # recent job ids kept to tell a duplicate from an unknown reply
RECONNECT_S = 1.0  # pause before reading again after Redis went away (a back-off, not a wait for an event)


@dataclass(eq=False)
class _Waiter:
    request: GenerationRequest
    future: asyncio.Future[GeneratedPiece]
    on_progress: ProgressCallback | None
    added: float  # time.monotonic() when the job was added


class RedisQueue:
    """Sends jobs to `cadenza worker`s through Redis Streams; same `generate` as the in-process queue."""

    backend = "redis"

    def __init__(self, settings: QueueSettings, url: str, client_id: str | None = None) -> None:
        self.settings = settings
        self.client_id = client_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.reply_key = settings.reply_key(self.client_id)
        self._url = url
        self._redis = aioredis.Redis.from_url(url, decode_responses=False)
        self._add = self._redis.register_script(ADD_IF_ROOM)
        self._waiting: dict[str, _Waiter] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._reader: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()
        self._closing = False  # no new jobs
        self._stopped = False  # the reader ends
        self.duplicates_dropped = 0  # results for jobs already answered here
        self.unknown_dropped = 0  # replies for jobs this process never asked for (or forgot)
        self.seconds_per_job = 10.0  # running mean of time to reply, for Busy's retry_after

    async def start(self) -> None:
        """Check Redis is reachable and start the reply reader (idempotent)."""
        async with self._start_lock:  # many first requests arrive at once; one reader only
            if self._reader is not None and not self._reader.done():
                return
            try:
                await self._redis.ping()
            except RedisError as e:
                raise ConfigError(f"cannot reach Redis at {_safe_url(self._url)}: {e}") from e
            self._reader = asyncio.create_task(self._read_replies(), name=f"cadenza-replies:{self.client_id}")

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Compose one piece on some worker. Raises BadInput, Busy or GenerationFailed (all user-safe)."""
        if self._closing:
            raise Busy("The bot is restarting; please try again in a few seconds.", retry_after=5.0)
        try:
            await self.start()
        except ConfigError as e:
            raise GenerationFailed(
                "The composer queue is unreachable right now; please try again shortly."
            ) from e
        timeout = self.settings.reply_timeout_s
        now = time.time()
        job = Job(uuid.uuid4().hex, self.reply_key, request, now, now + timeout, on_progress is not None)
        waiter = _Waiter(request, asyncio.get_running_loop().create_future(), on_progress, time.monotonic())
        self._waiting[job.job_id] = waiter
        try:
            await self._append(job)
            piece = await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise GenerationFailed("Composing took too long and was stopped; please try again.") from None
        finally:
            self._forget(job.job_id)
        self.seconds_per_job = 0.8 * self.seconds_per_job + 0.2 * (time.monotonic() - waiter.added)
        return piece

    async def depth(self) -> int:
        """Jobs in the stream: waiting or being composed."""
        return int(await self._redis.xlen(self.settings.jobs_key))

    async def close(self) -> None:
        """Stop taking requests, give in-flight ones `shutdown_grace_s`, then fail the rest and disconnect."""
        self._closing = True
        futures = [w.future for w in self._waiting.values()]
        if futures and self.settings.shutdown_grace_s > 0:
            await asyncio.wait(futures, timeout=self.settings.shutdown_grace_s)
        self._fail_all(GenerationFailed("The bot restarted before your piece was ready; please try again."))
        self._stopped = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        try:
            await self._redis.delete(self.reply_key)
        except RedisError:
            log.warning("could not delete reply stream %s; it expires by itself", self.reply_key)
        await self._redis.aclose()

    # -- adding ---------------------------------------------------------------------------------
    async def _append(self, job: Job) -> None:
        args: list[str | int] = [self.settings.max_stream_length]
        for name, value in job.to_fields().items():
            args += [name, value]
        try:
            entry = await self._add(keys=[self.settings.jobs_key], args=args)
        except RedisError as e:
            raise GenerationFailed(
                "The composer queue is unreachable right now; please try again shortly."
            ) from e
        if entry is None:
            wait = round(max(1.0, self.seconds_per_job), 1)
            raise Busy(f"The composers are busy; please try again in about {wait:.0f} s.", retry_after=wait)

    def _forget(self, job_id: str) -> None:
        self._waiting.pop(job_id, None)
        self._finished[job_id] = None
        while len(self._finished) > REMEMBER_FINISHED:
            self._finished.popitem(last=False)

    # -- reading replies ------------------------------------------------------------------------
    async def _read_replies(self) -> None:
        """Read our reply stream for as long as we live; a Redis outage pauses it, never ends it."""
        last = b"0-0"  # the stream is ours alone and new: read it from the start
        while not self._stopped:
            try:
                batches = await self._redis.xread(
                    {self.reply_key: last}, count=READ_BATCH, block=self.settings.block_ms
                )
                entries = stream_entries(batches)
                for entry_id, fields in entries:
                    self._dispatch(fields)
                    last = entry_id
                if entries:
                    await self._redis.xdel(self.reply_key, *[entry_id for entry_id, _ in entries])
            except RedisError as e:
                if self._stopped:
                    break  # redis-py reports a cancelled blocking read as a closed connection
                log.warning("reading replies from Redis failed (%s); retrying in %.0f s", e, RECONNECT_S)
                await asyncio.sleep(RECONNECT_S)
            except Exception:
                # A bug here must not leave users waiting forever (the vLLM rule): fail them, keep reading.
                log.exception("reply reader failed; failing %d waiting jobs", len(self._waiting))
                self._fail_all(GenerationFailed("The bot lost track of your piece; please try again."))

    def _dispatch(self, fields: Fields) -> None:
        """Hand one reply to the job waiting for it; drop duplicates and strangers."""
        kind = fields.get(b"type", b"")
        job_id = fields.get(b"job", b"").decode()
        waiter = self._waiting.get(job_id)
        if waiter is None or waiter.future.done():
            if kind != b"progress":
                if job_id in self._finished or waiter is not None:
                    self.duplicates_dropped += 1
                    log.info("dropped a duplicate %s for job %s", kind.decode(), job_id)
                else:
                    self.unknown_dropped += 1
            return
        if kind == b"progress":
            if waiter.on_progress is not None:
                try:
                    waiter.on_progress(progress_from_json(fields[b"body"], waiter.request.request_id))
                except Exception:
                    log.exception("progress callback failed for job %s", job_id)
        elif kind == b"result":
            try:
                waiter.future.set_result(piece_from_fields(fields, waiter.request))
            except GenerationFailed as e:
                waiter.future.set_exception(e)
        elif kind == b"error":
            waiter.future.set_exception(error_from_json(fields.get(b"body", b"")))
        else:
            log.warning("reply of unknown type %r for job %s", kind, job_id)

    def _fail_all(self, error: GenerationFailed) -> None:
        for waiter in self._waiting.values():
            if not waiter.future.done():
                waiter.future.set_exception(error)


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
