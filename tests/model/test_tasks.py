"""Composer v2's tasks through the batch engine: infill keeps the bars around the gap, fill keeps the given part."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from cadenza.errors import BadInput
from model.checkpoint import Checkpoint, load_checkpoint
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.parts import BarTokens, PartTokenizer
from model.queues.wire import request_from_json, request_to_json
from model.request import GeneratedPiece, GenerationRequest, Task


@pytest.fixture(scope="module")
def checkpoint(tiny_checkpoint) -> Checkpoint:  # type: ignore[no-untyped-def]
    return load_checkpoint(tiny_checkpoint)


async def run(ck: Checkpoint, reqs: list[GenerationRequest]) -> list[GeneratedPiece]:
    engine = Engine(ck, EngineSettings(max_batch=8))
    try:
        return await asyncio.gather(*(engine.generate(r) for r in reqs))
    finally:
        await engine.close()


def bars_of(tok: PartTokenizer, piece: GeneratedPiece) -> list[BarTokens]:
    return tok.parse_bars(tok.encode_score(piece.score))


async def source_piece(ck: Checkpoint, seed: int = 5) -> tuple[tuple[int, ...], list[BarTokens]]:
    tok = ck.tokenizer
    assert isinstance(tok, PartTokenizer)
    piece = (await run(ck, [GenerationRequest(genre="chorale", seconds=20, seed=seed)]))[0]
    source = tuple(tok.encode_score(piece.score))
    return source, tok.parse_bars(source)


async def test_infill_rewrites_only_the_asked_bars(checkpoint: Checkpoint) -> None:
    tok = checkpoint.tokenizer
    assert isinstance(tok, PartTokenizer)
    source, bars = await source_piece(checkpoint)
    assert len(bars) >= 4
    reqs = [
        GenerationRequest(genre="chorale", seconds=1, seed=s, task=Task.INFILL, source=source, bars=(2, 3))
        for s in range(4)
    ]
    pieces = await run(checkpoint, reqs)
    for piece in pieces:
        out = bars_of(tok, piece)
        assert len(out) == len(bars)
        assert out[:1] == bars[:1] and out[3:] == bars[3:]  # note for note, in their parts
        assert piece.new_bars == (2, 3)
    assert len({str(bars_of(tok, p)[1:3]) for p in pieces}) > 1  # the gap really is composed anew


async def test_fill_keeps_the_melody_and_writes_other_parts(checkpoint: Checkpoint) -> None:
    tok = checkpoint.tokenizer
    assert isinstance(tok, PartTokenizer)
    source, bars = await source_piece(checkpoint, seed=9)
    melody_only = tuple(
        tok.bars_tokens(
            [BarTokens(b.time_sig, {0: b.parts[0]} if 0 in b.parts else {}) for b in bars], len(bars)
        )
    )
    req = GenerationRequest(
        genre="chorale", seconds=1, seed=3, task=Task.FILL, source=(source[0], *melody_only), given_parts=(0,)
    )
    piece = (await run(checkpoint, [req]))[0]
    out = bars_of(tok, piece)
    assert [b.parts.get(0) for b in out] == [b.parts.get(0) for b in bars]
    assert {p for b in out for p in b.parts} - {0}, "no part was written under the melody"


async def test_infill_outside_the_piece_is_a_friendly_error(checkpoint: Checkpoint) -> None:
    source, bars = await source_piece(checkpoint)
    req = GenerationRequest(
        genre="chorale", seconds=1, task=Task.INFILL, source=source, bars=(3, len(bars) + 2)
    )
    with pytest.raises(BadInput, match="not inside the piece"):
        await run(checkpoint, [req])


def test_task_requests_cross_the_wire_unchanged() -> None:
    req = GenerationRequest(
        genre="chorale",
        seconds=4,
        seed=2,
        task=Task.INFILL,
        source=(1, 2, 3),
        bars=(2, 5),
        given_parts=(0, 1),
    )
    assert request_from_json(request_to_json(req)) == req


def test_the_last_bar_leans_on_the_tonic_chord(checkpoint: Checkpoint) -> None:
    from model.batcher import Batcher, _bias_now, cadence_bias
    from model.part_grammar import PartGrammar
    from model.sampling import SamplingParams

    tok = checkpoint.tokenizer
    assert isinstance(tok, PartTokenizer)
    gain = cadence_bias(tok, 9 + 12, 1.5)  # A minor: A twice, C and E once, the rest nothing
    by_pitch = {int(tok.pitch_of[i]): float(gain[i]) for i in range(len(tok)) if tok.pitch_of[i] >= 0}
    assert (by_pitch[69], by_pitch[72], by_pitch[76], by_pitch[71], by_pitch[73]) == (3.0, 1.5, 1.5, 0.0, 0.0)
    assert float(gain[tok.bar_id]) == 0.0

    batcher = Batcher(checkpoint.model, tok, checkpoint.meta["genre_stats"], 2, torch.device("cpu"))
    row = batcher.prepare(GenerationRequest(genre="folk", seconds=8, seed=1), deadline=1e18)
    grammar = row.grammar
    assert isinstance(grammar, PartGrammar) and row.cadence is not None
    pitches = torch.from_numpy(np.flatnonzero(tok.pitch_of >= 0))
    logits = torch.randn(len(tok), generator=torch.Generator().manual_seed(0))
    assert _bias_now(row, logits, pitches) is row.bias  # before the first bar
    while grammar.bars_left != 1:
        token = int(grammar.allowed().nonzero()[0])
        batcher._advance(row, token)
    closing = _bias_now(row, logits, pitches)
    moved = closing - row.bias
    gain = cadence_bias(tok, row.plan.key_index, 1.0)
    shift = moved[pitches] - gain[pitches]  # one correction for every pitch ...
    torch.testing.assert_close(shift, shift[:1].expand_as(shift))
    others = torch.ones(len(tok), dtype=torch.bool)
    others[pitches] = False
    assert torch.equal(moved[others], torch.zeros(int(others.sum())))  # ... none for other tokens
    p_plain = torch.softmax(logits + row.bias, 0)[pitches]
    p_closing = torch.softmax(logits + closing, 0)[pitches]
    torch.testing.assert_close(p_closing.sum(), p_plain.sum())  # as many notes, more of them tonic
    tonic = pitches[(torch.from_numpy(tok.pitch_of[pitches.numpy()]) - row.plan.key_index % 12) % 12 == 0]
    assert float(torch.softmax(logits + closing, 0)[tonic].sum()) > float(
        torch.softmax(logits + row.bias, 0)[tonic].sum()
    )
    plain = batcher.prepare(
        GenerationRequest(genre="folk", seconds=8, seed=1, sampling=SamplingParams(cadence=0.0)), 1e18
    )
    assert plain.cadence is None  # off means off
