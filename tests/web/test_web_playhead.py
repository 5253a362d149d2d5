"""The playhead's geometry matches the piano roll render/ draws: note pixels where the numbers say."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi
from PIL import Image

from render import RenderSettings, RollInfo, arrange, piano_roll_png, resolve_preset
from render.pianoroll import BACKGROUND
from web.playhead import playhead_for


def two_notes(first_s: float) -> bytes:
    """A note at `first_s`..+1 s and one ending at first_s + 4 s, an octave apart."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes += [
        pretty_midi.Note(90, 60, first_s, first_s + 1),
        pretty_midi.Note(90, 72, first_s + 3, first_s + 4),
    ]
    pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def note_columns(png: bytes) -> np.ndarray:
    """x of every column holding a bright note pixel between the title and the bar numbers."""
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    body = img[60:-40]
    bright = (np.abs(body - np.array(BACKGROUND)).sum(axis=2) > 300) & (body.max(axis=2) > 200)
    return np.flatnonzero(bright.any(axis=0))


def test_the_time_axis_runs_from_the_first_to_the_last_note_pixel() -> None:
    settings = RenderSettings(soundfont="builtin")
    midi = two_notes(0.0)
    score = pretty_midi.PrettyMIDI(io.BytesIO(midi))
    parts = arrange(score, resolve_preset(None, None)).parts
    png = piano_roll_png(
        score, parts, RollInfo("two notes"), (settings.picture_width, settings.picture_height)
    )
    head = playhead_for(midi, {}, settings.picture_width)
    columns = note_columns(png)
    columns = columns[columns > 48]  # leave out the pitch names, right-aligned at x = 46
    width = settings.picture_width
    assert abs(columns.min() - head.left * width) <= 2
    assert abs(columns.max() - head.right * width) <= 3
    assert head.start_s == 0.0 and head.end_s == 4.0


def test_audio_starts_at_the_first_note_so_the_playhead_starts_there() -> None:
    head = playhead_for(two_notes(1.5), {"genre": "folk"}, 1200)
    assert head.start_s == 1.49 and head.end_s == 5.5
