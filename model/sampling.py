"""Per-row sampling: temperature, top-k, top-p, a repetition penalty on recent pitches, a grammar mask.

Batched over rows, but every row uses only its own logits, settings and random generator, so a row
samples the same tokens whatever else shares the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch


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

    def __post_init__(self) -> None:
        if not 0.05 <= self.temperature <= 3.0:
            raise ValueError("temperature must be between 0.05 and 3")
        if not 0 < self.top_p <= 1.0 or self.top_k < 0:
            raise ValueError("top_p must be in (0, 1] and top_k >= 0")
        if not 1.0 <= self.repetition_penalty <= 3.0:
            raise ValueError("repetition_penalty must be between 1 and 3")


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
    Creativity.SAFE: SamplingParams(temperature=0.85, top_p=0.9, repetition_penalty=1.05),
    Creativity.BALANCED: SamplingParams(temperature=1.0, top_p=0.95, repetition_penalty=1.1),
    Creativity.ADVENTUROUS: SamplingParams(temperature=1.15, top_p=0.98, repetition_penalty=1.2),
}


def sample_rows(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    params: list[SamplingParams],
    generators: list[torch.Generator],
    recent_pitch_ids: list[list[int]],
    bias: torch.Tensor | None = None,
) -> list[int]:
    """Sample one id per row of logits (B, V) in one pass of batched tensor ops.

    Every operation works row by row, and each row draws its uniform number from its own generator, so
    a row's token does not depend on the other rows. Inverse-CDF sampling over the sorted nucleus.
    """
    b, v = logits.shape
    x = logits.float()
    if bias is not None:
        x = x + bias
    pen = torch.tensor([p.repetition_penalty for p in params])
    recent = torch.zeros(b, v, dtype=torch.bool)
    hits = [
        (i, t)
        for i, (ids, p) in enumerate(zip(recent_pitch_ids, params, strict=True))
        if p.repetition_penalty > 1.0
        for t in ids[-p.repetition_window :]
    ]
    if hits:
        recent[tuple(torch.tensor(hits).T)] = True
    x = torch.where(recent, torch.where(x > 0, x / pen[:, None], x * pen[:, None]), x)
    x = x.masked_fill(~allowed, float("-inf")) / torch.tensor([p.temperature for p in params])[:, None]
    top_k = torch.tensor([p.top_k if p.top_k else v for p in params])
    top_p = torch.tensor([p.top_p for p in params])
    probs = torch.softmax(x, dim=-1)
    sorted_p, order = torch.sort(probs, dim=-1, descending=True, stable=True)
    rank = torch.arange(v)[None, :]
    cut = (torch.cumsum(sorted_p, -1) - sorted_p > top_p[:, None]) | (rank >= top_k[:, None])
    sorted_p = sorted_p.masked_fill(cut, 0.0)
    cdf = torch.cumsum(sorted_p, -1)
    u = torch.tensor([torch.rand(1, generator=g).item() for g in generators], dtype=cdf.dtype)
    pick = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).clamp(max=v - 1)
    return order.gather(1, pick).squeeze(1).tolist()
