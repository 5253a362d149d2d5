"""The real Cadenza bot, run as a subprocess against the Discord emulator, with a test config.

Each test module gets one emulator and one bot (starting the bot loads torch, the tiny model and
the renderer: seconds, not milliseconds), so modules that need other limits start their own with
`cadenza_bot(**bot_table)`.
"""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import pytest
import pytest_asyncio

from tests.discord_emulator import BotProcess, Emulator, EmulatorSettings

COMMANDS = ("compose", "continue", "genres", "help", "cadenza")
# Enough members for 50 simultaneous requests from different people.
USERS = ("alice", "bob", "carol", *(f"member{i:02d}" for i in range(60)))


def toml_value(value: Any) -> str:
    """A Python value as TOML (strings, numbers, booleans, lists of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def write_config(
    path: Path,
    data_dir: Path,
    checkpoint: Path,
    cdn_host: str,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    **bot: Any,
) -> Path:
    """A config.toml for a test bot: tiny model, temp data dir, SQLite, the emulator's CDN allowed;
    `tables` adds other tables (`{"engine": {"batch_wait_ms": 2000}}`), `bot` sets `[bot]` keys."""
    table: dict[str, Any] = {
        "min_seconds": 1,
        "max_seconds": 20,
        "default_seconds": 2,
        "cdn_hosts": [cdn_host],
        "cdn_allow_http": True,
        "attachment_max_bytes": 400_000,
        "progress_edit_interval_s": 0.25,
        "max_jobs_per_user": 4,
        "user_burst": 1000,
        "user_refill_s": 0.01,
        "guild_burst": 1000,
        "guild_refill_s": 0.01,
        "max_jobs": 100,
        **bot,
    }
    lines = [
        "[app]",
        f"data_dir = {toml_value(str(data_dir))}",
        "[model]",
        f"checkpoint = {toml_value(str(checkpoint))}",
        "[render]",
        'pool_kind = "process"  # as in production: rendering must not hold the bot\'s event loop',
        "workers = 1",
        'soundfont = "builtin"  # the 6 MB SoundFont loads fastest',
        "synth_threads = 1",
        "encode_threads = 1",
        f"queue_limit = {max(128, int(table['max_jobs']))}  # every admitted job must find room to render",
        "[metrics]",
        "bot_port = 0  # a free port each time: test bots never collide, and the endpoint still runs",
        "[bot]",
        *(f"{k} = {toml_value(v)}" for k, v in table.items()),
    ]
    for name, values in (tables or {}).items():
        lines += [f"[{name}]", *(f"{k} = {toml_value(v)}" for k, v in values.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


class Harness:
    """An emulator, a running bot and what the tests need to talk to it."""

    def __init__(self, emulator: Emulator, proc: BotProcess, config: Path) -> None:
        self.emu = emulator
        self.proc = proc
        self.config = config

    @property
    def database(self) -> str:
        """The bot's SQLite database URL."""
        return f"sqlite:///{self.config.parent / 'data' / 'cadenza.db'}"

    async def restart(self, while_stopped: Callable[[], Awaitable[None]] | None = None) -> None:
        """Stop the bot (Ctrl-C), run `while_stopped`, and start it again on the same data."""
        await self.proc.stop()
        if while_stopped is not None:
            await while_stopped()
        before = len(self.emu.gateway.sessions)
        self.proc = BotProcess(
            self.emu,
            (),
            call=self.proc.call,
            env=self.proc.env,
            log_path=self.proc.log_path.with_suffix(".2.log"),
        )
        await self.proc.start()
        await self.emu.wait_for(
            lambda: (
                True
                if len(self.emu.gateway.sessions) > before
                and self.emu.gateway.session
                and self.emu.gateway.session.connection
                else None
            ),
            timeout=120,
            what="the restarted bot to IDENTIFY",
        )


StartCadenza = Callable[..., Awaitable[Harness]]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cadenza_bot(
    tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartCadenza]:
    """`await cadenza_bot(emulator_settings=None, **bot_table)`: an emulator with the bot running."""
    started: list[Harness] = []

    async def start(
        emulator_settings: EmulatorSettings | None = None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
        **bot: Any,
    ) -> Harness:
        settings = emulator_settings or EmulatorSettings(user_names=USERS)
        emu = Emulator(settings)
        await emu.start()
        folder = tmp_path_factory.mktemp("cadenza_bot")
        config = write_config(
            folder / "config.toml", folder / "data", tiny_checkpoint, emu.cdn_host, tables, **bot
        )
        proc = BotProcess(emu, (), env={"CADENZA_CONFIG": str(config)}, log_path=folder / "bot.log")
        harness = Harness(emu, proc, config)
        started.append(harness)
        await proc.start()
        await emu.wait_ready(timeout=120)
        await emu.wait_synced(COMMANDS, timeout=120)
        return harness

    yield start
    for harness in started:
        await harness.proc.stop()
        await harness.emu.stop()
        harness.emu.assert_no_unknown_routes()


# -- files made by the tests -------------------------------------------------------------------


def melody_midi(pitches: tuple[int, ...] = (60, 62, 64, 65, 67, 65, 64, 62), beat_s: float = 0.5) -> bytes:
    """A one-voice C major melody as MIDI bytes."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=60 / beat_s)
    piano = pretty_midi.Instrument(program=0, name="Melody")
    for i, pitch in enumerate(pitches):
        piano.notes.append(pretty_midi.Note(90, pitch, i * beat_s, (i + 0.9) * beat_s))
    pm.instruments.append(piano)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def melody_wav(
    freqs: tuple[float, ...] = (261.63, 293.66, 329.63, 349.23, 392.0, 349.23, 329.63, 293.66),
    note_s: float = 0.4,
    rate: int = 22050,
) -> bytes:
    """A sung-like melody (sine tones with short fades) as 16-bit mono WAV bytes."""
    n = int(note_s * rate)
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.02 * rate))
    tones = [0.5 * np.sin(2 * np.pi * f * np.arange(n) / rate) * fade for f in freqs]
    samples = (np.concatenate(tones) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()
