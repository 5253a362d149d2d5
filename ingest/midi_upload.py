"""MIDI uploads: bounded scan, parse, drop what the model cannot use, trim to the primer length."""

from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import pretty_midi

from cadenza.errors import BadInput
from cadenza.theory import Key, estimate_key, pitch_class_histogram
from ingest.midi_scan import scan_midi
from ingest.primer import Primer
from ingest.settings import IngestSettings
from ingest.sniff import UploadKind

log = logging.getLogger(__name__)


def read_midi(data: bytes, settings: IngestSettings) -> Primer:
    """A primer from MIDI bytes: limits checked before parsing, drums dropped, trimmed to max_seconds."""
    facts = scan_midi(data, settings)
    score = _parse(data)
    remarks: list[str] = []
    drums = [inst for inst in score.instruments if inst.is_drum and inst.notes]
    # The tokenizer is melodic-only (no drum programs), so drum tracks would be noise to it.
    score.instruments = [inst for inst in score.instruments if not inst.is_drum and inst.notes]
    if drums:
        remarks.append(f"dropped {len(drums)} drum track{'s' if len(drums) > 1 else ''}")
    if not score.instruments:
        raise BadInput("That MIDI file has no notes I can use." + (" (It only has drums.)" if drums else ""))
    if facts.seconds > settings.max_seconds:
        _trim(score, settings.max_seconds)
        remarks.append(f"used the first {settings.max_seconds:g} s")
    return Primer(
        kind=UploadKind.MIDI,
        score=score,
        tempo_bpm=_first_tempo(score),
        key=_key(score),
        beats_per_bar=score.time_signature_changes[0].numerator if score.time_signature_changes else 4,
        confidence=1.0,
        duration_s=min(score.get_end_time(), settings.max_seconds),
        notes=tuple(remarks),
    )


def _parse(data: bytes) -> pretty_midi.PrettyMIDI:
    """pretty_midi on bytes the scan has approved; its many exception types become one BadInput."""
    try:
        with warnings.catch_warnings():
            # Tempo events on non-zero tracks are common in the wild and harmless for us.
            warnings.simplefilter("ignore", RuntimeWarning)
            return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        log.info("MIDI parse failed after a clean scan: %r", e)
        raise BadInput("That MIDI file is damaged; I couldn't read its notes.") from e


def _trim(score: pretty_midi.PrettyMIDI, seconds: float) -> None:
    """Keep notes starting before `seconds`, cut at `seconds`; controls and bends likewise."""
    for inst in score.instruments:
        inst.notes = [n for n in inst.notes if n.start < seconds]
        for n in inst.notes:
            n.end = min(n.end, seconds)
        inst.control_changes = [c for c in inst.control_changes if c.time < seconds]
        inst.pitch_bends = [b for b in inst.pitch_bends if b.time < seconds]
    score.instruments = [inst for inst in score.instruments if inst.notes]


def _first_tempo(score: pretty_midi.PrettyMIDI) -> float:
    _, tempi = score.get_tempo_changes()
    return float(tempi[0]) if len(tempi) else 120.0


def _key(score: pretty_midi.PrettyMIDI) -> Key:
    """The declared key signature if any, else a key-profile estimate from note durations."""
    if score.key_signature_changes:
        number = score.key_signature_changes[0].key_number  # 0-11 major, 12-23 minor
        return Key(number % 12, "minor" if number >= 12 else "major")
    notes = [n for inst in score.instruments for n in inst.notes]
    pitches = np.array([n.pitch for n in notes])
    durations = np.array([n.end - n.start for n in notes])
    return estimate_key(pitch_class_histogram(pitches, durations))
