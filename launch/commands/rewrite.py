"""`cadenza rewrite`: write bars A-B of a MIDI file anew, keeping every other bar note for note."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from cadenza.errors import BadInput
from launch.commands.compose import show_progress, write_piece_files
from launch.config import Config
from model.request import Task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza rewrite`."""
    parser.add_argument(
        "file", type=Path, help="a MIDI file (for example a piece.mid from `cadenza compose`)"
    )
    parser.add_argument("--bars", required=True, help="the bars to write anew, e.g. 5-8 (1-based, inclusive)")
    add_task_options(parser)


def add_task_options(parser: argparse.ArgumentParser) -> None:
    """Options `rewrite` and `accompany` share."""
    parser.add_argument(
        "--genre", default=None, help="the style to write in (default: piece.json beside FILE)"
    )
    parser.add_argument("--seed", type=int, default=None, help="same seed and arguments = the same result")
    parser.add_argument("--sound", default=None, help="a sound preset (default: the genre's)")
    parser.add_argument("--creativity", default="balanced", choices=["safe", "balanced", "adventurous"])
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for piece.mid, piece.mp3, piece.png, piece.json"
    )


def parse_bars(text: str) -> tuple[int, int]:
    """'5-8' -> (5, 8); '5' -> (5, 5)."""
    first, _, last = text.partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError as e:
        raise BadInput(f"--bars takes a range like 5-8, not {text!r}") from e
    if a < 1 or b < a:
        raise BadInput(f"--bars {text}: the first bar must be 1 or more and not after the last")
    return a, b


def genre_of(args: argparse.Namespace) -> str:
    """--genre, or the genre recorded in a piece.json next to the file."""
    if args.genre:
        return str(args.genre)
    meta = args.file.with_name("piece.json")
    if meta.exists():
        return str(json.loads(meta.read_text())["genre"])
    if args.command == "accompany":
        return "chorale"  # harmonizing a tune in four parts: the classic exercise
    raise BadInput("say which genre to write in with --genre (no piece.json next to the file)")


def run(args: argparse.Namespace, config: Config) -> int:
    """Rewrite the bars and write the files."""
    bars = parse_bars(args.bars)
    limit = config.bot.max_rewrite_bars
    if bars[1] - bars[0] + 1 > limit:
        raise BadInput(f"--bars {args.bars}: at most {limit} bars can be rewritten at once")
    return asyncio.run(run_task(args, config, Task.INFILL, bars=bars))


async def run_task(
    args: argparse.Namespace,
    config: Config,
    task: Task,
    bars: tuple[int, int] | None = None,
    parts: int | None = None,
) -> int:
    """One rewrite or accompany through the bot's pipeline, files into --out."""
    from bot.pipeline import ComposeRequest, Pipeline
    from model.sampling import Creativity

    data = args.file.read_bytes()
    request = ComposeRequest(
        genre=genre_of(args),
        seconds=1.0,
        sound=args.sound,
        creativity=Creativity(args.creativity),
        seed=args.seed,
        clip=data if task is Task.FILL else None,
        parent_midi=data if task is Task.INFILL else None,
        clip_name=args.file.name,
        task=task,
        bars=bars,
        parts=parts,
    )
    pipeline = await Pipeline.create(config.serving(), checkpoint_path=args.checkpoint)
    try:
        piece = await pipeline.compose(request, show_progress)
    finally:
        await pipeline.close()
    print()
    write_piece_files(piece, args.out)
    return 0
