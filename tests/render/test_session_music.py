"""Score edits, the harmonizer and the tree picture on known answers (the music of remix sessions)."""

from __future__ import annotations

import io

import pretty_midi
import pytest
from PIL import Image

from cadenza.theory import Key
from render import midi_from_bytes
from render.edits import Part, join_parts, markers, midi_to_bytes, own_material
from render.harmonize import harmonize, triads
from render.tree import Node, draw_tree, layout


def scale_midi(first: int, count: int, beat_s: float = 0.5) -> bytes:
    """`count` rising notes of one beat each, starting on `first`."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=60 / beat_s)
    piano = pretty_midi.Instrument(0)
    piano.notes = [pretty_midi.Note(90, first + i, i * beat_s, (i + 1) * beat_s) for i in range(count)]
    pm.instruments.append(piano)
    return midi_to_bytes(pm)


def test_join_overlaps_each_part_by_the_crossfade_and_marks_every_turn_in_order() -> None:
    joined = join_parts(
        [Part(1, scale_midi(60, 4)), Part(2, scale_midi(70, 6)), Part(5, scale_midi(50, 2))], 0.5
    )
    back = midi_from_bytes(midi_to_bytes(joined.score))
    assert joined.starts == (0.0, 1.5, 4.0)
    assert back.get_end_time() == pytest.approx(2.0 + 3.0 + 1.0 - 2 * 0.5)
    assert markers(back) == [(1, 0.0), (2, pytest.approx(1.5)), (5, pytest.approx(4.0))]


def test_join_fades_the_notes_where_parts_meet() -> None:
    joined = join_parts([Part(1, scale_midi(60, 4)), Part(2, scale_midi(70, 4))], 0.5)
    notes = sorted(joined.score.instruments[0].notes, key=lambda n: n.start)
    assert notes[0].velocity == 90  # the very start is not faded
    assert notes[4].pitch == 70 and notes[4].velocity < 90  # the second part fades in


def test_crossfade_shrinks_to_half_the_shortest_part() -> None:
    joined = join_parts([Part(1, scale_midi(60, 1)), Part(2, scale_midi(70, 4))], 2.0)
    assert joined.crossfade_s == pytest.approx(0.25)


def test_own_material_of_a_continuation_starts_at_zero() -> None:
    cut = midi_from_bytes(own_material(scale_midi(60, 8), 1.0, 2.0))
    assert [(n.pitch, round(n.start, 3)) for n in cut.instruments[0].notes] == [
        (62, 0.0),
        (63, 0.5),
        (64, 1.0),
        (65, 1.5),
    ]


def test_minor_keys_get_a_major_dominant() -> None:
    assert dict(triads(Key(9, "minor")))[4] == (4, 8, 11)  # A minor: V = E G# B


def test_harmonize_keeps_the_melody_and_puts_chord_tones_under_it() -> None:
    tune = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72]
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    lead = pretty_midi.Instrument(0)
    lead.notes = [pretty_midi.Note(90, p, i * 0.5, (i + 1) * 0.5) for i, p in enumerate(tune)]
    pm.instruments.append(lead)
    out, key = harmonize(pm)
    melody, inner, bass = out.instruments
    assert key.name == "C major"
    assert [n.pitch for n in melody.notes] == tune
    assert bass.notes[0].pitch % 12 == 0 and bass.notes[-1].pitch % 12 == 0  # tonic at both ends
    assert len({n.pitch % 12 for n in bass.notes}) > 1  # the harmony moves
    for voice in (*inner.notes, *bass.notes):
        sounding = [n.pitch for n in melody.notes if n.start < voice.end and n.end > voice.start]
        assert voice.pitch < min(sounding)


def test_tree_puts_parents_over_their_children() -> None:
    nodes = [
        Node(1, "a", None, "bob", "bach", "start", 0),
        Node(2, "b", "a", "carol", "bach", "continue", 2),
        Node(3, "c", "a", "alice", "folk", "branch", 1),
    ]
    place = layout(nodes)
    assert place["a"] == (0.5, 0) and place["b"] == (0, 1) and place["c"] == (1, 1)
    picture = Image.open(io.BytesIO(draw_tree(nodes, "Jam")))
    assert picture.width >= 520 and picture.height > 300
