"""Repeated notes the pitch track merged, split again where the beat grid expects a re-attack.

A bowed re-attack of the same pitch dips only 2-4 dB in level and keeps the pitch, so
`segment_notes` (which splits a repeat only after a 3 dB fall and a 4 dB rise) hears one long note;
a lower threshold anywhere in a note also splits sung notes in reverb. The grid found from the
notes says where a re-attack would be: a held note that crosses an eighth-note line is split there
when both the level and the note's own harmonics dip and recover around that line. That needs a
grid the onsets fit: on the benchmark, solo instruments put 67-97 % of their onsets on its
sixteenth lines, the FluidR3 choir 50-64 % (chance is about half). Below GRID_TRUST the notes are
not one clear line (see ingest.newest). Measured on benchmarks/transcribe.py (6 tunes, onset F1
clean / noisy): violin 0.879 / 0.867 -> 0.902 / 0.895, flute +0.02 / +0.03, others within 0.002.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ingest.melody import MIN_NOTE_FRAMES, NoteEvent, PitchTrack
from ingest.rhythm import Grid, grid_fit

GRID_TRUST = 0.66  # share of onsets on the sixteenth grid below which the grid is no guide (chance ~0.5)
LINES_PER_BEAT = 2  # eighth-note lines (sixteenth lines split sung notes too: voice noisy 0.85 -> 0.77)
DIP_BEFORE = 2  # frames (32 ms) before a grid line the bottom of a re-attack's dip may lie
DIP_AFTER = 5  # frames after it (the written note ends early and its release fades)
FALL_FRAMES = 6  # frames before the dip where the level it fell from may lie
RECOVER_FRAMES = 6  # frames after the dip in which the re-attack must rise again
LEVEL_DIP_DB = 2.0  # fall and rise of the level around a re-attack
SALIENCE_DIP_DB = 3.0  # fall and rise of the note's own harmonics (vibrato and reverb move the level alone)


def grid_is_trusted(notes: Sequence[NoteEvent], grid: Grid) -> bool:
    """Whether the notes' onsets sit on the grid's sixteenth lines well above chance (GRID_TRUST)."""
    onsets = np.array([n.start for n in notes])
    return onsets.size >= 4 and grid_fit(onsets, grid.beat_s / 4)[0] >= GRID_TRUST


def split_repeats(notes: Sequence[NoteEvent], track: PitchTrack, grid: Grid) -> list[NoteEvent]:
    """Each note split at the eighth-note lines inside it where its level and harmonics dip and recover.

    Only for a grid the onsets fit (`grid_is_trusted`): otherwise it says nothing about where notes begin.
    """
    out: list[NoteEvent] = []
    for note in notes:
        start, end = round(note.start / track.frame_s), round(note.end / track.frame_s)
        row = note.pitch - track.min_pitch
        if not 0 <= row < track.salience.shape[0]:
            out.append(note)
            continue
        salience_db = track.salience_db[row]
        bounds = _reattacks(start, end, _grid_lines(note, grid, track.frame_s), track.level_db, salience_db)
        out += [
            NoteEvent(a * track.frame_s, b * track.frame_s, note.pitch, note.velocity)
            for a, b in itertools.pairwise([start, *bounds, end])
        ]
    return out


def _grid_lines(note: NoteEvent, grid: Grid, frame_s: float) -> list[int]:
    """Frames of the eighth-note lines after the note's start and before its end."""
    step = grid.beat_s / LINES_PER_BEAT
    first = int(np.floor((note.start - grid.phase_s) / step)) + 1
    last = int(np.floor((note.end - grid.phase_s) / step))
    return [round((grid.phase_s + k * step) / frame_s) for k in range(first, last + 1)]


def _reattacks(
    start: int, end: int, lines: list[int], level_db: np.ndarray, salience_db: np.ndarray
) -> list[int]:
    """Frames inside (start, end) where a grid line has a dip in level and salience around it.

    The split goes halfway down the fall: the bow or breath stops at the note's written end and
    the new note begins while the old one's release is still fading (within 50 ms of that point).
    """
    bounds: list[int] = []
    for line in lines:
        prev = bounds[-1] if bounds else start
        lo, hi = line - DIP_BEFORE, min(line + DIP_AFTER + 1, end - MIN_NOTE_FRAMES)
        if not prev + MIN_NOTE_FRAMES <= line <= end - MIN_NOTE_FRAMES or hi <= lo:
            continue
        dip = lo + int(np.argmin(level_db[lo:hi]))
        top_lo = max(prev, dip - FALL_FRAMES)
        if dip <= top_lo:
            continue
        top = top_lo + int(np.argmax(level_db[top_lo:dip]))
        recovered = slice(dip, min(dip + RECOVER_FRAMES, end))
        level_ok = (
            min(level_db[top] - level_db[dip], level_db[recovered].max() - level_db[dip]) >= LEVEL_DIP_DB
        )
        bottom = salience_db[max(top, dip - 2) : dip + 3].min()
        salience_ok = (
            min(salience_db[top : dip + 1].max() - bottom, salience_db[recovered].max() - bottom)
            >= SALIENCE_DIP_DB
        )
        split = (top + dip + 1) // 2
        if level_ok and salience_ok and prev + MIN_NOTE_FRAMES <= split <= end - MIN_NOTE_FRAMES:
            bounds.append(split)
    return bounds
