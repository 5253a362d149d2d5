"""Training windows drawn from memory-mapped token arrays.

A window is packed: `BOS Genre Key <piece from a bar line> EOS BOS Genre Key <next piece> ...` up to
`seq_len + 1` tokens. Which pieces, bars and transpositions go into batch `step` is a pure function
of (seed, step, rank), so a resumed run sees exactly the data an uninterrupted run would have.
"""

from __future__ import annotations

import numpy as np
import torch

from model.tokenizer import CadenzaTokenizer
from training.token_store import TokenSplit

PITCH_LOW, PITCH_HIGH = 21, 108


class WindowSampler:
    """Random packed windows from one split; memory stays flat whatever the corpus size."""

    def __init__(
        self, split: TokenSplit, tok: CadenzaTokenizer, seq_len: int, transpose_range: int = 0
    ) -> None:
        if len(split.index) == 0:
            raise ValueError("the split has no pieces")
        self.split, self.tok, self.seq_len, self.transpose_range = split, tok, seq_len, transpose_range
        lengths = split.index["length"].astype(np.float64)
        self.piece_p = lengths / lengths.sum()  # every token equally likely to be trained on
        self.genre_tokens = np.array([tok.genre_id(g) for g in tok.genres], dtype=np.int64)

    def window(self, rng: np.random.Generator) -> np.ndarray:
        """One packed window of seq_len + 1 token ids."""
        out: list[np.ndarray] = []
        n = 0
        while n < self.seq_len + 1:
            seg = self._segment(rng, int(rng.choice(len(self.piece_p), p=self.piece_p)))
            out.append(seg)
            n += len(seg)
        return np.concatenate(out)[: self.seq_len + 1]

    def _segment(self, rng: np.random.Generator, i: int) -> np.ndarray:
        row = self.split.index[i]
        music = np.asarray(self.split.piece(i), dtype=np.int64)
        bars = np.flatnonzero(music == self.tok.bar_id)
        start = int(rng.choice(bars)) if len(bars) else 0
        body = music[start : start + self.seq_len]
        prefix = np.array(
            [self.tok.bos_id, self.genre_tokens[row["genre"]], self.tok.key_id(int(row["key"]))]
        )
        tail = [self.tok.eos_id] if start + self.seq_len >= len(music) else []
        seg = np.concatenate([prefix, body, np.array(tail, dtype=np.int64)])
        if self.transpose_range:
            seg = self.tok.transpose(seg, self._shift(rng, body))
        return seg

    def _shift(self, rng: np.random.Generator, body: np.ndarray) -> int:
        """A random transposition that keeps every pitch of the segment in range."""
        pitches = self.tok.pitch_of[body]
        pitches = pitches[pitches >= 0]
        if len(pitches) == 0:
            return 0
        lo = max(-self.transpose_range, PITCH_LOW - int(pitches.min()))
        hi = min(self.transpose_range, PITCH_HIGH - int(pitches.max()))
        return int(rng.integers(lo, hi + 1)) if lo <= hi else 0

    def batch(self, seed: int, step: int, rank: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets (B, seq_len) for `step`, the same on every run."""
        rng = np.random.default_rng([seed, step, rank])
        w = torch.from_numpy(np.stack([self.window(rng) for _ in range(batch_size)]))
        return w[:, :-1].contiguous(), w[:, 1:].contiguous()

    def fixed_batches(
        self, seed: int, count: int, batch_size: int
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The same evaluation windows for every model and every call (no transposition)."""
        keep, self.transpose_range = self.transpose_range, 0
        try:
            return [self.batch(seed, 10**9 + i, 0, batch_size) for i in range(count)]
        finally:
            self.transpose_range = keep
