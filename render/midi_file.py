"""`piece.mid`: a MIDI file that opens cleanly in a score editor or a DAW.

Type 1: a conductor track named with the title (tempo, time and key signatures, a line saying who
made it), then one named track per part on its own channel with its instrument's program, the
preset's volume, pan and reverb, and velocities that keep the melody on top, as the audio does;
drum tracks, which have no staff, follow on channel 10.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import mido
import numpy as np
import pretty_midi
import symusic

from cadenza.theory import Key
from render.notation import music21_key
from render.presets import Preset, Role
from render.score_parts import ScorePart
from render.voicing import DRUM_CHANNEL

MELODIC_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)


def key_name(key: Key) -> str:
    """The key as a MIDI key-signature name: 'Bb', 'F#m', 'Eb' (flats and sharps as the key spells them)."""
    tonic = music21_key(key).tonic.name.replace("-", "b")
    return tonic + ("m" if key.mode == "minor" else "")


def conductor_track(score: symusic.Score, title: str, key: Key, credit: str) -> mido.MidiTrack:
    """Track 0: the title, a credit line, key signature, every time signature and tempo, in time order."""
    events: list[tuple[int, int, mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=title)),
        # A copyright event, not a text one: editors show it in the footer, where MuseScore would put a
        # text event on the first note as staff text.
        (0, 1, mido.MetaMessage("copyright", text=credit)),
        (0, 2, mido.MetaMessage("key_signature", key=key_name(key))),
    ]
    signatures = list(score.time_signatures) or [symusic.TimeSignature(0, 4, 4)]
    for ts in signatures:
        meta = mido.MetaMessage(
            "time_signature", numerator=int(ts.numerator), denominator=int(ts.denominator)
        )
        events.append((int(ts.time), 3, meta))
    for tempo in list(score.tempos) or [symusic.Tempo(0, 120.0)]:
        events.append(
            (int(tempo.time), 4, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(float(tempo.qpm))))
        )
    return _track(events)


def part_track(part: ScorePart, channel: int, velocity: int) -> mido.MidiTrack:
    """One part: its name, its instrument (name, program, mixer), then its notes."""
    v = part.voice
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=part.name)),
        (0, 1, mido.MetaMessage("instrument_name", name=pretty_midi.program_to_instrument_name(v.program))),
        (0, 2, mido.Message("program_change", channel=channel, program=v.program)),
    ]
    for control, value in ((7, v.volume), (10, v.pan), (91, v.reverb), (93, v.chorus)):
        events.append((0, 3, mido.Message("control_change", channel=channel, control=control, value=value)))
    for start, end, pitch in part.notes.tolist():
        events.append(
            (int(start), 5, mido.Message("note_on", channel=channel, note=int(pitch), velocity=velocity))
        )
        # A note's release sorts before a new attack at the same tick, so repeated notes are not cut off.
        events.append((int(end), 4, mido.Message("note_off", channel=channel, note=int(pitch), velocity=0)))
    return _track(events)


def drum_track(notes: np.ndarray, velocity: int) -> mido.MidiTrack:
    """A drum part on General MIDI's percussion channel (10), named so editors label it."""
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name="Drums")),
        (0, 1, mido.Message("program_change", channel=DRUM_CHANNEL, program=0)),  # the standard kit
    ]
    for start, end, pitch in notes.tolist():
        events.append(
            (int(start), 5, mido.Message("note_on", channel=DRUM_CHANNEL, note=int(pitch), velocity=velocity))
        )
        events.append(
            (int(end), 4, mido.Message("note_off", channel=DRUM_CHANNEL, note=int(pitch), velocity=0))
        )
    return _track(events)


def _track(events: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """Absolute-tick events (tick, order at that tick, message) as a track with delta times."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def piece_midi(
    score: symusic.Score,
    parts: Sequence[ScorePart],
    preset: Preset,
    title: str,
    key: Key,
    credit: str,
    drums: Sequence[np.ndarray] = (),
) -> bytes:
    """The MIDI file bytes of `parts` (from render.score_parts), then `drums`, with the score's tempo and metre."""
    midi = mido.MidiFile(type=1, ticks_per_beat=int(score.ticks_per_quarter))
    midi.tracks.append(conductor_track(score, title, key, credit))
    for i, part in enumerate(parts):
        channel = MELODIC_CHANNELS[i % len(MELODIC_CHANNELS)]
        midi.tracks.append(part_track(part, channel, preset.velocity[part.role]))
    for notes in drums:
        midi.tracks.append(drum_track(notes, preset.velocity[Role.DRUMS]))
    buf = io.BytesIO()
    midi.save(file=buf)
    return buf.getvalue()
