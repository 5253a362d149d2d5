"""`cadenza rewrite` and `cadenza accompany` end to end: real files in, real files out, given music kept."""

from __future__ import annotations

import json
from pathlib import Path

import pretty_midi
import pytest
import symusic

from launch.cli import main
from model.checkpoint import load_checkpoint
from model.parts import PartTokenizer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def composed(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("composed")
    args = ["compose", "--genre", "chorale", "--seconds", "16", "--seed", "4"]
    assert main([*args, "--checkpoint", str(tiny_checkpoint), "--out", str(out)]) == 0
    return out


def bars(tiny_checkpoint: Path, midi: Path) -> list:
    tok = load_checkpoint(tiny_checkpoint).tokenizer
    assert isinstance(tok, PartTokenizer)
    return tok.parse_bars(tok.encode_score(symusic.Score.from_file(str(midi))))


def test_rewrite_keeps_the_other_bars_and_says_so(
    composed: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    before = bars(tiny_checkpoint, composed / "piece.mid")
    args = ["rewrite", str(composed / "piece.mid"), "--bars", "2-3", "--seed", "1"]
    assert main([*args, "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path)]) == 0
    after = bars(tiny_checkpoint, tmp_path / "piece.mid")
    assert after[:1] == before[:1] and after[3:] == before[3:]
    meta = json.loads((tmp_path / "piece.json").read_text())
    assert meta["task"] == "infill" and meta["new_bars"] == [2, 3]
    assert meta["remarks"][-1].startswith("Bar 1 and bars 4–") and meta["remarks"][-1].endswith(
        "2–3 are new."
    )
    assert (tmp_path / "piece.mp3").stat().st_size > 1000


def test_rewrite_refuses_a_range_longer_than_the_limit(
    composed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rewrite", str(composed / "piece.mid"), "--bars", "1-40", "--out", "x"]) == 2
    assert "at most 8 bars" in capsys.readouterr().err


def test_accompany_keeps_a_midi_melody_note_for_note(tiny_checkpoint: Path, tmp_path: Path) -> None:
    tune = pretty_midi.PrettyMIDI(initial_tempo=90)
    line = pretty_midi.Instrument(0, name="tune")
    for i, pitch in enumerate([67, 69, 71, 72, 74, 72, 71, 69, 67, 66, 67, 67]):
        line.notes.append(pretty_midi.Note(90, pitch, i * 2 / 3, (i + 1) * 2 / 3))
    tune.instruments.append(line)
    tune.write(str(tmp_path / "tune.mid"))
    out = tmp_path / "out"
    args = ["accompany", str(tmp_path / "tune.mid"), "--seed", "2", "--genre", "chorale"]
    assert main([*args, "--checkpoint", str(tiny_checkpoint), "--out", str(out)]) == 0
    given = bars(tiny_checkpoint, tmp_path / "tune.mid")
    result = bars(tiny_checkpoint, out / "piece.mid")
    assert [b.parts.get(0) for b in result] == [b.parts.get(0) for b in given]
    assert "Your melody, unchanged" in json.loads((out / "piece.json").read_text())["remarks"][-1]


def test_accompany_refuses_a_file_with_two_melodies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = pretty_midi.PrettyMIDI()
    for program in (0, 40):
        inst = pretty_midi.Instrument(program)
        inst.notes = [pretty_midi.Note(90, 60 + program % 12 + i, i * 0.5, i * 0.5 + 0.5) for i in range(8)]
        two.instruments.append(inst)
    two.write(str(tmp_path / "two.mid"))
    assert main(["accompany", str(tmp_path / "two.mid"), "--out", str(tmp_path / "o")]) == 2
    assert "one melody line" in capsys.readouterr().err
