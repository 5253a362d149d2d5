"""The sample-based half of the evaluation: real excerpts to compare with, music metrics, originality figures."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from model.notes import Notes, notes_of
from model.originality import FLAG_BARS, CopyMatch, OriginalityIndex
from model.request import GeneratedPiece
from model.tokenizer import CadenzaTokenizer
from training.metrics import compare_sets
from training.token_store import TokenSplit

if TYPE_CHECKING:
    from training.evaluate_settings import EvalSettings

BAR_BINS = (1.0, 2.0, 4.0, 8.0)  # histogram edges of copied-run lengths, in bars


class Excerpt(NamedTuple):
    """A stretch of a held-out piece, named `<piece id> @ <second>s`."""

    label: str
    notes: Notes


def real_pieces(
    test: TokenSplit, tok: CadenzaTokenizer, ids: list[str], settings: EvalSettings
) -> dict[str, list[Excerpt]]:
    """Up to `real_per_genre` excerpts of `seconds` from each genre's held-out pieces (`ids` name the pieces).

    Pieces are cut into back-to-back excerpts starting on bar lines, taken round-robin (every piece's
    first excerpt, then every second one...) in a seeded order, so a genre with few test pieces still
    gets a fair sample and no single long piece dominates.
    """
    rng = np.random.default_rng(settings.seed)
    out: dict[str, list[Excerpt]] = {}
    for gi, genre in enumerate(tok.genres):
        rows = rng.permutation(np.flatnonzero(test.index["genre"] == gi))
        if len(rows) == 0:
            continue
        per_piece = [_excerpts(test, tok, int(i), ids[int(i)], settings.seconds) for i in rows]
        rounds = itertools.zip_longest(*per_piece)
        excerpts = [e for r in rounds for e in r if e is not None and len(e.notes) >= 2]
        out[genre] = excerpts[: settings.real_per_genre]
    return out


def _excerpts(
    split: TokenSplit, tok: CadenzaTokenizer, i: int, piece_id: str, seconds: float
) -> list[Excerpt]:
    whole = notes_of(tok.decode(np.asarray(split.piece(i)).tolist()))
    return [Excerpt(f"{piece_id} @ {k * seconds:g}s", n) for k, n in enumerate(whole.bar_excerpts(seconds))]


def music_report(pieces: dict[str, list[GeneratedPiece]], real: dict[str, list[Excerpt]]) -> dict[str, Any]:
    """Per genre and metric: generated and real means and spreads, and the overlapped area."""
    out: dict[str, Any] = {}
    for genre, generated in pieces.items():
        comparison = compare_sets(
            [notes_of(p.score) for p in generated], [e.notes for e in real.get(genre, [])]
        )
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
    matches: dict[str, list[CopyMatch]], index: OriginalityIndex, labels: dict[str, list[str]]
) -> dict[str, Any]:
    """Distribution of the longest copied run (notes and bars), per genre, and every piece copying >= 8 bars."""
    everything = [m for ms in matches.values() for m in ms]
    flagged = [
        {"genre": g, "piece": labels[g][i], "notes": m.notes, "bars": m.bars, "train_piece": m.train_piece}
        for g, ms in matches.items()
        for i, m in enumerate(ms)
        if m.bars >= FLAG_BARS
    ]
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
