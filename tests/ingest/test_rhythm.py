"""Tempo from note onsets on known rhythms: plain beats, running sixteenths, dotted figures."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.rhythm import onset_tempo

# Note lengths in beats, one bar per row.
RUNNING_SIXTEENTHS = [0.5, 0.75, 0.25] + [0.25] * 12 + [0.75, 0.25] + [0.25] * 12 + [1.0]
DOTTED = [0.75, 0.25] * 8 + [1.0, 1.0]
QUARTERS_AND_EIGHTHS = [1.0, 1.0, 0.5, 0.5, 1.0] * 4


def performed(beats: list[float], bpm: float) -> tuple[np.ndarray, np.ndarray]:
    """(onsets, durations) in seconds of the rhythm played twice at `bpm`, notes at 90 % length."""
    lengths = np.array(beats * 2) * 60.0 / bpm
    onsets = 0.5 + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    return onsets, 0.9 * lengths


@pytest.mark.parametrize("beats", [RUNNING_SIXTEENTHS, DOTTED, QUARTERS_AND_EIGHTHS])
@pytest.mark.parametrize("bpm", [88.0, 104.0, 122.0])
def test_onset_tempo_finds_the_played_tempo(beats: list[float], bpm: float) -> None:
    onsets, durations = performed(beats, bpm)
    assert onset_tempo(onsets, durations) == pytest.approx(bpm, rel=0.04)
