"""Scale-out under failure, with real `cadenza worker` processes on a private Redis.

Two workers serve 100 jobs from two bot-side clients and one is SIGKILLed mid-batch: every job still
completes, once, for the client that asked. A job that kills every worker that takes it ends in the
dead-letter stream after `max_deliveries` tries, and its asker is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from cadenza.errors import GenerationFailed
from model.queues.client import RedisQueue
from model.queues.settings import QueueSettings
from model.queues.wire import stream_entries
from model.request import GenerationRequest
from tests.scale.crashing_worker import CRASH_GENRE
from tests.scale.workers import (
    READY_TIMEOUT_S,
    TINY_SECONDS,
    WorkerProcess,
    scale_settings,
    start_worker,
    wait_until,
    write_config,
)

WORK_S = 240.0  # bound on composing 100 tiny pieces on a loaded 2-core machine (not a speed target)
CRASHING = "tests.scale.crashing_worker"


@contextlib.asynccontextmanager
async def bots(settings: QueueSettings, url: str, n: int) -> AsyncIterator[list[RedisQueue]]:
    """`n` bot-side clients (each its own reply stream, as separate bot processes would have)."""
    queues = [RedisQueue(settings, url) for _ in range(n)]
    for q in queues:
        await q.start()
    try:
        yield queues
    finally:
        for q in queues:
            await q.close()


async def _pending_of(r: aioredis.Redis, settings: QueueSettings, consumer: str) -> list[bytes]:
    rows: Any = await r.xpending_range(settings.jobs_key, settings.group, "-", "+", 100, consumer)
    return [row["message_id"] for row in rows]


def _scrape(worker: WorkerProcess) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=10) as reply:
        return reply.read().decode()


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


@pytest.mark.slow
async def test_hundred_jobs_from_two_bots_survive_a_worker_killed_mid_batch(
    tiny_checkpoint: Path, redis_url: str, tmp_path: Path
) -> None:
    settings = scale_settings()
    config = write_config(tmp_path / "config.toml", settings)
    workers = [start_worker(name, config, tiny_checkpoint, redis_url, tmp_path) for name in ("w1", "w2")]
    r = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.gather(*(asyncio.to_thread(w.wait_ready) for w in workers))
        async with bots(settings, redis_url, 2) as (bot_a, bot_b):
            asked = [
                (bot, GenerationRequest("folk", TINY_SECONDS, seed=i))
                for i in range(50)
                for bot in (bot_a, bot_b)
            ]
            tasks = [asyncio.create_task(bot.generate(req)) for bot, req in asked]
            victim, survivor = workers

            async def victim_is_mid_batch() -> bool:
                done = sum(t.done() for t in tasks)
                return done >= 10 and len(await _pending_of(r, settings, victim.name)) >= 2

            await wait_until(victim_is_mid_batch, WORK_S, "w1 to hold jobs after some were done")
            held = await _pending_of(r, settings, victim.name)
            victim.kill()
            started = time.monotonic()
            pieces = await asyncio.wait_for(asyncio.gather(*tasks), settings.claim_idle_ms / 1000 + WORK_S)
            recovered_in = time.monotonic() - started
            dropped = bot_a.duplicates_dropped + bot_b.duplicates_dropped

        for (_bot, req), piece in zip(asked, pieces, strict=True):
            assert piece.request is req  # each asker got the piece for its own request, once
            assert piece.score.note_num() > 0
        assert len({p.request.request_id for p in pieces}) == 100
        assert await r.xlen(settings.jobs_key) == 0
        assert (await r.xpending(settings.jobs_key, settings.group))["pending"] == 0
        assert await r.xlen(settings.dead_key) == 0
        metrics = _scrape(survivor)
        assert _metric(metrics, 'cadenza_jobs_per_read_sum{source="claimed"}') >= len(held)
        assert survivor.stop() == 0, survivor.log_text()[-2000:]
        print(
            f"w1 held {len(held)} jobs when killed; all done {recovered_in:.1f} s later; {dropped} duplicates dropped"
        )
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.kill()
        await r.aclose()


@pytest.mark.slow
async def test_poison_job_is_dead_lettered_after_max_deliveries_and_its_asker_is_told(
    tiny_checkpoint: Path, redis_url: str, tmp_path: Path
) -> None:
    settings = scale_settings(max_deliveries=2)
    config = write_config(tmp_path / "config.toml", settings)
    started: list[WorkerProcess] = []
    r = aioredis.Redis.from_url(redis_url)
    try:
        async with bots(settings, redis_url, 1) as (bot,):
            asking = asyncio.create_task(bot.generate(GenerationRequest(CRASH_GENRE, TINY_SECONDS)))
            # Each worker that takes the job dies (a supervisor would restart it: we start the next).
            for n in range(1, settings.max_deliveries + 1):
                started.append(
                    start_worker(f"crash{n}", config, tiny_checkpoint, redis_url, tmp_path, module=CRASHING)
                )
                code = await asyncio.to_thread(started[-1].proc.wait, READY_TIMEOUT_S)
                assert code == -signal.SIGKILL, started[-1].log_text()[-2000:]
                assert not asking.done()
            survivor = start_worker("survivor", config, tiny_checkpoint, redis_url, tmp_path, module=CRASHING)
            started.append(survivor)
            with pytest.raises(GenerationFailed, match="set aside"):
                await asyncio.wait_for(asking, READY_TIMEOUT_S + settings.claim_idle_ms / 1000)
            [(_id, dead)] = stream_entries([[settings.dead_key, await r.xrange(settings.dead_key)]])
            assert int(dead[b"deliveries"]) == settings.max_deliveries + 1
            assert json.loads(dead[b"request"])["genre"] == CRASH_GENRE
            assert await r.xlen(settings.jobs_key) == 0
            # The survivor set the poison aside without dying, and still composes.
            piece = await asyncio.wait_for(bot.generate(GenerationRequest("chorale", TINY_SECONDS)), WORK_S)
            assert piece.score.note_num() > 0
        assert survivor.stop() == 0, survivor.log_text()[-2000:]
        assert "dead-lettered" in survivor.log_text()
    finally:
        for w in started:
            if w.proc.poll() is None:
                w.kill()
        await r.aclose()
