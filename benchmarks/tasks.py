"""The bot's part-writing commands end to end: time from a member's /rewrite or /accompany (and, for
comparison, /compose) to the followup with its files, through the Discord emulator.

    .venv/bin/python benchmarks/tasks.py [--checkpoint <a v2 checkpoint>] [--seconds 30] [--runs 5]

The real bot runs as a subprocess (as in the end-to-end tests) with SQLite in a temporary folder.
/rewrite rewrites bars 2-3 of a piece /compose made; /accompany gets a sine-tone melody as WAV and a
MIDI file of one line. One member asks at a time. Prints a table, then one JSON line with p50 and p95
seconds per command. Rewrite and accompany need a v2 (part-writing) checkpoint: with a v1 one (such as
model/checkpoints/transformer_v1) it says so and measures nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bot import percentile  # noqa: E402
from model.checkpoint import read_meta  # noqa: E402
from tests.bot.conftest import COMMANDS, USERS, melody_midi, melody_wav, write_config  # noqa: E402
from tests.discord_emulator import BotProcess, Emulator, EmulatorSettings, InteractionTrace, Reply  # noqa: E402

Ask = Callable[[Emulator, str, int], Awaitable[InteractionTrace]]


async def timed(emu: Emulator, ask: Ask, user: str, run: int) -> tuple[float, Reply]:
    """Seconds from the interaction to its followup, and the followup."""
    start = time.perf_counter()
    reply = await (await ask(emu, user, run)).followup(timeout=900)
    seconds = time.perf_counter() - start
    names = {f.filename for f in reply.files}
    if not {"score.png", "piece.musicxml"} <= names:  # a refusal or an error is no figure
        text = reply.embeds[0].get("description", "") if reply.embeds else reply.data.get("content", "")
        raise RuntimeError(f"{user}'s request got no piece (files {sorted(names)}): {text}")
    return seconds, reply


def asks(genre: str, seconds: int, piece: str) -> dict[str, Ask]:
    """Each command as a member would type it (a new seed each run)."""

    async def compose(emu: Emulator, user: str, run: int) -> InteractionTrace:
        return await emu.slash("compose", {"genre": genre, "length": seconds, "seed": run}, user=user)

    async def rewrite(emu: Emulator, user: str, run: int) -> InteractionTrace:
        return await emu.slash("rewrite", {"piece": piece, "bars": "2-3"}, user=user)

    async def accompany_wav(emu: Emulator, user: str, run: int) -> InteractionTrace:
        clip = await emu.upload_attachment("melody.wav", melody_wav(), "audio/wav")
        return await emu.slash("accompany", {"clip": clip, "genre": genre}, user=user)

    async def accompany_midi(emu: Emulator, user: str, run: int) -> InteractionTrace:
        clip = await emu.upload_attachment("melody.mid", melody_midi(), "audio/midi")
        return await emu.slash("accompany", {"clip": clip, "genre": genre}, user=user)

    return {
        "/compose": compose,
        "/rewrite 2-3": rewrite,
        "/accompany wav": accompany_wav,
        "/accompany midi": accompany_midi,
    }


async def bench(checkpoint: Path, seconds: int, runs: int) -> dict[str, Any]:
    """Start emulator and bot, make the piece to rewrite (warm-up too), then time each command `runs` times."""
    genre = read_meta(checkpoint)["genres"][0]
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
        folder = Path(tmp)
        async with Emulator(EmulatorSettings(user_names=USERS)) as emu:
            config = write_config(
                folder / "config.toml",
                folder / "data",
                checkpoint,
                emu.cdn_host,
                max_seconds=max(30, seconds),
            )
            async with BotProcess(emu, (), env={"CADENZA_CONFIG": str(config)}, log_path=folder / "bot.log"):
                await emu.wait_ready(timeout=300)
                await emu.wait_synced(COMMANDS, timeout=300)
                _, first = await timed(emu, asks(genre, seconds, "")["/compose"], "alice", 0)
                found = re.match(r"piece (\S+)", first.embeds[0]["footer"]["text"])
                assert found, first.embeds
                figures: dict[str, Any] = {}
                for i, (name, ask) in enumerate(asks(genre, seconds, found[1]).items()):
                    times = [(await timed(emu, ask, f"member{i:02d}", run + 1))[0] for run in range(runs)]
                    figures[name] = {
                        "p50_s": round(statistics.median(times), 2),
                        "p95_s": round(percentile(times, 95), 2),
                    }
    return figures


def main() -> int:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=REPO / "model/checkpoints/transformer",
        help="a v2 (part-writing) checkpoint",
    )
    parser.add_argument("--seconds", type=int, default=30, help="length of the piece /rewrite works on")
    parser.add_argument("--runs", type=int, default=5, help="requests of each command, one after another")
    args = parser.parse_args()
    if read_meta(args.checkpoint).get("tokenizer", {}).get("format") is None:
        reason = (
            f"{args.checkpoint} is a v1 checkpoint: it cannot rewrite or accompany; pass --checkpoint <v2>"
        )
        print(reason)  # `make bench` runs every script without options: say why, and do not fail it
        print(json.dumps({"skipped": reason}))
        return 0
    figures = asyncio.run(bench(args.checkpoint, args.seconds, args.runs))
    machine = f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".strip()
    print(f"Bot latency to the followup with its files; /compose of {args.seconds} s ({machine})")
    print(f"{'command':<18} {'runs':>5} {'p50 s':>8} {'p95 s':>8}")
    for name, f in figures.items():
        print(f"{name:<18} {args.runs:>5} {f['p50_s']:>8.2f} {f['p95_s']:>8.2f}")
    print(json.dumps({"commands": figures, "seconds": args.seconds, "checkpoint": str(args.checkpoint)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
