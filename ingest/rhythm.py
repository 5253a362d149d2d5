"""Tempo, beat grid and meter of a transcribed clip, and notes quantised onto the grid.

librosa's beat tracker locks onto wrong metrical levels (it heard a violin tune at 120 bpm as 81,
a 2:3 error) and drifts towards its 120 bpm prior in noise. The transcribed note onsets are
cleaner evidence: the tempo is the one whose beat, eighth and sixteenth grids best carry the notes
(duration-weighted), with a log-scale prior around 100 bpm; the tracker is only the fallback when
there are too few notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np

from ingest.melody import ANALYSIS_SR, HOP, NoteEvent

TEMPO_RANGE = (50.0, 220.0)  # quarter notes per minute a primer may have
GRID_SIGMA_S = 0.025  # how far an onset may sit from a grid line and still count (Gaussian width)
STEPS_PER_BEAT = 4  # quantisation grid: sixteenth notes
PRIOR_BPM = 100.0  # centre of the tempo prior (log scale)
PRIOR_WEIGHT = 0.5  # fit lost per octave away from PRIOR_BPM; tuned on benchmarks/transcribe.py
METRICAL_LEVELS = (1, 2, 4)  # beat, eighth and sixteenth grids a tempo must explain together


@dataclass(frozen=True)
class Grid:
    """A constant-tempo beat grid: beats at `phase_s + k * 60 / bpm`, bars of `beats_per_bar` from `downbeat_s`."""

    bpm: float
    phase_s: float
    beats_per_bar: int
    downbeat_s: float  # the first bar line on or before the first note (score time 0)
    fit: float  # 0-1, share of onsets on the eighth-note grid

    @property
    def beat_s(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.bpm


def tracker_tempo(onset_env: np.ndarray) -> float:
    """librosa's beat-tracker tempo estimate for an onset envelope at ANALYSIS_SR / HOP."""
    tempo, _ = librosa.beat.beat_track(onset_envelope=onset_env, sr=ANALYSIS_SR, hop_length=HOP)
    value = float(np.atleast_1d(tempo)[0])
    return value if value > 0 else 120.0


def find_grid(notes: Sequence[NoteEvent], onset_env: np.ndarray) -> Grid:
    """Tempo and phase that best explain the note onsets, then the meter and the first downbeat."""
    onsets = np.array([n.start for n in notes])
    weights = np.array([n.end - n.start for n in notes])
    bpm = (
        onset_tempo(onsets, weights)
        if onsets.size >= 4
        else float(np.clip(tracker_tempo(onset_env), *TEMPO_RANGE))
    )
    fit, _ = grid_fit(onsets, 30.0 / bpm)
    _, phase = grid_fit(onsets, 60.0 / bpm, weights)
    meter, bar_phase = find_meter(onsets, weights, bpm, phase)
    first = onsets.min() if onsets.size else 0.0
    beat = 60.0 / bpm
    bar = beat * meter
    downbeat = phase + bar_phase * beat
    downbeat -= np.ceil((downbeat - first - 0.5 * beat / STEPS_PER_BEAT) / bar) * bar
    return Grid(bpm, phase, meter, float(downbeat), fit)


def onset_tempo(onsets: np.ndarray, weights: np.ndarray) -> float:
    """The tempo whose metrical grids best carry the notes (duration-weighted), with a prior towards PRIOR_BPM.

    Any grid twice as fine fits at least as well, so without the prior the fastest tempo would win;
    the prior encodes that notated folk and popular tunes mostly move at 80-130 quarter notes a minute.
    """
    candidates = np.exp(np.linspace(np.log(TEMPO_RANGE[0]), np.log(TEMPO_RANGE[1]), 300))
    fits = np.array([metrical_fit(onsets, weights, c) for c in candidates])
    score = fits - PRIOR_WEIGHT * np.abs(np.log2(candidates / PRIOR_BPM))
    return refine_tempo(onsets, float(candidates[int(np.argmax(score))]))


def metrical_fit(onsets: np.ndarray, weights: np.ndarray, bpm: float) -> float:
    """Mean fit of the beat, eighth and sixteenth grids of `bpm` (each at its best phase).

    The beat level alone is weak evidence in tunes of running sixteenths or dotted rhythms (most
    onsets fall between beats, and a wrong tempo's beats catch as many); the finer levels are what
    a true tempo explains and a tempo 20 % off does not.
    """
    return sum(grid_fit(onsets, 60.0 / bpm / d, weights)[0] for d in METRICAL_LEVELS) / len(METRICAL_LEVELS)


def grid_fit(onsets: np.ndarray, step: float, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(weighted share of onsets near a grid of `step` seconds at the best phase, that phase)."""
    if onsets.size == 0:
        return 0.0, 0.0
    w = np.ones_like(onsets) if weights is None else weights
    phases = np.linspace(0.0, step, 48, endpoint=False)
    d = (onsets[None, :] - phases[:, None]) % step
    d = np.minimum(d, step - d)
    score = (np.exp(-0.5 * (d / GRID_SIGMA_S) ** 2) * w).sum(axis=1) / w.sum()
    i = int(np.argmax(score))
    return float(score[i]), float(phases[i])


def refine_tempo(onsets: np.ndarray, bpm: float) -> float:
    """Search +/- 6 % around `bpm` for the tempo whose sixteenth grid fits the onsets best."""
    candidates = bpm * np.linspace(0.94, 1.06, 49)
    fits = [grid_fit(onsets, 15.0 / c)[0] + grid_fit(onsets, 30.0 / c)[0] for c in candidates]
    return float(candidates[int(np.argmax(fits))])


def find_meter(onsets: np.ndarray, weights: np.ndarray, bpm: float, phase: float) -> tuple[int, int]:
    """(beats per bar, beat index of the downbeat): long notes fall on strong beats."""
    beat = 60.0 / bpm
    pos = (onsets - phase) / beat
    on_beat = np.abs(pos - np.round(pos)) < 0.15
    idx = np.round(pos[on_beat]).astype(np.int64)
    w = weights[on_beat]
    if idx.size < 4:
        return 4, 0
    best = (4, 0, -np.inf)
    for meter in (3, 4):
        for offset in range(meter):
            strong = (idx - offset) % meter == 0
            # Accent contrast: how much more weight the bar's first beat carries than the others.
            contrast = w[strong].mean() - w[~strong].mean() if strong.any() and (~strong).any() else 0.0
            score = contrast * (1.0 if meter == 4 else 0.9)  # ties go to the commoner 4
            if score > best[2]:
                best = (meter, offset, score)
    return best[0], best[1]


def quantise(notes: Sequence[NoteEvent], grid: Grid) -> list[tuple[float, float, int, int]]:
    """(start, end, pitch, velocity) in score seconds (0 = grid.downbeat_s), snapped to sixteenths."""
    step = grid.beat_s / STEPS_PER_BEAT
    out: list[tuple[float, float, int, int]] = []
    for n in notes:
        a = max(0, round((n.start - grid.downbeat_s) / step))
        b = max(a + 1, round((n.end - grid.downbeat_s) / step))
        if out and a * step < out[-1][1]:  # a monophonic line: the previous note ends where this begins
            prev = out[-1]
            if a * step <= prev[0]:
                continue
            out[-1] = (prev[0], a * step, prev[2], prev[3])
        out.append((a * step, b * step, n.pitch, n.velocity))
    return out
