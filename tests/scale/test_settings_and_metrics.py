"""The [queue] and [metrics] tables, choosing a backend, and the Prometheus metrics each process serves."""

from __future__ import annotations

import asyncio
import math
import urllib.request

import pytest

from bot.metrics import MeteredQueue, Metrics, MetricsSettings, WorkerMetrics
from cadenza.errors import BadInput, ConfigError
from launch.config import config_from_tables
from model.engine import Engine
from model.queues.base import InProcessQueue, open_queue
from model.queues.client import RedisQueue
from model.queues.settings import QueueSettings
from model.request import GenerationRequest
from tests.scale.workers import TINY_SECONDS


def test_queue_table_is_read_into_queue_settings() -> None:
    config = config_from_tables(
        {"queue": {"backend": "redis", "max_deliveries": 5}}, {"CADENZA_REDIS_URL": "redis://h:1/0"}
    )
    assert config.queue.backend == "redis" and config.queue.max_deliveries == 5
    assert config.secrets.redis_url == "redis://h:1/0"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"backend": "kafka"}, "queue.backend must be one of"),
        ({"max_stream_length": 0}, "max_stream_length must be at least 1"),
        (
            {"heartbeat_ms": 20_000, "claim_idle_ms": 15_000},
            "heartbeat_ms must be shorter than claim_idle_ms",
        ),
        ({"max_deliverys": 3}, "unknown key queue.max_deliverys"),
    ],
)
def test_bad_queue_settings_stop_start_up_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_tables({"queue": table}, {})


def test_bad_metrics_port_is_refused() -> None:
    with pytest.raises(ValueError, match="worker_port must be a TCP port"):
        MetricsSettings(worker_port=70_000)


def test_key_names_share_the_prefix() -> None:
    s = QueueSettings(prefix="blue")
    assert (s.jobs_key, s.dead_key, s.reply_key("bot-1")) == ("blue:jobs", "blue:dead", "blue:reply:bot-1")


async def test_open_queue_builds_the_engine_only_for_the_in_process_backend(
    engine: Engine, redis_url: str
) -> None:
    built: list[Engine] = []

    def factory() -> Engine:
        built.append(engine)
        return engine

    assert isinstance(open_queue(QueueSettings(), None, factory), InProcessQueue)
    queue = open_queue(QueueSettings(backend="redis"), redis_url, factory)
    assert isinstance(queue, RedisQueue) and len(built) == 1
    await queue.close()
    with pytest.raises(ConfigError, match="CADENZA_REDIS_URL"):
        open_queue(QueueSettings(backend="redis"), None, factory)


async def test_unreachable_redis_is_a_config_error_at_start_and_a_user_error_per_request() -> None:
    queue = RedisQueue(QueueSettings(backend="redis"), "redis://user:hunter2@127.0.0.1:1/0")
    with pytest.raises(ConfigError, match=r"cannot reach Redis at redis://\*\*\*@127\.0\.0\.1:1/0") as caught:
        await queue.start()
    assert "hunter2" not in str(caught.value)
    with pytest.raises(Exception, match="unreachable") as failed:
        await queue.generate(GenerationRequest("folk", TINY_SECONDS))
    assert type(failed.value).__name__ == "GenerationFailed"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return reply.read().decode()


async def test_metered_queue_serves_time_to_reply_and_errors_by_kind(engine: Engine) -> None:
    metrics = Metrics()
    port = metrics.serve("127.0.0.1", 0)
    queue = MeteredQueue(InProcessQueue(engine), metrics)
    await queue.start()
    await asyncio.wait_for(queue.generate(GenerationRequest("folk", TINY_SECONDS)), 120)
    with pytest.raises(BadInput):
        await queue.generate(GenerationRequest("vaporwave", TINY_SECONDS))
    assert await queue.depth() == 0
    metrics.observe_shard_latencies([(0, 0.042), (1, math.nan)])
    text = await asyncio.to_thread(_scrape, port)
    assert 'cadenza_time_to_reply_seconds_count{backend="inprocess"} 1.0' in text
    assert 'cadenza_errors_total{kind="BadInput"} 1.0' in text
    assert 'cadenza_jobs_total{outcome="done"} 1.0' in text
    assert "cadenza_time_in_queue_seconds_count 1.0" in text
    assert "cadenza_queue_depth 0.0" in text
    assert 'cadenza_shard_latency_seconds{shard="0"} 0.042' in text
    assert 'shard="1"' not in text  # no heartbeat yet: nothing to report


def test_worker_metrics_turn_samples_into_tokens_per_second() -> None:
    metrics = WorkerMetrics()
    metrics.sample(queue_depth=5, active_rows=3, batch_size=3, tokens_generated=1000)
    metrics.sample(queue_depth=2, active_rows=4, batch_size=4, tokens_generated=1600)
    metrics.job_done(queue_s=0.2, compute_s=1.5, tokens=300)
    metrics.job_failed("DeadLettered")
    get = metrics.registry.get_sample_value
    assert get("cadenza_tokens_generated_total") == 600
    assert (get("cadenza_tokens_per_second") or 0) > 0
    assert get("cadenza_queue_depth") == 2 and get("cadenza_batch_size") == 4
    assert get("cadenza_jobs_total", {"outcome": "dead_lettered"}) == 1
    assert get("cadenza_errors_total", {"kind": "DeadLettered"}) == 1
