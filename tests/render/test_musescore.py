"""A real score editor opens our files: MuseScore 3 turns piece.mid and piece.musicxml of every genre into a PDF.

MuseScore is a test tool, not something the bot runs: `make setup` installs Debian's `musescore3` and
`poppler-utils` (pdftotext, pdfinfo). It runs headless on Qt's offscreen platform.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from render.sheet import ScoreFiles, ScoreSpec, engrave
from tests.render.genre_pieces import GENRE_PIECES, GenrePiece, genre_score, merged_score

MUSESCORE = "mscore3"
TIMEOUT_S = 120
MUSIC_GLYPHS = re.compile("[\ue000-\uf8ff]")  # SMuFL puts its symbols in Unicode's private use area


@pytest.fixture(scope="module")
def engraved() -> dict[str, ScoreFiles]:
    return {p.genre: engrave(genre_score(p), ScoreSpec(f"A {p.genre} piece", p.genre)) for p in GENRE_PIECES}


def _convert(source: Path, suffix: str) -> Path:
    """Convert `source` with MuseScore into `suffix` (pdf, musicxml); fails with MuseScore's output unless it exits 0."""
    out = source.with_suffix(source.suffix + "." + suffix)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(source.parent)}
    done = subprocess.run(
        [MUSESCORE, "-o", str(out), str(source)], env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.stat().st_size > 1000
    return out


def _first_page_lines(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1)) >= 1  # type: ignore[union-attr]
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = MUSIC_GLYPHS.sub("", text)  # noteheads, clefs and rests are characters of the music font
    return [line.strip() for line in text.splitlines() if line.strip()]


def _labelled(lines: list[str], name: str) -> bool:
    """Whether a line of the page is the staff label `name` (MuseScore's MIDI import writes "Instrument, name")."""
    return any(line == name or line.endswith(", " + name) for line in lines)


@pytest.mark.slow
@pytest.mark.parametrize("piece", GENRE_PIECES, ids=lambda p: p.genre)
@pytest.mark.parametrize("kind", ["musicxml", "mid"])
def test_musescore_prints_every_part_on_the_first_page(
    piece: GenrePiece, kind: str, engraved: dict[str, ScoreFiles], tmp_path: Path
) -> None:
    files = engraved[piece.genre]
    source = tmp_path / f"piece.{kind}"
    source.write_bytes(files.musicxml if kind == "musicxml" else files.midi)
    lines = _first_page_lines(_convert(source, "pdf"))
    assert len(files.parts) == piece.parts
    found = [name for name in files.parts if _labelled(lines, name)]
    # MuseScore's style hides the name of a lone instrument; every part of an ensemble is labelled.
    assert found == (list(files.parts) if piece.parts > 1 else []), lines[:40]
    # And MuseScore's own model of the file has exactly those parts: its MusicXML export counts them.
    exported = _convert(source, "musicxml").read_text(encoding="utf-8")
    assert exported.count("<score-part ") == piece.parts


@pytest.mark.slow
def test_musescore_shows_the_title_of_the_musicxml(engraved: dict[str, ScoreFiles], tmp_path: Path) -> None:
    source = tmp_path / "piece.musicxml"
    source.write_bytes(engraved["chorale"].musicxml)
    lines = _first_page_lines(_convert(source, "pdf"))
    assert "A chorale piece" in lines and "Cadenza" in lines


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["musicxml", "mid"])
def test_musescore_reads_a_v1_piece_as_its_four_voices(kind: str, tmp_path: Path) -> None:
    files = engrave(merged_score(seconds=8.0), ScoreSpec("A v1 chorale", "chorale"))  # one merged track
    source = tmp_path / f"piece.{kind}"
    source.write_bytes(files.musicxml if kind == "musicxml" else files.midi)
    lines = _first_page_lines(_convert(source, "pdf"))
    assert [name for name in files.parts if _labelled(lines, name)] == list(files.parts)
    assert _convert(source, "musicxml").read_text(encoding="utf-8").count("<score-part ") == 4
