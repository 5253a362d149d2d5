"""A piece's parts as a score shows them: which notes, which instrument, what name, which clef.

A v2 piece has a track per part (track i is part i, its program the part's index; highest part first).
A v1 piece is one merged stream: it is split by the skyline rule (melody, inner voices, bass) as the
renderer does. Each part gets the instrument the sound preset gives its role, so the sheet music, the
MIDI file and the audio agree. Drum tracks have no place on the staves and are left out.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pretty_midi
import symusic

from cadenza.errors import BadInput
from render.presets import Preset, Role, Voice
from render.voicing import split_inner, split_skyline

YOURS = " (yours)"  # after the name of a member's own part, as on the piano roll
POLYPHONY_SHARE = 0.1  # a single track with this share of notes under held ones is split into voices
# Names converters give parts they know nothing about; such a part is named by its instrument instead.
PLACEHOLDER_NAME = re.compile(
    r"^((musicxml )?part|track|staff|instrument|spine)[ _-]*\d*$|^p\d+$", re.IGNORECASE
)


class Clef(enum.Enum):
    """The clefs a part may get, by its range."""

    TREBLE = "treble"
    TREBLE_8VB = "treble-8vb"  # the tenor's clef: treble, sounding an octave lower
    BASS = "bass"


@dataclass(frozen=True)
class ClefRule:
    """Which clef a part gets from its duration-weighted mean pitch (MIDI numbers)."""

    # Measured on the corpus: altos and sopranos 64-72, tenors 59-62, violas 60, basses and cellos 50-54.
    treble_from: float = 63.0  # mean pitch from E-flat 4 up: treble clef
    tenor_from: float = (
        56.0  # mean from A-flat 3 up to treble_from: treble-8vb (a tenor's range); below: bass
    )

    def clef(self, notes: np.ndarray) -> Clef:
        """The clef for (N, 3) notes: start, end, pitch."""
        weights = np.maximum(notes[:, 1] - notes[:, 0], 1)
        mean = float(np.average(notes[:, 2], weights=weights))
        if mean >= self.treble_from:
            return Clef.TREBLE
        return Clef.TREBLE_8VB if mean >= self.tenor_from else Clef.BASS


@dataclass(frozen=True)
class ScorePart:
    """One staff: its name, its instrument, its clef and its notes in ticks."""

    name: str
    abbreviation: str
    role: Role  # the top part is the melody, the lowest the bass (as the renderer voices them)
    voice: Voice  # the preset's instrument for this part (program, volume, pan)
    clef: Clef
    notes: np.ndarray  # (N, 3) int64: start tick, end tick, pitch; sorted by start, then pitch down


def score_parts(
    score: symusic.Score, preset: Preset, rule: ClefRule | None = None, yours: Collection[int] = ()
) -> tuple[ScorePart, ...]:
    """The staves of `score` (ticks) voiced by `preset`; BadInput when it has no pitched notes.

    `yours` are indices into `score.tracks` of the member's own parts: their staves say "(yours)".
    """
    lines = _note_lines(score, len(preset.inner), set(yours))
    if not lines:
        raise BadInput("the piece has no notes to write down")
    rule = rule or ClefRule()
    roles = [_role(i, len(lines)) for i in range(len(lines))]
    voices = _voices(roles, preset)
    names = [
        name + (YOURS if own else "")
        for name, (_, _, own) in zip(_names([name for name, _, _ in lines], voices), lines, strict=True)
    ]
    short = [_abbreviate(n) for n in names]
    if len(set(short)) < len(short):  # Violin and Viola would both be "Vio.": keep the full names
        short = names
    return tuple(
        ScorePart(name, abbreviation, role, voice, rule.clef(notes), notes)
        for (_, notes, _), role, voice, name, abbreviation in zip(
            lines, roles, voices, names, short, strict=True
        )
    )


def _note_lines(score: symusic.Score, inner_ways: int, yours: set[int]) -> list[tuple[str, np.ndarray, bool]]:
    """(track name, notes, the member's own) per part, highest part first.

    One merged track is split as the renderer voices it: melody, inner and bass by the skyline, the
    inner voices shared among the preset's `inner_ways` instruments (so a v1 chorale gets four staves).
    """
    pitched = [(i, t) for i, t in enumerate(score.tracks) if not t.is_drum and len(t.notes)]
    arrays = [(_own_name(t), _notes(t), i in yours) for i, t in pitched]
    arrays = [line for line in arrays if len(line[1])]
    if len(arrays) == 1 and _overlaps(arrays[0][1], score.ticks_per_quarter):
        melody, inner, bass = split_skyline(_with_velocity(arrays[0][1]))
        lines = [melody, *split_inner(inner, inner_ways), bass]
        return [("", line[:, :3].astype(np.int64), arrays[0][2]) for line in lines if len(line)]
    if all(t.program == i for i, t in pitched):
        return arrays  # the model's own part order (v2): part i is track i (a silent part's track is empty)
    return sorted(arrays, key=lambda line: -float(line[1][:, 2].mean()))


def drum_notes(score: symusic.Score) -> list[np.ndarray]:
    """The (N, 3) notes of each drum track with notes: no staff shows them, piece.mid keeps them."""
    return [notes for t in score.tracks if t.is_drum and len(notes := _notes(t))]


def _own_name(track: symusic.Track) -> str:
    """The track's name when it names the part; "" for placeholders and the name of its MIDI program.

    Exporters name tracks "Part 1" or after their program ("Acoustic Grand Piano" for the model's
    program 0); the part's instrument comes from the sound preset, so such names would mislead.
    """
    name = track.name.strip()
    program = pretty_midi.program_to_instrument_name(int(track.program))
    return "" if PLACEHOLDER_NAME.match(name) or name.lower() == program.lower() else name


def _notes(track: symusic.Track) -> np.ndarray:
    arr = np.array([(n.time, n.time + n.duration, n.pitch) for n in track.notes], dtype=np.int64)
    arr = arr.reshape(-1, 3)
    arr = arr[arr[:, 1] > arr[:, 0]]
    return arr[np.lexsort((-arr[:, 2], arr[:, 0]))]


def _overlaps(notes: np.ndarray, tpq: int) -> bool:
    """Whether a line is polyphonic: a tenth of its notes start under a note held on past a sixteenth."""
    if len(notes) < 2:
        return False
    held_until = np.maximum.accumulate(notes[:-1, 1])
    covered = notes[1:, 0] < held_until - tpq // 4
    return bool(covered.mean() >= POLYPHONY_SHARE)


def _with_velocity(notes: np.ndarray) -> np.ndarray:
    out = np.zeros((len(notes), 4), dtype=np.float64)
    out[:, :3] = notes
    return out


def _role(index: int, count: int) -> Role:
    """The top part is the melody, the lowest the bass (a lone part is the melody), the rest inner."""
    if index == 0:
        return Role.MELODY
    return Role.BASS if index == count - 1 else Role.INNER


def _voices(roles: list[Role], preset: Preset) -> list[Voice]:
    """The preset's first instrument for each role; inner parts take the inner instruments in turn."""
    inner = iter(range(len(roles)))
    return [
        preset.inner[next(inner) % len(preset.inner)] if role is Role.INNER else preset.voices(role)[0]
        for role in roles
    ]


def _names(given: list[str], voices: list[Voice]) -> list[str]:
    """The track's own name, else the instrument's; repeated names are numbered (Violin 1, Violin 2)."""
    base = [g or _instrument_name(v.program) for g, v in zip(given, voices, strict=True)]
    counts = Counter(base)
    seen: Counter[str] = Counter()
    out = []
    for name in base:
        seen[name] += 1
        out.append(f"{name} {seen[name]}" if counts[name] > 1 else name)
    return out


def _instrument_name(program: int) -> str:
    """General MIDI's name without its variant number ("String Ensemble 1" -> "String Ensemble")."""
    return re.sub(r" \d+$", "", pretty_midi.program_to_instrument_name(program))


def _abbreviate(name: str) -> str:
    """'Church Organ 2' -> 'Ch. Org. 2': the short name MusicXML shows on later systems."""
    words = name.split()
    return " ".join(w if w.isdigit() or len(w) <= 4 else w[:3] + "." for w in words)
