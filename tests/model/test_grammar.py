"""Grammar masks: whatever the logits say, every sampled sequence is well formed and decodes.

Random logits stand in for the worst possible model: if the masks let anything wrong through, some of
these rows would show it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from model.grammar import MAX_NOTES_PER_POSITION, NEXT, RowGrammar, Vocabulary
from model.sampling import SamplingParams, sample_rows, stream_key
from model.tokenizer import CadenzaTokenizer

ROWS = 12
MAX_STEPS = 5_000  # far more than a few bars can take: a row still open by then never ends
WILD = SamplingParams(temperature=2.0, top_p=1.0, repetition_penalty=1.0)  # every allowed token has a chance


@pytest.fixture(scope="module")
def tok() -> CadenzaTokenizer:
    return CadenzaTokenizer(["chorale", "folk"])


@pytest.fixture(scope="module")
def vocab(tok: CadenzaTokenizer) -> Vocabulary:
    return Vocabulary(tok)


def sample_sequences(
    tok: CadenzaTokenizer, vocab: Vocabulary, metre: str, tempo: float, bars: int
) -> list[list[int]]:
    """ROWS sequences sampled from random logits through the grammar masks, each from `Bar TimeSig`."""
    time_sig = tok.vocab[f"TimeSig_{metre}"]
    grammars = [RowGrammar(vocab, time_sig, vocab.nearest_tempo(tempo), bars) for _ in range(ROWS)]
    seqs = [[*tok.prefix("folk", 3), tok.bar_id, time_sig] for _ in range(ROWS)]
    for g, seq in zip(grammars, seqs, strict=True):
        for t in seq[1:]:
            g.advance(t)
    noise = torch.Generator().manual_seed(bars)
    keys = np.array([stream_key(i) for i in range(ROWS)], dtype=np.uint64)
    for step in range(MAX_STEPS):
        open_rows = [i for i, g in enumerate(grammars) if not g.finished]
        if not open_rows:
            return seqs
        picks = sample_rows(
            torch.randn(len(open_rows), vocab.size, generator=noise) * 3,
            torch.stack([grammars[i].allowed() for i in open_rows]),
            [WILD] * len(open_rows),
            keys[open_rows],
            np.full(len(open_rows), step),
            [[] for _ in open_rows],
        )
        for i, token in zip(open_rows, picks, strict=True):
            grammars[i].advance(token)
            seqs[i].append(token)
    raise AssertionError(f"rows still open after {MAX_STEPS} tokens")


@pytest.mark.parametrize(("metre", "tempo", "bars"), [("4/4", 96.0, 3), ("3/4", 140.0, 4), ("6/8", 60.0, 2)])
def test_every_sampled_sequence_follows_the_grammar_and_decodes(
    tok: CadenzaTokenizer, vocab: Vocabulary, metre: str, tempo: float, bars: int
) -> None:
    bar_len = int(vocab.bar_positions[tok.vocab[f"TimeSig_{metre}"]])
    for seq in sample_sequences(tok, vocab, metre, tempo, bars):
        kinds = [vocab.type_of(t) for t in seq]
        assert all(b in NEXT[a] for a, b in itertools.pairwise(kinds)), "types out of REMI order"
        assert kinds[-1] == "EOS" and kinds.count("EOS") == 1
        assert kinds.count("Bar") == bars  # EOS comes exactly at the bar line after the last bar
        of_kind = {k: {t for t, k2 in zip(seq, kinds, strict=True) if k2 == k} for k in ("TimeSig", "Tempo")}
        assert of_kind["TimeSig"] == {tok.vocab[f"TimeSig_{metre}"]}  # the metre and tempo asked for
        assert of_kind["Tempo"] <= {vocab.nearest_tempo(tempo)}
        assert_positions_move_forward_within_bars(seq, kinds, vocab, bar_len)
        score = tok.decode(seq)
        pitches = [tok.id_to_token[t] for t, k in zip(seq, kinds, strict=True) if k == "Pitch"]
        assert len(pitches) > 0
        assert sum(len(track.notes) for track in score.tracks) == len(pitches)


def assert_positions_move_forward_within_bars(
    seq: list[int], kinds: list[str], vocab: Vocabulary, bar_len: int
) -> None:
    position, notes_here = -1, 0
    for token, kind in zip(seq, kinds, strict=True):
        if kind == "Bar":
            position, notes_here = -1, 0
        elif kind == "Position":
            assert position < int(vocab.position[token]) < bar_len
            position, notes_here = int(vocab.position[token]), 0
        elif kind == "Pitch":
            notes_here += 1
            assert notes_here <= MAX_NOTES_PER_POSITION


def test_masks_are_shared_between_rows_in_the_same_state(tok: CadenzaTokenizer, vocab: Vocabulary) -> None:
    time_sig = tok.vocab["TimeSig_4/4"]
    a, b = (RowGrammar(vocab, time_sig, vocab.nearest_tempo(100), 2) for _ in range(2))
    for g in (a, b):
        g.advance(tok.bar_id)
        g.advance(time_sig)
    assert a.allowed() is b.allowed()
    allowed = {vocab.type_of(i) for i in np.flatnonzero(a.allowed().numpy())}
    assert allowed == {"Position", "Bar"}  # after the metre: a position, or an empty bar


def test_the_end_is_offered_only_once_the_piece_has_notes_and_its_bars(
    tok: CadenzaTokenizer, vocab: Vocabulary
) -> None:
    time_sig = tok.vocab["TimeSig_4/4"]
    g = RowGrammar(vocab, time_sig, vocab.nearest_tempo(100), target_bars=1)
    for t in (tok.bar_id, time_sig, tok.vocab["Position_0"], tok.vocab["Pitch_60"]):
        g.advance(t)
    g.advance(int(vocab.ids_of["Duration"][0]))
    assert bool(g.allowed()[tok.eos_id]) and not bool(g.allowed()[tok.bar_id])
    empty = RowGrammar(vocab, time_sig, vocab.nearest_tempo(100), target_bars=1)
    empty.advance(tok.bar_id)
    empty.advance(time_sig)
    assert not bool(empty.allowed()[tok.eos_id])  # a piece with no notes never ends
