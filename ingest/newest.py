"""The newest note of a line whose notes overlap: each note starts where its own harmonics climb.

In an ensemble patch (FluidR3 "choir aahs") every note's release lasts longer than the next
note's attack, so for most of a fast note the previous pitch is louder and pYIN follows it (its
voicing probability drops to ~0.01 and it glides through the quarter-tones between). The new
note's own harmonic salience still climbs 20-30 dB within 60 ms of its onset while the old one
only fades: the line is the pitch that climbed last. Used only where the onsets found from the
pitch track do not fit any beat grid (ingest.repeats.GRID_TRUST). Measured on the benchmark's
choir clips (6 tunes, onset F1 clean / noisy): 0.303 / 0.300 -> 0.483 / 0.382, tempo within 4 %
3 -> 12 of 12. Known misses: a note a fifth or an octave above the last shares its harmonics and
climbs less, and so does a pitch whose own earlier release still sounds.
"""

from __future__ import annotations

import numpy as np

from ingest.melody import NoteEvent, PitchTrack

CLIMB_DB = 14.0  # a pitch's salience rises at least this much ...
CLIMB_FRAMES = 4  # ... above its lowest over the previous 64 ms
NEAR_TOP_DB = 8.0  # and 32 ms later is within this much of the frame's strongest pitch
GROUP_FRAMES = 3  # climbs this close together are one onset (a note's harmonics climb with it)
SAME_NOTE_FRAMES = 6  # a climb of the same pitch this soon continues its note (a long attack from silence)
LEAD_FRAMES = 2  # the note began this many frames before its first climbing frame
SOUNDING_DB = -35.0  # level below which a climb is noise, not a note
LAST_NOTE_FRAMES = 20  # length given to the last note (320 ms): nothing after it says when it ended


def newest_note_line(track: PitchTrack) -> list[NoteEvent]:
    """Notes of the pitch that climbed last: one note per onset, each lasting until the next."""
    sal = track.salience_db
    climbing = _climbing(sal, track.level_db)
    onsets = _onsets(climbing, sal, track.min_pitch)
    notes: list[NoteEvent] = []
    for i, (start, pitch) in enumerate(onsets):
        end = onsets[i + 1][0] if i + 1 < len(onsets) else start + LAST_NOTE_FRAMES
        if end - start >= 2:
            notes.append(NoteEvent(start * track.frame_s, end * track.frame_s, pitch, 80))
    return notes


def _climbing(sal: np.ndarray, level_db: np.ndarray) -> np.ndarray:
    """(P, T) bool: pitches that have just climbed CLIMB_DB and are about to be among the strongest."""
    low = np.full_like(sal, np.inf)
    for d in range(1, CLIMB_FRAMES + 1):
        low[:, d:] = np.minimum(low[:, d:], sal[:, :-d])
    ahead = np.concatenate([sal[:, 2:], np.repeat(sal[:, -1:], 2, axis=1)], axis=1)
    strong = ahead >= sal.max(axis=0)[None, :] - NEAR_TOP_DB
    return (sal - low >= CLIMB_DB) & strong & (level_db > SOUNDING_DB)[None, :]


def _onsets(climbing: np.ndarray, sal: np.ndarray, min_pitch: int) -> list[tuple[int, int]]:
    """(start frame, MIDI pitch) per group of climbs: the strongest climbing pitch of the group."""
    frames = np.flatnonzero(climbing.any(axis=0))
    out: list[tuple[int, int]] = []
    i = 0
    while i < frames.size:
        j = i
        while j + 1 < frames.size and frames[j + 1] - frames[i] <= GROUP_FRAMES:
            j += 1
        first, last = int(frames[i]), int(frames[j])
        candidates = np.flatnonzero(climbing[:, first : last + 1].any(axis=1))
        peak = sal[candidates, first : last + GROUP_FRAMES].max(axis=1)
        row = int(candidates[int(np.argmax(peak))])
        start = first + int(np.flatnonzero(climbing[row, first : last + 1])[0]) - LEAD_FRAMES
        pitch = row + min_pitch
        if not out or pitch != out[-1][1] or start - out[-1][0] > SAME_NOTE_FRAMES:
            out.append((max(start, 0), pitch))
        i = j + 1
    return out
