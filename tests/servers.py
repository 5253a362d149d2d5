"""Private Redis and PostgreSQL servers for the tests, on free ports in temporary folders.

The tests never touch a server the machine already runs (a developer's PostgreSQL on 5432, a Redis
on 6379): each test session starts its own, so `make test` gives the same answer anywhere the
binaries are installed (`make setup` installs them). A server is ready when it says so on its log
stream; we wait for that line (with a timeout), not for a fixed time.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the `postgres`
system user (made by Debian's package), or as `nobody` if there is none, in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

START_TIMEOUT_S = 30.0  # a cold initdb + start on a loaded 2-core machine takes ~1-3 s
STOP_TIMEOUT_S = 15.0
SETUP_HINT = "`make setup` installs it (Debian packages redis-server and postgresql)"

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ServerError(RuntimeError):
    """A test server could not be found, started or stopped."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent(sig: int) -> None:
    """In the child: get `sig` when the test process dies, so a killed run leaves no server running."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)


class _LogWatcher:
    """Drains a server's output into a log file and signals when the 'ready' line appears."""

    def __init__(self, stream: IO[bytes], log_path: Path, ready_text: str) -> None:
        self.ready = threading.Event()
        self.ended = threading.Event()
        self._stream, self._log_path, self._ready_text = stream, log_path, ready_text
        self._thread = threading.Thread(target=self._drain, name=f"log:{log_path.name}", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with self._stream, self._log_path.open("ab") as log:
            for line in iter(self._stream.readline, b""):
                log.write(line)
                log.flush()
                if self._ready_text in line.decode("utf-8", "replace"):
                    self.ready.set()
        self.ended.set()
        self.ready.set()  # wake the waiter; it checks whether the process is still alive

    def join(self) -> None:
        """Wait for the output to end (the process has exited) so the pipe is closed."""
        self._thread.join(STOP_TIMEOUT_S)

    def tail(self, lines: int = 20) -> str:
        text = self._log_path.read_text("utf-8", "replace") if self._log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class _Process:
    """A server process started by us, with its log watcher."""

    name: str
    proc: subprocess.Popen[bytes]
    watcher: _LogWatcher
    stop_signal: int  # the server's "shut down now, cleanly" signal

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        if (
            not self.watcher.ready.wait(timeout)
            or self.proc.poll() is not None
            or self.watcher.ended.is_set()
        ):
            self.stop()
            raise ServerError(f"{self.name} did not start within {timeout:.0f} s:\n{self.watcher.tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT_S)
        self.watcher.join()


def _spawn(
    name: str,
    argv: list[str],
    log_path: Path,
    ready_text: str,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
) -> _Process:
    # argv is built from binaries we located (no shell); the preexec hook only calls prctl, which is
    # safe between fork and exec.
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        user=user,
        group=pwd.getpwnam(user).pw_gid if user else None,
        extra_groups=[] if user else None,
        preexec_fn=functools.partial(_die_with_parent, stop_signal),
    )
    assert proc.stdout is not None
    return _Process(name, proc, _LogWatcher(proc.stdout, log_path, ready_text), stop_signal)


def _start_with_retries(start: Callable[[int], _Process], tries: int = 3) -> tuple[_Process, int]:
    """Start on a free port; another process may grab the port between our probe and the bind."""
    last: ServerError | None = None
    for _ in range(tries):
        port = free_port()
        process = start(port)
        try:
            process.wait_ready()
        except ServerError as e:
            last = e
            continue
        return process, port
    raise last or ServerError("server did not start")


# --- Redis -----------------------------------------------------------------------------------


class RedisServer:
    """A throw-away `redis-server` with no persistence, listening on 127.0.0.1 only."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerError(f"redis-server not found on PATH; {SETUP_HINT}")
        self.root = root
        self._binary = binary
        self._process, self.port = _start_with_retries(self._start)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self, port: int) -> _Process:
        argv = [
            self._binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--save", "",  # no snapshots: test data is disposable
            "--appendonly", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        return _spawn("redis-server", argv, self.root / "redis.log", "Ready to accept connections")

    def stop(self) -> None:
        self._process.stop()


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian keeps them off PATH)."""
    candidates = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if (Path(p) / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerError(f"PostgreSQL server binaries (initdb, postgres) not found; {SETUP_HINT}")


def _postgres_os_user() -> str | None:
    """Who runs the server: ourselves, unless we are root (which PostgreSQL refuses)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ServerError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


class PostgresServer:
    """A throw-away PostgreSQL cluster (trust auth, no fsync) on 127.0.0.1 with a `cadenza` database."""

    USER = "cadenza"  # the cluster's superuser
    DATABASE = "cadenza"

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.os_user = _postgres_os_user()
        # Not under pytest's tmp_path: its parents are private to root, and the server may run as
        # another user who must reach this folder.
        self.root = Path(tempfile.mkdtemp(prefix="cadenza-pg-"))
        try:
            self._chown(self.root)
            self._initdb()
            self._process, self.port = _start_with_retries(self._start)
            self.create_database(self.DATABASE)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        """URL of the `cadenza` database (plain `postgresql://`; Storage picks the asyncpg driver)."""
        return self.database_url(self.DATABASE)

    def database_url(self, name: str) -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """Create an empty database `name` and return its URL (one per test keeps tests apart)."""
        self._run([str(self.bindir / "createdb"), *self._client_args(), name])
        return self.database_url(name)

    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER]

    def _chown(self, path: Path) -> None:
        if self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        argv = [str(self.bindir / "initdb"), "-D", str(self.root / "data"), "-U", self.USER]
        argv += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        self._run(argv, user=self.os_user)

    def _start(self, port: int) -> _Process:
        argv = [str(self.bindir / "postgres"), "-D", str(self.root / "data"), "-p", str(port)]
        argv += ["-k", str(self.root)]  # the Unix socket goes here, not in /var/run/postgresql
        for setting in (
            "listen_addresses=127.0.0.1",
            "fsync=off",  # disposable data: durability only costs time
            "synchronous_commit=off",
            "full_page_writes=off",
            "max_connections=200",  # scale-out tests open many pools at once
        ):
            argv += ["-c", setting]
        log = self.root / "postgres.log"
        # SIGINT is PostgreSQL's fast shutdown: it disconnects clients instead of waiting for them.
        ready = "database system is ready to accept connections"
        return _spawn("postgres", argv, log, ready, self.os_user, stop_signal=signal.SIGINT)

    def _run(self, argv: list[str], user: str | None = None) -> None:
        result = subprocess.run(  # argv built from binaries we located; no shell
            argv, capture_output=True, text=True, timeout=START_TIMEOUT_S, user=user, check=False
        )
        if result.returncode != 0:
            raise ServerError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()}")

    def stop(self) -> None:
        """Stop the server (fast shutdown: disconnect clients) and delete its folder."""
        process = getattr(self, "_process", None)
        if process is not None:
            process.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def redis_server(root: Path | None = None) -> Iterator[RedisServer]:
    """Run a private Redis for the duration of the block."""
    with contextlib.ExitStack() as stack:
        folder = root or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cadenza-redis-")))
        server = RedisServer(folder)
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Run a private PostgreSQL for the duration of the block."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
