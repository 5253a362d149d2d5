"""Objective music metrics of single pieces, and how alike two sets of pieces are.

Per-piece metrics follow muspy's definitions (Dong et al. 2020), reimplemented here on plain arrays:
pitch-class entropy, scale consistency, groove consistency and pitch range; note density is notes per
second. Sets of pieces are compared as in Yang & Lerch (2018): a Gaussian kernel density estimate of a
metric over each set, and the area the two densities share (1 = indistinguishable, 0 = disjoint).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from model.notes import Notes

GROOVE_RESOLUTION = 24  # time steps per quarter note for groove patterns (muspy's default resolution)
# Pitch-class masks of the major and natural-minor scales on C; other roots are rotations.
MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
MINOR_SCALE = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)


# -- per-piece metrics (NaN where a metric is undefined, e.g. no notes) ------------------------------
def pitch_class_entropy(notes: Notes) -> float:
    """Shannon entropy (bits) of the pitch-class histogram of note counts; 0 for one repeated pitch class."""
    if len(notes) == 0:
        return math.nan
    p = np.bincount(notes.pitch % 12, minlength=12) / len(notes)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def scale_consistency(notes: Notes) -> float:
    """Largest share of notes inside one major or minor scale, over all 24 scales."""
    if len(notes) == 0:
        return math.nan
    counts = np.bincount(notes.pitch % 12, minlength=12)
    best = max(
        int(counts[np.roll(mask, root)].sum()) for mask in (MAJOR_SCALE, MINOR_SCALE) for root in range(12)
    )
    return best / len(notes)


def groove_consistency(notes: Notes) -> float:
    """1 - mean Hamming distance between the onset patterns of neighbouring bars (one metre assumed)."""
    if len(notes) == 0:
        return math.nan
    per_bar = max(1, round(notes.quarters_per_bar * GROOVE_RESOLUTION))
    steps = np.round(notes.onset * GROOVE_RESOLUTION).astype(np.int64)
    end = int(np.round((notes.onset + notes.duration).max() * GROOVE_RESOLUTION))
    bars = end // per_bar + 1
    if bars < 2:
        return math.nan
    patterns = np.zeros((bars, per_bar), dtype=bool)
    patterns[steps // per_bar, steps % per_bar] = True
    distance = np.count_nonzero(patterns[:-1] != patterns[1:])
    return 1.0 - distance / (per_bar * (bars - 1))


def note_density(notes: Notes) -> float:
    """Notes per second of music (from the start to the end of the last note)."""
    if len(notes) == 0 or notes.end_seconds <= 0:
        return math.nan
    return len(notes) / notes.end_seconds


def pitch_range(notes: Notes) -> float:
    """Highest minus lowest pitch, in semitones."""
    if len(notes) == 0:
        return math.nan
    return float(notes.pitch.max() - notes.pitch.min())


METRICS: dict[str, Callable[[Notes], float]] = {
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "groove_consistency": groove_consistency,
    "note_density": note_density,
    "pitch_range": pitch_range,
}


def piece_metrics(notes: Notes) -> dict[str, float]:
    """Every metric of one piece."""
    return {name: fn(notes) for name, fn in METRICS.items()}


# -- comparing two sets (Yang & Lerch 2018) ----------------------------------------------------------
def kde(values: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian kernel density of `values` evaluated on `grid` (integrates to 1)."""
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.asarray(np.exp(-0.5 * z * z).sum(axis=1) / (len(values) * bandwidth * math.sqrt(2 * math.pi)))


def _bandwidth(values: np.ndarray, span: float) -> float:
    """Scott's rule; a set with no spread (all equal) gets a narrow kernel relative to the joint span."""
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    floor = max(span, 1e-6) * 0.02
    return max(std * len(values) ** (-1 / 5), floor)


def overlap_area(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, points: int = 2048
) -> float:
    """Area shared by the kernel density estimates of two samples: 1 identical, 0 disjoint. NaNs dropped."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return math.nan
    span = float(max(x.max(), y.max()) - min(x.min(), y.min()))
    bx, by = _bandwidth(x, span), _bandwidth(y, span)
    lo = min(x.min(), y.min()) - 4 * max(bx, by)
    hi = max(x.max(), y.max()) + 4 * max(bx, by)
    grid = np.linspace(lo, hi, points)
    shared = np.minimum(kde(x, grid, bx), kde(y, grid, by))
    return float(min(1.0, np.trapezoid(shared, grid)))


@dataclass(frozen=True)
class MetricComparison:
    """One metric over generated and real pieces of one genre."""

    generated_mean: float
    generated_std: float
    real_mean: float
    real_std: float
    overlap: float

    def to_json(self) -> dict[str, float | None]:
        """Rounded figures; NaN becomes null."""
        return {k: _round(v) for k, v in self.__dict__.items()}


def compare_sets(generated: list[Notes], real: list[Notes]) -> dict[str, MetricComparison]:
    """Each metric's mean and spread in both sets and the overlapped area of their distributions."""
    out: dict[str, MetricComparison] = {}
    for name, fn in METRICS.items():
        g = np.array([fn(n) for n in generated], dtype=np.float64)
        r = np.array([fn(n) for n in real], dtype=np.float64)
        out[name] = MetricComparison(*_mean_std(g), *_mean_std(r), overlap_area(g, r))
    return out


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std())


def _round(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 4)
