"""Repeated notes re-attacked with only a shallow dip (a bow change): split where the beat grid expects them."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.melody import ANALYSIS_SR, track_pitch
from ingest.newest import newest_note_line
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


def ensemble_line(pitches: list[int], step_s: float, release_s: float) -> tuple[np.ndarray, list[float]]:
    """(audio, onsets): tones every `step_s` with a 40 ms attack, each dying away over `release_s`
    after the next has begun (an ensemble patch: the old note is louder for most of the new one)."""
    onsets = [LEAD_S + i * step_s for i in range(len(pitches))]
    y = np.zeros(int((onsets[-1] + step_s + release_s + 0.2) * SR))
    t = np.arange(int((step_s + release_s) * SR)) / SR
    envelope = np.minimum(1.0, t / 0.04) * np.where(t < step_s, 1.0, np.exp(-3.0 * (t - step_s) / release_s))
    for onset, pitch in zip(onsets, pitches, strict=True):
        f = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3, 4))
        a = int(onset * SR)
        y[a : a + t.size] += 0.1 * tone * envelope
    return y.astype(np.float32), onsets


def test_the_newest_note_of_overlapping_tones_is_the_one_whose_harmonics_climbed_last() -> None:
    # Steps of a second or third above C5. Known limits: a fifth or an octave up shares the old
    # note's harmonics, which then climb less; a pitch that returns while its own release still
    # sounds climbs less; below C5 a semitone is within the 64 ms window's leakage, and the octave
    # above can climb more than the note itself.
    pitches = [72, 74, 76, 77, 79, 77, 76, 74, 76, 72]
    y, onsets = ensemble_line(pitches, step_s=0.3, release_s=0.3)
    notes = newest_note_line(track_pitch(y, 36, 96))
    assert [n.pitch for n in notes] == pitches
    assert np.abs(np.array([n.start for n in notes]) - onsets).max() <= 0.05
