"""The batch engine: determinism across batch company, every control honoured, masks, backpressure, failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import symusic
import torch

from cadenza.errors import BadInput, Busy, GenerationFailed
from model.checkpoint import Checkpoint, load_checkpoint
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.parts import PartTokenizer
from model.request import GenerationRequest


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the engine thread makes true, with a deadline."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


@pytest.fixture
def checkpoint(tiny_checkpoint: Path) -> Checkpoint:
    return load_checkpoint(tiny_checkpoint)


async def generate_all(ck: Checkpoint, reqs: list[GenerationRequest], **settings: object) -> list:
    engine = Engine(ck, EngineSettings(**settings))  # type: ignore[arg-type]
    try:
        return await asyncio.gather(*(engine.generate(r) for r in reqs))
    finally:
        await engine.close()


async def test_same_seed_gives_same_piece_whatever_shares_the_batch(checkpoint: Checkpoint) -> None:
    target = GenerationRequest(genre="chorale", seconds=8, seed=42)
    alone = (await generate_all(checkpoint, [target], max_batch=1))[0]
    company = [GenerationRequest(genre="folk", seconds=4 + i, seed=i) for i in range(6)]
    crowded = await generate_all(checkpoint, [*company[:3], target, *company[3:]], max_batch=8)
    assert crowded[3].tokens == alone.tokens


async def test_length_is_whole_bars_and_tempo_and_metre_are_in_the_midi(checkpoint: Checkpoint) -> None:
    req = GenerationRequest(genre="folk", seconds=12, seed=7, tempo=90, time_signature="3/4")
    piece = (await generate_all(checkpoint, [req]))[0]
    bar_seconds = 3 * 60 / 90
    assert piece.bars == 6  # ceil(12 / 2.0)
    assert sum(1 for t in piece.tokens if t == checkpoint.tokenizer.bar_id) == piece.bars
    score = symusic.Score.from_midi(piece.midi_bytes())
    assert score.tempos[0].qpm == pytest.approx(90, abs=0.01)
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (3, 4)
    onsets = score.to("second").tracks[0].notes
    assert max(n.time for n in onsets) < piece.bars * bar_seconds + 1e-6


async def test_primer_is_reproduced_verbatim_at_the_start(checkpoint: Checkpoint) -> None:
    tok = checkpoint.tokenizer
    assert isinstance(tok, PartTokenizer)
    first = (await generate_all(checkpoint, [GenerationRequest(genre="chorale", seconds=6, seed=1)]))[0]
    primer = tuple(tok.encode_score(first.score))
    cont = (
        await generate_all(checkpoint, [GenerationRequest(genre="chorale", seconds=6, seed=2, primer=primer)])
    )[0]
    given = tok.parse_bars(primer)
    assert tok.parse_bars(tok.encode_score(cont.score))[: len(given)] == given
    assert cont.primer_end_s > 0 and cont.new_bars is not None and cont.new_bars[0] == len(given) + 1


async def test_masks_make_every_sampled_piece_decode(checkpoint: Checkpoint) -> None:
    genres = checkpoint.genres
    reqs = [
        GenerationRequest(
            genre=genres[i % len(genres)],
            seconds=2 + i % 5,
            seed=1000 + i,
            time_signature=["4/4", "3/4", "6/8", "2/4"][i % 4],
        )
        for i in range(300)
    ]
    # A generous deadline: this checks decoding, not speed, and v2 rows write several parts a bar.
    pieces = await generate_all(checkpoint, reqs, max_batch=64, max_queue=300, request_timeout_s=1800)
    for p in pieces:
        score = symusic.Score.from_midi(p.midi_bytes())
        assert score.tracks and all(len(t.notes) > 0 for t in score.tracks)
        assert p.tokens[-1] == checkpoint.tokenizer.eos_id


async def test_full_queue_raises_busy_with_a_wait_estimate(checkpoint: Checkpoint) -> None:
    engine = Engine(checkpoint, EngineSettings(max_batch=1, max_queue=1))
    slow = [asyncio.create_task(engine.generate(GenerationRequest(genre="chorale", seconds=600, seed=0)))]
    await wait_until(lambda: engine.active_rows == 1)
    slow.append(asyncio.create_task(engine.generate(GenerationRequest(genre="chorale", seconds=600, seed=1))))
    await wait_until(lambda: engine.queue_depth == 1)
    with pytest.raises(Busy) as err:
        await engine.generate(GenerationRequest(genre="chorale", seconds=4, seed=9))
    assert err.value.retry_after > 0
    for t in slow:
        t.cancel()
    await engine.close()


async def test_cancelled_request_frees_its_row(checkpoint: Checkpoint) -> None:
    engine = Engine(checkpoint, EngineSettings(max_batch=2))
    task = asyncio.create_task(engine.generate(GenerationRequest(genre="chorale", seconds=300, seed=3)))
    await wait_until(lambda: engine.active_rows == 1)
    task.cancel()
    await wait_until(lambda: engine.active_rows == 0)
    piece = await engine.generate(GenerationRequest(genre="folk", seconds=3, seed=4))
    assert piece.bars >= 1
    await engine.close()


async def test_bad_genre_is_a_friendly_error(checkpoint: Checkpoint) -> None:
    with pytest.raises(BadInput, match="unknown genre"):
        await generate_all(checkpoint, [GenerationRequest(genre="polka", seconds=5)])


class _FailingModel(torch.nn.Module):
    """A real model that breaks on its third decode step: the fault the engine must survive."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0
        self.context = inner.context

    def new_cache(self, *args: object, **kwargs: object) -> object:
        return self.inner.new_cache(*args, **kwargs)

    def step(self, idx: torch.Tensor, cache: object, rows: slice) -> torch.Tensor:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("simulated device fault")
        return self.inner.step(idx, cache, rows)


async def test_exception_in_the_loop_reaches_every_waiter_and_engine_restarts(checkpoint: Checkpoint) -> None:
    broken = Checkpoint(_FailingModel(checkpoint.model), checkpoint.tokenizer, checkpoint.meta)
    engine = Engine(broken, EngineSettings(max_batch=4, batch_wait_ms=50))
    reqs = [GenerationRequest(genre="chorale", seconds=30, seed=i) for i in range(6)]
    results = await asyncio.wait_for(
        asyncio.gather(*(engine.generate(r) for r in reqs), return_exceptions=True), 30
    )
    assert all(isinstance(r, GenerationFailed) for r in results)
    assert engine.restarts == 1
    piece = await engine.generate(GenerationRequest(genre="folk", seconds=3, seed=1))  # the engine came back
    assert piece.bars >= 1
    await engine.close()
