"""A tiny real corpus (a few Bach chorales and Essen folk songs from music21) and a tiny trained model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from training.build import build_corpus
from training.corpus_settings import CorpusSettings
from training.train_settings import TrainSettings

TINY_GENRES = {"chorale": ["bach"], "folk": ["essenFolksong"]}


def tiny_corpus_settings(out_dir: Path, pieces: int = 14) -> CorpusSettings:
    """Corpus settings for `pieces` pieces per genre, with generous val/test shares so no split is empty."""
    return CorpusSettings(
        out_dir=out_dir,
        genres=dict(TINY_GENRES),
        default_tempos={"chorale": 80, "folk": 100},
        max_pieces_per_genre=pieces,
        workers=2,
        val_fraction=0.2,
        test_fraction=0.2,
    )


def build_tiny_corpus(out_dir: Path) -> Path:
    """Build the tiny corpus into out_dir and return it."""
    build_corpus(tiny_corpus_settings(out_dir))
    return out_dir


def tiny_train_settings(out_dir: Path, **changes: object) -> TrainSettings:
    """A model small enough to train in seconds on a 2-core CPU."""
    base = TrainSettings(
        out_dir=out_dir,
        n_layer=2,
        n_head=2,
        d_model=32,
        lstm_hidden=32,
        lstm_layers=1,
        dropout=0.0,
        seq_len=64,
        batch_size=4,
        max_steps=40,
        lr=3e-3,
        min_lr=3e-4,
        warmup_steps=5,
        eval_every=10,
        eval_batches=2,
        transpose_range=3,
        threads=1,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
