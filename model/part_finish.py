"""Composer v2: a finished row's tokens put together into the piece, given material spliced in verbatim."""

from __future__ import annotations

import numpy as np
import symusic

from cadenza.theory import KEY_NAMES
from model.batcher import Row
from model.finish import _best_shift, _estimate
from model.part_plan import PartPlan
from model.parts import BarTokens, PartTokenizer
from model.request import GeneratedPiece, Task


def finish_part_piece(row: Row, tok: PartTokenizer, model_name: str, queue_s: float) -> GeneratedPiece:
    """Decode a v2 row: continue keeps its primer, infill keeps the bars around the gap, fill the given parts."""
    plan = row.plan
    assert isinstance(plan, PartPlan)
    written = np.array(row.tokens[len(plan.prompt) :], dtype=np.int64)
    if plan.task is Task.CONTINUE and not plan.primer_len:
        shift = _best_shift(tok, written, plan.key_index)
        if shift:
            written = tok.transpose(written, shift)
    new = tok.parse_bars(written)
    bars, first_new = _assemble(plan, tok, new)
    score = tok.bars_to_score(bars)
    score.tempos = [symusic.Tempo(0, plan.tempo)]
    key = _estimate(
        tok, np.array([t for b in bars for body in b.parts.values() for t in body], dtype=np.int64)
    )
    primer_end_s = 0.0
    if plan.task is Task.CONTINUE and first_new > 1:
        primer_end_s = _bar_start_s(score, first_new)
    return GeneratedPiece(
        request=row.request,
        tokens=list(row.tokens),
        score=score,
        key=key.name if key is not None else KEY_NAMES[plan.key_index],
        key_requested=KEY_NAMES[plan.key_index],
        tempo=plan.tempo,
        time_signature=plan.time_signature,
        bars=len(bars),
        primer_tokens=plan.primer_len,
        primer_end_s=primer_end_s,
        model_name=model_name,
        queue_s=queue_s,
        new_bars=(first_new, first_new + len(new) - 1) if plan.task is not Task.FILL else None,
    )


def _assemble(plan: PartPlan, tok: PartTokenizer, new: list[BarTokens]) -> tuple[list[BarTokens], int]:
    """All bars of the piece and the 1-based index of the first bar the model wrote."""
    if plan.task is Task.INFILL:
        return [*plan.before, *new, *plan.after], len(plan.before) + 1
    if plan.task is Task.FILL:
        return new, 1
    primer = tok.parse_bars(plan.prompt[plan.header_len :])
    return [*primer, *new], len(primer) + 1


def _bar_start_s(score: symusic.Score, bar: int) -> float:
    """Seconds at which 1-based `bar` starts (one metre and one tempo for the whole piece)."""
    ts = score.time_signatures[0] if len(score.time_signatures) else None
    num, den = (ts.numerator, ts.denominator) if ts is not None else (4, 4)
    qpm = float(score.tempos[0].qpm) if len(score.tempos) else 120.0
    return (bar - 1) * num * 4 / den * 60.0 / qpm
