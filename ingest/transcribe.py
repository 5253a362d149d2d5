"""Audio clip -> melody notes, beat grid, chords, key and a two-part score (`transcribe_clip`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import librosa
import numpy as np
import pretty_midi

from cadenza.theory import Key
from ingest.harmony import bar_chords, chord_name, chord_pitches, chroma, clip_key
from ingest.melody import ANALYSIS_SR, NoteEvent, PitchTrack, segment_notes, track_pitch
from ingest.newest import newest_note_line
from ingest.primer import CHORD_TRACK, MELODY_TRACK
from ingest.repeats import grid_is_trusted, split_repeats
from ingest.rhythm import Grid, find_grid, quantise

log = logging.getLogger(__name__)

MELODY_PROGRAM = 0  # acoustic grand: a neutral voice for a melody whose instrument we do not know
CHORD_PROGRAM = 48  # string ensemble: sustained chords under the melody, a program of their own
CHORD_VELOCITY = 56  # chords sit under the melody
MIN_NOTES = 4  # fewer notes than this is not a melody to continue


@dataclass(frozen=True)
class Transcription:
    """Everything heard in a clip, in clip time, plus the quantised score."""

    notes: tuple[NoteEvent, ...]  # unquantised, clip seconds
    grid: Grid
    key: Key
    chords: tuple[int, ...]  # template index per bar (see ingest.harmony)
    confidence: float
    score: pretty_midi.PrettyMIDI

    @property
    def chord_names(self) -> tuple[str, ...]:
        """Chord names per bar, e.g. ('G', 'Em')."""
        return tuple(chord_name(c) for c in self.chords)


def transcribe_clip(
    audio: np.ndarray, sample_rate: int, min_pitch: int = 36, max_pitch: int = 96
) -> Transcription:
    """Transcribe mono float audio; raises nothing on unclear input, but reports low confidence."""
    y = (
        librosa.resample(audio, orig_sr=sample_rate, target_sr=ANALYSIS_SR)
        if sample_rate != ANALYSIS_SR
        else audio
    )
    track = track_pitch(y.astype(np.float32), min_pitch, max_pitch)
    notes = segment_notes(track)
    grid = find_grid(notes, track.onset_env)
    # The key from pYIN's pitches, steadier than the newest-note line's (choir key 17 % -> 67-83 %).
    key_notes = notes
    if grid_is_trusted(notes, grid):
        # The grid says where a repeated note merged into one was played again.
        notes = key_notes = split_repeats(notes, track, grid)
    else:
        # Onsets at chance on any grid: notes overlap (an ensemble); follow the pitch that started last.
        notes = newest_note_line(track)
        grid = find_grid(notes, track.onset_env)
    confidence = melody_confidence(track, notes)
    frames = chroma(y)
    end_s = notes[-1].end if notes else len(y) / ANALYSIS_SR
    chords = bar_chords(notes, frames, grid.downbeat_s, grid.beat_s * grid.beats_per_bar, end_s)
    key = clip_key(key_notes, frames)
    score = build_score(notes, grid, chords, key)
    log.debug(
        "transcribed %d notes at %.1f bpm in %s, confidence %.2f", len(notes), grid.bpm, key.name, confidence
    )
    return Transcription(tuple(notes), grid, key, tuple(chords), confidence, score)


def melody_confidence(track: PitchTrack, notes: list[NoteEvent]) -> float:
    """0-1: how much of the clip's sounding part is a clear pitch, times pYIN's voicing certainty."""
    if len(notes) < MIN_NOTES:
        return 0.0
    sounding = track.level_db > -30.0
    if not sounding.any():
        return 0.0
    pitched = ~np.isnan(track.midi) & sounding
    coverage = pitched.sum() / sounding.sum()
    certainty = float(np.median(track.voiced_prob[pitched])) if pitched.any() else 0.0
    return float(np.clip(coverage * certainty / 0.6, 0.0, 1.0))  # 0.6: a clean clip reaches ~1


def build_score(notes: list[NoteEvent], grid: Grid, chords: list[int], key: Key) -> pretty_midi.PrettyMIDI:
    """A score at the detected tempo: the quantised melody and one triad per bar, time 0 = first downbeat."""
    score = pretty_midi.PrettyMIDI(initial_tempo=grid.bpm)
    score.time_signature_changes.append(pretty_midi.TimeSignature(grid.beats_per_bar, 4, 0.0))
    score.key_signature_changes.append(pretty_midi.KeySignature(key.index, 0.0))
    melody = pretty_midi.Instrument(MELODY_PROGRAM, name=MELODY_TRACK)
    for start, end, pitch, velocity in quantise(notes, grid):
        melody.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end))
    harmony = pretty_midi.Instrument(CHORD_PROGRAM, name=CHORD_TRACK)
    bar = grid.beat_s * grid.beats_per_bar
    for i, chord in enumerate(chords):
        for pitch in chord_pitches(chord):
            harmony.notes.append(
                pretty_midi.Note(velocity=CHORD_VELOCITY, pitch=pitch, start=i * bar, end=(i + 1) * bar)
            )
    score.instruments = [melody, harmony]
    return score
