"""The bot end to end: time from a member's /compose to the followup with the files, through the
Discord emulator, with 1 member and with 20 members asking at once.

    .venv/bin/python benchmarks/bot.py [--checkpoint model/checkpoints/transformer] [--seconds 30]

The real bot runs as a subprocess (as in the end-to-end tests) with the shipped model, SQLite in a
temporary folder and the configured renderer. Prints a table, then one JSON line with
p50_s_1, p95_s_1, p50_s_20, p95_s_20 (seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.checkpoint import read_meta  # noqa: E402
from tests.bot.conftest import COMMANDS, USERS, write_config  # noqa: E402
from tests.discord_emulator import BotProcess, Emulator, EmulatorSettings, InteractionTrace  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank on the sorted values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def timed(emu: Emulator, genre: str, seconds: int, user: str, seed: int) -> float:
    """Seconds from the interaction to its followup."""
    start = time.perf_counter()
    trace: InteractionTrace = await emu.slash(
        "compose", {"genre": genre, "length": seconds, "seed": seed}, user=user
    )
    await trace.followup(timeout=900)
    return time.perf_counter() - start


async def bench(checkpoint: Path, seconds: int, solo_runs: int, crowd: int) -> dict[str, float]:
    """Start emulator and bot, warm up, then measure 1 member (sequentially) and `crowd` at once."""
    genres = read_meta(checkpoint)["genres"]
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
        folder = Path(tmp)
        async with Emulator(EmulatorSettings(user_names=USERS)) as emu:
            config = write_config(
                folder / "config.toml",
                folder / "data",
                checkpoint,
                emu.cdn_host,
                max_seconds=max(30, seconds),
                default_seconds=min(30, seconds),
            )
            async with BotProcess(emu, (), env={"CADENZA_CONFIG": str(config)}, log_path=folder / "bot.log"):
                await emu.wait_ready(timeout=300)
                await emu.wait_synced(COMMANDS, timeout=300)
                await timed(emu, genres[0], seconds, "alice", 0)  # warm-up: first-use costs are not latency
                solo = [
                    await timed(emu, genres[i % len(genres)], seconds, "bob", i + 1) for i in range(solo_runs)
                ]
                together = await asyncio.gather(
                    *(
                        timed(emu, genres[i % len(genres)], seconds, f"member{i:02d}", 100 + i)
                        for i in range(crowd)
                    )
                )
    return {
        "p50_s_1": round(statistics.median(solo), 2),
        "p95_s_1": round(percentile(solo, 95), 2),
        "p50_s_20": round(statistics.median(together), 2),
        "p95_s_20": round(percentile(list(together), 95), 2),
    }


def main() -> int:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=REPO / "model/checkpoints/transformer")
    parser.add_argument("--seconds", type=int, default=30, help="length of each piece")
    parser.add_argument("--solo-runs", type=int, default=8, help="sequential requests of the single member")
    parser.add_argument("--crowd", type=int, default=20, help="members asking at once")
    args = parser.parse_args()
    if not (args.checkpoint / "meta.json").exists() and not args.checkpoint.is_dir():
        print(f"no checkpoint at {args.checkpoint}; pass --checkpoint", file=sys.stderr)
        return 2
    figures = asyncio.run(bench(args.checkpoint, args.seconds, args.solo_runs, args.crowd))
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    print(f"Bot latency, /compose of {args.seconds} s to followup with MP3+MIDI+PNG ({machine})")
    print(f"{'members':>8} {'p50 s':>8} {'p95 s':>8}")
    print(f"{1:>8} {figures['p50_s_1']:>8.2f} {figures['p95_s_1']:>8.2f}")
    print(f"{args.crowd:>8} {figures['p50_s_20']:>8.2f} {figures['p95_s_20']:>8.2f}")
    print(json.dumps({**figures, "seconds": args.seconds, "checkpoint": str(args.checkpoint)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
