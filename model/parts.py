"""Composer v2's tokens: bars of part blocks, with the bars left and the task in the prompt.

A piece reads

    BOS Genre_<g> Key_<k> Tempo_<t> Task_<task> [Given_<p> ...]
    Bar TimeSig_<n/d> Left_<n> Part_0 Position Pitch Duration ... Part_1 Position Pitch Duration ...
    Bar TimeSig_<n/d> Left_<n-1> Part_0 ... EOS

Inside a bar each part is a block of miditok REMI tokens (Position, Pitch, Duration), so every note
belongs to the part the model wrote it in (part 0 is the highest voice: soprano, first violin, the
tune). `Left_n` says how many bars remain (n = 1 is the last bar; `Left_16` is 16 or more), which lets
the model plan a whole piece and cadence at its end. Tasks are chosen by tokens in the prompt:

- `Task_continue`: bars in order (a primer, then new bars).
- `Task_infill`: `FillAfter` + the bars after the gap, `FillBefore` + the bars before it, then the gap's
  bars and EOS (the model reads what comes after before it writes, as in the Anticipatory Music
  Transformer and MMM's bar infilling).
- `Task_fill`: the prompt names the given parts (`Given_0` = the melody); in every bar the given
  parts' blocks come first (forced at generation time) and the model writes the other parts under them.

Why this layout and not one time-ordered stream with part tokens: see docs/representation.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import miditok
import numpy as np
import symusic

from model.tokenizer import CadenzaTokenizer, TokenizerParams

MAX_PARTS = 6  # Palestrina's six voices; the corpus folds more into the lowest part
MAX_LEFT = 16  # Left_16 = sixteen bars or more to go
TASKS = ("continue", "infill", "fill")
FORMAT = "parts"
# What each genre's parts are called, top part first (the corpus orders parts by pitch, highest first).
PART_NAMES: dict[str, tuple[str, ...]] = {
    "chorale": ("soprano", "alto", "tenor", "bass"),
    "classical": ("first violin", "second violin", "viola", "cello"),
    "renaissance": ("cantus", "altus", "tenor", "bassus", "quintus", "sextus"),
    "medieval": ("cantus", "tenor", "contratenor"),
}


@dataclass
class BarTokens:
    """One bar: its metre token and each sounding part's REMI tokens (Position, Pitch, Duration)."""

    time_sig: int
    parts: dict[int, list[int]] = field(default_factory=dict)

    def notes(self) -> int:
        """How many notes the bar holds (all parts)."""
        return sum(len(v) for v in self.parts.values())


class PartTokenizer(CadenzaTokenizer):
    """v1's REMI vocabulary (same ids) plus Left, Part, Task, Given and infill marker tokens."""

    format = FORMAT

    def __init__(self, genres: Sequence[str], params: TokenizerParams | None = None) -> None:
        super().__init__(genres, params)
        extra = (
            [f"Left_{n}" for n in range(1, MAX_LEFT + 1)]
            + [f"Part_{p}" for p in range(MAX_PARTS)]
            + [f"Task_{t}" for t in TASKS]
            + [f"Given_{p}" for p in range(MAX_PARTS)]
            + ["FillAfter_None", "FillBefore_None"]
        )
        for name in extra:
            self.vocab[name] = len(self.vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        size = len(self.vocab)
        self.pitch_of = np.concatenate([self.pitch_of, np.full(size - len(self.pitch_of), -1, np.int16)])
        self.part_of = _values(self.vocab, "Part_", size)  # part index of Part_p tokens, else -1
        self.left_of = _values(self.vocab, "Left_", size)
        self.fill_after_id = self.vocab["FillAfter_None"]
        self.fill_before_id = self.vocab["FillBefore_None"]
        self._drop = {self.pad_id, self.bos_id, self.eos_id, self.fill_after_id, self.fill_before_id}
        self._tempo_ids = {i for t, i in self.vocab.items() if t.startswith("Tempo_")}

    # -- small helpers -----------------------------------------------------------------------
    def part_id(self, part: int) -> int:
        """Id of Part_<part>."""
        return self.vocab[f"Part_{part}"]

    def left_id(self, bars_left: int) -> int:
        """Id of the Left token for a bar with `bars_left` bars to go (itself included)."""
        return self.vocab[f"Left_{max(1, min(MAX_LEFT, bars_left))}"]

    def task_id(self, task: str) -> int:
        """Id of Task_<task>."""
        return self.vocab[f"Task_{task}"]

    def header(
        self, genre: str, key_index: int, tempo_id: int, task: str, given: Iterable[int] = ()
    ) -> list[int]:
        """The prompt's conditioning tokens."""
        return [
            self.bos_id,
            self.genre_id(genre),
            self.key_id(key_index),
            tempo_id,
            self.task_id(task),
            *(self.vocab[f"Given_{p}"] for p in sorted(given)),
        ]

    # -- encoding ----------------------------------------------------------------------------
    def score_bars(self, score: symusic.Score) -> list[BarTokens]:
        """A score's bars, each part (track i = part i, at most MAX_PARTS) as its own REMI block."""
        pitched = [t for t in score.tracks if not t.is_drum]
        # Empty tracks are dropped, except a part of our own decoding that is silent throughout: it is
        # named for its number (bars_to_score) and holds the place of the parts after it.
        tracks = [t for i, t in enumerate(pitched) if len(t.notes) or t.name == part_track_name(i)]
        while tracks and not len(tracks[-1].notes):
            tracks.pop()
        tracks = tracks[:MAX_PARTS]
        if not tracks:
            return []
        single = symusic.Score(score.ticks_per_quarter)
        single.tempos, single.time_signatures = score.tempos, score.time_signatures
        bars: list[BarTokens] = []
        for part, track in enumerate(tracks):
            one = single.copy()
            one.tracks.append(track)
            seqs = self.remi.encode(one)
            ids = list((seqs[0] if isinstance(seqs, list) else seqs).ids)
            for b, (ts, body) in enumerate(self._split_bars(ids)):
                while len(bars) <= b:
                    bars.append(BarTokens(ts))
                if body:
                    bars[b].parts[part] = body
        return bars

    def _split_bars(self, ids: list[int]) -> list[tuple[int, list[int]]]:
        """(TimeSig id, Position/Pitch/Duration tokens) per bar of one track's REMI stream."""
        out: list[tuple[int, list[int]]] = []
        for t in ids:
            name = self.id_to_token[t]
            if t == self.bar_id:
                out.append((out[-1][0] if out else self.vocab["TimeSig_4/4"], []))
            elif name.startswith("TimeSig_") and out:
                out[-1] = (t, out[-1][1])
            elif out and name.split("_")[0] in ("Position", "Pitch", "Duration"):
                out[-1][1].append(t)
        return [(ts, _drop_bare_positions(body, self)) for ts, body in out]

    def bars_tokens(
        self, bars: Sequence[BarTokens], total_bars: int, first_bar: int = 0, given: Iterable[int] = ()
    ) -> list[int]:
        """Bars as tokens, `first_bar` being the index of bars[0] in a piece of `total_bars`.

        Given parts' blocks come first in every bar (the fill task's order); the rest ascend.
        """
        front = sorted(given)
        out: list[int] = []
        for i, bar in enumerate(bars):
            out += [self.bar_id, bar.time_sig, self.left_id(total_bars - first_bar - i)]
            order = [p for p in front if p in bar.parts] + sorted(p for p in bar.parts if p not in front)
            for p in order:
                out += [self.part_id(p), *bar.parts[p]]
        return out

    def fit_bars(
        self,
        bars: Sequence[BarTokens],
        lo: int,
        hi: int,
        budget: int,
        from_end: bool = False,
        given: Iterable[int] = (),
    ) -> list[int]:
        """Whole bars of bars[lo:hi] (Left values from the piece's length) that fit in `budget` tokens,
        taken from the start of the range, or from its end when `from_end` (the bars nearest a gap)."""
        chosen: list[list[int]] = []
        used = 0
        for j in range(hi - 1, lo - 1, -1) if from_end else range(lo, hi):
            toks = self.bars_tokens([bars[j]], len(bars), j, given)
            if used + len(toks) > budget:
                break
            chosen.append(toks)
            used += len(toks)
        if from_end:
            chosen.reverse()
        return [t for toks in chosen for t in toks]

    def encode_score(self, score: symusic.Score) -> list[int]:
        """The corpus form of a score: its first tempo, then every bar (no header, no EOS)."""
        bars = self.score_bars(score)
        bpm = float(score.tempos[0].qpm) if len(score.tempos) else 100.0
        return [self.nearest_tempo_id(bpm), *self.bars_tokens(bars, len(bars))]

    def nearest_tempo_id(self, bpm: float) -> int:
        """Id of the Tempo token closest to bpm."""
        ids = sorted(self._tempo_ids)
        values = np.array([float(self.id_to_token[i].split("_")[1]) for i in ids])
        return int(ids[int(np.argmin(np.abs(values - bpm)))])

    # -- decoding ----------------------------------------------------------------------------
    def parse_bars(self, ids: Sequence[int] | np.ndarray) -> list[BarTokens]:
        """The bars of a bar stream (header, markers, Left and Tempo tokens are skipped)."""
        bars: list[BarTokens] = []
        part = -1
        for t in ids:
            t = int(t)
            name = self.id_to_token.get(t, "")
            if t == self.bar_id:
                bars.append(BarTokens(bars[-1].time_sig if bars else self.vocab["TimeSig_4/4"]))
                part = -1
            elif not bars or t in self._drop:
                continue
            elif name.startswith("TimeSig_"):
                bars[-1].time_sig = t
            elif self.part_of[t] >= 0:
                part = int(self.part_of[t])
                bars[-1].parts.setdefault(part, [])
            elif part >= 0 and name.split("_")[0] in ("Position", "Pitch", "Duration"):
                bars[-1].parts[part].append(t)
        return bars

    def decode(self, ids: Sequence[int] | np.ndarray) -> symusic.Score:
        """A score with one track per part (program = part index, named Part 1, Part 2, ...).

        The first Tempo token (the corpus form's or a header's) sets the tempo.
        """
        score = self.bars_to_score(self.parse_bars(ids))
        tempo = next((int(t) for t in ids if int(t) in self._tempo_ids), None)
        if tempo is not None:
            score.tempos = [symusic.Tempo(0, float(self.id_to_token[tempo].split("_")[1]))]
        return score

    def bars_to_score(self, bars: Sequence[BarTokens]) -> symusic.Score:
        """Decode bars through miditok, one REMI stream per part, all with every bar line."""
        parts = sorted({p for bar in bars for p in bar.parts})
        if not parts:
            return symusic.Score(self.remi.time_division)
        streams = []
        for p in parts:
            ids: list[int] = []
            for bar in bars:
                ids += [self.bar_id, bar.time_sig, *bar.parts.get(p, [])]
            streams.append(miditok.TokSequence(ids=ids))
        score = self.remi.decode(streams)
        tracks = {}
        for track, p in zip(score.tracks, parts, strict=True):
            track.program, track.name = p, part_track_name(p)
            tracks[p] = track
        # A part silent in every bar keeps its place as an empty track, so that encoding this score
        # again gives every part its own number back (score_bars keeps such named empty tracks).
        score.tracks = [
            tracks[p] if p in tracks else symusic.Track(part_track_name(p), p) for p in range(parts[-1] + 1)
        ]
        return score

    def to_json(self) -> dict[str, Any]:
        """What a checkpoint stores to rebuild (and verify) this tokenizer."""
        return {**super().to_json(), "format": FORMAT}


def part_track_name(part: int) -> str:
    """The track name of part `part` in a decoded score ("Part 1" is part 0)."""
    return f"Part {part + 1}"


def part_name(genre: str, part: int, parts: int) -> str:
    """A part's name in its genre ("alto"; the lowest of several is the bass line elsewhere)."""
    names = PART_NAMES.get(genre)
    if names and part < len(names):
        return names[part]
    if part == 0:
        return "the melody"
    return "the bass" if part == parts - 1 else f"voice {part + 1}"


def _values(vocab: dict[str, int], prefix: str, size: int) -> np.ndarray:
    out = np.full(size, -1, dtype=np.int64)
    for name, i in vocab.items():
        if name.startswith(prefix):
            out[i] = int(name[len(prefix) :])
    return out


def _drop_bare_positions(body: list[int], tok: PartTokenizer) -> list[int]:
    """Remove Position tokens not followed by a Pitch (left behind where a Tempo token was dropped)."""
    out: list[int] = []
    for i, t in enumerate(body):
        is_pos = tok.id_to_token[t].startswith("Position_")
        nxt = tok.id_to_token[body[i + 1]] if i + 1 < len(body) else ""
        if is_pos and not nxt.startswith("Pitch_"):
            continue
        out.append(t)
    return out


def tokenizer_from_json(data: dict[str, Any]) -> CadenzaTokenizer:
    """v1 (one merged REMI stream) or v2 (parts) tokenizer, as a checkpoint or corpus describes it."""
    if data.get("format") == FORMAT:
        tok = PartTokenizer(data["genres"], TokenizerParams.from_json(data["params"]))
        if tok.vocab != {str(k): int(v) for k, v in data["vocab"].items()}:
            from cadenza.errors import CheckpointError

            raise CheckpointError("the checkpoint's part-token vocabulary does not match this tokenizer")
        return tok
    return CadenzaTokenizer.from_json(data)
