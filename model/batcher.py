"""Continuous batching over one model: rows join between decode steps and leave the moment they finish.

Synchronous and single-threaded on purpose: the engine runs it in its own thread. Live rows occupy
cache slots 0..n-1; when a row leaves, the last row moves into its slot, so each decode step is one
forward pass over a plain slice of the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cadenza.errors import BadInput
from cadenza.theory import MAJOR_PROFILE, MINOR_PROFILE
from model.checkpoint import ComposerNet
from model.grammar import RowGrammar, Vocabulary
from model.part_grammar import PartGrammar, part_vocabulary
from model.part_plan import make_part_plan, part_grammar
from model.parts import PartTokenizer
from model.plan import Plan, make_plan
from model.request import GenerationRequest, Task
from model.sampling import sample_rows, stream_key
from model.tokenizer import CadenzaTokenizer

MAX_NEW_TOKENS_PER_BAR = 400  # a runaway row (should not happen under the grammar) is stopped here


@dataclass
class Row:
    """One request being generated."""

    request: GenerationRequest
    plan: Plan
    grammar: RowGrammar | PartGrammar
    stream: int  # the row's random stream for sampling (model.sampling.stream_key of the seed)
    tokens: list[int]  # everything so far, prompt included
    deadline: float
    on_progress: Callable[[int, int], None] | None = None
    cancelled: bool = False
    draws: int = 0  # random numbers drawn from the stream so far
    recent_pitches: list[int] = field(default_factory=list)
    bias: torch.Tensor = field(default_factory=lambda: torch.zeros(0))  # keeps pitches in the requested key
    cadence: torch.Tensor | None = None  # added to bias in the piece's last bar (v2 rows)
    started: float = field(default_factory=time.monotonic)

    @property
    def new_tokens(self) -> int:
        """Tokens generated after the prompt."""
        return len(self.tokens) - len(self.plan.prompt)


class Batcher:
    """Owns the model's cache and the live rows; `admit` and `step` are called by one thread."""

    def __init__(
        self,
        model: ComposerNet,
        tok: CadenzaTokenizer,
        stats: dict[str, Any],
        max_batch: int,
        device: torch.device,
    ) -> None:
        self.model, self.tok, self.stats, self.max_batch, self.device = model, tok, stats, max_batch, device
        self.vocab = part_vocabulary(tok) if isinstance(tok, PartTokenizer) else Vocabulary(tok)
        self.cache: Any = model.new_cache(max_batch, device)  # KVCache or LSTMCache, matching the model
        self.rows: list[Row] = []
        self.context = int(model.context)
        self._pitch_ids = torch.from_numpy(np.flatnonzero(tok.pitch_of >= 0))

    @property
    def free(self) -> int:
        """Slots available for new rows."""
        return self.max_batch - len(self.rows)

    def prepare(self, req: GenerationRequest, deadline: float) -> Row:
        """Plan a request (may raise BadInput) into a row ready to admit."""
        gen = torch.Generator().manual_seed(req.seed)
        grammar: RowGrammar | PartGrammar
        if isinstance(self.tok, PartTokenizer):
            plan: Plan = make_part_plan(req, self.tok, self.vocab, self.stats, gen, self.context)
            grammar = part_grammar(plan, self.tok, self.vocab)  # type: ignore[arg-type]
        else:
            if req.task is not Task.CONTINUE:
                raise BadInput(f"this model ({type(self.tok).__name__}) can only continue music")
            plan = make_plan(req, self.tok, self.vocab, self.stats, gen)
            grammar = RowGrammar(self.vocab, plan.time_sig_id, plan.tempo_id, plan.target_bars)
            for t in plan.prompt[1:]:
                grammar.advance(t)
        bias = key_bias(self.tok, plan.key_index, req.params.key_bias)
        cadence = None
        if isinstance(grammar, PartGrammar) and req.params.cadence > 0:
            cadence = bias + cadence_bias(self.tok, plan.key_index, req.params.cadence)
        return Row(
            req, plan, grammar, stream_key(req.seed), list(plan.prompt), deadline, bias=bias, cadence=cadence
        )

    def admit(self, row: Row) -> None:
        """Prefill a row's prompt into the next free slot and sample its first token."""
        slot = len(self.rows)
        self.cache.reset_slot(slot)
        self.rows.append(row)
        context = self._context_tokens(row)
        logits = self.model.step(
            torch.tensor([context], device=self.device), self.cache, slice(slot, slot + 1)
        )
        self._sample([row], logits)

    def step(self) -> list[Row]:
        """One decode step for every live row; returns rows that finished or must leave."""
        if not self.rows:
            return []
        n = len(self.rows)
        for i in (self.cache.lengths[:n] >= self.context).nonzero().flatten().tolist():
            self._reprefill(i, self.rows[i])
        last = torch.from_numpy(np.array([r.tokens[-1] for r in self.rows], dtype=np.int64))[:, None]
        last = last.to(self.device)
        logits = self.model.step(last, self.cache, slice(0, n))
        live = [i for i, r in enumerate(self.rows) if not r.grammar.finished]
        if live:
            self._sample([self.rows[i] for i in live], logits[live])
        return self._evict()

    def _sample(self, rows: list[Row], logits: torch.Tensor) -> None:
        """Sample the next token of every row in `rows` from logits (len(rows), V)."""
        logits = logits.float().cpu()
        tokens = sample_rows(
            logits,
            torch.stack([r.grammar.allowed() for r in rows]),
            [r.request.params for r in rows],
            np.array([r.stream for r in rows], dtype=np.uint64),
            np.array([r.draws for r in rows], dtype=np.uint64),
            [r.recent_pitches for r in rows],
            torch.stack([_bias_now(r, logits[j], self._pitch_ids) for j, r in enumerate(rows)]),
        )
        for row, token in zip(rows, tokens, strict=True):
            row.draws += 1
            self._advance(row, token)

    def _advance(self, row: Row, token: int) -> None:
        row.tokens.append(token)
        row.grammar.advance(token)
        if self.tok.pitch_of[token] >= 0:
            row.recent_pitches.append(token)
            del row.recent_pitches[: -row.request.params.repetition_window]
        if row.on_progress and (row.new_tokens % 16 == 0 or row.grammar.finished):
            row.on_progress(row.new_tokens, row.plan.expected_tokens)

    def _evict(self) -> list[Row]:
        """Remove finished, cancelled, timed-out and runaway rows, keeping live rows packed at the front."""
        now = time.monotonic()
        done: list[Row] = []
        i = 0
        while i < len(self.rows):
            row = self.rows[i]
            runaway = row.new_tokens > MAX_NEW_TOKENS_PER_BAR * row.plan.new_bars
            if row.grammar.finished or row.cancelled or now > row.deadline or runaway:
                done.append(row)
                last = len(self.rows) - 1
                if i != last:
                    self.cache.move_slot(last, i)
                    self.rows[i] = self.rows[last]
                self.rows.pop()
                self.cache.reset_slot(last)
            else:
                i += 1
        return done

    def _context_tokens(self, row: Row) -> list[int]:
        """The prompt to prefill: all tokens, or the prefix plus the latest bars when past the context."""
        if len(row.tokens) < self.context:
            return row.tokens
        front = row.tokens[: row.plan.keep]
        tail = row.tokens[-min(self.context // 2, self.context - len(front) - 1) :]
        bar_at = next((j for j, t in enumerate(tail) if t == self.tok.bar_id), 0)
        return front + tail[bar_at:]

    def _reprefill(self, slot: int, row: Row) -> None:
        """Slide the window: rebuild this row's cache from its prefix and most recent bars."""
        context = self._context_tokens(row)
        self.cache.reset_slot(slot)
        # All but the last token: the next decode step feeds the last one, as for every row.
        self.model.step(torch.tensor([context[:-1]], device=self.device), self.cache, slice(slot, slot + 1))


def _bias_now(row: Row, logits: torch.Tensor, pitch_ids: torch.Tensor) -> torch.Tensor:
    """The row's pitch bias for its next token: the key's, plus the cadence's in the last bar.

    The cadence moves probability between pitches only: every pitch gets the same correction so that
    their total is what the key bias alone gives, or a closing bar would pile up notes (a Pitch rather
    than the next Position) instead of choosing the tonic chord's.
    """
    grammar = row.grammar
    if row.cadence is None or not isinstance(grammar, PartGrammar) or grammar.bars_left != 1:
        return row.bias
    plain = torch.logsumexp(logits[pitch_ids] + row.bias[pitch_ids], 0)
    closing = torch.logsumexp(logits[pitch_ids] + row.cadence[pitch_ids], 0)
    out = row.cadence.clone()
    out[pitch_ids] += plain - closing
    return out


def cadence_bias(tok: CadenzaTokenizer, key_index: int, strength: float) -> torch.Tensor:
    """An additive logit bias (V,) for a closing bar: the tonic chord's third and fifth gain
    `strength`, the tonic `2 * strength`; other pitches and non-pitch tokens are left as they are."""
    tonic, minor = key_index % 12, key_index >= 12
    gain = torch.zeros(12)
    gain[0], gain[3 if minor else 4], gain[7] = 2 * strength, strength, strength
    pitch = torch.from_numpy(tok.pitch_of.astype("int64"))
    return torch.where(pitch >= 0, gain[(pitch - tonic) % 12], torch.tensor(0.0))


MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the raised leading note


def key_bias(tok: CadenzaTokenizer, key_index: int, strength: float) -> torch.Tensor:
    """An additive logit bias (V,) shaped like the key's profile: strength * log(profile / mean profile).

    Pitches the key's profile weighs most (tonic, fifth, third) gain a little, chromatic ones lose
    about 2 * strength, and in minor the relative major's dominant is discouraged: the piece leans
    towards exactly what a key-profile estimate listens for.
    """
    tonic, minor = key_index % 12, key_index >= 12
    profile = torch.tensor(MINOR_PROFILE if minor else MAJOR_PROFILE, dtype=torch.float32)
    weight = strength * torch.log(profile / profile.mean())  # (12,) by scale degree
    pitch = torch.from_numpy(tok.pitch_of.astype("int64"))
    degree = (pitch - tonic) % 12
    return torch.where(pitch >= 0, weight[degree], torch.tensor(0.0))
