"""`cadenza corpus`: build the genre-labelled training corpus."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from launch.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza corpus`."""
    parser.add_argument(
        "--midi-dir", type=Path, default=None, help="add a folder of MIDI files, one sub-folder per genre"
    )
    parser.add_argument("--no-music21", action="store_true", help="leave out music21's bundled scores")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: corpus.out_dir)")
    parser.add_argument(
        "--max-pieces", type=int, default=None, help="cap per genre (default: corpus.max_pieces_per_genre)"
    )
    parser.add_argument("--workers", type=int, default=None, help="conversion processes (default: all cores)")


def run(args: argparse.Namespace, config: Config) -> int:
    """Build the corpus and print its summary table."""
    from training.build import build_corpus, format_summary

    changes: dict[str, object] = {}
    if args.out is not None:
        changes["out_dir"] = args.out
    if args.max_pieces is not None:
        changes["max_pieces_per_genre"] = args.max_pieces
    if args.workers is not None:
        changes["workers"] = args.workers
    settings = dataclasses.replace(config.corpus, **changes)  # type: ignore[arg-type]
    if args.midi_dir is not None and not args.midi_dir.is_dir():
        print(f"--midi-dir {args.midi_dir} is not a folder")
        return 2
    meta = build_corpus(settings, midi_dir=args.midi_dir, use_music21=not args.no_music21)
    print(format_summary(meta))
    print(
        f"\nBuilt in {meta['build_seconds']} s; fingerprint {meta['fingerprint']}; written to {settings.out_dir}"
    )
    return 0
