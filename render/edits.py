"""Score edits: MIDI to bytes, a piece's own material (cut), and parts joined end to end with crossfades.

Every turn stores only its *own* material (a continuation without the bars it continued), starting
at time 0, so the mix of a path is the turns' MIDI laid end to end, each overlapping the one before
by a crossfade. Pure functions on pretty_midi scores: no Discord, no database. Sessions use all of
this; the pipeline uses `midi_to_bytes`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import pretty_midi

from render.piece import midi_from_bytes

MIN_FADE_VELOCITY = 0.25  # a crossfade's quietest note keeps a quarter of its loudness (still audible)
MARKER_PREFIX = "turn "  # text events "turn 3" mark where each turn's part starts in a mix


def midi_to_bytes(score: pretty_midi.PrettyMIDI) -> bytes:
    """A score as standard MIDI file bytes (the inverse of `render.piece.midi_from_bytes`)."""
    buffer = io.BytesIO()
    score.write(buffer)
    return buffer.getvalue()


def first_tempo(score: pretty_midi.PrettyMIDI) -> float:
    """The score's opening tempo (120 when it states none)."""
    _, tempi = score.get_tempo_changes()
    return float(tempi[0]) if len(tempi) else 120.0


def segment(
    score: pretty_midi.PrettyMIDI, start_s: float, end_s: float | None = None
) -> pretty_midi.PrettyMIDI:
    """The notes starting in [start_s, end_s), moved to start at 0, cut at end_s; tracks kept."""
    end = float("inf") if end_s is None else end_s
    out = pretty_midi.PrettyMIDI(initial_tempo=first_tempo(score))
    for inst in score.instruments:
        notes = [
            pretty_midi.Note(n.velocity, n.pitch, n.start - start_s, min(n.end, end) - start_s)
            for n in inst.notes
            if start_s - 1e-6 <= n.start < end - 0.02
        ]
        if notes:
            copy = pretty_midi.Instrument(inst.program, is_drum=inst.is_drum, name=inst.name)
            copy.notes = notes
            out.instruments.append(copy)
    return out


def own_material(midi: bytes, from_s: float, seconds: float | None) -> bytes:
    """A composed piece's new part: from `from_s` (where the primer ended) for `seconds`, at time 0."""
    score = midi_from_bytes(midi)
    end = None if seconds is None else from_s + seconds
    return midi_to_bytes(segment(score, from_s, end))


def trim_at(score: pretty_midi.PrettyMIDI, end_s: float) -> None:
    """Cut a score at end_s: later notes go, notes sounding at end_s stop there (render fades out).

    A piece whose every note starts after end_s (a sparse opening in its last bar) is left whole:
    a slightly long piece beats a silent one.
    """
    if not any(n.start < end_s - 0.05 for inst in score.instruments for n in inst.notes):
        return
    for inst in score.instruments:
        inst.notes = [n for n in inst.notes if n.start < end_s - 0.05]
        for n in inst.notes:
            n.end = min(n.end, end_s)


def length_s(score: pretty_midi.PrettyMIDI) -> float:
    """Where the last note ends (a part's length in a mix).

    Not `get_end_time()`: that also counts tempo, signature, controller and text events, which a
    piece may carry past its last note and which a mix does not copy.
    """
    return max((n.end for inst in score.instruments for n in inst.notes), default=0.0)


@dataclass(frozen=True)
class Part:
    """One turn's material in a mix."""

    number: int  # the turn's number in its session
    midi: bytes


@dataclass(frozen=True)
class JoinedParts:
    """A mix: the joined score and where each part starts in it."""

    score: pretty_midi.PrettyMIDI
    starts: tuple[float, ...]
    lengths: tuple[float, ...]
    crossfade_s: float


def join_parts(parts: Sequence[Part], crossfade_s: float) -> JoinedParts:
    """Lay parts end to end, each overlapping the previous by `crossfade_s` with velocity fades.

    The overlap shrinks to half the shorter part when parts are very short, so no part disappears.
    A text event "turn N" marks each part's start.
    """
    if not parts:
        raise ValueError("a mix needs at least one part")
    scores = [midi_from_bytes(p.midi) for p in parts]
    lengths = tuple(length_s(s) for s in scores)
    shortest = min(lengths)
    fade = max(0.0, min(crossfade_s, shortest / 2)) if len(parts) > 1 else 0.0
    out = pretty_midi.PrettyMIDI(initial_tempo=first_tempo(scores[0]))
    tracks: dict[tuple[int, bool], pretty_midi.Instrument] = {}
    starts: list[float] = []
    offset = 0.0
    for i, (part, score) in enumerate(zip(parts, scores, strict=True)):
        starts.append(offset)
        fade_in = fade if i > 0 else 0.0
        fade_out = fade if i < len(parts) - 1 else 0.0
        for inst in score.instruments:
            track = tracks.get((inst.program, inst.is_drum))
            if track is None:
                track = tracks[(inst.program, inst.is_drum)] = pretty_midi.Instrument(
                    inst.program, is_drum=inst.is_drum, name=inst.name
                )
            for n in inst.notes:
                gain = _fade_gain(n.start, lengths[i], fade_in, fade_out)
                velocity = max(1, min(127, round(n.velocity * gain)))
                track.notes.append(pretty_midi.Note(velocity, n.pitch, n.start + offset, n.end + offset))
        out.text_events.append(pretty_midi.Text(f"{MARKER_PREFIX}{part.number}", offset))
        offset += lengths[i] - fade_out
    out.instruments = list(tracks.values())
    for track in out.instruments:
        track.notes.sort(key=lambda n: (n.start, n.pitch))
    return JoinedParts(out, tuple(starts), lengths, fade)


def _fade_gain(start: float, length: float, fade_in: float, fade_out: float) -> float:
    """Velocity factor of a note starting at `start` in a part: ramps up at the head, down at the tail."""
    gain = 1.0
    if fade_in > 0 and start < fade_in:
        gain = min(gain, MIN_FADE_VELOCITY + (1 - MIN_FADE_VELOCITY) * start / fade_in)
    if fade_out > 0 and start > length - fade_out:
        gain = min(gain, MIN_FADE_VELOCITY + (1 - MIN_FADE_VELOCITY) * (length - start) / fade_out)
    return gain


def markers(score: pretty_midi.PrettyMIDI) -> list[tuple[int, float]]:
    """The (turn number, start) marks of a mix, in time order."""
    found = []
    for event in score.text_events:
        if event.text.startswith(MARKER_PREFIX) and event.text[len(MARKER_PREFIX) :].isdigit():
            found.append((int(event.text[len(MARKER_PREFIX) :]), float(event.time)))
    return sorted(found, key=lambda mark: mark[1])
