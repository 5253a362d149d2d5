"""From a finished row's tokens to a GeneratedPiece: decode, fix tempo, land in the requested key."""

from __future__ import annotations

import numpy as np
import symusic

from cadenza.theory import KEY_NAMES, Key, estimate_key, pitch_class_histogram
from model.batcher import Row
from model.request import GeneratedPiece
from model.tokenizer import CadenzaTokenizer

PITCH_LOW, PITCH_HIGH = 21, 108


def finish_piece(row: Row, tok: CadenzaTokenizer, model_name: str, queue_s: float) -> GeneratedPiece:
    """Decode the row; transpose new material onto the requested tonic if the model drifted."""
    plan = row.plan
    tokens = list(row.tokens)
    if tokens[-1] != tok.eos_id:
        tokens.append(tok.eos_id)  # a row stopped by the runaway guard still ends cleanly
    primer_end = 3 + plan.primer_len
    new = np.array(tokens[primer_end:], dtype=np.int64)
    requested = plan.key_index
    if (
        not plan.primer_len
    ):  # a continuation keeps the user's key; new music is moved onto the requested scale
        shift = _best_shift(tok, new, requested)
        if shift:
            new = tok.transpose(new, shift)
            tokens = tokens[:primer_end] + new.tolist()
    key = _estimate(tok, new)
    score = tok.decode(tokens)
    score.tempos = [symusic.Tempo(0, plan.tempo)]
    primer_end_s = 0.0
    if plan.primer_len:
        primer_score = tok.decode(tokens[:primer_end])
        primer_score.tempos = [symusic.Tempo(0, plan.tempo)]
        primer_end_s = float(primer_score.to("second").end())
    return GeneratedPiece(
        request=row.request,
        tokens=tokens,
        score=score,
        key=key.name if key is not None else KEY_NAMES[requested],
        key_requested=KEY_NAMES[requested],
        tempo=plan.tempo,
        time_signature=plan.time_signature,
        bars=plan.target_bars,
        primer_tokens=plan.primer_len,
        primer_end_s=primer_end_s,
        model_name=model_name,
        queue_s=queue_s,
    )


def _estimate(tok: CadenzaTokenizer, tokens: np.ndarray) -> Key | None:
    """Key of the notes in `tokens` (durations ignored: counts are enough for a whole piece)."""
    pitches = tok.pitch_of[tokens]
    pitches = pitches[pitches >= 0]
    if len(pitches) < 4:
        return None
    return estimate_key(pitch_class_histogram(pitches, np.ones(len(pitches))))


def _best_shift(tok: CadenzaTokenizer, tokens: np.ndarray, key_index: int) -> int:
    """The transposition (-5..6) that puts most notes on the requested key's scale; 0 on ties."""
    from model.batcher import MAJOR_STEPS, MINOR_STEPS

    pitches = tok.pitch_of[tokens]
    pitches = pitches[pitches >= 0].astype(np.int64)
    if len(pitches) == 0:
        return 0
    tonic = key_index % 12
    scale = np.zeros(12, dtype=bool)
    scale[[(tonic + s) % 12 for s in (MINOR_STEPS if key_index >= 12 else MAJOR_STEPS)]] = True
    best, best_hits = 0, int(scale[pitches % 12].sum())
    for shift in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6):
        hits = int(scale[(pitches + shift) % 12].sum())
        if hits > best_hits and _fits(tok, tokens, shift):
            best, best_hits = shift, hits
    return best


def _fits(tok: CadenzaTokenizer, tokens: np.ndarray, shift: int) -> bool:
    pitches = tok.pitch_of[tokens]
    pitches = pitches[pitches >= 0]
    return bool(
        len(pitches) == 0 or (pitches.min() + shift >= PITCH_LOW and pitches.max() + shift <= PITCH_HIGH)
    )
