"""A bot (or any discord.py program) as a real subprocess, launched pointed at the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from .emulator import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`python -m tests.discord_emulator.launch ... -- ARGS` with output kept in a log file.

    While it runs, every emulator wait fails fast (with the log's tail) if the process exits.
    """

    def __init__(
        self,
        emulator: Emulator,
        args: Sequence[str] = (),
        *,
        call: str | None = None,
        module: str | None = None,
        env: Mapping[str, str] | None = None,
        without_zstd: bool = False,
        log_path: Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.args = list(args)
        self.call = call
        self.module = module
        self.env = dict(env or {})
        self.without_zstd = without_zstd
        self.log_path = log_path or Path(os.devnull)
        self.proc: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None

    def command(self) -> list[str]:
        """The full command line."""
        cmd = [sys.executable, "-m", "tests.discord_emulator.launch", *self.emulator.launcher_args()]
        if self.without_zstd:
            cmd.append("--without-zstd")
        if self.call:
            cmd += ["--call", self.call]
        if self.module:
            cmd += ["--module", self.module]
        return [*cmd, "--", *self.args]

    async def start(self) -> None:
        """Start the process (returns at once; wait on the emulator for the handshake)."""
        path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {
            **os.environ,
            **self.emulator.bot_env(),
            "PYTHONPATH": path,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop(); the child writes to it
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(), stdout=self._log, stderr=asyncio.subprocess.STDOUT, cwd=REPO_ROOT, env=env
        )
        self.emulator.signal.aborts.append(self._exit_reason)
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        assert self.proc is not None
        await self.proc.wait()
        self.emulator.signal.notify()  # wake waiters so they notice the exit

    def _exit_reason(self) -> str | None:
        if self.proc is None or self.proc.returncode is None or self._stopping:
            return None
        return (
            f"the bot process exited with status {self.proc.returncode}; its output ends:\n{self.log_tail()}"
        )

    @property
    def returncode(self) -> int | None:
        """Exit status, None while running."""
        return None if self.proc is None else self.proc.returncode

    def log_text(self) -> str:
        """Everything the process printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of its output."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    async def stop(self, timeout: float = 10.0) -> int:
        """Ctrl-C (discord.py closes cleanly), then SIGKILL after `timeout` s; returns the exit status."""
        self._stopping = True
        if self._exit_reason in self.emulator.signal.aborts:
            self.emulator.signal.aborts.remove(self._exit_reason)
        if self.proc is None:
            return 0
        if self.proc.returncode is None:
            await self._settled()
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.send_signal(signal.SIGUSR1)  # the launcher dumps every thread's stack
                await asyncio.sleep(0.5)  # (the dump has no event to wait on)
                self.proc.kill()
                await self.proc.wait()
        if self._watcher is not None:
            await self._watcher
        if self._log is not None:
            self._log.close()
        return int(self.proc.returncode or 0)

    async def _settled(self) -> None:
        """Wait until the bot has read everything the gateway sent (the barrier), if it is connected.

        The emulator counts a bot as ready at IDENTIFY, while discord.py still sits in
        `asyncio.wait_for(DiscordWebSocket.from_client(...))`; on Python 3.11 that wait_for can swallow
        the cancellation Ctrl-C causes when the handshake finishes at the same moment, and the bot then
        runs on until SIGKILL. Once it has answered a heartbeat request, the handshake is over.
        """
        with contextlib.suppress(TimeoutError, AssertionError):
            await self.emulator.gateway.barrier(timeout=10)

    async def __aenter__(self) -> BotProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


# The `start_bot` fixture's type: `await start_bot(*args, call=..., commands=[...]) -> BotProcess`.
StartBot = Callable[..., Awaitable[BotProcess]]
