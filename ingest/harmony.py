"""Harmony of a clip: one triad per bar by template matching, and the key by key profiles.

Chroma alone (as in the seed tutorial) is noisy on a bare melody; each bar's chroma is therefore
blended with the bar's transcribed notes (duration-weighted pitch classes) before the 24 major and
minor triad templates are matched.
"""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np

from cadenza.theory import PITCH_NAMES, Key, estimate_key, pitch_class_histogram
from ingest.melody import ANALYSIS_SR, HOP, NoteEvent

# Row r (0-11) is the major triad on r, row 12 + r the minor triad on r.
TEMPLATES = np.array(
    [np.roll([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], r) for r in range(12)]
    + [np.roll([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], r) for r in range(12)],
    dtype=np.float64,
)
NOTE_WEIGHT = 0.6  # share of the transcribed notes (vs. chroma) in each bar's pitch-class profile


def chroma(y: np.ndarray) -> np.ndarray:
    """(12, T) chroma of mono audio at ANALYSIS_SR, frames of HOP samples."""
    return librosa.feature.chroma_stft(y=y, sr=ANALYSIS_SR, hop_length=HOP, n_fft=2048)


def bar_chords(
    notes: Sequence[NoteEvent], chroma_frames: np.ndarray, downbeat_s: float, bar_s: float, end_s: float
) -> list[int]:
    """Template index (0-23) of the best triad for each bar from `downbeat_s` to `end_s`."""
    frame_s = HOP / ANALYSIS_SR
    n_bars = max(1, int(np.ceil((end_s - downbeat_s) / bar_s)))
    chords: list[int] = []
    for b in range(n_bars):
        lo, hi = downbeat_s + b * bar_s, downbeat_s + (b + 1) * bar_s
        c = chroma_frames[:, max(0, int(lo / frame_s)) : max(1, int(hi / frame_s))]
        profile = (1 - NOTE_WEIGHT) * _unit(c.sum(axis=1)) + NOTE_WEIGHT * _unit(_bar_notes(notes, lo, hi))
        scores = TEMPLATES @ profile / np.linalg.norm(TEMPLATES, axis=1)
        chords.append(int(np.argmax(scores)) if profile.any() else (chords[-1] if chords else 0))
    return chords


def _bar_notes(notes: Sequence[NoteEvent], lo: float, hi: float) -> np.ndarray:
    inside = [(n.pitch, min(n.end, hi) - max(n.start, lo)) for n in notes if n.end > lo and n.start < hi]
    if not inside:
        return np.zeros(12)
    pitches, durs = zip(*inside, strict=True)
    return pitch_class_histogram(np.array(pitches), np.array(durs))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.nan_to_num(np.asarray(v, dtype=np.float64))
    total = v.sum()
    return v / total if total > 0 else v


def chord_name(index: int) -> str:
    """'G' for G major, 'Em' for E minor."""
    return PITCH_NAMES[index % 12] + ("m" if index >= 12 else "")


def chord_pitches(index: int) -> tuple[int, int, int]:
    """Close-position triad with its root in the octave below middle C."""
    root = 48 + index % 12
    return root, root + (3 if index >= 12 else 4), root + 7


def clip_key(notes: Sequence[NoteEvent], chroma_frames: np.ndarray) -> Key:
    """Key from the notes' duration-weighted pitch classes; from total chroma when there are few notes."""
    if len(notes) >= 8:
        weights = pitch_class_histogram(
            np.array([n.pitch for n in notes]), np.array([n.end - n.start for n in notes])
        )
    else:
        weights = chroma_frames.sum(axis=1)
    return estimate_key(weights)
