"""What ingest hands the rest of Cadenza: a score to continue, with what we know about it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from cadenza.theory import Key
from ingest.sniff import UploadKind

MELODY_TRACK = "Melody"  # instrument names in primers transcribed from audio
CHORD_TRACK = "Chords"


@dataclass(frozen=True)
class Primer:
    """An upload turned into music: the score plus tempo, key, meter and how sure we are.

    For audio, `score` has a "Melody" and a "Chords" instrument, quantised to the beat grid, with
    score time 0 at `offset_s` seconds into the clip; `audio` is the decoded clip (mono float32 at
    `sample_rate`) for crossfading. For MIDI, `score` is the cleaned file and `audio` is None.
    """

    kind: UploadKind
    score: pretty_midi.PrettyMIDI
    tempo_bpm: float  # quarter notes per minute
    key: Key
    beats_per_bar: int
    confidence: float  # 0-1; MIDI is 1.0
    duration_s: float  # length of the material used (after trimming)
    audio: np.ndarray | None = field(default=None, repr=False)
    sample_rate: int | None = None
    offset_s: float = 0.0  # clip time of score time 0 (the first beat on or before the first note)
    chords: tuple[str, ...] = ()  # one chord name per bar, e.g. ("G", "Em", "C", "D")
    notes: tuple[str, ...] = ()  # user-facing remarks: "dropped 1 drum track", "used the first 30 s"

    @property
    def is_audio(self) -> bool:
        """True when the primer was transcribed from a clip."""
        return self.audio is not None
