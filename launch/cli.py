"""The `cadenza` command: one entry point, a subcommand per job.

Each subcommand lives in its own module under `launch/commands/` with `add_arguments(parser)` and
`run(args, config) -> int`; this file only lists them, loads config and sets up logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

from cadenza.errors import CadenzaError
from cadenza.logs import setup_logging
from launch.config import SHIPPED_CONFIG, load_config

log = logging.getLogger(__name__)

# name -> (module under launch.commands, one-line help). Modules are imported only when used.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "corpus": ("corpus", "build the genre-labelled training corpus (music21 scores, or --midi-dir)"),
    "train": ("train", "train the transformer (or the LSTM baseline) on the corpus; resumable"),
    "evaluate": (
        "evaluate",
        "test-set bits per note, music metrics and originality of checkpoints (--json for scripts)",
    ),
    "transcribe": (
        "transcribe",
        "transcribe an audio clip (or read a MIDI file) into a primer score: --out notes.mid",
    ),
    "compose": ("compose", "compose a piece locally: MIDI, MP3, piano roll and settings to --out"),
    "rewrite": ("rewrite", "write bars A-B of a MIDI file anew (--bars 5-8), the rest kept note for note"),
    "accompany": ("accompany", "write parts under a melody (audio clip or one-line MIDI), the melody kept"),
    "bot": ("bot", "run the Discord bot (needs DISCORD_TOKEN)"),
    "worker": ("worker", "run a composer worker for the Redis queue (one per GPU; needs CADENZA_REDIS_URL)"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; each subcommand module adds its own options.

    Given the command line, only the chosen subcommand's module is imported (`cadenza train` on a GPU
    machine must not need the bot's or the renderer's libraries); without one, every module is.
    """
    chosen = None if argv is None else next((a for a in argv if a in SUBCOMMANDS), "")
    parser = argparse.ArgumentParser(prog="cadenza", description="Cadenza composes music with its own model.")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"config file (default: $CADENZA_CONFIG, else ./config.toml, else the shipped defaults {SHIPPED_CONFIG})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file")
        if chosen is None or chosen == name:
            _load(module).add_arguments(p)
    return parser


def _load(module: str) -> Any:
    return importlib.import_module(f"launch.commands.{module}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load config, run the subcommand; CadenzaErrors become one clear line."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        config = load_config(args.config)
        setup_logging(config.app.log_level, config.app.json_logs)
        log.info("config: %s", config.source)
        return int(_load(args._module).run(args, config) or 0)
    except CadenzaError as e:
        print(f"cadenza {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cadenza {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
