"""`cadenza corpus`: plan sources, convert them in parallel (cached by content hash), then write tokens.

Layout of `out_dir`:
  cache/<hash>.json   one conversion result (pieces or the reason it failed); makes builds resumable
  midi/<hash>_<n>.mid normalised single-stream MIDI of each piece
  tokens/<split>.bin  uint16 token ids of all pieces of a split, back to back (memory-mapped by training)
  tokens/<split>.idx.npy  one row per piece: offset, length, genre, key, notes, seconds
  corpus.json         genres, tokenizer, piece ids per split, the summary table and a fingerprint
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from training.convert import (
    MIDI_SUFFIXES,
    MUSIC21_SUFFIXES,
    ConversionResult,
    ConvertedPiece,
    SourceTask,
    convert,
)
from training.corpus_settings import CorpusSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedSource:
    """A task and where its cached result lives."""

    task: SourceTask
    cache_file: Path


def music21_tasks(settings: CorpusSettings) -> Iterator[SourceTask]:
    """Tasks for the music21 collections named in settings; multi-tune ABC files are cut into tunes."""
    from music21 import corpus as m21corpus

    for genre, collections in settings.genres.items():
        for collection in collections:
            for path in sorted(str(p) for p in m21corpus.getComposer(collection)):
                if Path(path).suffix.lower() not in MUSIC21_SUFFIXES:
                    continue  # e.g. .rntxt files are harmonic analyses, not music
                yield from _file_tasks(settings, genre, f"{collection}/{Path(path).name}", path)


def midi_dir_tasks(settings: CorpusSettings, midi_dir: Path) -> Iterator[SourceTask]:
    """Tasks for an operator's folder of MIDI files, one sub-folder per genre."""
    for genre_dir in sorted(p for p in midi_dir.iterdir() if p.is_dir()):
        for path in sorted(genre_dir.rglob("*")):
            if path.suffix.lower() in MIDI_SUFFIXES and path.is_file():
                rel = path.relative_to(midi_dir).as_posix()
                yield _task(settings, genre_dir.name, f"mididir/{rel}", str(path))


def _file_tasks(settings: CorpusSettings, genre: str, piece_id: str, path: str) -> Iterator[SourceTask]:
    if not path.endswith(".abc"):
        yield _task(settings, genre, piece_id, path)
        return
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    header, _, body = text.partition("\nX:")
    if not body:
        yield _task(settings, genre, piece_id, path)
        return
    header = "" if header.lstrip().startswith("X:") else header
    seen: set[str] = set()
    for i, tune in enumerate(("X:" + body).split("\nX:")):
        tune = tune if tune.startswith("X:") else "X:" + tune
        number = tune[2:].split("\n", 1)[0].strip()
        tune_id = f"{piece_id}#{number}" if number not in seen else f"{piece_id}#{number}.{i}"
        seen.add(number)
        yield _task(settings, genre, tune_id, path, abc_text=header + "\n" + tune)


def _task(
    settings: CorpusSettings, genre: str, piece_id: str, path: str, abc_text: str | None = None
) -> SourceTask:
    return SourceTask(
        piece_id=piece_id,
        genre=genre,
        path=path,
        abc_text=abc_text,
        default_tempo=settings.default_tempos.get(genre, 100),
        timeout_s=settings.parse_timeout_s,
        max_minutes=settings.max_piece_minutes,
    )


def stable_fraction(piece_id: str) -> float:
    """A number in [0, 1) fixed by the piece id alone: splits and caps never move when pieces are added."""
    return int(hashlib.sha1(piece_id.encode()).hexdigest()[:12], 16) / 16**12


def cap_per_genre(
    tasks: list[SourceTask], cap: int, overrides: dict[str, int] | None = None
) -> list[SourceTask]:
    """At most `cap` tasks per genre (or its override; 0 = all), chosen by a stable hash so the choice is reproducible."""
    by_genre: dict[str, list[SourceTask]] = {}
    for t in tasks:
        by_genre.setdefault(t.genre, []).append(t)
    chosen: list[SourceTask] = []
    for genre, group in by_genre.items():
        limit = (overrides or {}).get(genre, cap) or len(group)
        chosen += sorted(group, key=lambda t: stable_fraction(t.piece_id))[:limit]
    return chosen


def convert_all(tasks: list[SourceTask], out_dir: Path, workers: int) -> list[ConversionResult]:
    """Convert every task not yet cached, in parallel, with a progress bar; return all results."""
    (out_dir / "cache").mkdir(parents=True, exist_ok=True)
    (out_dir / "midi").mkdir(parents=True, exist_ok=True)
    planned = [PlannedSource(t, out_dir / "cache" / f"{t.cache_key()}.json") for t in tasks]
    todo = [p for p in planned if not p.cache_file.exists()]
    log.info("%d sources, %d cached, %d to convert", len(planned), len(planned) - len(todo), len(todo))
    if todo:
        ctx = mp.get_context("spawn")  # fresh interpreters: music21 and torch do not like fork
        with ctx.Pool(workers or os.cpu_count() or 1, maxtasksperchild=200) as pool:
            results = pool.imap_unordered(
                _convert_indexed, list(enumerate(p.task for p in todo)), chunksize=2
            )
            for i, result in tqdm(results, total=len(todo), desc="converting", unit="src", smoothing=0.05):
                _store(result, todo[i].cache_file, out_dir)
    return [_load(p, out_dir) for p in planned]


def _convert_indexed(item: tuple[int, SourceTask]) -> tuple[int, ConversionResult]:
    return item[0], convert(item[1])


def _store(result: ConversionResult, cache_file: Path, out_dir: Path) -> None:
    stem = cache_file.stem
    pieces = []
    for i, piece in enumerate(result.pieces):
        midi_path = out_dir / "midi" / f"{stem}_{i}.mid"
        midi_path.write_bytes(piece.midi)
        pieces.append({**{k: v for k, v in vars(piece).items() if k != "midi"}, "midi_file": midi_path.name})
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "piece_id": result.task.piece_id,
                "error": result.error,
                "seconds": result.seconds_taken,
                "pieces": pieces,
            }
        )
    )
    tmp.replace(cache_file)  # atomic: an interrupted build never leaves a half-written cache entry


def _load(planned: PlannedSource, out_dir: Path) -> ConversionResult:
    data = json.loads(planned.cache_file.read_text())
    pieces = [
        ConvertedPiece(
            piece_id=p["piece_id"],
            genre=p["genre"],
            midi=(out_dir / "midi" / p["midi_file"]).read_bytes(),
            key_index=p["key_index"],
            notes=p["notes"],
            seconds=p["seconds"],
        )
        for p in data["pieces"]
    ]
    return ConversionResult(planned.task, pieces, data["error"])
