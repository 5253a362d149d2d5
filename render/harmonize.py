"""Harmonize: keep a turn's melody and write accompanying voices under it, by rule.

What it does, honestly: the model only *continues* music (it cannot be told "accompany this line"),
so Harmonize does not ask it. It takes the melody (the skyline: the highest note at each onset),
estimates the key, and for every half bar picks the diatonic triad that best covers the melody
notes sounding there (weighted by duration, with a mild preference for I, IV and V, and the tonic
at the start and the end). It then writes a bass (the chord root, an octave or two down) and two
inner voices (the chord tones just below the melody), sustained for the half bar. The result is a
plain, correct-sounding chorale-style accompaniment, not a creative one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pretty_midi

from cadenza.errors import BadInput
from cadenza.theory import Key, estimate_key, pitch_class_histogram
from render.edits import first_tempo
from render.voicing import split_skyline

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; V is raised to major below (harmonic minor)
PREFERRED_DEGREES = {0: 0.06, 3: 0.05, 4: 0.05}  # I, IV, V: a little more likely on a tie
REPEAT_PENALTY = 0.1  # the same chord twice running is less likely: harmony should move
BASS_LOW, BASS_HIGH = 36, 50  # C2..D3
INNER_LOW = 48  # inner voices stay above C3
MELODY_PROGRAM, BASS_PROGRAM, INNER_PROGRAM = 0, 32, 48  # piano, acoustic bass, strings (GM)


@dataclass(frozen=True)
class Chord:
    """A triad over one stretch of time."""

    start: float
    end: float
    root: int  # pitch class
    tones: tuple[int, int, int]  # pitch classes: root, third, fifth


def melody_notes(score: pretty_midi.PrettyMIDI) -> np.ndarray:
    """The skyline melody as (N, 4) rows of start, end, pitch, velocity, sorted by start."""
    rows = [
        (n.start, n.end, n.pitch, n.velocity)
        for inst in score.instruments
        if not inst.is_drum
        for n in inst.notes
    ]
    if not rows:
        raise BadInput("that turn has no notes to harmonize")
    notes = np.array(sorted(rows), dtype=np.float64)
    melody, _, _ = split_skyline(notes)
    return melody


def triads(key: Key) -> list[tuple[int, tuple[int, int, int]]]:
    """(degree, pitch classes) of the key's seven triads (minor keys get a major V)."""
    scale = MAJOR_SCALE if key.mode == "major" else MINOR_SCALE
    out = []
    for degree in range(7):
        tones = [(key.tonic + scale[(degree + step) % 7]) % 12 for step in (0, 2, 4)]
        if key.mode == "minor" and degree == 4:
            tones[1] = (tones[1] + 1) % 12  # the leading tone makes V a dominant
        out.append((degree, (tones[0], tones[1], tones[2])))
    return out


def choose_chords(melody: np.ndarray, key: Key, window_s: float, end_s: float) -> list[Chord]:
    """One triad per window: the best cover of the melody's pitch classes sounding in it."""
    candidates = triads(key)
    count = max(1, int(np.ceil(end_s / window_s - 1e-6)))
    chords: list[Chord] = []
    for w in range(count):
        lo, hi = w * window_s, min(end_s, (w + 1) * window_s)
        overlap = np.clip(np.minimum(melody[:, 1], hi) - np.maximum(melody[:, 0], lo), 0, None)
        weights = pitch_class_histogram(melody[:, 2], overlap)
        edge = w in (0, count - 1)

        previous = chords[-1].root if chords else None
        _, tones = max(candidates, key=lambda item: _fit(item, weights, edge, previous))
        chords.append(Chord(lo, hi, tones[0], tones))
    return chords


def _fit(
    item: tuple[int, tuple[int, int, int]], weights: np.ndarray, edge: bool, previous: int | None
) -> float:
    """How well a triad fits a window: share of melody time it covers, plus small preferences."""
    degree, tones = item
    cover = float(sum(weights[t] for t in tones)) / (float(weights.sum()) or 1.0)
    bonus = PREFERRED_DEGREES.get(degree, 0.0) + (0.3 if edge and degree == 0 else 0.0)
    return cover + bonus - (REPEAT_PENALTY if tones[0] == previous and not edge else 0.0)


def _pitch_in(pc: int, low: int, high: int) -> int:
    """The lowest pitch of class `pc` at or above `low` (folded below `high` when possible)."""
    pitch = low + (pc - low) % 12
    return pitch - 12 if pitch > high and pitch - 12 >= 0 else pitch


def _inner_voices(chord: Chord, ceiling: int) -> list[int]:
    """Two chord tones (third and fifth, or root) just below the melody's lowest note in the window."""
    pitches = []
    for pc in (chord.tones[1], chord.tones[2]):
        pitch = _pitch_in(pc, INNER_LOW, ceiling)
        while pitch >= ceiling and pitch - 12 >= INNER_LOW - 12:
            pitch -= 12
        pitches.append(pitch)
    return sorted(set(pitches))


def harmonize(score: pretty_midi.PrettyMIDI, beats_per_bar: int = 4) -> tuple[pretty_midi.PrettyMIDI, Key]:
    """The melody of `score` with a bass and two inner voices under it; and the key it assumed."""
    melody = melody_notes(score)
    key = estimate_key(pitch_class_histogram(melody[:, 2], melody[:, 1] - melody[:, 0]))
    tempo = first_tempo(score)
    window = (60.0 / tempo) * max(1, beats_per_bar // 2)  # half a bar
    end = float(melody[:, 1].max())
    out = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    lead = pretty_midi.Instrument(MELODY_PROGRAM, name="Melody")
    lead.notes = [pretty_midi.Note(int(v), int(p), float(s), float(e)) for s, e, p, v in melody]
    bass = pretty_midi.Instrument(BASS_PROGRAM, name="Bass")
    inner = pretty_midi.Instrument(INNER_PROGRAM, name="Harmony")
    loud = int(np.clip(np.median(melody[:, 3]) * 0.7, 30, 100))  # accompaniment under the tune
    for chord in choose_chords(melody, key, window, end):
        sounding = melody[(melody[:, 0] < chord.end) & (melody[:, 1] > chord.start)]
        ceiling = int(sounding[:, 2].min()) if len(sounding) else 72
        bass.notes.append(
            pretty_midi.Note(loud, _pitch_in(chord.root, BASS_LOW, BASS_HIGH), chord.start, chord.end)
        )
        for pitch in _inner_voices(chord, ceiling):
            inner.notes.append(pretty_midi.Note(loud, pitch, chord.start, chord.end))
    out.instruments.extend([lead, inner, bass])
    return out, key
