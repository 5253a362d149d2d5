"""Composer v2: a GenerationRequest's task (continue, infill, fill parts) as a prompt and a row grammar."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cadenza.errors import BadInput
from cadenza.theory import estimate_key, pitch_class_histogram
from model.grammar import Vocabulary
from model.part_grammar import PartGrammar
from model.parts import BarTokens, PartTokenizer
from model.plan import Plan, make_plan
from model.request import GenerationRequest, Task

FUTURE_SHARE = 0.3  # at most this share of the context holds the bars after an infill gap (as in training)


@dataclass(frozen=True)
class PartPlan(Plan):
    """v1's plan plus what a v2 task needs to build its grammar and to put the piece together."""

    task: Task = Task.CONTINUE
    first_left: int = 1
    before: tuple[BarTokens, ...] = ()  # infill: the source's bars before the gap (kept verbatim)
    after: tuple[BarTokens, ...] = ()  # infill: the bars after it
    given_bars: tuple[list[int], ...] = ()  # fill: forced tokens of each bar
    given_parts: frozenset[int] = frozenset()
    max_parts: int = 6
    header_len: int = 5
    returns: tuple[
        tuple[int, int], ...
    ] = ()  # (bar, earlier bar) pairs: bar repeats the earlier one (1-based)


def make_part_plan(
    req: GenerationRequest,
    tok: PartTokenizer,
    vocab: Vocabulary,
    stats: dict[str, Any],
    rng: torch.Generator,
    context: int,
) -> PartPlan:
    """Resolve controls as v1 does, then lay out the task's prompt."""
    if req.task is Task.CONTINUE:
        return _continue(req, tok, vocab, stats, rng)
    if not req.source:
        raise BadInput(f"the {req.task.value} task needs the piece to work on")
    bars = tok.parse_bars(req.source)
    if not any(b.notes() for b in bars):
        raise BadInput("the piece has no notes to work with")
    base = make_plan(_with_source_controls(req, tok, bars), tok, vocab, stats, rng)
    if req.task is Task.INFILL:
        return _infill(req, tok, base, bars, context)
    return _fill(req, tok, base, bars, stats)


def part_grammar(plan: PartPlan, tok: PartTokenizer, vocab: Vocabulary) -> PartGrammar:
    """The row grammar for a plan, positioned right after its prompt."""
    return PartGrammar(
        vocab,
        tok,
        plan.time_sig_id,
        plan.new_bars,
        plan.first_left,
        max_parts=plan.max_parts,
        given_bars=plan.given_bars,
        given_parts=plan.given_parts,
        returns=dict(plan.returns),
    )


RETURN_BARS = 2  # a phrase return brings back this many opening bars
RETURN_AT = (5, 9)  # bars where an opening may return (training/token_store.py measures its rate there)


def phrase_returns(
    new_bars: int, rates: dict[str, float], strength: float, rng: torch.Generator
) -> tuple[tuple[int, int], ...]:
    """Where the top part of bars 1-2 comes back note for note, if anywhere: at the place (bar 5 or 9)
    where the genre's music most often brings its opening back (`rates`: the checkpoint's measured
    shares), with that share times `strength` as the chance; a bar or more is always left after it
    for the model to close the piece. () when nothing returns."""
    places = [at for at in RETURN_AT if new_bars >= at + RETURN_BARS + 1]
    if not places or strength <= 0:
        return ()
    at = max(places, key=lambda a: float(rates.get(str(a), 0.0)))
    if float(torch.rand(1, generator=rng)) >= min(1.0, strength * float(rates.get(str(at), 0.0))):
        return ()
    return tuple((at + i, 1 + i) for i in range(RETURN_BARS))


def _continue(
    req: GenerationRequest, tok: PartTokenizer, vocab: Vocabulary, stats: dict[str, Any], rng: torch.Generator
) -> PartPlan:
    primer = tok.parse_bars(req.primer or ())
    base = make_plan(req, tok, vocab, stats, rng)
    total = len(primer) + base.new_bars
    header = tok.header(req.genre, base.key_index, base.tempo_id, "continue")
    prompt = header + tok.bars_tokens(primer, total)
    return _plan(
        base,
        prompt,
        Task.CONTINUE,
        total,
        first_left=base.new_bars,
        header_len=len(header),
        primer_len=len(prompt) - len(header),
        max_parts=_parts(stats, req.genre),
        # A continuation of someone's clip is theirs to shape: returns are for pieces begun here.
        returns=()
        if primer
        else phrase_returns(
            base.new_bars, stats.get(req.genre, {}).get("phrase_return", {}), req.params.phrase_return, rng
        ),
    )


def _infill(
    req: GenerationRequest, tok: PartTokenizer, base: Plan, bars: list[BarTokens], context: int
) -> PartPlan:
    n = len(bars)
    a, b = req.bars or (1, n)
    if not 1 <= a <= b <= n:
        raise BadInput(f"bars {a}-{b} are not inside the piece (it has {n} bars)")
    header = tok.header(req.genre, base.key_index, base.tempo_id, "infill")
    room = context - len(header) - 8 - (b - a + 1) * 24
    future = tok.fit_bars(bars, b, n, int(room * FUTURE_SHARE))
    past = tok.fit_bars(bars, 0, a - 1, room - len(future), from_end=True)
    prompt = [*header, tok.fill_after_id, *future, tok.fill_before_id]
    keep = len(prompt)
    prompt += past
    plan = _plan(
        base,
        prompt,
        Task.INFILL,
        n,
        first_left=n - a + 1,
        header_len=len(header),
        new_bars=b - a + 1,
        keep=keep,
        before=tuple(bars[: a - 1]),
        after=tuple(bars[b:]),
    )
    return plan


def _fill(
    req: GenerationRequest, tok: PartTokenizer, base: Plan, bars: list[BarTokens], stats: dict[str, Any]
) -> PartPlan:
    given = frozenset(req.given_parts or (0,))
    if not any(p in bar.parts for bar in bars for p in given):
        raise BadInput("the given part has no notes")
    header = tok.header(req.genre, base.key_index, base.tempo_id, "fill", given)
    forced = tuple(
        [t for p in sorted(given) if p in bar.parts for t in (tok.part_id(p), *bar.parts[p])] for bar in bars
    )
    n = len(bars)
    parts = max(req.parts or _parts(stats, req.genre), max(given) + 2)
    return _plan(
        base,
        header,
        Task.FILL,
        n,
        first_left=n,
        header_len=len(header),
        new_bars=n,
        given_bars=forced,
        given_parts=given,
        max_parts=min(parts, 6),
    )


def _plan(base: Plan, prompt: list[int], task: Task, total: int, **kw: Any) -> PartPlan:
    fields = {**vars(base), "prompt": prompt, "target_bars": total, "task": task}
    fields.update(kw)
    fields.setdefault("keep", fields.get("header_len", 5))
    new_bars = int(fields["new_bars"])
    per_bar = base.expected_tokens / max(base.new_bars, 1)
    fields["expected_tokens"] = int(new_bars * per_bar) + 2
    return PartPlan(**fields)


def _with_source_controls(
    req: GenerationRequest, tok: PartTokenizer, bars: list[BarTokens]
) -> GenerationRequest:
    """The source piece's key, metre, tempo and length where the request leaves them open."""
    metre = tok.id_to_token[bars[0].time_sig].split("_", 1)[1]
    tempo_tok = tok.id_to_token.get(int(req.source[0]), "") if req.source else ""
    tempo = req.tempo or (float(tempo_tok.split("_")[1]) if tempo_tok.startswith("Tempo_") else None)
    key = req.key or _key_name(tok, bars)
    num, den = (int(x) for x in metre.split("/"))
    seconds = len(bars) * num * 4 / den * 60.0 / (tempo or 100.0)
    return dataclasses.replace(
        req,
        key=key,
        tempo=tempo,
        time_signature=req.time_signature or metre,
        seconds=max(1.0, seconds - 1e-3),
        primer=None,
    )


def _key_name(tok: PartTokenizer, bars: list[BarTokens]) -> str | None:
    ids = np.array([t for bar in bars for body in bar.parts.values() for t in body], dtype=np.int64)
    pitches = tok.pitch_of[ids]
    pitches = pitches[pitches >= 0]
    if len(pitches) < 4:
        return None
    return estimate_key(pitch_class_histogram(pitches, np.ones(len(pitches)))).name


def _parts(stats: dict[str, Any], genre: str) -> int:
    """How many parts the genre's pieces most often have (at least 1)."""
    counts = stats.get(genre, {}).get("parts", {})
    if not counts:
        return 4
    return max(1, int(max(counts, key=lambda k: counts[k])))
