"""The notes of a piece as plain arrays: onsets in quarters and in seconds, durations, pitches.

What both the serving path (the originality figure of a new piece) and evaluation (music metrics)
read a score as.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from symusic.core import ScoreTick


@dataclass(frozen=True)
class Notes:
    """The notes of a piece, all voices together, sorted by onset then pitch."""

    onset: np.ndarray  # (N,) float, quarter notes from the start
    duration: np.ndarray  # (N,) float, quarter notes
    pitch: np.ndarray  # (N,) int, MIDI pitch
    seconds: np.ndarray  # (N,) float, onset in seconds (tempo map applied)
    end_seconds: float  # when the last note ends
    quarters_per_bar: float  # from the first time signature (4/4 when there is none)

    def __len__(self) -> int:
        return len(self.pitch)

    def excerpt(self, first: int, seconds: float) -> Notes:
        """The notes starting within `seconds` of note `first`, re-timed to start at 0."""
        t0, q0 = self.seconds[first], self.onset[first]
        keep = np.flatnonzero((self.seconds >= t0) & (self.seconds < t0 + seconds))
        end = min(self.end_seconds, t0 + seconds) - t0
        onset, seconds_ = self.onset[keep] - q0, self.seconds[keep] - t0
        return Notes(onset, self.duration[keep], self.pitch[keep], seconds_, end, self.quarters_per_bar)

    def bar_excerpts(self, seconds: float) -> list[Notes]:
        """Back-to-back excerpts of about `seconds`, each starting on a bar line (as a sample does)."""
        on_bar = np.isclose(np.mod(self.onset, self.quarters_per_bar), 0.0, atol=1e-6)
        out, t = [], 0.0
        while len(self) and t < self.end_seconds:
            starts = np.flatnonzero(on_bar & (self.seconds >= t))
            if len(starts) == 0:
                break
            out.append(self.excerpt(int(starts[0]), seconds))
            t = float(self.seconds[starts[0]]) + seconds
        return out


def notes_of(score: ScoreTick) -> Notes:
    """Every non-drum note of a tick-based score, with onsets in quarters and in seconds."""
    tpq = float(score.ticks_per_quarter)
    parts = [tr.notes.numpy() for tr in score.tracks if not tr.is_drum and len(tr.notes)]
    if parts:
        time = np.concatenate([p["time"] for p in parts]).astype(np.int64)
        dur = np.concatenate([p["duration"] for p in parts]).astype(np.int64)
        pitch = np.concatenate([p["pitch"] for p in parts]).astype(np.int16)
    else:
        time = dur = np.zeros(0, np.int64)
        pitch = np.zeros(0, np.int16)
    order = np.lexsort((pitch, time))
    time, dur, pitch = time[order], dur[order], pitch[order]
    to_seconds = _tick_clock(score)
    end = float(to_seconds(np.array([int((time + dur).max())]))[0]) if len(time) else 0.0
    ts = score.time_signatures[0] if len(score.time_signatures) else None
    qpb = ts.numerator * 4.0 / ts.denominator if ts is not None else 4.0
    return Notes(time / tpq, dur / tpq, pitch, to_seconds(time), end, qpb)


def _tick_clock(score: ScoreTick) -> Callable[[np.ndarray], np.ndarray]:
    """A function from ticks to seconds that follows the score's tempo changes (120 bpm before any)."""
    tpq = float(score.ticks_per_quarter)
    tempos = sorted((int(t.time), float(t.qpm)) for t in score.tempos) or [(0, 120.0)]
    if tempos[0][0] > 0:
        tempos.insert(0, (0, 120.0))
    starts = np.array([t for t, _ in tempos], dtype=np.int64)
    sec_per_tick = np.array([60.0 / (q * tpq) for _, q in tempos])
    start_seconds = np.concatenate([[0.0], np.cumsum(np.diff(starts) * sec_per_tick[:-1])])

    def convert(ticks: np.ndarray) -> np.ndarray:
        seg = np.searchsorted(starts, ticks, side="right") - 1
        return np.asarray(start_seconds[seg] + (ticks - starts[seg]) * sec_per_tick[seg], dtype=np.float64)

    return convert
