"""The sample-based half of the evaluation: real excerpts to compare with, music metrics, originality figures."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from model.request import GeneratedPiece
from model.tokenizer import CadenzaTokenizer
from training.metrics import Notes, compare_sets, notes_of
from training.originality import FLAG_BARS, CopyMatch, OriginalityIndex
from training.token_store import TokenSplit

if TYPE_CHECKING:
    from training.evaluate import EvalSettings

BAR_BINS = (1.0, 2.0, 4.0, 8.0)  # histogram edges of copied-run lengths, in bars


def real_pieces(test: TokenSplit, tok: CadenzaTokenizer, settings: EvalSettings) -> dict[str, list[Notes]]:
    """Up to `real_per_genre` held-out pieces per genre (a seeded choice), cut to their first `seconds`."""
    rng = np.random.default_rng(settings.seed)
    out: dict[str, list[Notes]] = {}
    for gi, genre in enumerate(tok.genres):
        rows = np.flatnonzero(test.index["genre"] == gi)
        if len(rows) == 0:
            continue
        chosen = np.sort(rng.choice(rows, size=min(len(rows), settings.real_per_genre), replace=False))
        excerpts = [
            notes_of(tok.decode(np.asarray(test.piece(int(i))).tolist())).first_seconds(settings.seconds)
            for i in chosen
        ]
        out[genre] = [n for n in excerpts if len(n) >= 2]
    return out


def music_report(pieces: dict[str, list[GeneratedPiece]], real: dict[str, list[Notes]]) -> dict[str, Any]:
    """Per genre and metric: generated and real means and spreads, and the overlapped area."""
    out: dict[str, Any] = {}
    for genre, generated in pieces.items():
        comparison = compare_sets([notes_of(p.score) for p in generated], real.get(genre, []))
        out[genre] = {name: c.to_json() for name, c in comparison.items()}
    return out


def distribution(values: list[float]) -> dict[str, float | None]:
    """Mean, quartiles, 90th percentile and maximum (null when there is nothing)."""
    if not values:
        return {k: None for k in ("mean", "p25", "median", "p75", "p90", "max")}
    v = np.asarray(values, dtype=np.float64)
    q = np.percentile(v, [25, 50, 75, 90])
    return {
        "mean": _r(v.mean()),
        "p25": _r(q[0]),
        "median": _r(q[1]),
        "p75": _r(q[2]),
        "p90": _r(q[3]),
        "max": _r(v.max()),
    }


def bar_histogram(bars: list[float]) -> dict[str, int]:
    """How many pieces' longest copied run falls in each band of bars."""
    edges = (0.0, *BAR_BINS, math.inf)
    labels = (
        [f"<{BAR_BINS[0]:g}"]
        + [f"{a:g}-{b:g}" for a, b in itertools.pairwise(BAR_BINS)]
        + [f">={BAR_BINS[-1]:g}"]
    )
    counts = (
        np.histogram(np.asarray(bars, dtype=np.float64), bins=np.asarray(edges))[0]
        if bars
        else np.zeros(len(labels), int)
    )
    return {label: int(c) for label, c in zip(labels, counts, strict=True)}


def originality_summary(
    matches: dict[str, list[CopyMatch]], index: OriginalityIndex, seeds: dict[str, list[int]] | None = None
) -> dict[str, Any]:
    """Distribution of the longest copied run (notes and bars), per genre, and every piece copying >= 8 bars."""
    everything = [m for ms in matches.values() for m in ms]
    flagged = []
    for genre, ms in matches.items():
        for i, m in enumerate(ms):
            if m.bars >= FLAG_BARS:
                seed = seeds[genre][i] if seeds else None
                flagged.append(
                    {
                        "genre": genre,
                        "seed": seed,
                        "index": i,
                        "notes": m.notes,
                        "bars": m.bars,
                        "train_piece": m.train_piece,
                    }
                )
    return {
        "pieces": len(everything),
        "floor_notes": index.floor_notes,
        "notes": distribution([m.notes for m in everything]),
        "bars": distribution([m.bars for m in everything]),
        "bars_histogram": bar_histogram([m.bars for m in everything]),
        "per_genre": {
            g: {
                "median_notes": _r(float(np.median([m.notes for m in ms]))),
                "max_notes": max(m.notes for m in ms),
                "max_bars": max(m.bars for m in ms),
            }
            for g, ms in matches.items()
            if ms
        },
        "flagged": flagged,
    }


def _r(x: float) -> float:
    return round(float(x), 2)
