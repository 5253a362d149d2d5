"""`cadenza transcribe FILE --out notes.mid`: an audio clip (or MIDI file) through the upload reader."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from cadenza.errors import BadInput
from launch.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza transcribe`."""
    parser.add_argument(
        "file", type=Path, help="an audio clip (MP3, WAV, OGG/Opus, FLAC, M4A/AAC, WebM) or MIDI file"
    )
    parser.add_argument("--out", type=Path, required=True, help="where to write the primer score (.mid)")
    parser.add_argument("--json", action="store_true", help="print the findings as one JSON object")


def run(args: argparse.Namespace, config: Config) -> int:
    """Read FILE with the same limits as a Discord upload, write the score, print what was heard."""
    from ingest import ingest_bytes

    path: Path = args.file
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    size = path.stat().st_size
    if size > config.ingest.max_upload_bytes:
        raise BadInput(
            f"{path} is {size / 1e6:.1f} MB; the upload limit is {config.ingest.max_upload_bytes / 1e6:.1f} MB"
        )
    started = time.perf_counter()
    primer = ingest_bytes(path.read_bytes(), config.ingest)
    elapsed = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    primer.score.write(str(args.out))
    facts = {
        "file": str(path),
        "kind": primer.kind.name,
        "tempo_bpm": round(primer.tempo_bpm, 1),
        "key": primer.key.name,
        "beats_per_bar": primer.beats_per_bar,
        "confidence": round(primer.confidence, 2),
        "duration_s": round(primer.duration_s, 2),
        "offset_s": round(primer.offset_s, 3),
        "notes": sum(len(i.notes) for i in primer.score.instruments if i.name != "Chords"),
        "chords": list(primer.chords),
        "remarks": list(primer.notes),
        "seconds": round(elapsed, 2),
        "out": str(args.out),
    }
    if args.json:
        print(json.dumps(facts))
    else:
        _print_facts(facts, sys.stdout)
    return 0


def _print_facts(facts: dict[str, object], out: object) -> None:
    chords = facts["chords"]
    lines = [
        f"{facts['file']}: {facts['kind']}, {facts['duration_s']} s, read in {facts['seconds']} s",
        f"  tempo {facts['tempo_bpm']} bpm, {facts['beats_per_bar']} beats per bar, key {facts['key']}",
        f"  {facts['notes']} melody notes, confidence {facts['confidence']}",
    ]
    if isinstance(chords, list) and chords:
        lines.append(f"  chords per bar: {' '.join(chords)}")
    if isinstance(facts["remarks"], list) and facts["remarks"]:
        lines.append(f"  note: {'; '.join(facts['remarks'])}")
    lines.append(f"  wrote {facts['out']}")
    print("\n".join(lines), file=out)  # type: ignore[call-overload]
