"""Voice a piece: find its melody, inner voices and bass, and give each its instruments and velocities.

The model writes one polyphonic stream with a fixed velocity, so a single pitched track is split by
the skyline rule: at each onset the highest sounding note is the melody, the lowest the bass, the rest
inner voices. Multi-track input keeps its tracks, ordered by mean pitch (highest = melody, lowest = bass);
drums stay drums. Velocities then come from the role (melody on top), the metre (downbeat accents)
and whatever dynamics the input had.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

from render.presets import Preset, Role, Voice

ONSET_TOLERANCE_S = 0.02  # notes starting this close together count as one chord
LEGATO_S = 0.1  # a note ending this soon after another starts is overlapping legato, not held
DRUM_CHANNEL = 9  # General MIDI percussion channel (channel 10 counted from 1)


@dataclass(frozen=True)
class Part:
    """A line of the texture: its role, its notes (start, end, pitch, velocity rows) and whose it is."""

    role: Role
    label: str  # shown in the piano-roll legend
    notes: np.ndarray  # (N, 4) float64: start_s, end_s, pitch, velocity
    is_user: bool = False  # the user's own part (a continuation's primer track)


@dataclass(frozen=True)
class ChannelPlan:
    """One synth channel: an instrument and the notes it plays."""

    channel: int
    voice: Voice
    is_drum: bool
    notes: np.ndarray  # (N, 4) as in Part, velocities final


@dataclass(frozen=True)
class Arrangement:
    """A voiced piece: parts for the picture, channels for the synthesiser."""

    parts: tuple[Part, ...]
    channels: tuple[ChannelPlan, ...]
    end_s: float  # when the last note ends


def arrange(midi: pretty_midi.PrettyMIDI, preset: Preset, user_tracks: Collection[int] = ()) -> Arrangement:
    """Split `midi` into parts and map them onto `preset`'s instruments; `user_tracks` are the user's."""
    parts = _find_parts(midi, set(user_tracks))
    accents = _metric_accents(midi)
    voiced = tuple(_with_velocities(p, preset, accents) for p in parts)
    channels = _assign_channels(voiced, preset)
    end = max((float(p.notes[:, 1].max()) for p in voiced if len(p.notes)), default=0.0)
    return Arrangement(voiced, channels, end)


def _note_array(notes: Sequence[pretty_midi.Note]) -> np.ndarray:
    arr = np.array([(n.start, n.end, n.pitch, n.velocity) for n in notes], dtype=np.float64).reshape(-1, 4)
    arr = arr[arr[:, 1] > arr[:, 0]]  # zero-length notes make no sound and confuse the skyline
    return arr[np.lexsort((-arr[:, 2], arr[:, 0]))]


def _find_parts(midi: pretty_midi.PrettyMIDI, user: set[int]) -> list[Part]:
    pitched = [(i, inst) for i, inst in enumerate(midi.instruments) if not inst.is_drum and inst.notes]
    drums = [(i, inst) for i, inst in enumerate(midi.instruments) if inst.is_drum and inst.notes]
    parts: list[Part] = []
    if len(pitched) == 1:
        index, inst = pitched[0]
        notes = _note_array(inst.notes)
        for role, part_notes in zip((Role.MELODY, Role.INNER, Role.BASS), split_skyline(notes), strict=True):
            if len(part_notes):
                parts.append(Part(role, role.value, part_notes, index in user))
    elif pitched:
        ordered = sorted(pitched, key=lambda item: -np.mean([n.pitch for n in item[1].notes]))
        for rank, (index, inst) in enumerate(ordered):
            role = Role.MELODY if rank == 0 else Role.BASS if rank == len(ordered) - 1 else Role.INNER
            label = inst.name.strip() or role.value
            parts.append(Part(role, label, _note_array(inst.notes), index in user))
    for index, inst in drums:
        parts.append(Part(Role.DRUMS, inst.name.strip() or "drums", _note_array(inst.notes), index in user))
    return parts


def split_skyline(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split sorted (N, 4) notes into melody, inner and bass by the skyline rule."""
    role = np.full(len(notes), 1)  # 0 melody, 1 inner, 2 bass
    starts = notes[:, 0]
    group_starts = np.flatnonzero(np.diff(starts, prepend=-1.0) > ONSET_TOLERANCE_S)
    bounds = [*group_starts.tolist(), len(notes)]
    for g in range(len(group_starts)):
        lo, hi = bounds[g], bounds[g + 1]
        t = starts[lo] + ONSET_TOLERANCE_S
        # Notes held through this onset; one about to end (a legato overlap) does not count.
        held = np.flatnonzero((starts[:lo] < t) & (notes[:lo, 1] > t + LEGATO_S))
        held_pitches = notes[held, 2]
        top = lo + int(np.argmax(notes[lo:hi, 2]))
        if not len(held) or notes[top, 2] >= held_pitches.max():
            role[top] = 0
        bottom = lo + int(np.argmin(notes[lo:hi, 2]))
        if role[bottom] != 0 and (not len(held) or notes[bottom, 2] <= held_pitches.min()):
            role[bottom] = 2
    return notes[role == 0], notes[role == 1], notes[role == 2]


def _metric_accents(midi: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray]:
    """Downbeat and beat times, for metric accents."""
    try:
        return np.asarray(midi.get_downbeats()), np.asarray(midi.get_beats())
    except (ValueError, IndexError):  # pathological tempo maps: no accents rather than no render
        return np.zeros(0), np.zeros(0)


def _near(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if not len(grid):
        return np.zeros(len(times), dtype=bool)
    idx = np.clip(np.searchsorted(grid, times), 1, len(grid) - 1)
    dist = np.minimum(np.abs(times - grid[idx - 1]), np.abs(times - grid[idx]))
    return dist < 0.03


def _with_velocities(part: Part, preset: Preset, accents: tuple[np.ndarray, np.ndarray]) -> Part:
    """Velocities from the role, a metric accent (+8 on downbeats, +3 on beats) and the input's own dynamics."""
    notes = part.notes.copy()
    if not len(notes):
        return part
    vel = np.full(len(notes), float(preset.velocity[part.role]))
    if part.role is not Role.DRUMS:
        weight = 0.5 if part.role is Role.INNER else 1.0
        downbeat, beat = _near(notes[:, 0], accents[0]), _near(notes[:, 0], accents[1])
        vel += weight * np.where(downbeat, 8.0, np.where(beat, 3.0, 0.0))
    given = notes[:, 3]
    if given.std() > 2.0:  # the input had dynamics (a user's MIDI): keep them, scaled down
        vel += 0.6 * (given - np.median(given))
    notes[:, 3] = np.clip(np.round(vel), 1, 127)
    return Part(part.role, part.label, notes, part.is_user)


def split_inner(notes: np.ndarray, ways: int) -> list[np.ndarray]:
    """Share one inner part among `ways` instruments: the upper notes of each chord to the first."""
    if ways == 1 or len(notes) < 2:
        return [notes]
    upper = np.zeros(len(notes), dtype=bool)
    group = np.cumsum(np.diff(notes[:, 0], prepend=-1.0) > ONSET_TOLERANCE_S)
    last_upper, last_lower = notes[0, 2], notes[0, 2] - 5
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)  # sorted by descending pitch within a chord
        if len(idx) > 1:
            upper[idx[: (len(idx) + 1) // 2]] = True
        else:
            upper[idx] = abs(notes[idx[0], 2] - last_upper) <= abs(notes[idx[0], 2] - last_lower)
        if upper[idx].any():
            last_upper = notes[idx[upper[idx]], 2].min()
        if (~upper[idx]).any():
            last_lower = notes[idx[~upper[idx]], 2].max()
    return [notes[upper], notes[~upper]]


def _assign_channels(parts: Sequence[Part], preset: Preset) -> tuple[ChannelPlan, ...]:
    """Give every (part, instrument) a channel; identical instruments share one, drums get channel 10."""
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    free = list(melodic)
    by_voice: dict[tuple[Voice, bool], int] = {}
    collected: dict[int, list[np.ndarray]] = {}
    voices: dict[int, tuple[Voice, bool]] = {}
    inner_seen = 0
    for part in parts:
        candidates = preset.voices(part.role)
        if part.role is Role.INNER and len(parts) > 3:  # several inner tracks take the inner voices in turn
            pieces = [(candidates[inner_seen % len(candidates)], part.notes)]
            inner_seen += 1
        elif part.role is Role.INNER:
            pieces = list(zip(candidates, split_inner(part.notes, len(candidates)), strict=False))
        else:
            pieces = [(voice, part.notes) for voice in candidates]
        for voice, notes in pieces:
            key = (voice, part.role is Role.DRUMS)
            if key not in by_voice:
                by_voice[key] = (
                    DRUM_CHANNEL if key[1] else (free.pop(0) if free else melodic[len(by_voice) % 15])
                )
            channel = by_voice[key]
            collected.setdefault(channel, []).append(notes)
            voices[channel] = key
    return tuple(
        ChannelPlan(ch, voices[ch][0], voices[ch][1], np.concatenate(collected[ch]))
        for ch in sorted(collected)
    )


def arranged_midi(arrangement: Arrangement, source: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """The voiced piece as a MIDI file: a track per channel with its program, velocities and mixer controllers.

    Tempo and metre come from `source`; players (and FluidSynth's command line) then sound like our render.
    """
    out = pretty_midi.PrettyMIDI(
        resolution=source.resolution,
        initial_tempo=float(source.get_tempo_changes()[1][0])
        if len(source.get_tempo_changes()[1])
        else 120.0,
    )
    out.time_signature_changes = list(source.time_signature_changes)
    for plan in arrangement.channels:
        inst = pretty_midi.Instrument(
            plan.voice.program, is_drum=plan.is_drum, name=f"channel {plan.channel + 1}"
        )
        for cc, value in (
            (7, plan.voice.volume),
            (10, plan.voice.pan),
            (91, plan.voice.reverb),
            (93, plan.voice.chorus),
        ):
            inst.control_changes.append(pretty_midi.ControlChange(cc, value, 0.0))
        inst.notes = [pretty_midi.Note(int(v), int(p), float(s), float(e)) for s, e, p, v in plan.notes]
        out.instruments.append(inst)
    return out
