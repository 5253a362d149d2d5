"""The one melody of a primer, for "write parts under my melody": a clear line or a clear reason why not."""

from __future__ import annotations

import numpy as np
import pretty_midi

from cadenza.errors import BadInput
from ingest.primer import MELODY_TRACK, Primer

MAX_OVERLAP_SHARE = 0.15  # a line whose notes overlap each other more than this is chords, not a melody


def melody_line(primer: Primer) -> pretty_midi.Instrument:
    """The primer's melody: a transcription's Melody track, or a MIDI file's single line.

    A MIDI file with several pitched tracks, or one track that plays chords, has no single melody
    to accompany: that is a BadInput that says what to upload instead.
    """
    pitched = [inst for inst in primer.score.instruments if not inst.is_drum and inst.notes]
    named = [inst for inst in pitched if inst.name == MELODY_TRACK]
    if named:
        return named[0]
    if not pitched:
        raise BadInput("I couldn't find a melody in that file: it has no notes I can use.")
    if len(pitched) > 1:
        raise BadInput(
            f"That MIDI file has {len(pitched)} parts playing at once; I need one melody line. "
            "Export just the melody track and try again."
        )
    line = pitched[0]
    if overlap_share(line.notes) > MAX_OVERLAP_SHARE:
        raise BadInput(
            "That MIDI file plays several notes at once (chords or overlapping melodies); "
            "I need a single melody line to write parts under."
        )
    return line


def overlap_share(notes: list[pretty_midi.Note]) -> float:
    """Share of notes that start while an earlier note is still sounding (beyond a short legato)."""
    if len(notes) < 2:
        return 0.0
    arr = np.array(sorted((n.start, n.end) for n in notes))
    running_end = np.maximum.accumulate(arr[:-1, 1])
    overlapping = arr[1:, 0] < running_end - 0.05
    return float(overlapping.mean())
