"""Worker processes for the scale-out tests: real `cadenza worker` subprocesses on a private Redis.

Each test gets its own key prefix (so tests never see each other's streams) and a config file with
short claim and heartbeat times, so a dead worker's jobs move within seconds.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.queues.settings import QueueSettings
from tests.servers import _die_with_parent

CADENZA = Path(sys.executable).with_name("cadenza")  # the console script of this virtual environment
TINY_SECONDS = 2.0  # pieces of about one bar: the queue is under test here, not the music
READY_TIMEOUT_S = 120.0  # importing torch and loading a checkpoint on a loaded 2-core machine


def scale_settings(**changes: object) -> QueueSettings:
    """Queue settings for tests: a private prefix and claim times short enough for a test."""
    values: dict[str, object] = {
        "backend": "redis",
        "prefix": f"test-{uuid.uuid4().hex[:8]}",
        "claim_idle_ms": 2_000,
        "heartbeat_ms": 500,
        "block_ms": 200,
        "reply_timeout_s": 240.0,
        "progress_interval_s": 0.0,
        "shutdown_grace_s": 10.0,
        "read_count": 8,
    }
    values.update(changes)
    return QueueSettings(**values)  # type: ignore[arg-type]


def write_config(path: Path, settings: QueueSettings) -> Path:
    """A config.toml holding these queue settings (other tables default) and local-only metrics."""
    lines = ["[queue]"]
    for name, value in vars(settings).items():
        lines.append(f"{name} = {value!r}" if not isinstance(value, str) else f'{name} = "{value}"')
    lines += ["", "[metrics]", 'host = "127.0.0.1"', "", "[app]", 'log_level = "INFO"']
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class WorkerProcess:
    """One worker subprocess and its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int | None = field(default=None)

    def log_text(self) -> str:
        """Everything the worker logged so far."""
        return self.log_path.read_text("utf-8", "replace")

    def wait_log(self, pattern: str, timeout: float = READY_TIMEOUT_S) -> re.Match[str]:
        """Wait until the log matches `pattern` (fails early if the process exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log_text())
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"worker {self.name} exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}"
                )
            time.sleep(0.05)  # polling a log file: there is no event to wait on
        raise AssertionError(f"worker {self.name}: no {pattern!r} in {timeout} s:\n{self.log_text()[-3000:]}")

    def wait_ready(self) -> None:
        """Wait for the worker to be reading the stream; remember its metrics port."""
        self.metrics_port = int(self.wait_log(r"metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))
        self.wait_log(r"reading \S+:jobs")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a machine losing power."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise


def start_worker(
    name: str,
    config: Path,
    checkpoint: Path,
    redis_url: str,
    log_dir: Path,
    module: str | None = None,
    threads: int = 1,
    max_batch: int = 8,
) -> WorkerProcess:
    """Start `cadenza worker` (or `python -m <module>` taking the same arguments) as consumer `name`."""
    argv = ["--config", str(config), "worker", "--checkpoint", str(checkpoint), "--device", "cpu"]
    argv += [
        "--threads",
        str(threads),
        "--max-batch",
        str(max_batch),
        "--metrics-port",
        "0",
        "--consumer",
        name,
    ]
    command = [sys.executable, "-m", module, *argv] if module else [str(CADENZA), *argv]
    log_path = log_dir / f"{name}.log"
    env = {**os.environ, "CADENZA_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=functools.partial(_die_with_parent, signal.SIGKILL),  # no orphan if pytest dies
        )
    return WorkerProcess(name, proc, log_path)


async def wait_until(check: Callable[[], Awaitable[bool] | bool], timeout: float, what: str) -> None:
    """Poll a condition (Redis state has no push notification) until true, or fail naming it."""
    deadline = time.monotonic() + timeout
    while not await _value(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def _value(result: Awaitable[bool] | bool) -> bool:
    return bool(await result) if inspect.isawaitable(result) else bool(result)
