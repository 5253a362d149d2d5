"""Voice-leading faults on known-answer four-part writing."""

from __future__ import annotations

import numpy as np

from training.evaluate_harmony import Voicing, chord_tone_share, faults, in_range_and_on_top


def v(rows: list[tuple[int, int, int, int]], beats: float = 100.0) -> Voicing:
    return Voicing(np.array(rows, dtype=np.int64), beats)


def test_parallel_fifths_and_octaves_are_counted_contrary_motion_is_not() -> None:
    parallel = v([(72, 67, 60, 48), (74, 69, 62, 50)])  # every voice up a tone: S-T and A-B octaves/fifths
    assert faults(parallel)["parallels"] >= 2
    contrary = v([(72, 67, 64, 48), (71, 67, 62, 43)])
    assert faults(contrary)["parallels"] == 0


def test_crossing_range_and_spacing() -> None:
    crossed = v([(65, 67, 55, 48)])  # alto above soprano
    assert faults(crossed)["crossing"] == 1
    wide = v([(81, 60, 55, 48)])  # soprano more than an octave above the alto
    assert faults(wide)["spacing"] == 1
    low_bass = v([(72, 67, 60, 30)])
    assert faults(low_bass)["range"] == 1
    assert faults(v([(72, 67, 64, 48)]))["all"] == 0


def test_chord_tones_and_the_soprano_on_top() -> None:
    triad = v([(72, 67, 64, 48), (74, 67, 64, 48)])  # C over C major, then D over C major
    assert chord_tone_share(triad) == 0.5
    in_range, on_top = in_range_and_on_top(v([(72, 67, 64, 48), (60, 67, 64, 48)]))
    assert in_range == 1.0 and on_top == 0.5
