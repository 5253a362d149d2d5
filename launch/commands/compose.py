"""`cadenza compose`: compose a piece locally through the same pipeline the bot uses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.pipeline import ComposedPiece, PipelineProgress
from launch.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza compose` (the /compose options, plus where to write)."""
    parser.add_argument(
        "--genre", required=True, help="a genre of the loaded model (see `cadenza compose --genre x`)"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the new music in seconds")
    parser.add_argument("--seed", type=int, default=None, help="same seed and arguments = the same piece")
    parser.add_argument("--key", default=None, help="e.g. 'D minor' (default: one the genre often uses)")
    parser.add_argument("--tempo", type=float, default=None, help="quarter notes per minute")
    parser.add_argument("--time-signature", default=None, help="e.g. 3/4")
    parser.add_argument("--sound", default=None, help="a sound preset (default: the genre's)")
    parser.add_argument("--creativity", default="balanced", choices=["safe", "balanced", "adventurous"])
    parser.add_argument(
        "--continue", dest="clip", type=Path, default=None, help="an audio clip or MIDI file to continue"
    )
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="model checkpoint folder (default: the shipped one)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for piece.mid, piece.mp3, piece.png, piece.json"
    )


def run(args: argparse.Namespace, config: Config) -> int:
    """Compose and write the four files; prints where they went."""
    return asyncio.run(_compose(args, config))


async def _compose(args: argparse.Namespace, config: Config) -> int:
    from bot.pipeline import ComposeRequest, Pipeline
    from model.sampling import Creativity

    pipeline = await Pipeline.create(config.serving(), checkpoint_path=args.checkpoint)
    try:
        request = ComposeRequest(
            genre=args.genre,
            seconds=args.seconds,
            key=args.key,
            tempo=args.tempo,
            time_signature=args.time_signature,
            sound=args.sound,
            creativity=Creativity(args.creativity),
            seed=args.seed,
            clip=args.clip.read_bytes() if args.clip else None,
            clip_name=args.clip.name if args.clip else None,
        )

        piece = await pipeline.compose(request, show_progress)
    finally:
        await pipeline.close()
    print(file=sys.stderr)
    write_piece_files(piece, args.out)
    return 0


def show_progress(p: PipelineProgress) -> None:
    """One updating status line on stderr."""
    print(f"\r{p.stage.value:<18} {p.fraction:4.0%}", end="", file=sys.stderr, flush=True)


def write_piece_files(piece: ComposedPiece, out: Path) -> None:
    """piece.mid, the audio, the piano roll and piece.json (settings, timings, remarks) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "piece.mid").write_bytes(piece.midi)
    (out / f"piece.{piece.audio_format}").write_bytes(piece.audio)
    (out / "piece.png").write_bytes(piece.png)
    (out / "piece.json").write_text(
        json.dumps({**piece.meta, "remarks": list(piece.facts.remarks)}, indent=1)
    )
    sheet = piece.rendered.sheet
    if sheet is not None:
        # score.png and piece.musicxml; piece.mid stays the model's own parts in their order (the sheet's
        # MIDI reorders parts by pitch, so `cadenza rewrite` of it would find the parts renumbered)
        (out / "score.png").write_bytes(sheet.png)
        (out / "piece.musicxml").write_bytes(sheet.musicxml)
    m = piece.meta
    print(
        f"{m['genre']} in {m['key']}, {m['tempo']:.0f} bpm, {m['time_signature']}, {m['duration_s']:.1f} s, "
        f"seed {m['seed']}: composed in {m['timings_s']['until_composed']:.2f} s, total {m['timings_s']['total']:.2f} s"
    )
    for remark in piece.facts.remarks:
        print(remark)
    extra = ", score.png, piece.musicxml" if sheet is not None else ""
    print(f"wrote {out}/piece.mid, piece.{piece.audio_format}, piece.png, piece.json{extra}")
