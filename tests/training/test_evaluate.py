"""Evaluation: likelihood figures that are reproducible and add up, metrics with known answers, copy detection."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import symusic

from launch.cli import main
from model.checkpoint import load_checkpoint
from model.notes import notes_of
from model.originality import CopyMatch, OriginalityIndex, longest_copied_run, top_line
from model.parts import tokenizer_from_json
from model.tokenizer import CadenzaTokenizer
from tests.tiny_corpus import tiny_train_settings
from training.evaluate import genre_windows, likelihood, repeats_earlier
from training.evaluate_music import originality_summary
from training.evaluate_settings import EvalSettings
from training.metrics import (
    groove_consistency,
    note_density,
    overlap_area,
    pitch_class_entropy,
    pitch_range,
    scale_consistency,
)
from training.originality import index_training_split
from training.token_store import TokenSplit, read_corpus_meta
from training.trainer import Trainer

C_MAJOR = [60, 62, 64, 65, 67, 69, 71]


def score_of(
    pitches: list[int], onsets: list[float] | None = None, qpm: float = 120.0, metre: tuple[int, int] = (4, 4)
) -> symusic.Score:
    """A one-track score: the given pitches at the given onsets (in quarters; one per quarter by default)."""
    score = symusic.Score(480)
    track = symusic.Track(program=0)
    onsets = onsets if onsets is not None else [float(i) for i in range(len(pitches))]
    for p, t in zip(pitches, onsets, strict=True):
        track.notes.append(symusic.Note(int(t * 480), 240, p, 80))
    score.tracks.append(track)
    score.tempos.append(symusic.Tempo(0, qpm))
    score.time_signatures.append(symusic.TimeSignature(0, *metre))
    return score


# -- metrics -----------------------------------------------------------------------------------------
def test_c_major_scale_is_fully_consistent_with_a_scale() -> None:
    notes = notes_of(score_of(C_MAJOR))
    assert scale_consistency(notes) == 1.0
    assert pitch_class_entropy(notes) == pytest.approx(math.log2(7))
    assert pitch_range(notes) == 11


def test_single_repeated_note_has_zero_pitch_class_entropy() -> None:
    notes = notes_of(score_of([62] * 16))
    assert pitch_class_entropy(notes) == 0.0
    assert pitch_range(notes) == 0


def test_chromatic_scale_fits_seven_of_twelve_notes_in_a_scale() -> None:
    notes = notes_of(score_of(list(range(60, 72))))
    assert scale_consistency(notes) == pytest.approx(7 / 12)
    assert pitch_class_entropy(notes) == pytest.approx(math.log2(12))


def test_groove_consistency_is_one_for_repeated_bars_and_drops_when_rhythm_changes() -> None:
    steady = notes_of(score_of([60] * 16))  # a note on every beat of four 4/4 bars
    assert groove_consistency(steady) == 1.0
    # Bar 1: four beats; bar 2: only the downbeat -> 3 of 96 steps differ between the two bars.
    changing = notes_of(score_of([60] * 5, [0.0, 1.0, 2.0, 3.0, 4.0]))
    assert groove_consistency(changing) == pytest.approx(1 - 3 / 96)


def test_note_density_counts_notes_per_second() -> None:
    notes = notes_of(score_of([60] * 8, qpm=120.0))  # 8 notes; the last ends at 7.5 quarters = 3.75 s
    assert note_density(notes) == pytest.approx(8 / 3.75)


def test_real_pieces_are_cut_into_excerpts_that_start_on_bar_lines() -> None:
    piece = notes_of(
        score_of([60] * 66, [0.5] + [1.0 + i for i in range(65)])
    )  # a pickup, then a note a beat, 2 s a bar
    excerpts = piece.bar_excerpts(8.0)
    assert [len(e) for e in excerpts] == [16, 16, 16, 14]  # from the first bar line (beat 4) on
    assert all(e.onset[0] == 0.0 and e.seconds[0] == 0.0 for e in excerpts)
    assert excerpts[0].end_seconds == 8.0
    assert note_density(excerpts[0]) == 2.0


def test_overlap_area_is_one_for_the_same_set_and_near_zero_for_disjoint_sets() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 200)
    assert overlap_area(a, a) == pytest.approx(1.0, abs=1e-3)
    assert overlap_area(a, a + 20) < 1e-3
    assert 0.2 < overlap_area(a, a + 1.5) < 0.6  # two unit normals 1.5 apart share ~45 %
    assert math.isnan(overlap_area([], a))


# -- originality -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def index(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> OriginalityIndex:
    """The tiny corpus's originality index, through a save/load round trip."""
    path = tmp_path_factory.mktemp("originality") / "originality.npz"
    index_training_split(tiny_corpus).save(path)
    return OriginalityIndex.load(path)


def train_piece(corpus: Path, i: int) -> tuple[CadenzaTokenizer, list[int], str]:
    meta = read_corpus_meta(corpus)
    tok = tokenizer_from_json(meta["tokenizer"])
    return tok, np.asarray(TokenSplit.open(corpus, "train").piece(i)).tolist(), meta["splits"]["train"][i]


def test_piece_copied_from_training_set_is_found_with_its_full_length(
    tiny_corpus: Path, index: OriginalityIndex
) -> None:
    tok, tokens, piece_id = train_piece(tiny_corpus, 0)
    score = tok.decode(tokens)
    full = len(top_line(notes_of(score)))
    found = index.find(top_line(notes_of(score)))
    assert found.notes == full
    assert found.train_piece == piece_id
    # Transposed and played faster it is still the same tune.
    moved = score.copy().shift_pitch(3)
    moved.tempos = [symusic.Tempo(0, 170.0)]
    run = longest_copied_run(moved, index)
    assert run.notes == full
    assert run.bars >= 8
    assert longest_copied_run(tokens, index, tok) == run  # tokens and score give the same answer


def test_random_piece_is_not_flagged_as_copied(index: OriginalityIndex) -> None:
    rng = np.random.default_rng(7)
    pitches = rng.integers(48, 84, 120).tolist()
    onsets = np.cumsum(rng.choice([0.5, 1.0, 1.5, 0.25], 120)).tolist()
    run = longest_copied_run(score_of(pitches, onsets), index)
    assert run.notes < index.floor_notes
    assert run.bars < 2


def test_summary_flags_pieces_copying_eight_bars_or_more(index: OriginalityIndex) -> None:
    matches = {
        "folk": [
            CopyMatch(40, 9.5, "essen/x#1", 3),
            CopyMatch(12, 2.0, "essen/y#2", 0),
            CopyMatch(0, 0.0, "", 0),
        ]
    }
    summary = originality_summary(matches, index, {"folk": ["seed 1", "seed 2", "seed 3"]})
    assert summary["flagged"] == [
        {"genre": "folk", "piece": "seed 1", "notes": 40, "bars": 9.5, "train_piece": "essen/x#1"}
    ]
    assert summary["pieces"] == 3 and summary["notes"]["max"] == 40
    assert summary["bars_histogram"] == {"<1": 1, "1-2": 0, "2-4": 1, "4-8": 0, ">=8": 1}


def test_tokens_need_the_tokenizer(index: OriginalityIndex) -> None:
    with pytest.raises(ValueError, match="tokenizer"):
        longest_copied_run([1, 2, 3], index)


# -- likelihood --------------------------------------------------------------------------------------
def test_bits_per_note_is_reproducible_and_genres_add_up(tiny_corpus: Path, tiny_checkpoint: Path) -> None:
    ck = load_checkpoint(tiny_checkpoint)
    tok = ck.tokenizer
    settings = EvalSettings(windows_per_genre=6, batch_size=4)
    test = TokenSplit.open(tiny_corpus, "test")
    windows = genre_windows(test, tok, 32, settings)
    again = genre_windows(test, tok, 32, settings)
    for genre, batches in windows.items():
        assert sum(len(x) for x, _ in batches) == 6
        for (x, y), (x2, y2) in zip(batches, again[genre], strict=True):
            assert np.array_equal(x.numpy(), x2.numpy()) and np.array_equal(y.numpy(), y2.numpy())
        genre_tokens = {tok.genre_id(g) for g in tok.genres}
        assert {int(t) for x, _ in batches for t in x.flatten() if int(t) in genre_tokens} == {
            tok.genre_id(genre)
        }
    first = likelihood(ck.model, windows, tok)
    assert likelihood(load_checkpoint(tiny_checkpoint).model, windows, tok) == first
    per = first["per_genre"].values()
    assert first["notes"] == sum(g["notes"] for g in per)
    weighted = sum(g["bits_per_note"] * g["notes"] for g in per) / first["notes"]
    assert first["bits_per_note"] == pytest.approx(
        weighted, abs=1e-3
    )  # per-genre figures are rounded to 4 digits
    assert first["bits_per_note"] > first["bits_per_token"] > 0  # fewer notes than tokens
    kinds = first["bits_per_note_by_kind"]
    assert {"Pitch", "Duration", "Position", "Bar"} <= set(kinds) and min(kinds.values()) > 0
    assert sum(kinds.values()) == pytest.approx(first["bits_per_note"], abs=1e-3)
    assert 0 <= first["repeated_notes"]["share"] < 1


def test_repeated_notes_are_the_ones_an_earlier_pattern_predicts() -> None:
    pitch_of = np.full(200, -1)
    pitch_of[100:200] = np.arange(100)  # ids 100.. are pitches 0..; the rest are other tokens
    c, d, e, f, g = 160, 162, 164, 165, 167
    row = [1, c, 2, d, 3, e, 2, f, c, d, 4, e, f, c, d, e, g]
    # C D E F, C D E F, C D E G: the second F C D E each follow three pitches that came before with the
    # same continuation; the final G breaks the pattern, and nothing in the first bar has a past
    mask = repeats_earlier(np.array([row]), pitch_of)[0]
    assert [int(row[t]) for t in np.flatnonzero(mask)] == [f, c, d, e]
    assert np.flatnonzero(mask).tolist() == [12, 13, 14, 15]


# -- the command -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_lstm(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_lstm")
    Trainer(
        tiny_train_settings(out, arch="lstm", max_steps=10, eval_every=10), tiny_corpus, device="cpu"
    ).run(progress=False)
    return out / "best"


def test_evaluate_json_has_both_models_and_writes_report_samples_and_model_json(
    tiny_corpus: Path,
    tiny_checkpoint: Path,
    tiny_lstm: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    transformer, lstm = tmp_path / "transformer", tmp_path / "lstm"
    for src, dst in ((tiny_checkpoint, transformer), (tiny_lstm, lstm)):
        dst.mkdir()
        for f in ("model.json", "model.safetensors"):
            (dst / f).write_bytes((src / f).read_bytes())
    args = ["--config", str(config), "evaluate", str(transformer), str(lstm), "--corpus", str(tiny_corpus), "--json",
            "--samples", "2", "--seconds", "4", "--windows", "4", "--real", "3", "--seq-len", "32",
            "--index", str(tmp_path / "index.npz"), "--out", str(tmp_path / "report.md"), "--write",
            "--write-samples", str(tmp_path / "samples"), "--samples-to-write", "1"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["models"]) == {"transformer", "lstm"}
    genres = read_corpus_meta(tiny_corpus)["genres"]
    for m in report["models"].values():
        assert m["bits_per_note"] > 0 and set(m["per_genre"]) == set(genres)
        assert set(m["music"]) == set(genres)
        assert set(m["music"][genres[0]]) == {
            "pitch_class_entropy",
            "scale_consistency",
            "groove_consistency",
            "note_density",
            "pitch_range",
        }
        assert m["originality"]["pieces"] == 2 * len(genres)
        assert {"median", "max"} <= set(m["originality"]["notes"])
    written = (tmp_path / "report.md").read_text()
    assert "| genre |" in written
    assert "| token kind | transformer | lstm |" in written and "| Pitch |" in written
    for name, folder in (("transformer", transformer), ("lstm", lstm)):
        stored = json.loads((folder / "model.json").read_text())["evaluation"]
        assert stored["bits_per_note"] == report["models"][name]["bits_per_note"]
        midis = sorted((tmp_path / "samples" / name).glob("*.mid"))
        assert len(midis) == len(genres)
        assert all(len(symusic.Score.from_file(str(p)).tracks) for p in midis)
    assert load_checkpoint(transformer).kind == "transformer"  # the rewritten model.json still loads
