"""The tokenizer on real corpus files: encode → decode keeps every note, and the tokens are a fixed point."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import symusic

from cadenza.errors import CheckpointError
from model.tokenizer import CadenzaTokenizer, merge_tracks

GRID_SLACK = 0.25  # quarter notes a decoded onset may move: the coarsest REMI grid step (4 per beat)


@pytest.fixture(scope="module")
def tok() -> CadenzaTokenizer:
    return CadenzaTokenizer(["chorale", "folk"])


def corpus_files(corpus: Path) -> list[Path]:
    files = sorted((corpus / "midi").glob("*.mid"))
    assert len(files) >= 10, "the tiny corpus should hold real pieces"
    return files


def onsets_by_pitch(score: symusic.Score) -> dict[int, list[float]]:
    """Every note's onset in quarter notes, grouped by pitch and sorted."""
    found: dict[int, list[float]] = defaultdict(list)
    for track in score.tracks:
        for note in track.notes:
            found[note.pitch].append(note.time / score.ticks_per_quarter)
    return {p: sorted(times) for p, times in found.items()}


def test_every_corpus_file_decodes_to_its_own_notes(tok: CadenzaTokenizer, tiny_corpus: Path) -> None:
    for path in corpus_files(tiny_corpus):
        score = symusic.Score(path)
        back = tok.decode(tok.encode_score(score))
        want, got = onsets_by_pitch(merge_tracks(score)), onsets_by_pitch(back)
        assert want.keys() == got.keys(), path.name
        for pitch, times in want.items():
            assert len(got[pitch]) == len(times), f"{path.name}: pitch {pitch}"
            assert np.max(np.abs(np.array(got[pitch]) - times)) <= GRID_SLACK, f"{path.name}: pitch {pitch}"


def test_decoded_tokens_encode_to_themselves(tok: CadenzaTokenizer, tiny_corpus: Path) -> None:
    for path in corpus_files(tiny_corpus):
        once = tok.encode_score(tok.decode(tok.encode_score(symusic.Score(path))))
        assert tok.encode_score(tok.decode(once)) == once, path.name
        assert once.count(tok.bar_id) == tok.encode_score(symusic.Score(path)).count(tok.bar_id)


def test_conditioning_and_end_tokens_do_not_change_the_music(
    tok: CadenzaTokenizer, tiny_corpus: Path
) -> None:
    ids = tok.encode_score(symusic.Score(corpus_files(tiny_corpus)[0]))
    bare, framed = tok.decode(ids), tok.decode([*tok.prefix("chorale", 14), *ids, tok.eos_id])
    assert onsets_by_pitch(bare) == onsets_by_pitch(framed)


def test_transpose_moves_pitches_and_the_key_token(tok: CadenzaTokenizer) -> None:
    ids = np.array([tok.key_id(11), tok.key_id(23), tok.vocab["Pitch_60"], tok.bar_id])
    up = tok.transpose(ids, 2)
    assert up.tolist() == [
        tok.key_id(1),
        tok.key_id(13),
        tok.vocab["Pitch_62"],
        tok.bar_id,
    ]  # B → C♯, Bm → C♯m
    assert tok.transpose(up, -2).tolist() == ids.tolist()


def test_the_json_form_rebuilds_the_same_vocabulary(tok: CadenzaTokenizer) -> None:
    again = CadenzaTokenizer.from_json(tok.to_json())
    assert again.vocab == tok.vocab and again.genres == tok.genres and again.params == tok.params


def test_a_vocabulary_from_other_settings_is_refused(tok: CadenzaTokenizer) -> None:
    stored = tok.to_json()
    stored["vocab"] = {**stored["vocab"], "Pitch_60": 9999}
    with pytest.raises(CheckpointError, match="vocabulary"):
        CadenzaTokenizer.from_json(stored)
