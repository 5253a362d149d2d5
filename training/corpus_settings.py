"""Settings for building the training corpus (`cadenza corpus`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Honest genre labels for the collections that ship inside music21 (see README, "Corpus").
DEFAULT_GENRES: dict[str, list[str]] = {
    "chorale": ["bach"],  # J. S. Bach's four-part chorales
    "folk": ["essenFolksong", "miscFolk"],  # the Essen folk song collection (mostly German, Chinese)
    "celtic": ["oneills1850", "ryansMammoth", "airdsAirs"],  # Irish and Scottish fiddle tunes and airs
    "renaissance": ["palestrina", "josquin", "monteverdi"],  # 16th-century polyphony, madrigals
    "medieval": ["trecento", "ciconia"],  # 14th-century Italian song
    "classical": ["beethoven", "mozart", "haydn"],  # string quartets
}

# Tempo (quarter notes per minute) for pieces whose source carries none (ABC tunes, most chorales).
DEFAULT_TEMPOS: dict[str, int] = {
    "chorale": 80,
    "folk": 100,
    "celtic": 112,
    "renaissance": 96,
    "medieval": 90,
    "classical": 108,
}


@dataclass(frozen=True)
class CorpusSettings:
    """Where the corpus goes, which collections feed which genre, and how conversion is bounded."""

    out_dir: Path = Path("data/corpus")  # MIDI cache, token arrays and the summary
    genres: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_GENRES))
    default_tempos: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TEMPOS))
    max_pieces_per_genre: int = 0  # cap per genre (chosen by a stable hash); 0 = every piece
    genre_caps: dict[str, int] = field(default_factory=dict)  # per-genre caps that override the one above
    parse_timeout_s: int = 60  # a few music21 files take minutes to parse: skip them past this
    workers: int = 0  # conversion processes; 0 = one per CPU core
    val_fraction: float = 0.05  # share of pieces held out for validation (by a hash of the piece id)
    test_fraction: float = 0.05  # share held out for the test split
    token_format: str = "parts"  # "parts" (composer v2: part blocks, tasks) or "remi" (v1: one merged stream)
    max_piece_minutes: float = 20.0  # longer pieces are skipped (they are concatenations, not pieces)

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction < 0.5 or not 0 <= self.test_fraction < 0.5:
            raise ValueError("val_fraction and test_fraction must each be in [0, 0.5)")
        if self.max_pieces_per_genre < 0:
            raise ValueError("max_pieces_per_genre must be 0 (no cap) or more")
        if self.parse_timeout_s < 1:
            raise ValueError("parse_timeout_s must be at least 1")
        if self.token_format not in ("parts", "remi"):
            raise ValueError(f"token_format must be 'parts' or 'remi', not {self.token_format!r}")
        missing = sorted(set(self.genres) - set(self.default_tempos))
        if missing:
            raise ValueError(f"default_tempos has no tempo for genre {missing[0]!r}")
