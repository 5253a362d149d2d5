"""Music theory shared by every package: pitch names and key estimation by key profiles.

Key estimation follows Krumhansl-Schmuckler with the Temperley (Kostka-Payne) profiles, which are
more reliable than Krumhansl's originals on tonal melodies: correlate a 12-bin pitch-class
weight vector with each of the 24 rotated profiles and pick the best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Temperley's (2001) Kostka-Payne key profiles, index 0 = tonic.
MAJOR_PROFILE = np.array([0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400])
MINOR_PROFILE = np.array([0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330])

# The 24 keys in a fixed order: C major .. B major, then C minor .. B minor.
KEY_NAMES = tuple(f"{n} major" for n in PITCH_NAMES) + tuple(f"{n} minor" for n in PITCH_NAMES)


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class (0 = C) and mode, with the correlation that chose it."""

    tonic: int
    mode: str  # "major" or "minor"
    confidence: float = 1.0  # Pearson correlation with the winning profile, in [-1, 1]

    @property
    def name(self) -> str:
        """Human name, e.g. 'F# minor'."""
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def index(self) -> int:
        """Position in KEY_NAMES (0-23)."""
        return self.tonic + (12 if self.mode == "minor" else 0)


def parse_key(text: str) -> Key:
    """Parse 'C major', 'f# minor', 'Bbm', 'A' (major) into a Key; raises ValueError with the accepted forms."""
    t = text.strip().replace("♯", "#").replace("♭", "b")
    mode = "major"
    low = t.lower()
    for suffix, m in (
        (" major", "major"),
        (" minor", "minor"),
        ("maj", "major"),
        ("min", "minor"),
        ("m", "minor"),
    ):
        if low.endswith(suffix) and len(t) > len(suffix):
            t, mode = t[: -len(suffix)].strip(), m
            break
    aliases = {
        "C#": 1,
        "Db": 1,
        "D#": 3,
        "Eb": 3,
        "Gb": 6,
        "F#": 6,
        "G#": 8,
        "Ab": 8,
        "A#": 10,
        "Bb": 10,
        "Cb": 11,
        "E#": 5,
        "Fb": 4,
        "B#": 0,
    }
    name = t[:1].upper() + t[1:]
    if name in PITCH_NAMES:
        return Key(PITCH_NAMES.index(name), mode)
    if name in aliases:
        return Key(aliases[name], mode)
    raise ValueError(f"unknown key {text!r}: use a note name and mode, like 'D minor', 'Bb major' or 'F#m'")


def estimate_key(pitch_class_weights: np.ndarray) -> Key:
    """Best of the 24 keys for a 12-bin pitch-class weight vector (durations or chroma energy)."""
    w = np.asarray(pitch_class_weights, dtype=np.float64)
    if w.shape != (12,) or not np.isfinite(w).all() or w.sum() <= 0 or np.ptp(w) == 0:
        return Key(0, "major", 0.0)
    best = Key(0, "major", -2.0)
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(w, np.roll(profile, tonic))[0, 1])
            if r > best.confidence:
                best = Key(tonic, mode, r)
    return best


def pitch_class_histogram(pitches: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram of notes (MIDI pitches, durations in any unit)."""
    hist = np.zeros(12)
    np.add.at(hist, np.asarray(pitches, dtype=np.int64) % 12, np.asarray(durations, dtype=np.float64))
    return hist


def note_name(pitch: int) -> str:
    """MIDI pitch to scientific name: 60 -> 'C4'."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"
