"""How much of a piece is copied from the training set: the longest run of notes found in a training piece.

A piece is reduced to its top line (the highest note at each onset) and read as events: (pitch interval
from the previous note, inter-onset interval in 1/24 quarter notes). Intervals make the comparison deaf
to transposition and onsets in quarters deaf to tempo, so a training tune moved to another key or tempo
still counts as copied. The index keeps every training piece's events (2 bytes a note) and a sorted
table of hashed K-event n-grams taken at every `stride`-th position; a query hashes all its n-grams,
looks them up, verifies each hit against the stored events and grows it both ways as far as the notes
agree. Every shared run of at least `floor_notes` notes is found with its exact length.

The index ships beside a checkpoint (`originality.npz`) and the bot looks pieces up in it; building
it from a corpus is training's (`training.originality`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from symusic.core import ScoreTick

from model.notes import Notes, notes_of
from model.tokenizer import CadenzaTokenizer

log = logging.getLogger(__name__)

FORMAT = "cadenza-originality-1"
INDEX_FILE = "originality.npz"  # beside a checkpoint; built from the training split by `cadenza evaluate`
ONSET_STEPS = 24  # inter-onset intervals are counted in 1/24 quarter notes (32nds and triplets exact)
SENTINEL = np.uint16(0xFFFF)  # separates pieces; no note event encodes to it (intervals are clipped to +-126)
FLAG_BARS = 8.0  # a piece that copies this many bars of one training piece is a bug to fix (issue 3)
MAX_HITS = 256  # candidate positions checked per query n-gram (very common figures have thousands)
_MIX = np.uint64(0x9E3779B97F4A7C15)


class CopiedRun(NamedTuple):
    """The longest run of a piece's notes found in one training piece."""

    notes: int  # notes in the run (0 when nothing of at least the index's floor was found)
    bars: float  # how long the run lasts, in bars of the piece's metre


@dataclass(frozen=True)
class CopyMatch:
    """A copied run with where it comes from."""

    notes: int
    bars: float
    train_piece: str  # id of the training piece ("" when nothing was found)
    start_note: int  # index of the run's first note in the piece's top line


def top_line(notes: Notes) -> Notes:
    """The highest note starting at each onset (the melody of most of our textures)."""
    if len(notes) == 0:
        return notes
    last_at_onset = np.r_[notes.onset[1:] != notes.onset[:-1], True]  # sorted by (onset, pitch)
    keep = np.flatnonzero(last_at_onset)
    return Notes(
        notes.onset[keep],
        notes.duration[keep],
        notes.pitch[keep],
        notes.seconds[keep],
        notes.end_seconds,
        notes.quarters_per_bar,
    )


def events_of(line: Notes) -> np.ndarray:
    """(interval, inter-onset interval) of each note after the first, packed into uint16 codes."""
    if len(line) < 2:
        return np.zeros(0, np.uint16)
    interval = np.clip(np.diff(line.pitch.astype(np.int64)), -126, 126) + 128
    ioi = np.clip(np.round(np.diff(line.onset) * ONSET_STEPS), 0, 255).astype(np.int64)
    return (interval * 256 + ioi).astype(np.uint16)


def ngram_hashes(events: np.ndarray, k: int) -> np.ndarray:
    """A 32-bit hash of every k-event window (len - k + 1 of them; empty when shorter than k)."""
    n = len(events) - k + 1
    if n <= 0:
        return np.zeros(0, np.uint32)
    e = events.astype(np.uint64)
    h = np.zeros(n, np.uint64)
    for j in range(k):  # uint64 arithmetic wraps around: a polynomial hash modulo 2**64
        h = h * np.uint64(1_000_003) + e[j : j + n] + np.uint64(1)
    h = (h ^ (h >> np.uint64(29))) * _MIX
    return (h >> np.uint64(32)).astype(np.uint32)


class OriginalityIndex:
    """Training pieces' note events plus a sorted hash table of their n-grams; saved as one .npz file."""

    def __init__(
        self,
        events: np.ndarray,
        piece_start: np.ndarray,
        piece_ids: np.ndarray,
        k: int,
        stride: int,
        fingerprint: str = "",
    ) -> None:
        self.events, self.piece_start, self.piece_ids = events, piece_start, piece_ids
        self.k, self.stride, self.fingerprint = k, stride, fingerprint
        self._hashes, self._positions = self._table()

    @property
    def floor_notes(self) -> int:
        """Runs of at least this many notes are always found (shorter ones only sometimes)."""
        return self.k + self.stride  # k + stride - 1 events, plus the note they start from

    @classmethod
    def from_lines(
        cls,
        lines: Sequence[Notes],
        piece_ids: Sequence[str],
        k: int = 6,
        stride: int = 2,
        fingerprint: str = "",
    ) -> OriginalityIndex:
        """Index the top lines of training pieces."""
        if k < 2 or stride < 1:
            raise ValueError("k must be >= 2 and stride >= 1")
        chunks, starts, pos = [], [], 0
        for line in lines:
            ev = events_of(line)
            starts.append(pos)
            chunks.append(np.r_[ev, SENTINEL].astype(np.uint16))
            pos += len(ev) + 1
        events = np.concatenate(chunks) if chunks else np.zeros(0, np.uint16)
        return cls(
            events, np.array(starts, np.int64), np.array(list(piece_ids), dtype=str), k, stride, fingerprint
        )

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Hashes of the k-grams at every stride-th position that lie inside one piece, sorted."""
        h = ngram_hashes(self.events, self.k)
        if len(h) == 0:
            return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        breaks = np.r_[0, np.cumsum(self.events == SENTINEL)]
        whole = breaks[self.k : self.k + len(h)] == breaks[: len(h)]  # no separator inside the window
        pos = np.flatnonzero(whole & (np.arange(len(h)) % self.stride == 0)).astype(np.uint32)
        order = np.argsort(h[pos], kind="stable")
        return h[pos][order], pos[order]

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the index as a compressed .npz (no pickled objects)."""
        meta = json.dumps(
            {"format": FORMAT, "k": self.k, "stride": self.stride, "fingerprint": self.fingerprint}
        )
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            events=self.events,
            piece_start=self.piece_start,
            piece_ids=self.piece_ids,
            meta=np.array(meta),
        )
        tmp.replace(path)

    @classmethod
    def beside(cls, checkpoint: Path) -> OriginalityIndex | None:
        """The index shipped beside a checkpoint (`originality.npz`), or None when it has none."""
        path = checkpoint / INDEX_FILE
        if not path.exists():
            log.info("no %s beside %s: pieces get no originality figure", INDEX_FILE, checkpoint)
            return None
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> OriginalityIndex:
        """Read an index written by `save`; the hash table is rebuilt (a second or so per million notes)."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path} is not a Cadenza originality index ({meta.get('format')!r})")
            return cls(
                data["events"],
                data["piece_start"],
                data["piece_ids"],
                int(meta["k"]),
                int(meta["stride"]),
                str(meta["fingerprint"]),
            )

    # -- queries -------------------------------------------------------------------------------
    def find(self, line: Notes) -> CopyMatch:
        """The longest run of `line` (a top line) that also occurs in a training piece."""
        q = events_of(line)
        qh = ngram_hashes(q, self.k)
        lo = np.searchsorted(self._hashes, qh, side="left")
        hi = np.minimum(np.searchsorted(self._hashes, qh, side="right"), lo + MAX_HITS)
        counts = hi - lo
        if counts.sum() == 0:
            return CopyMatch(0, 0.0, "", 0)
        qi = np.repeat(np.arange(len(qh)), counts)
        tp = self._positions[
            np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a])
        ].astype(np.int64)
        ahead = self._extend(q, qi, tp, +1)
        ok = ahead >= self.k  # a hash collision extends less than k events
        if not ok.any():
            return CopyMatch(0, 0.0, "", 0)
        qi, tp, ahead = qi[ok], tp[ok], ahead[ok]
        behind = self._extend(q, qi - 1, tp - 1, -1)
        length = ahead + behind
        best = int(np.argmax(length))
        start = int(qi[best] - behind[best])  # first event; the run's first note is the one before it
        n_events = int(length[best])
        piece = int(np.searchsorted(self.piece_start, tp[best], side="right") - 1)
        return CopyMatch(
            n_events + 1, _bars(line, start, start + n_events), str(self.piece_ids[piece]), start
        )

    def _extend(self, q: np.ndarray, qi: np.ndarray, tp: np.ndarray, step: int) -> np.ndarray:
        """How many events agree from each (query, train) pair onwards in direction `step`."""
        length = np.zeros(len(qi), np.int64)
        alive = np.flatnonzero((qi >= 0) & (qi < len(q)) & (tp >= 0) & (tp < len(self.events)))
        j = 0
        while len(alive):
            a, b = qi[alive] + step * j, tp[alive] + step * j
            inside = (a >= 0) & (a < len(q)) & (b >= 0) & (b < len(self.events))
            alive, a, b = alive[inside], a[inside], b[inside]
            same = q[a] == self.events[b]  # the separator never equals a note event
            alive = alive[same]
            length[alive] += 1
            j += 1
        return length


def _bars(line: Notes, first_event: int, end_event: int) -> float:
    """Length in bars from the onset of the run's first note to the end of its last note."""
    first_note, last_note = first_event, end_event  # event e leads from note e to note e + 1
    end = line.onset[last_note] + line.duration[last_note]
    return round(float(end - line.onset[first_note]) / line.quarters_per_bar, 2)


def as_score(piece: ScoreTick | Sequence[int], tokenizer: CadenzaTokenizer | None) -> ScoreTick:
    """A score from either a score or token ids (which need the tokenizer)."""
    if isinstance(piece, ScoreTick):
        return piece
    if tokenizer is None:
        raise ValueError("token ids need the tokenizer to be read")
    return tokenizer.decode(list(piece))


def find_copied_run(
    piece: ScoreTick | Sequence[int], index: OriginalityIndex, tokenizer: CadenzaTokenizer | None = None
) -> CopyMatch:
    """The longest run of the piece's top line found in any training piece, with its source."""
    return index.find(top_line(notes_of(as_score(piece, tokenizer))))


def longest_copied_run(
    piece: ScoreTick | Sequence[int], index: OriginalityIndex, tokenizer: CadenzaTokenizer | None = None
) -> CopiedRun:
    """(notes, bars) of the longest run copied from a training piece: the bot's originality figure."""
    m = find_copied_run(piece, index, tokenizer)
    return CopiedRun(m.notes, m.bars)
