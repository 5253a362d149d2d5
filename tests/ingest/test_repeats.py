"""Repeated notes re-attacked with only a shallow dip (a bow change): split where the beat grid expects them."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.melody import ANALYSIS_SR, NoteEvent, track_pitch
from ingest.repeats import revise_repeats_by_grid
from ingest.rhythm import Grid
from ingest.transcribe import transcribe_clip

SR = ANALYSIS_SR
LEAD_S = 0.3
EIGHTH_S = 0.25  # 120 bpm


def bowed_line(
    pitches: list[int], dip_db: float, dips_s: list[float] | None = None, step_s: float = EIGHTH_S
) -> tuple[np.ndarray, list[float]]:
    """(audio, onsets): one unbroken bowed tone that moves to the next of `pitches` every `step_s`
    and dips by `dip_db` at each of `dips_s` (default: every onset after the first), where the bow
    changes direction: the level falls over 40 ms and swells back over 60 ms."""
    n = int((LEAD_S + len(pitches) * step_s + 0.3) * SR)
    t = np.arange(n) / SR
    onsets = [LEAD_S + i * step_s for i in range(len(pitches))]
    idx = np.clip(((t - LEAD_S) // step_s).astype(np.int64), 0, len(pitches) - 1)
    freq = 440.0 * 2 ** ((np.array(pitches)[idx] - 69) / 12)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    tone = sum(np.sin(k * phase) / k for k in (1, 2, 3, 4))
    floor = 10 ** (-dip_db / 20)
    envelope = np.ones(n)
    for onset in onsets[1:] if dips_s is None else dips_s:
        fall = (t >= onset - 0.04) & (t < onset)
        envelope[fall] = 1 - (1 - floor) * (t[fall] - onset + 0.04) / 0.04
        rise = (t >= onset) & (t < onset + 0.06)
        envelope[rise] = floor + (1 - floor) * (t[rise] - onset) / 0.06
    end = LEAD_S + len(pitches) * step_s
    envelope *= np.clip((t - LEAD_S) / 0.03, 0, 1) * np.clip((end - t) / 0.03, 0, 1)
    return (0.2 * tone * envelope).astype(np.float32), onsets


@pytest.mark.parametrize("dip_db", [4.5, 6.0])
def test_bowed_repeats_with_a_shallow_dip_on_the_beat_grid_are_separate_notes(dip_db: float) -> None:
    # A 4.5-6 dB dip, smoothed by the analysis windows, is too shallow for segment_notes' own
    # repeat split (a 3 dB fall and a 4 dB rise): it heard 12 and 15 notes here.
    pitches = [67, 69, 71, 71, 72, 74, 74, 72, 71, 69, 69, 67, 64, 66, 67, 67]
    y, onsets = bowed_line(pitches, dip_db)
    notes = transcribe_clip(y, SR).notes
    assert [n.pitch for n in notes] == pitches
    assert np.abs(np.array([n.start for n in notes]) - onsets).max() <= 0.05


def test_a_shallow_dip_between_grid_lines_does_not_split_a_held_note() -> None:
    # The same dip halfway between two eighth-note lines is a swell in a held note, not a re-attack.
    pitches = [67, 69, 71, 72, 74, 74, 74, 74, 72, 71, 69, 67]
    changes = [LEAD_S + i * EIGHTH_S for i in (1, 2, 3, 4, 8, 9, 10, 11)]
    y, _ = bowed_line(pitches, 4.5, dips_s=[*changes, LEAD_S + 5.5 * EIGHTH_S])
    notes = transcribe_clip(y, SR).notes
    assert [n.pitch for n in notes] == [67, 69, 71, 72, 74, 72, 71, 69, 67]


def test_repeats_are_joined_when_the_onsets_do_not_fit_the_grid() -> None:
    # Onsets at chance on the grid (an ensemble's tremolo and overlapping releases): a repeated
    # pitch with no gap is one note wobbling, not a re-attack.
    starts = [0.0, 0.31, 0.47, 0.83, 1.02, 1.41, 1.58]
    pitches = [60, 62, 62, 64, 65, 65, 67]
    ends = [*starts[1:], 1.9]
    notes = [NoteEvent(s, e, p, 80) for s, e, p in zip(starts, ends, pitches, strict=True)]
    grid = Grid(bpm=120.0, phase_s=0.0, beats_per_bar=4, downbeat_s=0.0, fit=0.3)
    track = track_pitch(np.zeros(SR, dtype=np.float32), 36, 96)
    joined = revise_repeats_by_grid(notes, track, grid)
    assert [(n.start, n.end, n.pitch) for n in joined] == [
        (0.0, 0.31, 60),
        (0.31, 0.83, 62),
        (0.83, 1.02, 64),
        (1.02, 1.58, 65),
        (1.58, 1.9, 67),
    ]
