"""Composer v2's tasks measured on held-out music: does infill use what comes after the gap?

For held-out pieces, a gap of 2-4 bars is chosen (seeded, never at either end); the model's bits per
note of the real gap are scored twice, on the same bars before it: once as an infill prompt that also
shows the bars after the gap, once as a plain continuation of the bars before it. A model that uses
the future needs fewer bits in the first case.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model.parts import BarTokens, PartTokenizer
from training.token_store import TokenSplit

FUTURE_SHARE = 0.3  # as in training: at most this share of the window shows the bars after the gap


def infill_bits(
    model: nn.Module, tok: PartTokenizer, test: TokenSplit, pieces_per_genre: int, seed: int
) -> dict[str, object]:
    """Bits per note of real gaps given both sides and given only the bars before, overall and per genre."""
    rng = np.random.default_rng(seed)
    context = int(getattr(model, "context", 512))
    totals: dict[str, list[float]] = {"both": [0.0, 0.0], "left": [0.0, 0.0]}
    per_genre: dict[str, dict[str, float]] = {}
    for gi, genre in enumerate(tok.genres):
        g: dict[str, list[float]] = {"both": [0.0, 0.0], "left": [0.0, 0.0]}
        for i in np.flatnonzero(test.index["genre"] == gi)[:pieces_per_genre]:
            row = test.index[int(i)]
            music = np.asarray(test.piece(int(i)), dtype=np.int64)
            bars = tok.parse_bars(music[1:])
            if len(bars) < 6:
                continue
            span = int(rng.integers(2, 5))
            a = int(rng.integers(1, len(bars) - span))
            with_future, past_only, gap_start = _prompts(
                tok, bars, a, a + span, genre, int(row["key"]), int(music[0]), context
            )
            if len(with_future) > context or gap_start[1] <= len(
                tok.header(genre, 0, int(music[0]), "continue")
            ):
                continue  # a gap longer than the window, or no bars before it inside the window
            for name, (seq, start) in {
                "both": (with_future, gap_start[0]),
                "left": (past_only, gap_start[1]),
            }.items():
                nats, notes = _gap_nats(model, tok, seq, start)
                g[name][0] += nats
                g[name][1] += notes
        if g["both"][1]:
            per_genre[genre] = {k: round(v[0] / math.log(2) / v[1], 4) for k, v in g.items()}
            for k in totals:
                totals[k][0] += g[k][0]
                totals[k][1] += g[k][1]
    both = totals["both"][0] / math.log(2) / max(totals["both"][1], 1)
    left = totals["left"][0] / math.log(2) / max(totals["left"][1], 1)
    return {
        "bits_per_note_both_sides": round(both, 4),
        "bits_per_note_left_only": round(left, 4),
        "gain": round(1 - both / left, 4) if left else None,
        "notes": int(totals["both"][1]),
        "per_genre": {
            name: {"bits_per_note_both_sides": v["both"], "bits_per_note_left_only": v["left"]}
            for name, v in per_genre.items()
        },
    }


def _prompts(
    tok: PartTokenizer,
    bars: list[BarTokens],
    a: int,
    b: int,
    genre: str,
    key: int,
    tempo: int,
    context: int,
) -> tuple[list[int], list[int], tuple[int, int]]:
    """(infill sequence, continuation sequence, where the gap starts in each); gap = bars[a:b]."""
    n = len(bars)
    gap = tok.bars_tokens(bars[a:b], n, a)
    room = context - 8 - len(gap)
    future = tok.fit_bars(bars, b, n, int(room * FUTURE_SHARE))
    past = tok.fit_bars(bars, 0, a, room - len(future), from_end=True)
    head_i = tok.header(genre, key, tempo, "infill")
    infill = [*head_i, tok.fill_after_id, *future, tok.fill_before_id, *past]
    head_c = tok.header(genre, key, tempo, "continue")
    cont = [*head_c, *past]
    return infill + gap, cont + gap, (len(infill), len(cont))


@torch.no_grad()
def _gap_nats(model: nn.Module, tok: PartTokenizer, seq: list[int], start: int) -> tuple[float, int]:
    """Summed NLL (nats) of seq[start:] given what precedes it, and how many of those tokens are notes."""
    model.eval()
    x = torch.tensor([seq[:-1]])
    y = torch.tensor(seq[1:])
    logits = model(x)[0].float()
    nats = F.cross_entropy(logits, y, reduction="none")[start - 1 :]
    notes = int((tok.pitch_of[np.array(seq[start:])] >= 0).sum())
    return float(nats.sum()), notes
