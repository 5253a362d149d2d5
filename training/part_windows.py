"""Training windows for composer v2: the three tasks mixed, each example built from a stored piece.

A stored piece is `Tempo_<t>` followed by its bars (model/parts.py). Every example is a complete
prompt-and-answer for one task — continue, infill or fill parts — and examples are packed back to
back into windows of `seq_len + 1` tokens. As in v1, which pieces, bars, tasks and transpositions go
into batch `step` is a pure function of (seed, step, rank), so a resumed run sees the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.parts import BarTokens, PartTokenizer
from training.dataset import WindowSampler
from training.token_store import TokenSplit


@dataclass(frozen=True)
class TaskMix:
    """How often each task is drawn (normalised), and the shapes of infill and fill examples."""

    continue_: float = 0.5
    infill: float = 0.3
    fill: float = 0.2
    max_infill_bars: int = 8  # longest gap an infill example asks for
    future_share: float = 0.3  # at most this share of an infill window is the bars after the gap
    melody_given: float = 0.7  # share of fill examples whose given part is the top part alone

    def probabilities(self) -> np.ndarray:
        """(continue, infill, fill) as probabilities."""
        p = np.array([self.continue_, self.infill, self.fill], dtype=np.float64)
        if (p < 0).any() or p.sum() <= 0:
            raise ValueError("task ratios must be non-negative and not all zero")
        return p / p.sum()


class PartWindowSampler(WindowSampler):
    """Random packed task examples from one split of a v2 corpus (v1's batching, transposition and
    fixed evaluation batches; its own examples)."""

    def __init__(
        self,
        split: TokenSplit,
        tok: PartTokenizer,
        seq_len: int,
        transpose_range: int = 0,
        mix: TaskMix | None = None,
    ) -> None:
        super().__init__(split, tok, seq_len, transpose_range)
        self.tok: PartTokenizer = tok
        self.mix = mix or TaskMix()
        self.task_p = self.mix.probabilities()
        # Parsed bars per piece: parsing is pure Python, so each piece is parsed once per run (the
        # whole corpus as BarTokens is ~100 MB), not once per example.
        self._bars: dict[int, list[BarTokens]] = {}
        self._parts: dict[int, list[int]] = {}

    def bars(self, i: int) -> list[BarTokens]:
        """Piece i's bars (parsed on first use)."""
        if i not in self._bars:
            self._bars[i] = self.tok.parse_bars(np.asarray(self.split.piece(i), dtype=np.int64)[1:])
            self._parts[i] = sorted({p for bar in self._bars[i] for p in bar.parts})
        return self._bars[i]

    def window(self, rng: np.random.Generator) -> np.ndarray:
        """One packed window of seq_len + 1 token ids."""
        out: list[np.ndarray] = []
        n = 0
        while n < self.seq_len + 1:
            seg = self.example(rng, int(rng.choice(len(self.piece_p), p=self.piece_p)))
            out.append(seg)
            n += len(seg)
        return np.concatenate(out)[: self.seq_len + 1]

    def example(self, rng: np.random.Generator, i: int, task: str | None = None) -> np.ndarray:
        """One task example from piece i (task drawn from the mix unless given)."""
        row = self.split.index[i]
        tempo = int(self.split.piece(i)[0])
        bars = self.bars(i)
        task = task or str(rng.choice(["continue", "infill", "fill"], p=self.task_p))
        parts = self._parts[i]
        if task == "fill" and len(parts) < 2:
            task = "continue"
        if task == "infill" and len(bars) < 2:
            task = "continue"
        genre = self.tok.genres[int(row["genre"])]
        make = {"continue": self._continue, "infill": self._infill, "fill": self._fill}[task]
        given, body = make(rng, bars, parts)
        head = self.tok.header(genre, int(row["key"]), tempo, task, given)
        seg = np.array(head + body, dtype=np.int64)
        if self.transpose_range:
            seg = self.tok.transpose(seg, self._shift(rng, seg))
        return seg

    def _budget(self) -> int:
        return self.seq_len - 8

    def _continue(
        self, rng: np.random.Generator, bars: list[BarTokens], parts: list[int]
    ) -> tuple[list[int], list[int]]:
        start = int(rng.integers(0, len(bars)))
        body = self._fit(bars, start, len(bars), self._budget(), from_end=False)
        ends = start + _count_bars(body, self.tok) >= len(bars)
        return [], body + ([self.tok.eos_id] if ends else [])

    def _infill(
        self, rng: np.random.Generator, bars: list[BarTokens], parts: list[int]
    ) -> tuple[list[int], list[int]]:
        n = len(bars)
        span = int(rng.integers(1, min(self.mix.max_infill_bars, n - 1) + 1))
        a = int(rng.integers(0, n - span + 1))
        b = a + span  # the gap is bars[a:b]
        gap = self.tok.bars_tokens(bars[a:b], n, a)
        room = self._budget() - len(gap)
        future = self._fit(bars, b, n, int(room * self.mix.future_share), from_end=False)
        past = self._fit(bars, 0, a, room - len(future), from_end=True)
        tok = self.tok
        return [], [tok.fill_after_id, *future, tok.fill_before_id, *past, *gap, tok.eos_id]

    def _fill(
        self, rng: np.random.Generator, bars: list[BarTokens], parts: list[int]
    ) -> tuple[list[int], list[int]]:
        if rng.random() < self.mix.melody_given:
            given = [parts[0]]
        else:
            k = int(rng.integers(1, len(parts)))
            given = sorted(int(p) for p in rng.choice(parts, size=k, replace=False))
        start = int(rng.integers(0, len(bars)))
        body = self._fit(bars, start, len(bars), self._budget(), from_end=False, given=given)
        ends = start + _count_bars(body, self.tok) >= len(bars)
        return given, body + ([self.tok.eos_id] if ends else [])

    def _fit(
        self,
        bars: list[BarTokens],
        lo: int,
        hi: int,
        budget: int,
        from_end: bool,
        given: list[int] | None = None,
    ) -> list[int]:
        """Whole bars that fit; a first bar longer than the whole budget is cut rather than dropped."""
        out = self.tok.fit_bars(bars, lo, hi, budget, from_end, given or ())
        if not out and lo < hi and budget > 0:
            j = hi - 1 if from_end else lo
            out = self.tok.bars_tokens([bars[j]], len(bars), j, given or ())[:budget]
        return out


def _count_bars(tokens: list[int], tok: PartTokenizer) -> int:
    return sum(1 for t in tokens if t == tok.bar_id)
