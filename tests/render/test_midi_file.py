"""piece.mid: a named track per part with its instrument, and the title, tempo, metre and key, read back."""

from __future__ import annotations

import io

import mido
import pretty_midi
import pytest
import symusic

from render.presets import PRESETS
from render.sheet import ScoreSpec, score_midi, score_musicxml
from tests.render.genre_pieces import GENRE_PIECES, genre_score, merged_score
from tests.render.scores import multi_track_chorale


@pytest.fixture(scope="module")
def chorale_midi() -> bytes:
    return score_midi(
        genre_score(GENRE_PIECES[0]), ScoreSpec("Wer nur den lieben Gott", "chorale", "strings")
    )


def _metas(midi: mido.MidiFile, kind: str) -> list[mido.MetaMessage]:
    return [m for track in midi.tracks for m in track if m.type == kind]


def test_conductor_track_carries_title_tempo_metre_and_key(chorale_midi: bytes) -> None:
    midi = mido.MidiFile(file=io.BytesIO(chorale_midi))
    assert midi.type == 1
    conductor = midi.tracks[0]
    assert conductor[0].type == "track_name" and conductor[0].name == "Wer nur den lieben Gott"
    assert [round(mido.tempo2bpm(m.tempo)) for m in _metas(midi, "set_tempo")] == [96]
    assert [(m.numerator, m.denominator) for m in _metas(midi, "time_signature")] == [(4, 4)]
    assert [m.key for m in _metas(midi, "key_signature")] == ["F#m"]
    assert not any(m.type in ("note_on", "note_off") for m in conductor)


def test_one_named_track_per_part_with_the_presets_programs(chorale_midi: bytes) -> None:
    midi = mido.MidiFile(file=io.BytesIO(chorale_midi))
    parts = midi.tracks[1:]
    assert [t.name for t in parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    strings = PRESETS["strings"]
    expected = [
        strings.melody[0].program,
        strings.inner[0].program,
        strings.inner[1].program,
        strings.bass[0].program,
    ]
    programs = [next(m.program for m in t if m.type == "program_change") for t in parts]
    assert programs == expected
    channels = [{m.channel for m in t if not m.is_meta} for t in parts]
    assert channels == [{0}, {1}, {2}, {3}]  # a channel each, so each keeps its instrument


def test_notes_survive_the_round_trip(chorale_midi: bytes) -> None:
    source = genre_score(GENRE_PIECES[0])
    back = pretty_midi.PrettyMIDI(io.BytesIO(chorale_midi))
    assert [len(i.notes) for i in back.instruments] == [len(t.notes) for t in source.tracks]
    for inst, track in zip(back.instruments, source.tracks, strict=True):
        assert sorted(n.pitch for n in inst.notes) == sorted(n.pitch for n in track.notes)
    melody, bass = back.instruments[0], back.instruments[-1]
    assert min(n.velocity for n in melody.notes) > max(n.velocity for n in bass.notes)  # the tune on top


def test_a_merged_v1_track_is_written_as_its_voices() -> None:
    midi = mido.MidiFile(file=io.BytesIO(score_midi(merged_score(), ScoreSpec(genre="chorale"))))
    assert len(midi.tracks) == 1 + 4  # conductor, then soprano, alto, tenor, bass
    assert all(t.name for t in midi.tracks)


def test_drums_have_no_staff_but_keep_their_track_on_channel_ten() -> None:
    midi = multi_track_chorale(seconds=4.0, drums=True)  # four voices and a kick on every beat
    buf = io.BytesIO()
    midi.write(buf)
    score = symusic.Score.from_midi(buf.getvalue())
    back = mido.MidiFile(file=io.BytesIO(score_midi(score, ScoreSpec(genre="chorale"))))
    drums = [t for t in back.tracks if t.name == "Drums"]
    assert len(back.tracks) == 1 + 4 + 1 and len(drums) == 1
    hits = [m for m in drums[0] if m.type == "note_on"]
    assert len(hits) == 8 and {m.channel for m in hits} == {9} and {m.note for m in hits} == {36}
    assert score_musicxml(score, ScoreSpec(genre="chorale")).count(b"<score-part ") == 4
