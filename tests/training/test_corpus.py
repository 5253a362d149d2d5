"""The corpus: real music21 pieces round-trip through tokens; splits are stable; bad MIDI is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import symusic

from model.tokenizer import CadenzaTokenizer
from tests.tiny_corpus import tiny_corpus_settings
from training.build import build_corpus, split_of
from training.convert import SourceTask, convert
from training.token_store import SPLITS, TokenSplit


def test_corpus_has_every_genre_and_split(tiny_corpus: Path) -> None:
    meta = json.loads((tiny_corpus / "corpus.json").read_text())
    assert meta["genres"] == ["chorale", "folk"]
    pieces = {s: len(meta["splits"][s]) for s in SPLITS}
    assert pieces["train"] > 0 and sum(pieces.values()) >= 20
    rows = {(r["genre"], r["split"]): r for r in meta["summary"]}
    assert rows[("chorale", "train")]["tokens"] > 1000
    assert all(r["minutes"] >= 0 for r in meta["summary"])


@pytest.mark.parametrize("collection_path", ["bach/bwv66.6.mxl", "bach/bwv1.6.mxl"])
def test_encode_decode_round_trip_preserves_notes_and_timing(collection_path: str) -> None:
    from music21 import corpus

    path = str(corpus.getWork(collection_path.split("/")[1].rsplit(".", 1)[0]))
    result = convert(SourceTask(piece_id=collection_path, genre="chorale", path=path, default_tempo=80))
    assert result.error is None
    score = symusic.Score.from_midi(result.pieces[0].midi)
    tok = CadenzaTokenizer(["chorale"])
    back = tok.decode(tok.encode_score(score))
    # v1 merges the parts the corpus keeps (a track each) into one stream: every note of every part.
    original = sorted((n.time * 8 // score.ticks_per_quarter, n.pitch) for t in score.tracks for n in t.notes)
    decoded = sorted((n.time * 8 // back.ticks_per_quarter, n.pitch) for n in back.tracks[0].notes)
    assert decoded == original  # onsets exact at the tokenizer's 1/8-beat grid, every pitch kept


def test_split_is_fixed_by_piece_id_alone() -> None:
    settings = tiny_corpus_settings(Path("unused"))
    ids = [f"essenFolksong/x.abc#{i}" for i in range(500)]
    first = {i: split_of(i, settings) for i in ids}
    more = ids + [f"bach/new{i}" for i in range(500)]
    again = {i: split_of(i, settings) for i in more}
    assert all(again[i] == first[i] for i in ids)
    share = sum(1 for s in first.values() if s == "test") / len(first)
    assert 0.1 < share < 0.3  # test_fraction 0.2


def test_bad_midi_in_midi_dir_is_skipped_and_reported(tmp_path: Path) -> None:
    good = pretty_midi.PrettyMIDI(initial_tempo=100)
    inst = pretty_midi.Instrument(0)
    for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65]):
        inst.notes.append(pretty_midi.Note(80, p, i * 0.5, i * 0.5 + 0.45))
    good.instruments.append(inst)
    (tmp_path / "midi" / "jazz").mkdir(parents=True)
    good.write(str(tmp_path / "midi" / "jazz" / "scale.mid"))
    (tmp_path / "midi" / "jazz" / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    settings = tiny_corpus_settings(tmp_path / "out")
    meta = build_corpus(settings, midi_dir=tmp_path / "midi", use_music21=False)
    assert meta["genres"] == ["jazz"]
    assert meta["skipped"]["total"] == 1
    assert sum(len(v) for v in meta["splits"].values()) == 1


def test_token_arrays_are_memory_mapped(tiny_corpus: Path) -> None:
    split = TokenSplit.open(tiny_corpus, "train")
    assert isinstance(split.tokens, np.memmap)
    assert split.piece(0).dtype == np.uint16 and len(split.piece(0)) == split.index[0]["length"]
