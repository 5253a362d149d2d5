"""The seed tutorial's LSTM, kept as a baseline: LSTM(128) -> dense ReLU -> softmax over the next token.

Same interface as the transformer (`forward` to train; `new_cache`/`step` to generate), so the engine,
training and evaluation treat both alike. Its hidden state is its cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LSTMConfig:
    """Shape of the baseline; stored in every checkpoint."""

    vocab_size: int
    n_layer: int = 1  # the tutorial's single LSTM layer
    hidden: int = 128  # the tutorial's 128 units
    dense: int = 128  # the dense ReLU layer before the softmax
    dropout: float = 0.1
    block_size: int = 1024  # training context; the LSTM itself has no limit


class LSTMCache:
    """(h, c) per layer for `max_batch` row slots."""

    def __init__(self, cfg: LSTMConfig, max_batch: int, device: torch.device, dtype: torch.dtype) -> None:
        self.h = torch.zeros(cfg.n_layer, max_batch, cfg.hidden, device=device, dtype=dtype)
        self.c = torch.zeros_like(self.h)
        self.lengths = torch.zeros(max_batch, dtype=torch.long, device=device)

    def move_slot(self, src: int, dst: int) -> None:
        """Copy slot `src` into `dst`."""
        self.h[:, dst], self.c[:, dst], self.lengths[dst] = self.h[:, src], self.c[:, src], self.lengths[src]

    def reset_slot(self, slot: int) -> None:
        """Zero a slot's state."""
        self.h[:, slot] = 0
        self.c[:, slot] = 0
        self.lengths[slot] = 0


class LSTMComposer(nn.Module):
    """Embedding -> LSTM -> dense ReLU -> logits."""

    kind = "lstm"

    def __init__(self, cfg: LSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.lstm = nn.LSTM(
            cfg.hidden,
            cfg.hidden,
            cfg.n_layer,
            batch_first=True,
            dropout=cfg.dropout if cfg.n_layer > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.dense = nn.Linear(cfg.hidden, cfg.dense)
        self.out = nn.Linear(cfg.dense, cfg.vocab_size)
        self.grad_checkpointing = False  # accepted for a common interface; an LSTM this small never needs it

    @property
    def context(self) -> int:
        """Training window length (generation is not limited by it)."""
        return self.cfg.block_size

    def _head(self, y: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.dense(self.drop(y))))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (B, T) -> logits (B, T, V)."""
        y, _ = self.lstm(self.emb(idx))
        return self._head(y)

    def new_cache(
        self, max_batch: int, device: torch.device, dtype: torch.dtype = torch.float32
    ) -> LSTMCache:
        """Zero state for `max_batch` slots."""
        return LSTMCache(self.cfg, max_batch, device, dtype)

    @torch.no_grad()
    def step(self, idx: torch.Tensor, cache: LSTMCache, rows: slice) -> torch.Tensor:
        """Feed idx: (B, T) to slots `rows`; logits of the last token: (B, V)."""
        h, c = cache.h[:, rows].contiguous(), cache.c[:, rows].contiguous()
        y, (h, c) = self.lstm(self.emb(idx), (h, c))
        cache.h[:, rows], cache.c[:, rows] = h, c
        cache.lengths[rows] += idx.shape[1]
        return self._head(y[:, -1])
