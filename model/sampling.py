"""Per-row sampling: temperature, top-k, top-p, a repetition penalty on recent pitches, a grammar mask.

Batched over rows, but every row uses only its own logits, settings and random stream, so a row
samples the same tokens whatever else shares the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
NUCLEUS_CANDIDATES = 64  # tokens ranked by top-k before falling back to a full sort (see sample_rows)


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scramble of uint64 values (wrap-around arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int) -> int:
    """The random stream of a row seeded with `seed` (any int; stored as uint64)."""
    return int(_mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0])


def uniforms(keys: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Draw number `draws[i]` of stream `keys[i]`, as a float in [0, 1), for every row in one pass.

    Counter-based (splitmix64 of key + draw * golden ratio): a row's numbers depend only on its own
    key and how many it has drawn, never on the other rows, and no per-row generator object is touched.
    """
    z = _mix64(keys.astype(np.uint64) + (draws.astype(np.uint64) + np.uint64(1)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


@dataclass(frozen=True)
class SamplingParams:
    """How adventurous one request is."""

    temperature: float = 1.0  # <1 sharper and safer, >1 more surprising
    top_k: int = 0  # keep only the k likeliest tokens (0 = off)
    top_p: float = 0.95  # nucleus: keep the smallest set holding this much probability
    repetition_penalty: float = (
        1.1  # divides the logits of pitches used in the last `repetition_window` notes
    )
    repetition_window: int = 16
    key_bias: float = 1.0  # how strongly pitches follow the requested key's profile (0 = not at all)
    # Composer v2: in the piece's last bar, logits of the tonic chord's pitches gain this much (the
    # tonic itself twice as much), so a piece closes on its key instead of stopping (0 = off).
    cadence: float = 1.0
    # Composer v2 form: a new piece of 8+ bars may bring its opening tune (bars 1-2 of the top part)
    # back at bar 5 or 9 - where its genre's music most often does - the model writing the other parts
    # under it and the rest around it. The chance is the genre's measured rate (the checkpoint's
    # genre_stats) times this strength (0 = off). The rate counts only exact returns of bars 1-2 at that
    # bar; real excerpts return some 2-bar phrase about 1.5x as often (celtic 0.47 vs 0.23 + 0.07 at 9,
    # folk 0.20 vs 0.15, chorale 0.10 vs 0.06), hence 1.5.
    phrase_return: float = 1.5

    def __post_init__(self) -> None:
        if not 0.05 <= self.temperature <= 3.0:
            raise ValueError("temperature must be between 0.05 and 3")
        if not 0 < self.top_p <= 1.0 or self.top_k < 0:
            raise ValueError("top_p must be in (0, 1] and top_k >= 0")
        if not 1.0 <= self.repetition_penalty <= 3.0:
            raise ValueError("repetition_penalty must be between 1 and 3")
        if not 0.0 <= self.phrase_return <= 5.0:
            raise ValueError("phrase_return must be between 0 and 5")
        if not 0.0 <= self.cadence <= 5.0:
            raise ValueError("cadence must be between 0 and 5")


class Creativity(Enum):
    """Named presets users pick instead of raw numbers."""

    SAFE = "safe"
    BALANCED = "balanced"
    ADVENTUROUS = "adventurous"

    @property
    def params(self) -> SamplingParams:
        """The sampling settings this preset stands for."""
        return _PRESETS[self]


_PRESETS = {
    # No repetition penalty in safe and balanced: measured on composer v2 (docs/evaluation-v2.md), the
    # old 1.1 over the last 16 pitches cut tonic endings (folk 0.44 -> 0.12 of pieces, renaissance
    # 0.31 -> 0.12) and bought no variety; adventurous keeps a light one.
    Creativity.SAFE: SamplingParams(temperature=0.85, top_p=0.9, repetition_penalty=1.0),
    Creativity.BALANCED: SamplingParams(temperature=1.0, top_p=0.95, repetition_penalty=1.0),
    Creativity.ADVENTUROUS: SamplingParams(temperature=1.15, top_p=0.98, repetition_penalty=1.1),
}


def sample_rows(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    params: list[SamplingParams],
    keys: np.ndarray,
    draws: np.ndarray,
    recent_pitch_ids: list[list[int]],
    bias: torch.Tensor | None = None,
) -> list[int]:
    """Sample one id per row of logits (B, V) in one pass of batched tensor ops.

    Every operation works row by row, and each row draws its uniform number from its own stream
    (`keys[i]`, draw number `draws[i]`, see `uniforms`), so
    a row's token does not depend on the other rows. Inverse-CDF sampling over the sorted nucleus.
    """
    b, v = logits.shape
    x = logits.float()
    if bias is not None:
        x = x + bias
    # Per-row settings as tensors, built through numpy (torch.tensor on Python lists is ~5x slower).
    pen = _column([p.repetition_penalty for p in params], np.float32)
    rows: list[int] = []
    cols: list[int] = []
    for i, (ids, p) in enumerate(zip(recent_pitch_ids, params, strict=True)):
        if p.repetition_penalty > 1.0:
            window = ids[-p.repetition_window :]
            rows += [i] * len(window)
            cols += window
    recent = torch.zeros(b, v, dtype=torch.bool)
    if rows:
        recent[_column(rows, np.int64), _column(cols, np.int64)] = True
    x = torch.where(recent, torch.where(x > 0, x / pen[:, None], x * pen[:, None]), x)
    x = x.masked_fill(~allowed, float("-inf")) / _column([p.temperature for p in params], np.float32)[:, None]
    top_k = _column([p.top_k if p.top_k else v for p in params], np.int64)
    top_p = _column([p.top_p for p in params], np.float32)
    probs = torch.softmax(x, dim=-1)
    u = torch.from_numpy(uniforms(keys, draws)).to(probs.dtype)
    # The nucleus almost always sits among the few likeliest tokens: take those with one top-k (a tenth
    # of a full sort's cost) and sort the whole row only where the nucleus could reach past them.
    # Each row's path depends only on its own probabilities, so rows stay independent of each other.
    width = min(NUCLEUS_CANDIDATES, v)
    sorted_p, order = torch.topk(probs, width, dim=-1)
    inside = (sorted_p.sum(-1) > top_p) | (top_k <= width) | (sorted_p[:, -1] == 0)
    picks = _pick(sorted_p, order, top_p, top_k, u)
    if not bool(inside.all()):
        wide = (~inside).nonzero().flatten()
        full_p, full_order = torch.sort(probs[wide], dim=-1, descending=True, stable=True)
        picks[wide] = _pick(full_p, full_order, top_p[wide], top_k[wide], u[wide])
    return picks.tolist()


def _column(values: list[float] | list[int], dtype: type) -> torch.Tensor:
    return torch.from_numpy(np.array(values, dtype=dtype))


def _pick(
    sorted_p: torch.Tensor, order: torch.Tensor, top_p: torch.Tensor, top_k: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """Inverse-CDF draw per row from probabilities sorted in descending order, cut to top-k and top-p."""
    rank = torch.arange(sorted_p.shape[1])[None, :]
    cut = (torch.cumsum(sorted_p, -1) - sorted_p > top_p[:, None]) | (rank >= top_k[:, None])
    sorted_p = sorted_p.masked_fill(cut, 0.0)
    cdf = torch.cumsum(sorted_p, -1)
    pick = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).clamp(max=sorted_p.shape[1] - 1)
    return order.gather(1, pick).squeeze(1)
