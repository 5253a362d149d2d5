"""Melody transcription: pYIN pitch track, then a segmentation into notes with corrected onsets.

Measured choices (benchmarks/transcribe.py, 2-core CPU): pYIN at 22.05 kHz, hop 256, 0.1-semitone
bins takes 5-12 s per 30 s clip, almost all of it in the Viterbi pass over 2 x 481 states. At
16 kHz, hop 256 (16 ms) and quarter-semitone bins it takes well under a second and scores the same
after rounding to semitones. pYIN's pitch appears late on slow attacks (a flute or voice settles
60-80 ms after the note begins), so each note start is pulled back to where the note's own
harmonics rose (a harmonic-sum salience per semitone from a 64 ms STFT), or, where they did not
rise clearly, to the rise out of the level dip before it. Legato strings and ensembles change
notes without any dip in level; the harmonic rise finds those (violin onset F1 0.68 -> 0.87).
A repeated pitch is split only where the level falls into a dip and rises again: a rise alone is
also what a slow attack looks like, and splitting there cut flutes' notes in two.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import librosa
import numpy as np
import scipy.ndimage

ANALYSIS_SR = 16000  # pitch analysis rate: C7 (2093 Hz) is far below Nyquist, and it halves the work
HOP = 256  # 16 ms frames: fine enough for a 50 ms onset tolerance
FRAME = 1024  # 64 ms windows: two periods of C2
RESOLUTION = 0.25  # pYIN bin width in semitones; notes are rounded to semitones anyway
MIN_NOTE_FRAMES = 4  # 64 ms: shorter pitch runs are glitches (attack noise, octave jumps)
ONSET_SEARCH_BACK = 8  # frames (128 ms) an onset may precede the pitch-track start
ONSET_SEARCH_AHEAD = 2  # frames (32 ms) it may follow it
RISE_SHARE = 0.25  # a note starts where its level has made this share of the rise out of the dip before it
SALIENCE_FFT = 1024  # 64 ms windows for the per-pitch harmonic energy
SALIENCE_HARMONICS = 6
PITCH_RISE_SHARE = 0.3  # a note starts where its own harmonics have made this share of their rise (in dB)
PITCH_RISE_DB = 6.0  # a smaller rise of a note's harmonics is no evidence of where it began
ONSET_DELTA = 0.03  # peak-picking threshold (librosa's default 0.07 missed bowed re-attacks)
GATE_DB = 45.0
VIBRATO_FRAMES = 5  # median filter (80 ms) on the pitch before rounding: vibrato and wobble across a boundary
UNSURE_PROB = 0.1  # pYIN voicing probability below which a voiced frame's pitch is not trusted
UNSURE = -2  # run label of such frames (-1 is unvoiced)  # frames this far below the loudest are tails and noise, not melody


@dataclass(frozen=True)
class NoteEvent:
    """One transcribed note in clip time."""

    start: float  # seconds
    end: float
    pitch: int  # MIDI number
    velocity: int


@dataclass(frozen=True)
class PitchTrack:
    """Frame-wise analysis of a clip at ANALYSIS_SR / HOP."""

    midi: np.ndarray  # (T,) fractional MIDI pitch, NaN where unvoiced or too quiet
    voiced_prob: np.ndarray  # (T,) pYIN voicing probability
    level_db: np.ndarray  # (T,) RMS level in dB relative to the loudest frame
    onset_env: np.ndarray  # (T,) spectral-flux onset strength
    salience: np.ndarray  # (P, T) harmonic-sum magnitude of each MIDI pitch from min_pitch up
    min_pitch: int

    @property
    def frame_s(self) -> float:
        """Seconds per frame."""
        return HOP / ANALYSIS_SR

    @cached_property
    def salience_db(self) -> np.ndarray:
        """(P, T) salience in dB, floored 60 dB below the clip's strongest pitch (silence is not -inf)."""
        floor = 1e-3 * float(self.salience.max()) if self.salience.size else 1.0
        return 20 * np.log10(self.salience + floor)


def track_pitch(y: np.ndarray, min_pitch: int, max_pitch: int) -> PitchTrack:
    """pYIN pitch, RMS level and onset strength of mono audio `y` at ANALYSIS_SR."""
    f0, voiced, vprob = librosa.pyin(
        y,
        sr=ANALYSIS_SR,
        fmin=float(librosa.midi_to_hz(min_pitch)),
        fmax=float(librosa.midi_to_hz(max_pitch)),
        frame_length=FRAME,
        hop_length=HOP,
        resolution=RESOLUTION,
    )
    # Short RMS windows (32 ms) keep the dip between notes sharp for onset correction.
    rms = librosa.feature.rms(y=y, frame_length=FRAME // 2, hop_length=HOP)[0]
    level = librosa.amplitude_to_db(rms, ref=np.max(rms) if rms.size and rms.max() > 0 else 1.0)
    env = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    sal = pitch_salience(y, min_pitch, max_pitch)
    n = min(len(f0), len(rms), len(env), sal.shape[1])
    midi = np.where(
        voiced[:n] & (level[:n] > -GATE_DB), librosa.hz_to_midi(np.nan_to_num(f0[:n], nan=1.0)), np.nan
    )
    return PitchTrack(
        midi=midi,
        voiced_prob=vprob[:n],
        level_db=level[:n],
        onset_env=env[:n],
        salience=sal[:, :n],
        min_pitch=min_pitch,
    )


def pitch_salience(y: np.ndarray, min_pitch: int, max_pitch: int) -> np.ndarray:
    """(max_pitch - min_pitch + 1, T) weighted sum of the STFT magnitude at each pitch's first harmonics.

    64 ms windows at HOP: a semitone apart from C4 up, and through the harmonics below that.
    """
    spectrum = np.abs(librosa.stft(y, n_fft=SALIENCE_FFT, hop_length=HOP))  # (F, T)
    freqs = librosa.fft_frequencies(sr=ANALYSIS_SR, n_fft=SALIENCE_FFT)
    weights = np.zeros((max_pitch - min_pitch + 1, freqs.size))
    for row, pitch in enumerate(range(min_pitch, max_pitch + 1)):
        f0 = float(librosa.midi_to_hz(pitch))
        for h in range(1, SALIENCE_HARMONICS + 1):
            if h * f0 > ANALYSIS_SR / 2:
                break
            half_width = max(h * f0 * (2 ** (0.5 / 12) - 1), freqs[1])  # half a semitone, at least a bin
            weights[row] += np.clip(1 - np.abs(freqs - h * f0) / half_width, 0, None) * 0.8 ** (h - 1)
    return weights @ spectrum


def segment_notes(track: PitchTrack) -> list[NoteEvent]:
    """Notes from a pitch track: semitone runs, repeated notes split at re-attacks, onsets corrected."""
    runs = _pitch_runs(track.midi - tuning_offset(track), track.voiced_prob)
    peaks = _onset_peaks(track.onset_env)
    runs = _split_repeats(runs, peaks, track.level_db)
    starts = _corrected_starts(runs, track)
    notes: list[NoteEvent] = []
    for i, (start, (_, end, pitch)) in enumerate(zip(starts, runs, strict=True)):
        end = min(end, starts[i + 1]) if i + 1 < len(runs) else end
        if end - start < 2:  # a start pulled forward past its own run's end: a glitch, not a note
            continue
        loudest = float(np.max(track.level_db[start:end])) if end > start else -GATE_DB
        velocity = int(np.clip(round(100 + loudest * 2.0), 30, 110))  # -35 dB below the peak -> 30
        notes.append(NoteEvent(start * track.frame_s, end * track.frame_s, pitch, velocity))
    return notes


def tuning_offset(track: PitchTrack) -> float:
    """How far (in semitones, -0.5..0.5) the clip sits from A440 tuning: the circular mean of the
    confident frames' pitch fractions. Ensembles (choir patches) and singers are often 20-40 cents off."""
    sure = ~np.isnan(track.midi) & (track.voiced_prob > 0.5)
    if sure.sum() < 10:
        return 0.0
    return float(np.angle(np.exp(2j * np.pi * track.midi[sure]).mean()) / (2 * np.pi))


def _pitch_runs(midi: np.ndarray, voiced_prob: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, pitch) frame runs of one rounded pitch; glitches shorter than MIN_NOTE_FRAMES absorbed.

    Frames pYIN is unsure of (voicing probability under UNSURE_PROB: glides between notes, breath)
    do not start runs of their own; they join a neighbour.
    """
    labels = _semitone_labels(midi)
    labels = np.where((labels >= 0) & (voiced_prob < UNSURE_PROB), UNSURE, labels)
    runs = _runs(labels)
    while True:  # unsure stretches first, then the shortest glitch, until none is left
        unsure = [i for i, r in enumerate(runs) if r[2] == UNSURE]
        short = [i for i, (s, e, p) in enumerate(runs) if e - s < MIN_NOTE_FRAMES and p >= 0]
        if not unsure and not short:
            break
        i = unsure[0] if unsure else min(short, key=lambda j: runs[j][1] - runs[j][0])
        runs = _coalesce(_absorb(runs, i))
    return [(s, e, p) for s, e, p in runs if p >= 0 and e - s >= MIN_NOTE_FRAMES]


def _semitone_labels(midi: np.ndarray) -> np.ndarray:
    """(T,) semitone per frame (-1 unvoiced), rounded after a VIBRATO_FRAMES median filter.

    Frames whose window reaches into an unvoiced gap keep their own value (note edges stay sharp).
    """
    voiced = ~np.isnan(midi)
    filled = np.where(voiced, midi, 0.0)
    smooth = scipy.ndimage.median_filter(filled, size=VIBRATO_FRAMES, mode="nearest")
    near_gap = scipy.ndimage.minimum_filter(voiced.astype(np.int8), size=VIBRATO_FRAMES, mode="nearest") == 0
    smooth = np.where(near_gap, filled, smooth)
    return np.where(voiced, np.round(smooth), -1).astype(np.int64)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    if labels.size == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [labels.size]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends, strict=True)]


def _coalesce(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Merge neighbouring runs that carry the same label."""
    out: list[tuple[int, int, int]] = []
    for s, e, p in runs:
        if out and out[-1][2] == p:
            out[-1] = (out[-1][0], e, p)
        else:
            out.append((s, e, p))
    return out


def _absorb(runs: list[tuple[int, int, int]], i: int) -> list[tuple[int, int, int]]:
    """Give run i to a voiced neighbour (the one with the same pitch on both sides, else the longer)."""
    s, e, _ = runs[i]
    prev = runs[i - 1] if i > 0 else None
    nxt = runs[i + 1] if i + 1 < len(runs) else None
    if prev and nxt and prev[2] == nxt[2]:
        return [*runs[: i - 1], (prev[0], nxt[1], prev[2]), *runs[i + 2 :]]
    voiced = [r for r in (prev, nxt) if r and r[2] >= 0]
    if not voiced:
        return [*runs[:i], (s, e, -1), *runs[i + 1 :]]
    # An unsure stretch is the tail of the note before it (a glide or a release); a glitch joins the longer side.
    target = (
        prev if runs[i][2] == UNSURE and prev and prev[2] >= 0 else max(voiced, key=lambda r: r[1] - r[0])
    )
    if target is prev:
        return [*runs[: i - 1], (prev[0], e, prev[2]), *runs[i + 1 :]]
    assert nxt is not None
    return [*runs[:i], (s, nxt[1], nxt[2]), *runs[i + 2 :]]


def _onset_peaks(env: np.ndarray) -> np.ndarray:
    """Frames of spectral-flux onsets (librosa's peak picking on a normalised envelope).

    A low threshold: these are only candidates, which _split_repeats checks against the level."""
    if env.size < 8 or env.max() <= 0:
        return np.zeros(0, dtype=np.int64)
    return librosa.onset.onset_detect(
        onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP, backtrack=False, delta=ONSET_DELTA
    )


def _split_repeats(
    runs: list[tuple[int, int, int]], peaks: np.ndarray, level_db: np.ndarray
) -> list[tuple[int, int, int]]:
    """Split a run where an onset comes with a fresh rise in level (a repeated note re-attacked)."""
    out: list[tuple[int, int, int]] = []
    for s, e, p in runs:
        bounds = [s]
        for k in peaks:
            if (
                bounds[-1] + MIN_NOTE_FRAMES <= k <= e - MIN_NOTE_FRAMES
                and _rise_db(level_db, int(k)) >= 4.0
                and _fall_db(level_db, bounds[-1], int(k)) >= 3.0
            ):
                bounds.append(int(k))
        bounds.append(e)
        out += [(a, b, p) for a, b in itertools.pairwise(bounds)]
    return out


def _fall_db(level_db: np.ndarray, start: int, k: int) -> float:
    """How far the level fell from its peak since `start` into the dip just before k (0 during an attack)."""
    lo = max(start, k - 4)
    dip = lo + int(np.argmin(level_db[lo : k + 1]))
    return float(level_db[start : dip + 1].max() - level_db[dip])


def _rise_db(level_db: np.ndarray, k: int) -> float:
    """How much louder the frames just after k are than the quietest just before it."""
    before = level_db[max(0, k - 4) : k + 1]
    after = level_db[k : k + 4]
    return float(after.max() - before.min()) if before.size and after.size else 0.0


def _corrected_starts(runs: list[tuple[int, int, int]], track: PitchTrack) -> list[int]:
    """Each run's start moved back to where its sound began: where its own pitch's harmonics rose,
    or where the level rose out of the dip before it when they did not rise clearly (a repeated
    pitch, a note whose harmonics the previous one shares). Legato notes have no level dip."""
    dips = _level_dip_starts([s for s, _, _ in runs], track.level_db)
    out: list[int] = []
    for i, ((start, _, pitch), dip) in enumerate(zip(runs, dips, strict=True)):
        row = pitch - track.min_pitch
        repeat = i > 0 and runs[i - 1][2] == pitch and runs[i - 1][1] >= start - 1
        rise = None
        if 0 <= row < track.salience.shape[0] and not repeat:  # a repeated pitch's harmonics never fell
            lo = max(0, start - ONSET_SEARCH_BACK - 2, runs[i - 1][0] + MIN_NOTE_FRAMES if i else 0)
            energy = track.salience_db[row, lo : start + 4]
            found = _rise_start(energy, start - lo)
            rise = None if found is None else lo + found
        best = dip if rise is None else rise
        out.append(max(best, out[-1] + MIN_NOTE_FRAMES if out else 0))
    return out


def _rise_start(energy_db: np.ndarray, start: int) -> int | None:
    """Index where `energy_db` has made PITCH_RISE_SHARE of its climb to its peak around `start`
    (2 frames before to 3 after) from its low before that; None unless it climbed PITCH_RISE_DB."""
    if start < 1 or energy_db.size < start + 1:
        return None
    top = max(0, start - 2) + int(np.argmax(energy_db[max(0, start - 2) : start + 4]))
    low = int(np.argmin(energy_db[: max(top, 1)]))
    if energy_db[top] - energy_db[low] < PITCH_RISE_DB:
        return None
    threshold = energy_db[low] + PITCH_RISE_SHARE * (energy_db[top] - energy_db[low])
    return low + int(np.flatnonzero(energy_db[low : top + 1] >= threshold)[0])


def _level_dip_starts(starts: list[int], level_db: np.ndarray) -> list[int]:
    """Each start moved back to where its sound began: the rise out of the level dip before the pitch.

    pYIN reports a pitch only once it is stable; the note began at the dip in level that precedes
    it (the previous note's release, or silence). Within ONSET_SEARCH_BACK frames (never before
    the previous note's start plus MIN_NOTE_FRAMES) the start becomes the last frame after the
    dip's lowest point whose level is still below halfway between that low point and the level at
    the pitch-track start: a shallow dip between legato notes and a jump out of silence alike.
    """
    out: list[int] = []
    for start in starts:
        lo = max(start - ONSET_SEARCH_BACK, out[-1] + MIN_NOTE_FRAMES if out else 0)
        window = level_db[lo : start + 1]
        if window.size < 2:
            out.append(start)
            continue
        low = int(np.argmin(window))
        halfway = window[low] + RISE_SHARE * (window[-1] - window[low])
        below = np.flatnonzero(window[low:] <= halfway)
        out.append(lo + low + int(below[-1]))
    return out
