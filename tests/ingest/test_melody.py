"""Note segmentation on synthetic lines with a known answer: slow attacks, legato, re-attacked repeats."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.melody import ANALYSIS_SR, NoteEvent, segment_notes, track_pitch

SR = ANALYSIS_SR
LEAD_S = 0.3  # silence before the first note


def partials(pitch: int, t: np.ndarray, harmonics: tuple[int, ...]) -> np.ndarray:
    f = 440.0 * 2 ** ((pitch - 69) / 12)
    return sum(np.sin(2 * np.pi * f * k * t) / k for k in harmonics)


def bowed(pitch: int, seconds: float, attack_s: float, release_s: float) -> np.ndarray:
    """A tone that swells over `attack_s` and dies away over `release_s` after `seconds` (it overlaps the next)."""
    t = np.arange(int((seconds + release_s) * SR)) / SR
    envelope = np.minimum(1.0, t / attack_s) * np.clip(1 - (t - seconds) / release_s, 0.0, 1.0)
    return 0.2 * partials(pitch, t, (1, 2, 3, 4)) * envelope


def blown(pitch: int, seconds: float, bloom_s: float) -> np.ndarray:
    """A tone whose fundamental swells over 0.15 s and whose upper partials enter `bloom_s` in (a flute)."""
    t = np.arange(int(seconds * SR)) / SR
    low = partials(pitch, t, (1,)) * np.minimum(1.0, t / 0.15)
    high = partials(pitch, t, (2, 3, 4, 5)) * np.clip((t - bloom_s) / 0.03, 0.0, 1.0)
    return 0.2 * (low + high) * np.minimum(1.0, (seconds - t) / 0.02)


def play(tones: list[np.ndarray], step_s: float) -> tuple[np.ndarray, list[float]]:
    """(audio, onsets): tones started every `step_s` seconds after LEAD_S, summed where they overlap."""
    onsets = [LEAD_S + i * step_s for i in range(len(tones))]
    y = np.zeros(int((onsets[-1] + max(t.size for t in tones) / SR + 0.2) * SR))
    for onset, tone in zip(onsets, tones, strict=True):
        a = int(onset * SR)
        y[a : a + tone.size] += tone
    return y.astype(np.float32), onsets


def transcribe(y: np.ndarray) -> list[NoteEvent]:
    return segment_notes(track_pitch(y, 36, 96))


def test_legato_slow_attacks_start_where_their_own_harmonics_rise() -> None:
    # Each note swells over 100 ms while the previous one is still dying away: no level dip marks
    # the change, and pYIN settles on the new pitch 50-90 ms late.
    pitches = [67, 71, 74, 72, 69, 67, 64, 65]
    y, onsets = play([bowed(p, 0.3, attack_s=0.1, release_s=0.15) for p in pitches], step_s=0.3)
    notes = transcribe(y)
    assert [n.pitch for n in notes] == pitches
    assert np.abs(np.array([n.start for n in notes]) - onsets).max() <= 0.05


@pytest.mark.parametrize("bloom_s", [0.07, 0.1])
def test_a_blooming_attack_stays_one_note(bloom_s: float) -> None:
    # Upper partials entering mid-attack make a spectral-flux peak while the level is still rising:
    # that is not a re-attack.
    pitches = [62, 67, 69, 71]
    y, onsets = play([blown(p, 0.5, bloom_s) for p in pitches], step_s=0.55)
    notes = transcribe(y)
    assert [n.pitch for n in notes] == pitches
    assert np.abs(np.array([n.start for n in notes]) - onsets).max() <= 0.05


def test_a_repeated_note_played_again_after_a_dip_is_two_notes() -> None:
    pitches = [69, 69, 69, 72]
    y, onsets = play([bowed(p, 0.3, attack_s=0.03, release_s=0.03) for p in pitches], step_s=0.35)
    notes = transcribe(y)
    assert [n.pitch for n in notes] == pitches
    assert np.abs(np.array([n.start for n in notes]) - onsets).max() <= 0.05
