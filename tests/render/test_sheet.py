"""Sheet music: MusicXML that says what the notes say (key, metre, tempo, parts, clefs, ties, rests), and a PNG."""

from __future__ import annotations

import io
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import music21
import musicxml
import numpy as np
import pretty_midi
import pytest
import symusic
import xmlschema
from PIL import Image

from cadenza.errors import BadInput, TooLong
from cadenza.theory import parse_key
from render import Renderer, RenderJob
from render.notation import music21_key, snap, spell, spelling
from render.score_parts import Clef, ClefRule
from render.settings import ScoreSettings
from render.sheet import ScoreFiles, ScoreSpec, engrave, score_musicxml
from tests.render.genre_pieces import GENRE_PIECES, GenrePiece, genre_score, merged_score
from tests.render.scores import CHORALE, multi_track_chorale

TPQ = 480
XSD_DIR = (
    Path(musicxml.__file__).parent / "generate_classes"
)  # the MusicXML 4.0 schema, shipped by `musicxml`


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    """The MusicXML 4.0 XSD; xml.xsd from beside it, xlink.xsd from xmlschema's own copy (no network)."""
    return xmlschema.XMLSchema(
        str(XSD_DIR / "musicxml_4_0.xsd"),
        locations={"http://www.w3.org/XML/1998/namespace": str(XSD_DIR / "xml.xsd")},
        allow="local",
    )


@pytest.fixture(scope="module")
def engraved() -> dict[str, ScoreFiles]:
    """Every genre's test piece engraved once for this module."""
    return {p.genre: engrave(genre_score(p), ScoreSpec(f"A {p.genre} piece", p.genre)) for p in GENRE_PIECES}


def _score(
    notes: list[tuple[float, float, int]], numerator: int = 4, denominator: int = 4, qpm: float = 90.0
) -> symusic.Score:
    """One part of (start, end, pitch) in quarter notes, at `qpm`, in one metre."""
    score = symusic.Score(TPQ)
    score.tempos.append(symusic.Tempo(0, qpm))
    score.time_signatures.append(symusic.TimeSignature(0, numerator, denominator))
    track = symusic.Track("", program=0)
    for start, end, pitch in notes:
        track.notes.append(symusic.Note(round(start * TPQ), round((end - start) * TPQ), pitch, 80))
    score.tracks.append(track)
    return score


def _parse(data: bytes) -> music21.stream.Score:
    return music21.converter.parseData(data, format="musicxml")


@pytest.mark.parametrize("piece", GENRE_PIECES, ids=lambda p: p.genre)
def test_every_genre_validates_against_the_musicxml_4_schema(
    piece: GenrePiece, engraved: dict[str, ScoreFiles], schema: xmlschema.XMLSchema
) -> None:
    data = engraved[piece.genre].musicxml
    errors = list(schema.iter_errors(io.BytesIO(data)))
    assert errors == []
    assert b'<score-partwise version="4.0">' in data


def test_the_schema_check_catches_a_broken_file(
    engraved: dict[str, ScoreFiles], schema: xmlschema.XMLSchema
) -> None:
    broken = (
        engraved["chorale"]
        .musicxml.replace(b"<step>", b"<pitch-name>", 1)
        .replace(b"</step>", b"</pitch-name>", 1)
    )
    assert list(schema.iter_errors(io.BytesIO(broken)))


@pytest.mark.parametrize("piece", GENRE_PIECES, ids=lambda p: p.genre)
def test_every_genre_has_its_parts_and_full_bars(piece: GenrePiece, engraved: dict[str, ScoreFiles]) -> None:
    files = engraved[piece.genre]
    back = _parse(files.musicxml)
    assert len(back.parts) == piece.parts == len(files.parts)
    assert [p.partName for p in back.parts] == list(files.parts)
    for part in back.parts:
        measures = list(part.getElementsByClass(music21.stream.Measure))
        assert len(measures) == files.bars
        assert all(m.duration.quarterLength == m.barDuration.quarterLength for m in measures)


def test_chorale_has_its_key_metre_tempo_names_and_clefs(engraved: dict[str, ScoreFiles]) -> None:
    back = _parse(engraved["chorale"].musicxml)
    assert [p.partName for p in back.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    first = back.parts[0].getElementsByClass(music21.stream.Measure)[0]
    assert first.keySignature.sharps == 3  # BWV 66.6 is in F# minor
    assert first.timeSignature.ratioString == "4/4"
    assert back.parts[0].recurse().getElementsByClass(music21.tempo.MetronomeMark)[0].number == 96
    clefs = [type(p.recurse().getElementsByClass(music21.clef.Clef)[0]) for p in back.parts]
    assert clefs == [
        music21.clef.TrebleClef,
        music21.clef.TrebleClef,
        music21.clef.Treble8vbClef,
        music21.clef.BassClef,
    ]
    assert back.metadata.bestTitle == "A chorale piece"


def test_a_note_across_the_barline_is_tied_and_the_last_bar_filled_with_rests() -> None:
    # A dotted half from beat 3 of bar 1 (crosses the barline), then a quarter: 1.5 bars of 4/4.
    data = score_musicxml(_score([(0, 1, 60), (2, 5, 62), (5, 6, 64)]), ScoreSpec())
    part = _parse(data).parts[0]
    measures = list(part.getElementsByClass(music21.stream.Measure))
    assert len(measures) == 2
    tied = [n for n in part.recurse().notes if n.pitch.midi == 62]
    assert [n.tie.type for n in tied] == ["start", "stop"]
    assert sum(n.quarterLength for n in tied) == 3
    rests = list(measures[0].getElementsByClass(music21.note.Rest))
    assert sum(r.quarterLength for r in rests) == 1  # beat 2 of bar 1
    assert sum(r.quarterLength for r in measures[1].getElementsByClass(music21.note.Rest)) == 2  # the padding


def test_triplets_and_sixteenths_snap_to_their_grids() -> None:
    third = 1 / 3
    notes = [(0, third, 60), (third, 2 * third, 62), (2 * third, 1.02, 64), (1, 1.25, 65), (1.25, 2, 67)]
    data = score_musicxml(_score(notes), ScoreSpec())
    assert b"<time-modification>" in data  # the triplet is written as one
    lengths = [Fraction(n.quarterLength).limit_denominator(12) for n in _parse(data).parts[0].recurse().notes]
    assert lengths[:5] == [Fraction(1, 3)] * 3 + [Fraction(1, 4), Fraction(3, 4)]
    assert snap(round(1.02 * TPQ), TPQ, (4, 3)) == 1


def test_a_merged_v1_track_gets_back_its_four_voices() -> None:
    # The v1 model's single stream of a four-voice progression (tests/render/scores.py, 2 beats a second).
    back = _parse(
        score_musicxml(merged_score(seconds=8.0), ScoreSpec(genre="chorale"))
    )  # organ: 2 inner voices
    assert len(back.parts) == 4
    for voice, part in enumerate(back.parts):
        pitches = [int(n.pitch.midi) for n in part.recurse().notes if not n.tie or n.tie.type == "start"]
        assert pitches == [CHORALE[i % len(CHORALE)][voice] for i in range(16)]
    clefs = [type(p.recurse().getElementsByClass(music21.clef.Clef)[0]) for p in back.parts]
    assert clefs[0] is music21.clef.TrebleClef and clefs[-1] is music21.clef.BassClef


def test_a_merged_track_gets_as_many_inner_staves_as_the_sound_has_inner_instruments() -> None:
    back = _parse(score_musicxml(merged_score(seconds=8.0), ScoreSpec(preset="folk band")))  # 1 inner: guitar
    assert [p.partName for p in back.parts] == ["Fiddle", "Acoustic Guitar (steel)", "Acoustic Bass"]


def test_one_line_stays_one_staff_named_by_the_presets_instrument() -> None:
    data = score_musicxml(_score([(i, i + 1, 67 + i % 5) for i in range(8)]), ScoreSpec(preset="strings"))
    back = _parse(data)
    assert [p.partName for p in back.parts] == ["Violin"]
    assert b"<midi-program>41</midi-program>" in data  # GM violin (program 40, written 1-based)


@pytest.mark.parametrize(
    ("pitches", "clef"),
    [
        ([72, 76, 79], Clef.TREBLE),
        ([50, 55, 60, 62], Clef.TREBLE_8VB),
        ([40, 43, 48], Clef.BASS),
        ([64, 67], Clef.TREBLE),
        ([55, 60, 62], Clef.TREBLE_8VB),
        ([48, 52, 55, 60], Clef.BASS),
    ],
)
def test_clef_follows_the_parts_range(pitches: list[int], clef: Clef) -> None:
    notes = np.array([(i * 10, i * 10 + 10, p) for i, p in enumerate(pitches)], dtype=np.int64)
    assert ClefRule().clef(notes) is clef


@pytest.mark.parametrize(
    ("key", "pitch", "name"),
    [
        ("F major", 70, "B-"),
        ("E major", 68, "G#"),
        ("A minor", 68, "G#"),
        ("D minor", 61, "C#"),
        ("Eb major", 66, "G-"),
        ("G major", 63, "D#"),
    ],
)
def test_pitches_are_spelled_in_the_key(key: str, pitch: int, name: str) -> None:
    spelled = spell(pitch, spelling(music21_key(parse_key(key))))
    assert (spelled.name, spelled.midi) == (name, pitch)


def test_png_is_the_first_page_at_phone_width(engraved: dict[str, ScoreFiles]) -> None:
    img = np.asarray(Image.open(io.BytesIO(engraved["chorale"].png)).convert("L"))
    assert img.shape[1] == ScoreSettings().picture_width
    assert 600 < img.shape[0] < 2 * img.shape[1]  # a few systems, not a whole page of white
    assert (img < 100).mean() > 0.02  # staves and notes are drawn in black on white
    assert np.median(img) == 255
    # Staff lines are the rows dark across most of the width; their spacing is the staff space.
    lines = np.flatnonzero((img < 128).mean(axis=1) > 0.5)
    gaps = np.diff(lines)
    staff_space = float(np.median(gaps[(gaps > 5) & (gaps < 40)]))
    assert staff_space >= 12  # px: a staff 48 px high and more, about four bars a system


def test_empty_and_overlong_scores_are_refused() -> None:
    empty = symusic.Score(TPQ)
    empty.tracks.append(symusic.Track("", program=0))
    with pytest.raises(BadInput):
        engrave(empty, ScoreSpec())
    with pytest.raises(TooLong):
        score_musicxml(_score([(0, 40, 60)]), ScoreSpec(), ScoreSettings(max_bars=5))


def test_the_renderer_writes_sheet_music_when_the_job_asks(renderer: Renderer) -> None:
    job = RenderJob(
        multi_track_chorale(seconds=8.0), title="Pool piece", genre="chorale", key="C major", sheet=True
    )
    rendered = renderer.render(job)
    assert rendered.sheet is not None and "sheet" in rendered.timings
    back = _parse(rendered.sheet.musicxml)
    assert [p.partName for p in back.parts] == ["soprano", "alto", "tenor", "bass"]
    assert back.parts[0].getElementsByClass(music21.stream.Measure)[0].keySignature.sharps == 0
    assert rendered.sheet.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert renderer.render(replace(job, sheet=False)).sheet is None


@pytest.mark.parametrize("given", ["Acoustic Grand Piano", "MusicXML Part 2", "Track 1", "P3"])
def test_placeholder_track_names_give_way_to_the_presets_instrument(given: str) -> None:
    score = _score([(i, i + 1, 67 + i % 5) for i in range(8)])
    score.tracks[0].name = given
    back = _parse(score_musicxml(score, ScoreSpec(genre="folk")))
    assert [p.partName for p in back.parts] == ["Fiddle"]  # the folk band's melody instrument


def test_a_long_title_is_shortened_on_the_picture_and_kept_whole_in_the_file() -> None:
    title = "A very long title that a member typed into the compose command, longer than a page"
    data = score_musicxml(_score([(0, 4, 60)]), ScoreSpec(title), ScoreSettings(max_title_chars=30))
    assert f"<work-title>{title}</work-title>".encode() in data
    shown = _parse(data).metadata.movementName
    assert len(shown) <= 30 and shown.endswith("…") and title.startswith(shown[:-1])


def test_score_files_save_the_three_files(engraved: dict[str, ScoreFiles], tmp_path: Path) -> None:
    files = engraved["folk"]
    paths = files.save(tmp_path / "out")
    assert sorted(paths) == ["piece.mid", "piece.musicxml", "score.png"]
    assert paths["piece.musicxml"].read_bytes() == files.musicxml
    assert (
        paths["score.png"].read_bytes()[:4] == b"\x89PNG" and paths["piece.mid"].read_bytes()[:4] == b"MThd"
    )


def test_rewritten_bars_are_coloured_in_the_file_and_on_the_picture() -> None:
    score = _score([(i, i + 1, 60 + i % 7) for i in range(16)])  # four bars of quarters
    plain = engrave(score, ScoreSpec())
    marked = engrave(score, ScoreSpec(highlight_bars=(2, 3)))
    measures = list(_parse(marked.musicxml).parts[0].getElementsByClass(music21.stream.Measure))
    coloured = [all(n.style.color == "#C0392B" for n in m.notes) for m in measures]
    assert coloured == [False, True, True, False]

    def reds(png: bytes) -> int:
        rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
        return int(((rgb[..., 0] > 150) & (rgb[..., 1] < 100) & (rgb[..., 2] < 100)).sum())

    assert reds(plain.png) == 0 and reds(marked.png) > 500


@pytest.mark.parametrize(("numerator", "denominator"), [(6, 8), (5, 4)])
def test_random_overlapping_notes_in_odd_metres_still_make_valid_full_bars(
    numerator: int, denominator: int, schema: xmlschema.XMLSchema
) -> None:
    rng = np.random.default_rng(numerator)
    score = _score([], numerator, denominator)
    score.tracks.clear()
    bar = TPQ * 4 * numerator // denominator
    score.time_signatures.append(symusic.TimeSignature(2 * bar, 3, 4))  # a change of metre after two bars
    for part in range(3):
        track, t = symusic.Track("", program=part), 0
        for _ in range(20):
            t += int(rng.integers(0, TPQ))
            track.notes.append(
                symusic.Note(t, int(rng.integers(20, 3 * TPQ)), 76 - 12 * part - int(rng.integers(0, 7)), 80)
            )
        score.tracks.append(track)
    data = score_musicxml(score, ScoreSpec())  # validate=True: read back, parts and full bars checked
    assert list(schema.iter_errors(io.BytesIO(data))) == []
    measures = list(_parse(data).parts[0].getElementsByClass(music21.stream.Measure))
    assert [m.timeSignature.ratioString for m in measures[:3] if m.timeSignature] == [
        f"{numerator}/{denominator}",
        "3/4",
    ]


def test_time_signatures_off_the_barline_repeated_or_after_the_end_are_ignored() -> None:
    score = _score([(i, i + 1, 60) for i in range(8)], 4, 4)  # two bars of 4/4
    for ticks, num, den in ((0, 3, 4), (TPQ * 5, 2, 4), (TPQ * 4, 3, 4), (TPQ * 40, 6, 8)):
        score.time_signatures.append(symusic.TimeSignature(ticks, num, den))
    # 3/4 at 0 replaces 4/4; 3/4 again at beat 4 repeats it; 2/4 at beat 5 is mid-bar; 6/8 is past the end.
    measures = list(
        _parse(score_musicxml(score, ScoreSpec())).parts[0].getElementsByClass(music21.stream.Measure)
    )
    assert [m.timeSignature.ratioString for m in measures if m.timeSignature] == ["3/4"]
    assert len(measures) == 3  # eight beats in bars of three


def test_a_piece_that_cannot_be_written_down_still_renders(renderer: Renderer) -> None:
    drums = pretty_midi.PrettyMIDI(initial_tempo=120)
    kit = pretty_midi.Instrument(0, is_drum=True, name="kit")
    kit.notes = [pretty_midi.Note(100, 36, i * 0.5, i * 0.5 + 0.1) for i in range(8)]
    drums.instruments.append(kit)
    rendered = renderer.render(RenderJob(drums, title="Drums only", sheet=True))
    assert rendered.sheet is None and rendered.audio  # no staves for drums; the sound is there


def test_the_members_own_part_is_labelled_on_the_score(renderer: Renderer) -> None:
    midi = multi_track_chorale(seconds=4.0)  # tracks: bass, alto, soprano, tenor
    midi.instruments.insert(0, pretty_midi.Instrument(0, name="empty"))  # no notes: symusic drops it
    job = RenderJob(midi, title="Yours", genre="chorale", user_tracks=frozenset({3}), sheet=True)  # soprano
    sheet = renderer.render(job).sheet
    assert sheet is not None
    assert sheet.parts == ("soprano (yours)", "alto", "tenor", "bass")
