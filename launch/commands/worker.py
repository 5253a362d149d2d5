"""`cadenza worker`: one composer process (one per GPU) serving the Redis job stream.

It loads the checkpoint, runs the engine, reads jobs through the consumer group, serves Prometheus
metrics, and on SIGTERM (or Ctrl-C) stops reading, finishes in-flight pieces within
`queue.shutdown_grace_s` and leaves any unfinished ones for other workers to claim.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadenza.errors import ConfigError
from launch.config import Config

if TYPE_CHECKING:
    from model.engine import Engine
    from model.engine_settings import EngineSettings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza worker` (each overrides config)."""
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="model folder (default: [model] checkpoint, else the shipped transformer)",
    )
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default=None, help="where the model runs (default: auto)"
    )
    parser.add_argument(
        "--max-batch", type=int, default=None, help="rows composed together (default: the engine's)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (0 = all cores)")
    parser.add_argument("--consumer", default=None, help="consumer name in the group (default: host-pid)")
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve /metrics here (0 = any free port)"
    )
    parser.add_argument("--no-metrics", action="store_true", help="do not serve metrics")


def run(args: argparse.Namespace, config: Config, engine_class: type[Engine] | None = None) -> int:
    """Serve jobs until SIGTERM/SIGINT; `engine_class` lets tests wrap the engine (see tests/scale)."""
    if not config.secrets.redis_url:
        raise ConfigError("`cadenza worker` needs CADENZA_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    from model.engine import Engine

    asyncio.run(serve(args, config, engine_class or Engine))
    return 0


def engine_settings(args: argparse.Namespace, config: Config) -> EngineSettings:
    """The `[engine]` table with the command-line overrides applied."""
    changes = {"device": args.device, "max_batch": args.max_batch, "threads": args.threads}
    return dataclasses.replace(config.engine, **{k: v for k, v in changes.items() if v is not None})


def checkpoint_path(args: argparse.Namespace, config: Config) -> Path:
    """--checkpoint, else `[model] checkpoint`, else the transformer shipped with Cadenza (as the bot does)."""
    if args.checkpoint is not None:
        return Path(args.checkpoint)
    if config.model.checkpoint:
        return Path(config.model.checkpoint)
    from bot.pipeline import default_checkpoint

    return default_checkpoint()


async def serve(args: argparse.Namespace, config: Config, engine_class: type[Engine]) -> None:
    """Load the model, start metrics, run the worker loop, and shut down cleanly on a signal."""
    from bot.metrics import WorkerMetrics
    from model.checkpoint import load_checkpoint
    from model.queues.worker import RedisWorker

    checkpoint = await asyncio.to_thread(load_checkpoint, checkpoint_path(args, config))
    engine = engine_class(checkpoint, engine_settings(args, config))
    metrics = WorkerMetrics()
    if config.metrics.enabled and not args.no_metrics:
        port = config.metrics.worker_port if args.metrics_port is None else args.metrics_port
        metrics.serve(config.metrics.host, port)
    assert config.secrets.redis_url is not None
    worker = RedisWorker(
        engine, config.queue, config.secrets.redis_url, consumer=args.consumer, observer=metrics
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop, worker, sig)
    log.info("worker %s: model %s on %s", worker.consumer, checkpoint.name, engine.device)
    try:
        await worker.run()
    finally:
        await engine.close()


def _stop(worker: Any, sig: signal.Signals) -> None:
    log.info("%s: stopping after in-flight jobs", sig.name)
    worker.stop()
