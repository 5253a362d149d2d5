"""Per-row sampling: temperature, top-k, top-p, a repetition penalty on recent pitches, a grammar mask.

Pure functions of their arguments: one row's logits, its settings and its own random generator, so a
row samples the same tokens whatever else shares the batch.
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
    key_bias: float = 1.5  # subtracted from the logits of pitches outside the requested key's scale

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
        return {
            Creativity.SAFE: SamplingParams(temperature=0.85, top_p=0.9, repetition_penalty=1.05),
            Creativity.BALANCED: SamplingParams(temperature=1.0, top_p=0.95, repetition_penalty=1.1),
            Creativity.ADVENTUROUS: SamplingParams(temperature=1.15, top_p=0.98, repetition_penalty=1.2),
        }[self]


def sample_token(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    params: SamplingParams,
    generator: torch.Generator,
    recent_pitch_ids: list[int] | None = None,
    bias: torch.Tensor | None = None,
) -> int:
    """Sample one id from logits (V,) restricted to `allowed` (V,) bool, plus an optional additive bias (V,)."""
    x = logits.float().clone()
    if bias is not None:
        x += bias
    if recent_pitch_ids and params.repetition_penalty > 1.0:
        ids = torch.tensor(sorted(set(recent_pitch_ids[-params.repetition_window :])), dtype=torch.long)
        vals = x[ids]
        x[ids] = torch.where(vals > 0, vals / params.repetition_penalty, vals * params.repetition_penalty)
    x = x.masked_fill(~allowed, float("-inf")) / params.temperature
    if params.top_k:
        kth = torch.topk(x, min(params.top_k, int(allowed.sum()))).values[-1]
        x = x.masked_fill(x < kth, float("-inf"))
    probs = torch.softmax(x, dim=-1)
    if params.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        cut = torch.cumsum(sorted_p, 0) - sorted_p > params.top_p  # keep the first token always
        sorted_p = sorted_p.masked_fill(cut, 0.0)
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p)
    return int(torch.multinomial(probs, 1, generator=generator).item())
