"""pytest fixtures: an emulator on a free port, and bots started as subprocesses against it.

Load them in a test module (or conftest.py) as a plugin, which pytest imports with assert rewriting:

    pytest_plugins = ["tests.discord_emulator.fixtures"]

Override `emulator_settings` in a module to change Discord's rules for its tests, e.g. a short
first-response deadline:

    @pytest.fixture
    def emulator_settings() -> EmulatorSettings:
        return EmulatorSettings(initial_response_timeout=0.5)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import pytest

from .emulator import Emulator
from .process import BotProcess, StartBot
from .settings import EmulatorSettings


@pytest.fixture
def emulator_settings() -> EmulatorSettings:
    """Discord's rules for this test (override the fixture to change them)."""
    return EmulatorSettings()


@pytest.fixture
async def discord_emulator(emulator_settings: EmulatorSettings) -> AsyncIterator[Emulator]:
    """A started Emulator; at teardown it fails the test if the bot used an unemulated route."""
    async with Emulator(emulator_settings) as emu:
        yield emu
    emu.assert_no_unknown_routes()


@pytest.fixture
async def start_bot(discord_emulator: Emulator, tmp_path: Path) -> AsyncIterator[StartBot]:
    """`await start_bot(*args, call=..., module=..., env=..., without_zstd=..., commands=[...])`.

    Starts the program as a subprocess through the launcher (default: the Cadenza bot,
    `launch.cli.main(["bot", *args])`), waits for its IDENTIFY and, if `commands` names any, for
    their sync; every started process is stopped (Ctrl-C) at teardown. Logs: tmp_path/bot-N.log.
    """
    started: list[BotProcess] = []

    async def start(
        *args: str,
        call: str | None = None,
        module: str | None = None,
        env: Mapping[str, str] | None = None,
        without_zstd: bool = False,
        commands: Sequence[str] = (),
        guild_commands: bool = False,
        ready_timeout: float = 30.0,
    ) -> BotProcess:
        log_path = tmp_path / f"bot-{len(started)}.log"
        proc = BotProcess(
            discord_emulator,
            args,
            call=call,
            module=module,
            env=env,
            without_zstd=without_zstd,
            log_path=log_path,
        )
        started.append(proc)
        await proc.start()
        await discord_emulator.wait_ready(timeout=ready_timeout)
        if commands:
            await discord_emulator.wait_synced(commands, guild=guild_commands, timeout=ready_timeout)
        return proc

    yield start
    for proc in started:
        await proc.stop()
