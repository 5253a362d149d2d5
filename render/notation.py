"""Notes (ticks) to written music: a music21 score with key, metre, tempo, named parts, clefs, ties, rests.

Onsets and ends snap to a grid (sixteenths and triplet eighths by default); each part is then cut at
every onset and release into notes, chords and rests, with ties where a note sounds across a cut, and
music21 spells what is left (barlines, ties across them, beams, accidentals). Pitches are spelled in
the key (flats in flat keys, the leading tone raised in minor). Every part ends on the same full bar.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import music21
import numpy as np
import symusic

from cadenza.errors import TooLong
from cadenza.theory import Key
from render.score_parts import Clef, ScorePart

log = logging.getLogger(__name__)

# Tonic names per pitch class with the fewer accidentals (Db major, not C# major; F# minor, not Gb minor).
MAJOR_TONICS = ("C", "D-", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
MINOR_TONICS = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")
CLEFS = {
    Clef.TREBLE: music21.clef.TrebleClef,
    Clef.TREBLE_8VB: music21.clef.Treble8vbClef,
    Clef.BASS: music21.clef.BassClef,
}


@dataclass(frozen=True)
class Metre:
    """A time signature from a quarter-note offset on."""

    offset: Fraction
    numerator: int
    denominator: int

    @property
    def bar(self) -> Fraction:
        """Quarter notes in one bar."""
        return Fraction(4 * self.numerator, self.denominator)


def music21_key(key: Key) -> music21.key.Key:
    """Our Key as music21's, its tonic spelled with the fewer accidentals."""
    tonic = (MINOR_TONICS if key.mode == "minor" else MAJOR_TONICS)[key.tonic]
    return music21.key.Key(tonic, key.mode)


def snap(ticks: int, tpq: int, divisions: Sequence[int]) -> Fraction:
    """`ticks` in quarter notes, on the nearest point of any grid 1/d (d in divisions; ties go to the first)."""
    q = Fraction(int(ticks), tpq)
    return min((Fraction(round(q * d), d) for d in divisions), key=lambda c: abs(c - q))


def metres(score: symusic.Score, divisions: Sequence[int]) -> list[Metre]:
    """The time signatures in quarter notes; a change that does not fall on a barline is ignored."""
    tpq = score.ticks_per_quarter
    out: list[Metre] = []
    for ts in sorted(score.time_signatures, key=lambda t: t.time):
        m = Metre(snap(ts.time, tpq, divisions), int(ts.numerator), int(ts.denominator))
        if not out:
            out.append(Metre(Fraction(0), m.numerator, m.denominator))
        elif m.offset == out[-1].offset:
            out[-1] = m  # two signatures at one time: the later one stands
        elif (m.numerator, m.denominator) == (out[-1].numerator, out[-1].denominator):
            continue  # a repeated signature changes nothing
        elif (m.offset - out[-1].offset) % out[-1].bar == 0:
            out.append(m)  # 6/8 to 3/4 is a change too, though the bar lasts as long
        else:
            log.debug(
                "time signature %d/%d off the barline at %s ignored", m.numerator, m.denominator, m.offset
            )
    return out or [Metre(Fraction(0), 4, 4)]


def bar_end(end: Fraction, changes: Sequence[Metre]) -> tuple[Fraction, int]:
    """The first barline at or after `end` (at least one bar), and how many bars that makes."""
    bars, offset = 0, Fraction(0)
    for i, m in enumerate(changes):
        stop = changes[i + 1].offset if i + 1 < len(changes) else None
        if stop is None or end <= stop:
            n = max(math.ceil((end - m.offset) / m.bar), 1 if bars == 0 else 0)
            return m.offset + n * m.bar, bars + n
        bars += int((stop - m.offset) / m.bar)
        offset = stop
    return offset, bars


def spelling(key: music21.key.Key) -> dict[int, str]:
    """Each pitch class's name in `key`: the scale's names, the raised 6th and 7th in minor, else sharps
    in sharp keys and flats in flat keys (music21's own choice in C major and A minor)."""
    names = {p.pitchClass: p.name for p in key.getPitches()}
    if key.mode == "minor":
        for interval in ("M6", "M7"):
            raised = key.tonic.transpose(interval)
            names.setdefault(raised.pitchClass, raised.name)
    for pc in range(12):
        if pc not in names:
            plain = music21.pitch.Pitch(midi=60 + pc)  # music21's own choice: C#, E-, F#, G#, B-
            wrong_side = ("-" in plain.name and key.sharps > 0) or ("#" in plain.name and key.sharps < 0)
            other = plain.getEnharmonic() if wrong_side else None
            names[pc] = other.name if other is not None else plain.name
    return names


def spell(pitch: int, names: dict[int, str]) -> music21.pitch.Pitch:
    """MIDI `pitch` as a music21 Pitch named from a `spelling` table, in the right octave."""
    out = music21.pitch.Pitch(names[pitch % 12])
    out.octave = 4
    out.octave += (pitch - int(out.midi)) // 12
    return out


def part_events(
    notes: np.ndarray, tpq: int, divisions: Sequence[int], end: Fraction, key: music21.key.Key
) -> list[music21.note.GeneralNote]:
    """A part's (N, 3) tick notes as back-to-back notes, chords and rests up to `end`, tied across cuts."""
    snapped = sorted(_legato_trimmed(notes, tpq, divisions))
    cuts = sorted({Fraction(0), end, *(a for a, _, _ in snapped), *(b for _, b, _ in snapped)})
    cuts = [c for c in cuts if c <= end]
    names = spelling(key)
    events: list[music21.note.GeneralNote] = []
    active: list[tuple[Fraction, Fraction, int]] = []
    following = 0  # the next note (by start) not yet sounding
    for a, b in itertools.pairwise(cuts):
        while following < len(snapped) and snapped[following][0] <= a:
            active.append(snapped[following])
            following += 1
        active = [n for n in active if n[1] > a]
        sounding = {p: (s < a, e > b) for s, e, p in active}
        events.append(_event(sounding, b - a, names))
    return events


def _legato_trimmed(
    notes: np.ndarray, tpq: int, divisions: Sequence[int]
) -> list[tuple[Fraction, Fraction, int]]:
    """Snapped (start, end, pitch); a note overlapping the next onset by at most a sixteenth ends there.

    Played legato or grace-note overlaps would otherwise be written as chords of tied slivers.
    """
    step = Fraction(1, max(divisions))
    out = []
    onsets = sorted({snap(s, tpq, divisions) for s in notes[:, 0].tolist()})
    for start, stop, pitch in notes.tolist():
        a, b = snap(start, tpq, divisions), snap(stop, tpq, divisions)
        lo, hi = bisect.bisect_right(onsets, a), bisect.bisect_left(onsets, b)
        if hi - lo == 1 and b - onsets[lo] <= Fraction(1, 4):  # only the next onset falls inside
            b = onsets[lo]
        out.append((a, max(b, a + step), int(pitch)))
    return out


def _event(
    sounding: dict[int, tuple[bool, bool]], length: Fraction, names: dict[int, str]
) -> music21.note.GeneralNote:
    """A rest, note or chord of `length`; each pitch tied from before and/or into what follows."""
    if not sounding:
        return music21.note.Rest(quarterLength=length)
    pitches = sorted(sounding)
    event: music21.note.NotRest
    if len(pitches) == 1:
        event = music21.note.Note(spell(pitches[0], names), quarterLength=length)
        notes = [event]
    else:
        event = music21.chord.Chord([spell(p, names) for p in pitches], quarterLength=length)
        notes = list(event.notes)
    for p, note in zip(pitches, notes, strict=True):
        before, after = sounding[p]
        if before or after:
            note.tie = music21.tie.Tie("continue" if before and after else "stop" if before else "start")
    return event


def check_length(bars: int, limit: int) -> None:
    """TooLong when a score would run past `limit` bars."""
    if bars > limit:
        raise TooLong(f"the piece has {bars} bars; sheet music is written for at most {limit}")


def build_part(
    part: ScorePart, events: Sequence[music21.note.GeneralNote], head: Sequence[music21.base.Music21Object]
) -> music21.stream.Part:
    """A music21 Part of `events` with its instrument, clef and the shared `head` (key, metre, tempo)."""
    out = music21.stream.Part()
    inst = music21.instrument.instrumentFromMidiProgram(part.voice.program)
    inst.partName, inst.partAbbreviation = part.name, part.abbreviation
    inst.instrumentName, inst.instrumentAbbreviation = part.name, part.abbreviation
    out.partName, out.partAbbreviation = part.name, part.abbreviation
    out.insert(0, inst)
    out.insert(0, CLEFS[part.clef]())
    for element in head:
        out.insert(element.offset, element)
    offset = Fraction(0)
    for event in events:
        out.insert(offset, event)
        offset += Fraction(event.quarterLength)
    return out
