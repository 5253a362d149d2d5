"""`cadenza accompany`: parts written under a melody (a recording or a one-line MIDI file), the melody kept."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from launch.commands.rewrite import add_task_options, run_task
from launch.config import Config
from model.request import Task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza accompany`."""
    parser.add_argument("file", type=Path, help="a melody: an audio clip or a MIDI file with one line")
    parser.add_argument(
        "--parts", type=int, default=None, help="parts in the result, melody included (default: the genre's)"
    )
    add_task_options(parser)


def run(args: argparse.Namespace, config: Config) -> int:
    """Accompany the melody and write the files."""
    return asyncio.run(run_task(args, config, Task.FILL, parts=args.parts))
