"""Start a discord.py program pointed at the emulator, without changing the program.

    python -m tests.discord_emulator.launch --rest URL --gateway URL [--without-zstd]
        [--call MODULE:FUNCTION | --module MODULE] -- ARGS...

discord.py reads its REST base (`discord.http.Route.BASE`) and gateway address
(`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`) from module-level settings each time it
builds a request or connects; the launcher sets both, then runs the program:

- default: the Cadenza bot, `launch.cli.main(["bot", *ARGS])` (what `python -m bot ARGS` does);
- `--call pkg.mod:func`: `func(ARGS)` (a list of str), its return value the exit status;
- `--module pkg.mod`: the module run as `__main__` with `sys.argv = [pkg.mod, *ARGS]`.

`--without-zstd` makes `zstandard` (and Python 3.14's `compression.zstd`) unimportable before
discord.py loads, so the client asks for `zlib-stream` instead of `zstd-stream`.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import importlib.abc
import importlib.machinery
import runpy
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

ZSTD_MODULES = ("zstandard", "compression.zstd")


class _BlockImports(importlib.abc.MetaPathFinder):
    """Makes the named modules (and their submodules) raise ModuleNotFoundError on import."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (blocked by the emulator launcher)", name=fullname
            )
        return None


def block_zstd() -> None:
    """Hide zstd support from discord.py (call before discord is imported)."""
    if "discord" in sys.modules or any(name in sys.modules for name in ZSTD_MODULES):
        raise RuntimeError("block_zstd() must run before discord.py (or zstandard) is imported")
    sys.meta_path.insert(0, _BlockImports(ZSTD_MODULES))


def point_discord_at(rest_url: str, gateway_url: str) -> tuple[str, object]:
    """Set discord.py's REST base and gateway URL; returns the previous values."""
    import discord.gateway
    import discord.http
    import yarl

    previous = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = rest_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return previous


@contextmanager
def discord_pointed_at(rest_url: str, gateway_url: str) -> Iterator[None]:
    """For a client run in the test process itself: point discord.py at the emulator, then restore."""
    import discord.gateway
    import discord.http

    base, gateway = point_discord_at(rest_url, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway  # type: ignore[assignment]


def restore_ctrl_c() -> None:
    """Make SIGINT raise KeyboardInterrupt again, as in a program started from a terminal.

    A shell without job control starts background commands (`pytest ... &` in a script, some CI
    runners) with SIGINT ignored; the child inherits that, and Python keeps an inherited SIG_IGN.
    The bot would then sit out `BotProcess.stop()`'s Ctrl-C until the SIGKILL 10 s later.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The launcher's own options; everything after `--` goes to the program."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.discord_emulator.launch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rest", required=True, help="REST base, e.g. http://127.0.0.1:PORT/api/v10")
    parser.add_argument("--gateway", required=True, help="gateway URL, e.g. ws://127.0.0.1:PORT/")
    parser.add_argument(
        "--without-zstd", action="store_true", help="hide zstandard so the client uses zlib-stream"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--call", metavar="MODULE:FUNCTION", help="call FUNCTION(args) instead of the Cadenza bot"
    )
    target.add_argument(
        "--module", metavar="MODULE", help="run MODULE as __main__ instead of the Cadenza bot"
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then the program's arguments")
    ns = parser.parse_args(list(argv))
    ns.args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    """Point discord.py at the emulator and run the program; returns its exit status."""
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    restore_ctrl_c()
    # `BotProcess.stop()` sends SIGUSR1 to a bot that ignores Ctrl-C: every thread's stack goes to the log.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if ns.without_zstd:
        block_zstd()
    point_discord_at(ns.rest, ns.gateway)
    if ns.module:
        sys.argv = [ns.module, *ns.args]
        try:
            runpy.run_module(ns.module, run_name="__main__", alter_sys=True)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        return 0
    module_name, _, function = (ns.call or "launch.cli:main").partition(":")
    program = getattr(importlib.import_module(module_name), function or "main")
    args = ns.args if ns.call else ["bot", *ns.args]
    return int(program(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
