"""Build the corpus end to end: tasks -> conversion -> split -> tokens -> summary."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from model.parts import PartTokenizer
from model.tokenizer import CadenzaTokenizer
from training.convert import ConvertedPiece
from training.corpus import cap_per_genre, convert_all, midi_dir_tasks, music21_tasks, stable_fraction
from training.corpus_settings import CorpusSettings
from training.token_store import SPLITS, TokenSplit, fingerprint, write_split

log = logging.getLogger(__name__)


def split_of(piece_id: str, settings: CorpusSettings) -> str:
    """train / val / test, fixed by the piece id: stable when pieces are added."""
    f = stable_fraction("split:" + piece_id)
    if f < settings.test_fraction:
        return "test"
    return "val" if f < settings.test_fraction + settings.val_fraction else "train"


def build_corpus(
    settings: CorpusSettings, midi_dir: Path | None = None, use_music21: bool = True
) -> dict[str, Any]:
    """Build (or resume building) the corpus in settings.out_dir; returns the corpus metadata."""
    started = time.monotonic()
    tasks = list(music21_tasks(settings)) if use_music21 else []
    if midi_dir is not None:
        tasks += list(midi_dir_tasks(settings, midi_dir))
    tasks = cap_per_genre(tasks, settings.max_pieces_per_genre, settings.genre_caps)
    results = convert_all(tasks, settings.out_dir, settings.workers)
    failures = Counter(r.error.split(":")[0] for r in results if r.error)
    for r in results:
        if r.error:
            log.info("skipped %s: %s", r.task.piece_id, r.error)
    pieces = [p for r in results for p in r.pieces]
    genres = sorted({p.genre for p in pieces})
    tok = PartTokenizer(genres) if settings.token_format == "parts" else CadenzaTokenizer(genres)
    by_split: dict[str, list[ConvertedPiece]] = defaultdict(list)
    for p in sorted(pieces, key=lambda p: p.piece_id):
        by_split[split_of(p.piece_id, settings)].append(p)
    split_ids = {s: write_split(settings.out_dir, s, by_split[s], tok) for s in SPLITS}
    meta = {
        "genres": genres,
        "tokenizer": tok.to_json(),
        "splits": split_ids,
        "summary": summarise(settings.out_dir, genres),
        "skipped": {"total": sum(failures.values()), "by_reason": dict(failures)},
        "sources": len(results),
        "fingerprint": fingerprint(settings.out_dir),
        "build_seconds": round(time.monotonic() - started, 1),
    }
    (settings.out_dir / "corpus.json").write_text(json.dumps(meta, indent=1))
    return meta


def summarise(out_dir: Path, genres: list[str]) -> list[dict[str, Any]]:
    """Rows of pieces, notes, tokens and minutes per genre and split."""
    rows = []
    for split in SPLITS:
        ts = TokenSplit.open(out_dir, split)
        for gi, genre in enumerate(genres):
            sel = ts.index[ts.index["genre"] == gi]
            rows.append(
                {
                    "genre": genre,
                    "split": split,
                    "pieces": len(sel),
                    "notes": int(sel["notes"].sum()),
                    "tokens": int(sel["length"].sum()),
                    "minutes": round(float(sel["seconds"].sum()) / 60, 1),
                }
            )
    return rows


def format_summary(meta: dict[str, Any]) -> str:
    """The summary as a Markdown table (printed by the command, copied into the README)."""
    lines = ["| genre | split | pieces | notes | tokens | minutes |", "|---|---|---:|---:|---:|---:|"]
    for r in meta["summary"]:
        lines.append(
            f"| {r['genre']} | {r['split']} | {r['pieces']:,} | {r['notes']:,} | {r['tokens']:,} | {r['minutes']:,} |"
        )
    total = {k: sum(r[k] for r in meta["summary"]) for k in ("pieces", "notes", "tokens", "minutes")}
    lines.append(
        f"| **all** | | {total['pieces']:,} | {total['notes']:,} | {total['tokens']:,} | {round(total['minutes'], 1):,} |"
    )
    sk = meta["skipped"]
    lines.append("")
    lines.append(
        f"Skipped sources: {sk['total']} " + ", ".join(f"{k}: {v}" for k, v in sk["by_reason"].items())
    )
    return "\n".join(lines)
