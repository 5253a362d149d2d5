"""Voicing: the skyline split, multi-track ordering, drums, velocities that keep the melody on top."""

from __future__ import annotations

import numpy as np
import pytest

from render import PRESETS, Role, arrange, split_skyline
from tests.render.scores import CHORALE, multi_track_chorale, one_note, single_track_chorale


def _pitches(part) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(p) for p in part.notes[:, 2]]


def test_skyline_splits_a_four_part_chorale_into_soprano_inner_and_bass() -> None:
    arrangement = arrange(single_track_chorale(seconds=4.0), PRESETS["piano"])
    parts = {p.role: p for p in arrangement.parts}
    assert _pitches(parts[Role.MELODY]) == [c[0] for c in CHORALE]
    assert _pitches(parts[Role.BASS]) == [c[3] for c in CHORALE]
    assert len(parts[Role.INNER].notes) == 2 * len(CHORALE)


def test_monophonic_tune_is_all_melody() -> None:
    notes = np.array([[0.0, 0.5, 60, 90], [0.5, 1.0, 55, 90], [1.0, 1.5, 48, 90]])
    melody, inner, bass = split_skyline(notes)
    assert len(melody) == 3 and len(inner) == 0 and len(bass) == 0


def test_held_chord_under_moving_melody_keeps_the_melody_on_top() -> None:
    # C major chord held for 2 s, melody in quarter notes above it.
    chord = [[0.0, 2.0, p, 90] for p in (48, 55, 64)]
    tune = [[i * 0.5, (i + 1) * 0.5, p, 90] for i, p in enumerate((72, 74, 76, 77))]
    notes = np.array(sorted(chord + tune, key=lambda n: (n[0], -n[2])), dtype=float)
    melody, inner, bass = split_skyline(notes)
    assert melody[:, 2].tolist() == [72, 74, 76, 77]
    assert bass[:, 2].tolist() == [48]
    assert sorted(inner[:, 2].tolist()) == [55, 64]


def test_tracks_are_ordered_by_mean_pitch_and_drums_stay_drums() -> None:
    arrangement = arrange(multi_track_chorale(drums=True), PRESETS["strings"])
    roles = {p.label: p.role for p in arrangement.parts}
    assert roles == {
        "soprano": Role.MELODY,
        "alto": Role.INNER,
        "tenor": Role.INNER,
        "bass": Role.BASS,
        "kit": Role.DRUMS,
    }
    drum_channels = [c for c in arrangement.channels if c.is_drum]
    assert [c.channel for c in drum_channels] == [9]
    assert all(c.channel != 9 for c in arrangement.channels if not c.is_drum)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_melody_is_louder_than_inner_voices_in_every_preset(preset: str) -> None:
    arrangement = arrange(single_track_chorale(seconds=4.0), PRESETS[preset])
    parts = {p.role: p for p in arrangement.parts}
    assert parts[Role.MELODY].notes[:, 3].min() > parts[Role.INNER].notes[:, 3].max()
    melody_volume = PRESETS[preset].melody[0].volume
    assert all(melody_volume > v.volume for v in PRESETS[preset].inner)


def test_downbeats_are_accented() -> None:
    arrangement = arrange(single_track_chorale(seconds=4.0), PRESETS["piano"])
    melody = next(p for p in arrangement.parts if p.role is Role.MELODY).notes
    # 4/4 at 120 bpm: a bar every 2 s; beat 0 and beat 4 are downbeats.
    assert melody[0, 3] > melody[1, 3] and melody[4, 3] > melody[5, 3]


def test_user_tracks_are_marked_as_the_users() -> None:
    arrangement = arrange(multi_track_chorale(), PRESETS["piano"], user_tracks={2})
    assert [p.label for p in arrangement.parts if p.is_user] == ["soprano"]


def test_doubled_melody_plays_on_two_channels() -> None:
    arrangement = arrange(one_note(), PRESETS["folk band"])
    assert sorted(c.voice.program for c in arrangement.channels) == [78, 110]
