"""The piano-roll picture: size, content, and the user's part marked."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from render import PRESETS, RollInfo, arrange, piano_roll_png
from render.pianoroll import NEW_SHADE
from tests.render.scores import multi_track_chorale, single_track_chorale


def _image(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_png_has_the_requested_size_and_is_not_blank() -> None:
    midi = single_track_chorale(seconds=16.0)
    parts = arrange(midi, PRESETS["piano"]).parts
    png = piano_roll_png(midi, parts, RollInfo("Test", "chorale", "C major", 120, 7))
    img = _image(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert img.shape == (500, 1200, 3)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20  # notes, grid, text, legend
    # Each part's colour shows up: melody orange, bass blue.
    assert (np.abs(img - np.array([255, 170, 60])).sum(axis=2) < 10).sum() > 500
    assert (np.abs(img - np.array([90, 140, 255])).sum(axis=2) < 10).sum() > 500


def test_continuation_marks_the_users_part() -> None:
    midi = multi_track_chorale(seconds=8.0)
    parts = arrange(midi, PRESETS["piano"], user_tracks={2}).parts
    plain = _image(piano_roll_png(midi, parts, RollInfo("t")))
    marked = _image(piano_roll_png(midi, parts, RollInfo("t", primer_end_s=4.0)))
    shade = np.array([40, 46, 62])
    assert (np.abs(marked - shade).sum(axis=2) == 0).sum() > 10 * (
        np.abs(plain - shade).sum(axis=2) == 0
    ).sum() + 1000


def test_rewritten_bars_are_shaded_from_their_first_downbeat_to_the_last_bars_end() -> None:
    midi = multi_track_chorale(seconds=16.0)  # 120 bpm, 4/4: a bar is 2 s, eight bars
    parts = arrange(midi, PRESETS["piano"]).parts
    marked = _image(piano_roll_png(midi, parts, RollInfo("t", highlight_bars=(3, 4))))
    shade = np.all(marked == np.array(NEW_SHADE), axis=2)
    columns = np.flatnonzero(shade.any(axis=0))
    left, right = 52, 1200 - 12
    end = max(n.end for i in midi.instruments for n in i.notes)
    x_of = lambda t: left + (right - left) * t / end  # noqa: E731
    assert abs(columns.min() - x_of(4.0)) <= 2 and abs(columns.max() - x_of(8.0)) <= 2


def test_a_bar_range_outside_the_piece_shades_nothing() -> None:
    midi = multi_track_chorale(seconds=8.0)
    parts = arrange(midi, PRESETS["piano"]).parts
    marked = _image(piano_roll_png(midi, parts, RollInfo("t", highlight_bars=(30, 31))))
    assert not np.all(marked == np.array(NEW_SHADE), axis=2).any()
