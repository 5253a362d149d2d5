"""Small scores written inline for the render tests: known notes, known answers."""

from __future__ import annotations

import numpy as np
import pretty_midi

# A four-part progression in C major (soprano, alto, tenor, bass) as (pitch per voice) per beat.
CHORALE = [
    (72, 67, 64, 48),
    (71, 67, 62, 55),
    (72, 64, 60, 57),
    (74, 65, 62, 53),
    (76, 67, 60, 48),
    (74, 65, 62, 55),
    (72, 64, 55, 48),
    (71, 62, 55, 43),
]


def single_track_chorale(
    seconds: float = 10.0, tempo: float = 120.0, velocity: int = 90
) -> pretty_midi.PrettyMIDI:
    """The progression repeated for `seconds`, all voices merged in one track with one velocity (model output)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(0, name="")
    beat = 60.0 / tempo
    for i in range(round(seconds / beat)):
        for pitch in CHORALE[i % len(CHORALE)]:
            inst.notes.append(pretty_midi.Note(velocity, pitch, i * beat, (i + 1) * beat))
    pm.instruments.append(inst)
    return pm


def multi_track_chorale(
    seconds: float = 8.0, tempo: float = 120.0, drums: bool = False
) -> pretty_midi.PrettyMIDI:
    """The progression with one track per voice, in a shuffled track order (bass first), optional drums."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    beat = 60.0 / tempo
    beats = round(seconds / beat)
    for voice, name in ((3, "bass"), (1, "alto"), (0, "soprano"), (2, "tenor")):
        inst = pretty_midi.Instrument(0, name=name)
        for i in range(beats):
            inst.notes.append(
                pretty_midi.Note(80, CHORALE[i % len(CHORALE)][voice], i * beat, (i + 1) * beat)
            )
        pm.instruments.append(inst)
    if drums:
        kit = pretty_midi.Instrument(0, is_drum=True, name="kit")
        kit.notes = [pretty_midi.Note(100, 36, i * beat, i * beat + 0.1) for i in range(beats)]
        pm.instruments.append(kit)
    return pm


def one_note(
    pitch: int = 69, start: float = 0.0, end: float = 2.0, velocity: int = 100
) -> pretty_midi.PrettyMIDI:
    """A single note (A4 by default)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes.append(pretty_midi.Note(velocity, pitch, start, end))
    pm.instruments.append(inst)
    return pm


def fundamental_hz(audio: np.ndarray, rate: int) -> float:
    """The strongest spectral peak below 2 kHz, refined by parabolic interpolation."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    n = len(mono)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(n), n * 4))
    freqs = np.fft.rfftfreq(n * 4, 1 / rate)
    band = (freqs > 50) & (freqs < 2000)
    k = int(np.flatnonzero(band)[0] + np.argmax(spectrum[band]))
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float(freqs[k] + shift * (freqs[1] - freqs[0]))


def spectral_centroid(audio: np.ndarray, rate: int) -> float:
    """Magnitude-weighted mean frequency of the whole signal."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    spectrum = np.abs(np.fft.rfft(mono))
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    return float((spectrum * freqs).sum() / spectrum.sum())
