"""One real piece per genre, from the public-domain collections music21 ships, converted as the corpus is.

Each goes through `training.convert.convert` (music21 -> MIDI -> a track per part, highest first,
program = part index), so the scores look exactly like the training data and the v2 model's output,
and is cut to its first 30 seconds, the length of a default piece.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import symusic
from music21 import corpus

from tests.render.scores import single_track_chorale
from training.convert import SourceTask, convert
from training.corpus_settings import DEFAULT_TEMPOS


@dataclass(frozen=True)
class GenrePiece:
    """Where a test piece comes from and how many parts it has (counted in the source edition)."""

    genre: str
    collection: str
    file: str
    parts: int


GENRE_PIECES = (
    GenrePiece("chorale", "bach", "bwv66.6.mxl", 4),  # SATB
    GenrePiece("folk", "essenFolksong", "altdeu10.abc", 1),  # a song's tune
    GenrePiece("celtic", "oneills1850", "0001-0050.abc", 1),  # a fiddle tune
    GenrePiece("renaissance", "palestrina", "Agnus_01.krn", 5),  # SATTB
    GenrePiece("medieval", "trecento", "Fava_Dicant_nunc_iudei.xml", 2),  # cantus and tenor
    GenrePiece("classical", "mozart", "movement1.mxl", 4),  # a string quartet (K. 155)
)
SECONDS = 30.0


def _source(piece: GenrePiece) -> str:
    return next(str(p) for p in corpus.getComposer(piece.collection) if str(p).endswith("/" + piece.file))


def _first_clean_tune(path: str) -> str:
    """The first tune of an ABC book without '-' ties: music21 holds a note tied to a different pitch for bars."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    for tune in ("X:" + text.partition("\nX:")[2]).split("\nX:"):
        body = [line for line in tune.splitlines() if line and not re.match(r"^[A-Za-z]:", line)]
        if body and not any("-" in line for line in body):
            return tune if tune.startswith("X:") else "X:" + tune
    raise AssertionError(f"no tune without ties in {path}")


def genre_score(piece: GenrePiece, seconds: float = SECONDS) -> symusic.Score:
    """The piece converted as the corpus converts it, cut to its first `seconds`."""
    path = _source(piece)
    abc = _first_clean_tune(path) if path.endswith(".abc") else None
    task = SourceTask(
        f"{piece.collection}/{piece.file}",
        piece.genre,
        path,
        abc_text=abc,
        default_tempo=DEFAULT_TEMPOS[piece.genre],
    )
    result = convert(task)
    assert result.error is None, result.error
    score = symusic.Score.from_midi(result.pieces[0].midi)
    ticks = int(seconds * float(score.tempos[0].qpm) / 60 * score.ticks_per_quarter)
    return score.clip(0, ticks)


def merged_score(seconds: float = 10.0) -> symusic.Score:
    """A v1 piece: a four-voice progression in one track with one program, as the v1 model writes it."""
    buf = io.BytesIO()
    single_track_chorale(seconds=seconds).write(buf)
    return symusic.Score.from_midi(buf.getvalue())
