"""From a finished row's tokens to a GeneratedPiece: decode, fix tempo, land in the requested key."""

from __future__ import annotations

import numpy as np
import symusic

from cadenza.theory import KEY_NAMES, estimate_key, pitch_class_histogram
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
    key = _estimate(tok, new)
    if key is not None and key.index != requested and not plan.primer_len:
        shift = _tonic_shift(key.tonic, key.mode, requested)
        if _fits(tok, new, shift):
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


def _estimate(tok: CadenzaTokenizer, tokens: np.ndarray):  # type: ignore[no-untyped-def]
    """Key of the notes in `tokens` (durations ignored: counts are enough for a whole piece)."""
    pitches = tok.pitch_of[tokens]
    pitches = pitches[pitches >= 0]
    if len(pitches) < 4:
        return None
    return estimate_key(pitch_class_histogram(pitches, np.ones(len(pitches))))


def _tonic_shift(have: int, have_mode: str, want_index: int) -> int:
    """Smallest transposition (-5..6 semitones) that puts the scale of key `have` on the requested key's scale."""
    want, want_minor = want_index % 12, want_index >= 12
    if want_minor and have_mode == "major":
        have = (have + 9) % 12  # compare with the relative minor: same notes
    elif not want_minor and have_mode == "minor":
        have = (have + 3) % 12
    d = (want - have) % 12
    return d - 12 if d > 6 else d


def _fits(tok: CadenzaTokenizer, tokens: np.ndarray, shift: int) -> bool:
    pitches = tok.pitch_of[tokens]
    pitches = pitches[pitches >= 0]
    return bool(
        len(pitches) == 0 or (pitches.min() + shift >= PITCH_LOW and pitches.max() + shift <= PITCH_HIGH)
    )
