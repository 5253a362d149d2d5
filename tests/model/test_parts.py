"""Composer v2's tokens: parts survive the round trip, tasks lay out as specified, masks keep sequences decodable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import symusic
import torch

from model.part_grammar import PartGrammar, part_vocabulary
from model.parts import MAX_LEFT, BarTokens, PartTokenizer
from training.convert import SourceTask, convert
from training.part_windows import PartWindowSampler, TaskMix
from training.token_store import TokenSplit


@pytest.fixture(scope="module")
def tok() -> PartTokenizer:
    return PartTokenizer(["chorale", "folk"])


@pytest.fixture(scope="module")
def chorale() -> symusic.Score:
    """A real Bach chorale from music21's corpus, converted as the corpus build does (a track per part)."""
    from music21 import corpus

    path = str(corpus.getWork("bwv66.6"))
    result = convert(SourceTask("bach/bwv66.6", "chorale", path, default_tempo=80))
    assert result.error is None
    return symusic.Score.from_midi(result.pieces[0].midi)


def test_corpus_conversion_keeps_four_parts_highest_first(chorale: symusic.Score) -> None:
    means = [np.mean([n.pitch for n in t.notes]) for t in chorale.tracks]
    assert len(chorale.tracks) == 4
    assert means == sorted(means, reverse=True)


def test_round_trip_keeps_every_note_in_its_part(tok: PartTokenizer, chorale: symusic.Score) -> None:
    ids = tok.encode_score(chorale)
    decoded = tok.decode(ids)
    assert [t.program for t in decoded.tracks] == [0, 1, 2, 3]
    assert [len(t.notes) for t in decoded.tracks] == [len(t.notes) for t in chorale.tracks]
    assert tok.encode_score(decoded) == ids  # a second pass changes nothing


def test_a_silent_part_keeps_the_numbers_of_the_parts_after_it(
    tok: PartTokenizer, chorale: symusic.Score
) -> None:
    bars = tok.score_bars(chorale)
    without_soprano = [BarTokens(b.time_sig, {p: v for p, v in b.parts.items() if p != 0}) for b in bars]
    decoded = tok.bars_to_score(without_soprano)
    assert [len(t.notes) > 0 for t in decoded.tracks] == [False, True, True, True]
    assert tok.score_bars(decoded) == without_soprano  # parts 1-3 stay 1-3, not renumbered 0-2
    chorale_plus_empty = chorale.copy()
    chorale_plus_empty.tracks.insert(0, symusic.Track("Conductor", 0))  # a real file's empty track
    assert tok.score_bars(chorale_plus_empty) == bars  # is still dropped


def test_every_bar_says_how_many_bars_are_left(tok: PartTokenizer, chorale: symusic.Score) -> None:
    ids = tok.encode_score(chorale)
    lefts = [int(tok.left_of[t]) for t in ids if tok.left_of[t] > 0]
    bars = sum(1 for t in ids if t == tok.bar_id)
    assert len(lefts) == bars
    assert lefts[-1] == 1 and lefts == sorted(lefts, reverse=True)
    assert lefts[0] == min(bars, MAX_LEFT)


def test_given_parts_come_first_in_every_bar(tok: PartTokenizer, chorale: symusic.Score) -> None:
    bars = tok.score_bars(chorale)
    ids = tok.bars_tokens(bars, len(bars), given=[2])
    after_left = [ids[i + 1] for i, t in enumerate(ids[:-1]) if tok.left_of[t] > 0]
    assert all(tok.part_of[t] == 2 for t in after_left if tok.part_of[t] >= 0)
    assert [len(t.notes) for t in tok.decode(ids).tracks] == [len(t.notes) for t in chorale.tracks]


def _sample(grammar: PartGrammar, rng: np.random.Generator, limit: int = 4000) -> list[int]:
    """Random tokens drawn only from what the grammar allows (as the engine's masked sampler does)."""
    out: list[int] = []
    while not grammar.finished and len(out) < limit:
        allowed = np.flatnonzero(grammar.allowed().numpy())
        token = int(rng.choice(allowed))
        grammar.advance(token)
        out.append(token)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_masked_random_sequences_decode_with_the_asked_bars(tok: PartTokenizer, seed: int) -> None:
    vocab = part_vocabulary(tok)
    ts = tok.vocab["TimeSig_3/4"]
    grammar = PartGrammar(vocab, tok, ts, new_bars=6, first_left=6, max_parts=4)
    out = _sample(grammar, np.random.default_rng(seed))
    assert grammar.finished and out[-1] == tok.eos_id
    assert sum(1 for t in out if t == tok.bar_id) == 6
    assert [int(tok.left_of[t]) for t in out if tok.left_of[t] > 0] == [6, 5, 4, 3, 2, 1]
    assert all(t == ts for t in out if tok.id_to_token[t].startswith("TimeSig_"))
    score = tok.decode(out)
    assert all(t.program < 4 for t in score.tracks)
    starts = [n.time for t in score.tracks for n in t.notes]
    assert max(starts) < 6 * 3 * score.ticks_per_quarter  # nothing starts past the last bar


@pytest.mark.parametrize("seed", range(3))
def test_a_phrase_return_repeats_the_opening_bars_note_for_note(tok: PartTokenizer, seed: int) -> None:
    from model.part_plan import phrase_returns

    always = {"5": 1.0, "9": 0.0}
    returns = phrase_returns(8, always, 1.0, torch.Generator().manual_seed(seed))
    assert returns == ((5, 1), (6, 2))
    grammar = PartGrammar(
        part_vocabulary(tok), tok, tok.vocab["TimeSig_4/4"], 8, 8, max_parts=3, returns=dict(returns)
    )
    bars = tok.parse_bars(_sample(grammar, np.random.default_rng(seed)))
    assert len(bars) == 8
    tune = [bar.parts.get(0) for bar in bars]
    assert tune[4:6] == tune[0:2]  # the top part returns note for note; the parts under it are written anew


def test_phrase_returns_go_where_and_as_often_as_the_genre_has_them() -> None:
    from model.part_plan import phrase_returns

    def share(rates: dict[str, float], bars: int, strength: float = 1.0) -> float:
        plans = [phrase_returns(bars, rates, strength, torch.Generator().manual_seed(s)) for s in range(400)]
        return sum(bool(p) for p in plans) / len(plans)

    assert phrase_returns(20, {"5": 0.1, "9": 1.0}, 1.0, torch.Generator())[0] == (9, 1)
    assert phrase_returns(20, {"5": 1.0, "9": 0.1}, 1.0, torch.Generator())[0] == (5, 1)  # the likelier place
    assert phrase_returns(10, {"5": 0.1, "9": 1.0}, 10.0, torch.Generator())[0] == (5, 1)  # 9 does not fit
    assert share({"5": 0.25}, 12) == pytest.approx(0.25, abs=0.07)
    assert share({"5": 0.25}, 12, strength=2.0) == pytest.approx(0.5, abs=0.08)
    assert share({"5": 1.0}, 7) == 0.0  # too short: no bar would be left to close
    assert share({"5": 1.0}, 12, strength=0.0) == 0.0
    assert share({}, 12) == 0.0  # a checkpoint without the measured rates plants none


def test_fill_grammar_forces_the_given_part_verbatim(tok: PartTokenizer, chorale: symusic.Score) -> None:
    bars = tok.score_bars(chorale)
    melody = [[tok.part_id(0), *bar.parts[0]] if 0 in bar.parts else [] for bar in bars]
    grammar = PartGrammar(
        part_vocabulary(tok), tok, bars[0].time_sig, len(bars), len(bars), 4, melody, frozenset({0})
    )
    out = _sample(grammar, np.random.default_rng(7), limit=20000)
    decoded = tok.decode(out)
    top = next(t for t in decoded.tracks if t.program == 0)
    source = next(t for t in tok.decode(tok.encode_score(chorale)).tracks if t.program == 0)
    assert [(n.time, n.pitch, n.duration) for n in top.notes] == [
        (n.time, n.pitch, n.duration) for n in source.notes
    ]
    assert {t.program for t in decoded.tracks} <= {0, 1, 2, 3}


def test_windows_lay_out_each_task(tok: PartTokenizer, chorale: symusic.Score, tmp_path: Path) -> None:
    ids = np.asarray(tok.encode_score(chorale), dtype=np.uint16)
    index = np.array([(0, len(ids), 0, 9, 0, 30.0)], dtype=TokenSplit.open.__globals__["INDEX_DTYPE"])
    sampler = PartWindowSampler(TokenSplit(ids, index), tok, 256, 0, TaskMix())
    rng = np.random.default_rng(0)
    infill = sampler.example(rng, 0, "infill").tolist()
    assert infill[4] == tok.task_id("infill") and infill[-1] == tok.eos_id
    assert infill.index(tok.fill_after_id) < infill.index(tok.fill_before_id)
    fill = sampler.example(rng, 0, "fill").tolist()
    assert tok.id_to_token[fill[4]] == "Task_fill" and tok.id_to_token[fill[5]].startswith("Given_")
    x, y = sampler.batch(1, 0, 0, 3)
    assert x.shape == (3, 256) and torch.equal(x[:, 1:], y[:, :-1])
