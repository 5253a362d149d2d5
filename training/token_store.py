"""Token arrays on disk: writing a split from converted pieces, and reading it memory-mapped."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import symusic

from model.part_plan import RETURN_AT, RETURN_BARS
from model.parts import PartTokenizer
from model.tokenizer import CadenzaTokenizer
from training.convert import ConvertedPiece

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
INDEX_DTYPE = np.dtype(
    [
        ("offset", "<i8"),
        ("length", "<i4"),
        ("genre", "<i2"),
        ("key", "<i2"),
        ("notes", "<i4"),
        ("seconds", "<f4"),
    ]
)


def write_split(out_dir: Path, split: str, pieces: list[ConvertedPiece], tok: CadenzaTokenizer) -> list[str]:
    """Tokenize `pieces` into tokens/<split>.bin and .idx.npy; returns the ids of pieces written."""
    (out_dir / "tokens").mkdir(parents=True, exist_ok=True)
    arrays, rows, ids = [], [], []
    offset = 0
    for p in pieces:
        try:
            music = tok.encode_score(symusic.Score.from_midi(p.midi))
        except Exception as e:  # a piece miditok cannot read is skipped, like a bad source file
            log.warning("skipping %s: cannot tokenize (%s)", p.piece_id, e)
            continue
        if len(music) < 16:
            continue
        arr = np.asarray(music, dtype=np.uint16)
        arrays.append(arr)
        rows.append((offset, len(arr), tok.genres.index(p.genre), p.key_index, p.notes, p.seconds))
        ids.append(p.piece_id)
        offset += len(arr)
    data = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint16)
    data.tofile(out_dir / "tokens" / f"{split}.bin")
    np.save(out_dir / "tokens" / f"{split}.idx.npy", np.array(rows, dtype=INDEX_DTYPE))
    return ids


@dataclass
class TokenSplit:
    """One split, memory-mapped: `tokens[offset:offset+length]` are a piece's music tokens."""

    tokens: np.ndarray  # (N,) uint16, memory-mapped
    index: np.ndarray  # (pieces,) INDEX_DTYPE

    @classmethod
    def open(cls, corpus_dir: Path, split: str) -> TokenSplit:
        """Map a split without reading it into memory."""
        path = corpus_dir / "tokens" / f"{split}.bin"
        tokens = np.memmap(path, dtype=np.uint16, mode="r") if path.stat().st_size else np.zeros(0, np.uint16)
        return cls(tokens, np.load(corpus_dir / "tokens" / f"{split}.idx.npy"))

    def piece(self, i: int) -> np.ndarray:
        """Music tokens of piece i (a view into the map)."""
        row = self.index[i]
        return self.tokens[row["offset"] : row["offset"] + row["length"]]


def fingerprint(out_dir: Path) -> str:
    """Hash of every token array: identifies exactly which data a checkpoint was trained on."""
    h = hashlib.sha256()
    for split in SPLITS:
        for suffix in (".bin", ".idx.npy"):
            path = out_dir / "tokens" / f"{split}{suffix}"
            h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()[:16]


def read_corpus_meta(corpus_dir: Path) -> dict[str, Any]:
    """corpus.json: genres, tokenizer, split ids, summary, fingerprint."""
    path = corpus_dir / "corpus.json"
    if not path.exists():
        from cadenza.errors import ConfigError

        raise ConfigError(f"no corpus at {corpus_dir}: run `cadenza corpus` first")
    meta: dict[str, Any] = json.loads(path.read_text())
    return meta


def genre_stats(split: TokenSplit, tok: CadenzaTokenizer) -> dict[str, dict[str, Any]]:
    """Per genre: median tempo, metre and key frequencies, tokens per bar. The engine's defaults."""
    inv = tok.id_to_token
    out: dict[str, dict[str, Any]] = {}
    for gi, genre in enumerate(tok.genres):
        tempos: list[float] = []
        metres: dict[str, int] = {}
        keys: dict[str, int] = {}
        tokens = bars = 0
        parts: dict[str, int] = {}
        part_ids = np.flatnonzero(getattr(tok, "part_of", np.full(len(tok), -1)) >= 0)
        for i in np.flatnonzero(split.index["genre"] == gi):
            music = np.asarray(split.piece(int(i)))
            n_parts = str(len(np.unique(music[np.isin(music, part_ids)])))
            parts[n_parts] = parts.get(n_parts, 0) + 1
            tokens, bars = tokens + len(music), bars + int((music == tok.bar_id).sum())
            keys[str(int(split.index[i]["key"]))] = keys.get(str(int(split.index[i]["key"])), 0) + 1
            first_tempo = next((inv[int(t)] for t in music[:64] if inv[int(t)].startswith("Tempo_")), None)
            if first_tempo:
                tempos.append(float(first_tempo.split("_")[1]))
            ts_ids, counts = np.unique(music[np.isin(music, _ids(tok, "TimeSig_"))], return_counts=True)
            for t, c in zip(ts_ids, counts, strict=True):
                metres[inv[int(t)][8:]] = metres.get(inv[int(t)][8:], 0) + int(c)
        out[genre] = {
            **_phrase_returns(split, tok, gi),
            "tempo": float(np.median(tempos)) if tempos else 100.0,
            "time_signatures": metres,
            "keys": keys,
            "tokens_per_bar": round(tokens / max(bars, 1), 2),
            "parts": parts,  # pieces by how many parts they have (v2 corpora; {"0": n} for v1)
        }
    return out


def _phrase_returns(split: TokenSplit, tok: CadenzaTokenizer, genre: int) -> dict[str, Any]:
    """v2 corpora: {"phrase_return": {"5": share, "9": share}} - of the genre's pieces long enough, the
    share whose top part plays bars 1-2 again, note for note, at bars 5-6 (or 9-10). The sampler
    brings a new piece's opening back at that rate, so form follows the genre's own music."""
    if not isinstance(tok, PartTokenizer):
        return {}
    hits = {at: 0 for at in RETURN_AT}
    counts = {at: 0 for at in RETURN_AT}
    for i in np.flatnonzero(split.index["genre"] == genre):
        bars = tok.parse_bars(np.asarray(split.piece(int(i)), dtype=np.int64)[1:])
        top = [bar.parts.get(0) for bar in bars]
        for at in RETURN_AT:
            if len(top) >= at + RETURN_BARS and top[0]:
                counts[at] += 1
                hits[at] += top[at - 1 : at - 1 + RETURN_BARS] == top[:RETURN_BARS]
    return {
        "phrase_return": {str(at): round(hits[at] / counts[at], 3) if counts[at] else 0.0 for at in RETURN_AT}
    }


def _ids(tok: CadenzaTokenizer, prefix: str) -> np.ndarray:
    return np.array([i for t, i in tok.vocab.items() if t.startswith(prefix)])
