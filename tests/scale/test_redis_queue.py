"""The Redis Streams queue with a worker in this process: jobs, replies, progress, claims, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from cadenza.errors import BadInput, Busy, GenerationFailed
from model.engine import Engine
from model.queues.client import RedisQueue
from model.queues.settings import QueueSettings
from model.queues.wire import Job, piece_to_fields, stream_entries
from model.queues.worker import RedisWorker
from model.request import GenerationRequest, Progress
from tests.scale.workers import TINY_SECONDS, wait_until

WAIT_S = 120.0  # generous bound for a few tiny pieces on a loaded 2-core machine


def _request(i: int, **changes: object) -> GenerationRequest:
    values: dict[str, object] = {"genre": ("folk", "chorale")[i % 2], "seconds": TINY_SECONDS, "seed": i}
    return GenerationRequest(**(values | changes))  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def serving(
    engine: Engine, settings: QueueSettings, url: str, name: str = "w1"
) -> AsyncIterator[RedisWorker]:
    """A RedisWorker running in this event loop until the block ends (then stopped gracefully)."""
    worker = RedisWorker(engine, settings, url, consumer=name)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, WAIT_S)


@contextlib.asynccontextmanager
async def client(settings: QueueSettings, url: str) -> AsyncIterator[RedisQueue]:
    """A bot-side queue, closed at the end."""
    queue = RedisQueue(settings, url)
    await queue.start()
    try:
        yield queue
    finally:
        await queue.close()


@contextlib.asynccontextmanager
async def raw_redis(url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain connection for looking at (and tampering with) the streams."""
    r = aioredis.Redis.from_url(url)
    try:
        yield r
    finally:
        await r.aclose()


async def test_worker_answers_each_of_two_clients_with_its_own_pieces(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    async with (
        serving(engine, settings, redis_url),
        client(settings, redis_url) as a,
        client(settings, redis_url) as b,
    ):
        jobs = [(q, _request(i)) for i in range(6) for q in (a, b)]
        pieces = await asyncio.wait_for(asyncio.gather(*(q.generate(r) for q, r in jobs)), WAIT_S)
    for (_q, req), piece in zip(jobs, pieces, strict=True):
        assert piece.request == req
        assert piece.score.note_num() > 0
        assert piece.midi_bytes()[:4] == b"MThd"
    assert a.duplicates_dropped == b.duplicates_dropped == 0


async def test_progress_events_reach_the_asker_across_redis(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    events: list[Progress] = []
    async with serving(engine, settings, redis_url), client(settings, redis_url) as q:
        piece = await asyncio.wait_for(
            q.generate(_request(1, seconds=8.0), on_progress=events.append), WAIT_S
        )
    assert events, "no progress event arrived"
    assert {e.request_id for e in events} == {piece.request.request_id}
    assert any(e.tokens_done > 0 for e in events)


async def test_bad_input_from_the_engine_reaches_the_asker(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    async with serving(engine, settings, redis_url), client(settings, redis_url) as q:
        with pytest.raises(BadInput, match="unknown genre"):
            await asyncio.wait_for(q.generate(_request(0, genre="vaporwave")), WAIT_S)


async def test_full_stream_tells_the_next_asker_busy_with_a_wait(redis_url: str) -> None:
    settings = QueueSettings(backend="redis", prefix="test-busy", max_stream_length=2, reply_timeout_s=30)
    async with client(settings, redis_url) as q, raw_redis(redis_url) as r:
        waiting = [
            asyncio.create_task(q.generate(_request(i))) for i in range(2)
        ]  # no worker: they stay queued
        await wait_until(lambda: _length_is(r, settings.jobs_key, 2), 10, "two queued jobs")
        with pytest.raises(Busy) as caught:
            await q.generate(_request(3))
        assert caught.value.retry_after >= 1.0
        assert await r.xlen(settings.jobs_key) == 2  # the refused job was not added
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await r.delete(settings.jobs_key)


async def ensure_group(r: aioredis.Redis, settings: QueueSettings) -> None:
    """Create the consumer group unless a worker that started first already did."""
    try:
        await r.xgroup_create(settings.jobs_key, settings.group, id="0", mkstream=True)
    except aioredis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


async def _length_is(r: aioredis.Redis, key: str, n: int) -> bool:
    return int(await r.xlen(key)) == n


async def test_a_duplicate_result_is_dropped_so_the_asker_sees_one_reply(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    """Stand in for two workers that both finished the same job (one was wrongly presumed dead)."""
    async with client(settings, redis_url) as q, raw_redis(redis_url) as r:
        await r.xgroup_create(settings.jobs_key, settings.group, id="0", mkstream=True)
        asking = asyncio.create_task(q.generate(_request(0)))
        await wait_until(lambda: _length_is(r, settings.jobs_key, 1), 10, "the job in the stream")
        [(_id, fields)] = stream_entries(
            await r.xreadgroup(settings.group, "ghost", {settings.jobs_key: ">"}, count=1)
        )
        piece = await engine.generate(_request(0))  # the job's request, composed here
        reply = {"type": "result", "job": fields[b"job"], **piece_to_fields(piece)}
        await r.xadd(fields[b"reply"], reply)  # type: ignore[arg-type]
        await r.xadd(fields[b"reply"], reply)  # type: ignore[arg-type]
        got = await asyncio.wait_for(asking, WAIT_S)
        await wait_until(lambda: q.duplicates_dropped == 1, 10, "the duplicate to be read and dropped")
    assert got.tokens == piece.tokens


async def test_malformed_job_is_answered_with_bad_input_and_acknowledged(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    reply_key = settings.reply_key("hand-written")
    job = Job("j1", reply_key, _request(0), time.time(), time.time() + 60).to_fields()
    job["request"] = '{"genre": "folk", "seconds": 2, "seed": "not a number"}'
    async with raw_redis(redis_url) as r, serving(engine, settings, redis_url):
        await ensure_group(r, settings)  # the worker may have created it already
        await r.xadd(settings.jobs_key, job)  # type: ignore[arg-type]
        reply = stream_entries(await r.xread({reply_key: "0-0"}, block=int(WAIT_S * 1000)))
        assert await r.xlen(settings.jobs_key) == 0
        assert (await r.xpending(settings.jobs_key, settings.group))["pending"] == 0
    [(_id, fields)] = reply
    assert fields[b"type"] == b"error" and fields[b"job"] == b"j1"
    assert json.loads(fields[b"body"])["kind"] == "BadInput"


async def test_a_job_whose_asker_gave_up_is_not_composed(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    reply_key = settings.reply_key("impatient")
    job = Job("j2", reply_key, _request(0), time.time() - 100, time.time() - 1).to_fields()
    async with raw_redis(redis_url) as r, serving(engine, settings, redis_url):
        await ensure_group(r, settings)  # the worker may have created it already
        await r.xadd(settings.jobs_key, job)  # type: ignore[arg-type]
        [(_id, fields)] = stream_entries(await r.xread({reply_key: "0-0"}, block=int(WAIT_S * 1000)))
    assert json.loads(fields[b"body"])["kind"] == "GenerationFailed"
    assert engine.tokens_generated == 0


async def test_a_dead_workers_job_is_claimed_and_finished_by_another(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    async with client(settings, redis_url) as q, raw_redis(redis_url) as r:
        await r.xgroup_create(settings.jobs_key, settings.group, id="0", mkstream=True)
        asking = asyncio.create_task(q.generate(_request(0)))
        await wait_until(lambda: _length_is(r, settings.jobs_key, 1), 10, "the job in the stream")
        # "dead" reads the job and never acknowledges it: a worker that died mid-batch.
        await r.xreadgroup(settings.group, "dead", {settings.jobs_key: ">"}, count=1)
        async with serving(engine, settings, redis_url, name="alive") as worker:
            piece = await asyncio.wait_for(asking, WAIT_S)
        assert worker.completed == 1
        assert (await r.xpending(settings.jobs_key, settings.group))["pending"] == 0
    assert piece.request.seed == 0


async def test_a_job_delivered_too_often_goes_to_the_dead_letter_stream(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    async with client(settings, redis_url) as q, raw_redis(redis_url) as r:
        await r.xgroup_create(settings.jobs_key, settings.group, id="0", mkstream=True)
        asking = asyncio.create_task(q.generate(_request(0)))
        await wait_until(lambda: _length_is(r, settings.jobs_key, 1), 10, "the job in the stream")
        [(entry_id, _f)] = stream_entries(
            await r.xreadgroup(settings.group, "dead", {settings.jobs_key: ">"}, count=1)
        )
        # As if it had already killed max_deliveries workers: the next claim is one too many.
        await r.xclaim(
            settings.jobs_key, settings.group, "dead", 0, [entry_id], retrycount=settings.max_deliveries
        )
        async with serving(engine, settings, redis_url, name="alive") as worker:
            with pytest.raises(GenerationFailed, match="set aside"):
                await asyncio.wait_for(asking, WAIT_S)
        assert worker.dead_lettered == 1
        [(_id, dead)] = stream_entries([[settings.dead_key, await r.xrange(settings.dead_key)]])
        assert dead[b"entry"] == entry_id
        assert int(dead[b"deliveries"]) == settings.max_deliveries + 1
        assert await r.xlen(settings.jobs_key) == 0
    assert engine.tokens_generated == 0


async def test_sigterm_style_stop_finishes_in_flight_jobs(
    engine: Engine, settings: QueueSettings, redis_url: str
) -> None:
    async with client(settings, redis_url) as q, raw_redis(redis_url) as r:
        asking = [asyncio.create_task(q.generate(_request(i, seconds=8.0))) for i in range(3)]
        worker = RedisWorker(engine, settings, redis_url, consumer="leaving")
        running = asyncio.create_task(worker.run())
        await wait_until(lambda: _has_pending(r, settings, 3), WAIT_S, "three jobs in flight")
        worker.stop()
        await asyncio.wait_for(running, WAIT_S)
        pieces = await asyncio.wait_for(asyncio.gather(*asking), WAIT_S)
    assert [p.request.seed for p in pieces] == [0, 1, 2]
    assert worker.completed == 3


async def _has_pending(r: aioredis.Redis, settings: QueueSettings, n: int) -> bool:
    with contextlib.suppress(Exception):
        return int((await r.xpending(settings.jobs_key, settings.group))["pending"]) >= n
    return False


async def test_stopped_client_refuses_new_work_and_fails_what_no_worker_took(redis_url: str) -> None:
    settings = QueueSettings(backend="redis", prefix="test-closing", shutdown_grace_s=0.0, reply_timeout_s=30)
    q = RedisQueue(settings, redis_url)
    await q.start()
    waiting = asyncio.create_task(q.generate(_request(0)))
    async with raw_redis(redis_url) as r:
        await wait_until(lambda: _length_is(r, settings.jobs_key, 1), 10, "the job in the stream")
        await q.close()
        with pytest.raises(GenerationFailed, match="restarted"):
            await waiting
        with pytest.raises(Busy):
            await q.generate(_request(1))
        await r.delete(settings.jobs_key)
