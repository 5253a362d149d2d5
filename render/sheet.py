"""Sheet music of a piece: `piece.musicxml` written by music21, `score.png` engraved by verovio.

`engrave(score, spec, settings)` is what the render pool calls: the parts (render.score_parts), the
written music (render.notation), the MusicXML checked by reading it back, then the first page drawn by
verovio as SVG and turned into a PNG by cairosvg at a width that reads on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import music21
import numpy as np
import symusic

from cadenza.errors import BadInput, RenderFailed
from cadenza.theory import Key, estimate_key, parse_key, pitch_class_histogram
from render.engrave import engrave_png
from render.midi_file import piece_midi
from render.notation import bar_end, build_part, check_length, metres, music21_key, part_events, snap
from render.presets import Preset, get_preset, preset_for_genre
from render.score_parts import ClefRule, ScorePart, drum_notes, score_parts
from render.settings import ScoreSettings

COMPOSER = "Cadenza"  # the MusicXML's composer line
HIGHLIGHT_COLOUR = "#C0392B"  # rewritten bars' notes on score.png and in the MusicXML (a brick red)
SCORE_PNG, PIECE_MUSICXML, PIECE_MIDI = (
    "score.png",
    "piece.musicxml",
    "piece.mid",
)  # the files' names in replies


@dataclass(frozen=True)
class ScoreSpec:
    """What the score says about a piece besides its notes."""

    title: str = "Cadenza piece"
    genre: str | None = None
    preset: str | None = None  # the sound's name (its instruments name the parts); None = the genre's default
    key: str | None = None  # e.g. "D minor"; None = the score's key signature, else estimated from the notes
    # The MusicXML's rights line and the MIDI's copyright event.
    credit: str = "Made with Cadenza; free to use"
    highlight_bars: tuple[int, int] | None = None  # bars (from 1) the model rewrote: coloured
    yours: frozenset[int] = frozenset()  # indices into the score's tracks of the member's own parts


@dataclass(frozen=True)
class ScoreFiles:
    """The engraved piece: the whole score as MusicXML, its first page as a PNG, and a clean MIDI file."""

    musicxml: bytes
    png: bytes
    midi: bytes  # piece.mid: a named track per part (render.midi_file)
    parts: tuple[str, ...]  # the part names, top staff first
    bars: int

    def save(self, folder: Path) -> dict[str, Path]:
        """Write score.png, piece.musicxml and piece.mid into `folder` (made if missing): {name: path}."""
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, data in ((SCORE_PNG, self.png), (PIECE_MUSICXML, self.musicxml), (PIECE_MIDI, self.midi)):
            (folder / name).write_bytes(data)
            out[name] = folder / name
        return out


def preset_of(spec: ScoreSpec) -> Preset:
    """The spec's sound, or its genre's default."""
    return get_preset(spec.preset) if spec.preset else preset_for_genre(spec.genre)


def parts_for(score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings) -> tuple[ScorePart, ...]:
    """The staves of `score` with the instruments of the spec's sound (the genre's when none is named)."""
    rule = ClefRule(settings.treble_from_pitch, settings.tenor_from_pitch)
    return score_parts(score, preset_of(spec), rule, spec.yours)


def key_of(score: symusic.Score, spec: ScoreSpec) -> Key:
    """The spec's key, else the score's first key signature, else the key its notes suggest."""
    if spec.key:
        try:
            return parse_key(spec.key)
        except ValueError as e:
            raise BadInput(str(e)) from e
    if len(score.key_signatures):
        ks = score.key_signatures[0]
        major = (7 * int(ks.key)) % 12
        return Key((major + 9) % 12, "minor") if int(ks.tonality) else Key(major, "major")
    notes = [(n.pitch, n.duration) for t in score.tracks if not t.is_drum for n in t.notes]
    if not notes:
        return Key(0, "major")
    arr = np.array(notes, dtype=np.float64)
    return estimate_key(pitch_class_histogram(arr[:, 0], np.maximum(arr[:, 1], 1)))


def shortened(title: str, limit: int) -> str:
    """`title` cut at a word to at most `limit` characters, with an ellipsis when anything was cut."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0] if " " in title[: limit - 1] else title[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def tempo_of(score: symusic.Score) -> float:
    """The first tempo in quarter notes a minute (120, MIDI's default, when the score has none)."""
    return float(score.tempos[0].qpm) if len(score.tempos) else 120.0


def notation(
    score: symusic.Score, parts: Sequence[ScorePart], key: Key, spec: ScoreSpec, settings: ScoreSettings
) -> music21.stream.Score:
    """The piece as a music21 score in measures: named parts, clefs, key, metre, tempo, ties and rests."""
    tpq, grid = score.ticks_per_quarter, settings.grid
    changes = metres(score, grid)
    last = max(snap(int(p.notes[:, 1].max()), tpq, grid) for p in parts)
    end, bars = bar_end(last, changes)
    check_length(bars, settings.max_bars)
    m21key = music21_key(key)
    out = music21.stream.Score()
    out.metadata = music21.metadata.Metadata(title=spec.title, composer=COMPOSER)
    out.metadata.movementName = shortened(spec.title, settings.max_title_chars)  # what verovio prints
    out.metadata.copyright = spec.credit
    for i, part in enumerate(parts):
        head: list[music21.base.Music21Object] = [music21.key.Key(m21key.tonic.name, m21key.mode)]
        for m in (m for m in changes if m.offset < end):  # a change after the last note is no change
            ts = music21.meter.TimeSignature(f"{m.numerator}/{m.denominator}")
            ts.offset = float(m.offset)
            head.append(ts)
        if i == 0:
            head.append(music21.tempo.MetronomeMark(number=round(tempo_of(score))))
        events = part_events(part.notes, tpq, grid, end, m21key)
        out.insert(0, build_part(part, events, head))
    out.makeNotation(inPlace=True)
    finish_for_export(out)
    if spec.highlight_bars:
        colour_bars(out, spec.highlight_bars)
    return out


def colour_bars(stream: music21.stream.Score, bars: tuple[int, int]) -> None:
    """Colour the notes and rests of bars `bars[0]`..`bars[1]` (numbered from 1) in every part."""
    first, last = bars
    for part in stream.parts:
        for measure in part.getElementsByClass(music21.stream.Measure):
            if first <= measure.number <= last:
                for element in measure.recurse().notesAndRests:
                    element.style.color = HIGHLIGHT_COLOUR


def musicxml_bytes(stream: music21.stream.Score) -> bytes:
    """MusicXML 4.0 of a music21 score in measures."""
    exporter = music21.musicxml.m21ToXml.GeneralObjectExporter(stream)
    exporter.makeNotation = False  # notation() made it already; redoing it on a copy tripled the export time
    return bytes(exporter.parse())


def finish_for_export(stream: music21.stream.Score) -> None:
    """What music21's exporter would do on a copy: split complex durations into tied notes, bracket tuplets."""
    for part in stream.parts:
        part.splitAtDurations(recurse=True)
        for measure in part.getElementsByClass(music21.stream.Measure):
            for layer in (measure, *measure.voices):
                music21.stream.makeNotation.makeTupletBrackets(layer, inPlace=True)


def check_musicxml(data: bytes, parts: int, bars: int) -> None:
    """Read the MusicXML back with music21: RenderFailed unless it has `parts` parts of `bars` full bars."""
    try:
        back = music21.converter.parseData(data, format="musicxml")
    except Exception as e:  # music21's parser raises many kinds; any of them means our file is broken
        raise RenderFailed("the sheet music could not be read back") from e
    if not isinstance(back, music21.stream.Score):
        raise RenderFailed("the sheet music did not read back as a score")
    found = list(back.parts)
    if len(found) != parts:
        raise RenderFailed(f"the sheet music has {len(found)} parts, not {parts}")
    for part in found:
        measures = list(part.getElementsByClass(music21.stream.Measure))
        if len(measures) != bars:
            raise RenderFailed(f"a part of the sheet music has {len(measures)} bars, not {bars}")
        for m in measures:
            if m.barDuration.quarterLength != m.duration.quarterLength:
                raise RenderFailed(f"bar {m.number} of the sheet music is not full")


def written_score(
    score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings
) -> tuple[bytes, tuple[ScorePart, ...], Key, int]:
    """MusicXML bytes of `score` with its parts, key and bars (read back and checked when settings.validate)."""
    parts = parts_for(score, spec, settings)
    key = key_of(score, spec)
    stream = notation(score, parts, key, spec, settings)
    bars = len(stream.parts[0].getElementsByClass(music21.stream.Measure))
    data = musicxml_bytes(stream)
    if settings.validate:
        check_musicxml(data, len(parts), bars)
    return data, parts, key, bars


def score_musicxml(score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings | None = None) -> bytes:
    """`piece.musicxml` of `score`: the whole piece as MusicXML 4.0."""
    return written_score(score, spec, settings or ScoreSettings())[0]


def score_midi(score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings | None = None) -> bytes:
    """`piece.mid` of `score`: a named track per part with its instrument, and tempo, metre and key events."""
    parts = parts_for(score, spec, settings or ScoreSettings())
    return piece_midi(
        score, parts, preset_of(spec), spec.title, key_of(score, spec), spec.credit, drum_notes(score)
    )


def engrave(score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings | None = None) -> ScoreFiles:
    """Sheet music and a clean MIDI file of `score`: piece.musicxml, score.png (first page), piece.mid."""
    settings = settings or ScoreSettings()
    xml, parts, key, bars = written_score(score, spec, settings)
    png = engrave_png(xml, settings)
    midi = piece_midi(score, parts, preset_of(spec), spec.title, key, spec.credit, drum_notes(score))
    return ScoreFiles(xml, png, midi, tuple(p.name for p in parts), bars)
