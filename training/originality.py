"""Building the originality index (`model.originality`) from a corpus's training split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from model.notes import notes_of
from model.originality import INDEX_FILE, OriginalityIndex, top_line
from model.parts import tokenizer_from_json

log = logging.getLogger(__name__)


def index_training_split(corpus_dir: Path, k: int = 6, stride: int = 2) -> OriginalityIndex:
    """Build the index over a corpus's train split (decodes every piece: about a minute per 10k pieces)."""
    from training.token_store import TokenSplit, read_corpus_meta

    meta = read_corpus_meta(corpus_dir)
    tok = tokenizer_from_json(meta["tokenizer"])
    split = TokenSplit.open(corpus_dir, "train")
    ids = list(meta["splits"]["train"])
    lines = [
        top_line(notes_of(tok.decode(np.asarray(split.piece(i)).tolist()))) for i in range(len(split.index))
    ]
    return OriginalityIndex.from_lines(lines, ids, k, stride, str(meta["fingerprint"]))


def load_or_build_index(corpus_dir: Path, path: Path | None = None) -> OriginalityIndex:
    """The corpus's index from `path` (default `<corpus>/originality.npz`), rebuilt when missing or stale."""
    from training.token_store import read_corpus_meta

    path = path or corpus_dir / INDEX_FILE
    fingerprint = str(read_corpus_meta(corpus_dir)["fingerprint"])
    if path.exists():
        index = OriginalityIndex.load(path)
        if index.fingerprint == fingerprint:
            return index
        log.info("originality index %s is for another corpus; rebuilding", path)
    index = index_training_split(corpus_dir)
    index.save(path)
    log.info(
        "originality index: %d notes, %d n-grams, %.1f MB at %s",
        len(index.events),
        len(index._hashes),
        path.stat().st_size / 1e6,
        path,
    )
    return index
