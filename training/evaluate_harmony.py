"""Harmonizing held-out Bach chorales: given the soprano, how well are alto, tenor and bass written?

Three sets of lower parts are scored on the same sopranos: Bach's own, the model's (the fill task),
and the rule-based harmonizer's (render/harmonize.py). Voice-leading faults per 100 beats count
parallel fifths and octaves between any two parts, voice crossing, a part outside its usual range,
and more than an octave between adjacent upper parts. Also: the share of soprano notes that are chord
tones of the parts beneath, that every part stays in range, and that the soprano is the highest note.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pretty_midi
import symusic

from model.checkpoint import Checkpoint
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.parts import BarTokens, PartTokenizer
from model.request import GenerationRequest, Task
from training.token_store import TokenSplit

RANGES = ((60, 81), (53, 74), (48, 69), (40, 62))  # soprano, alto, tenor, bass (MIDI), the textbook ranges
# A rule-based harmonizer: a melody in, (melody, inner voices in one track, bass) out. The entry
# package passes render.harmonize.harmonize: training/ does not import render/.
Harmonizer = Callable[[pretty_midi.PrettyMIDI], pretty_midi.PrettyMIDI]
TRIADS = [frozenset({r, (r + 3 + q) % 12, (r + 7) % 12}) for r in range(12) for q in (0, 1)]


@dataclass(frozen=True)
class Voicing:
    """Four parts sampled at every onset: pitch (or -1 when silent), and how many beats they span."""

    grid: np.ndarray  # (onsets, 4) int
    beats: float


def voicing(score: symusic.Score) -> Voicing:
    """The sounding pitch of each of the four highest-first tracks at every onset of any of them."""
    tracks = [t for t in score.tracks if len(t.notes)][:4]
    tpq = score.ticks_per_quarter
    onsets = sorted({int(n.time) for t in tracks for n in t.notes})
    grid = np.full((len(onsets), 4), -1, dtype=np.int64)
    for p, track in enumerate(tracks):
        notes = sorted((int(n.time), int(n.end), int(n.pitch)) for n in track.notes)
        for i, t in enumerate(onsets):
            sounding = [pitch for start, end, pitch in notes if start <= t < end]
            grid[i, p] = max(sounding) if sounding else -1
    end = max((int(n.end) for t in tracks for n in t.notes), default=0)
    return Voicing(grid, end / tpq)


def faults(v: Voicing) -> dict[str, float]:
    """Faults per 100 beats by kind, and in all."""
    g = v.grid
    counts = {"parallels": 0, "crossing": 0, "range": 0, "spacing": 0}
    for i in range(len(g)):
        row = g[i]
        for a in range(4):
            for b in range(a + 1, 4):
                if row[a] >= 0 and row[b] >= 0 and row[a] < row[b]:
                    counts["crossing"] += 1
        for p, (lo, hi) in enumerate(RANGES):
            if row[p] >= 0 and not lo <= row[p] <= hi:
                counts["range"] += 1
        for a in (0, 1):
            if row[a] >= 0 and row[a + 1] >= 0 and row[a] - row[a + 1] > 12:
                counts["spacing"] += 1
        if i:
            counts["parallels"] += _parallels(g[i - 1], row)
    per = 100.0 / max(v.beats, 1e-9)
    out = {k: round(c * per, 2) for k, c in counts.items()}
    out["all"] = round(sum(counts.values()) * per, 2)
    return out


def _parallels(before: np.ndarray, after: np.ndarray) -> int:
    """Pairs of parts a fifth or an octave apart that move, in the same direction, to the same interval."""
    n = 0
    for a in range(4):
        for b in range(a + 1, 4):
            pair = (before[a], before[b], after[a], after[b])
            if min(pair) < 0 or before[a] == after[a]:
                continue
            first, second = (before[a] - before[b]) % 12, (after[a] - after[b]) % 12
            same_way = np.sign(after[a] - before[a]) == np.sign(after[b] - before[b])
            if first == second and first in (0, 7) and same_way:
                n += 1
    return n


def chord_tone_share(v: Voicing) -> float:
    """Share of onsets where the soprano's pitch class belongs to a triad with the parts beneath it."""
    hits = total = 0
    for row in v.grid:
        below = {int(p) % 12 for p in row[1:] if p >= 0}
        if row[0] < 0 or not below:
            continue
        total += 1
        pcs = below | {int(row[0]) % 12}
        hits += int(any(pcs <= t for t in TRIADS) or int(row[0]) % 12 in below)
    return hits / max(total, 1)


def in_range_and_on_top(v: Voicing) -> tuple[float, float]:
    """(share of sounding notes inside their part's range, share of onsets where the soprano is highest)."""
    g = v.grid
    sounding = g >= 0
    inside = np.zeros_like(sounding)
    for p, (lo, hi) in enumerate(RANGES):
        inside[:, p] = (g[:, p] >= lo) & (g[:, p] <= hi)
    on_top = [row[0] >= max(row) for row in g if row[0] >= 0]
    return float(inside[sounding].mean()) if sounding.any() else 0.0, float(
        np.mean(on_top)
    ) if on_top else 0.0


def summary(voicings: list[Voicing]) -> dict[str, object]:
    """Faults per 100 beats (pooled), chord-tone share, parts in range and soprano on top."""
    beats = sum(v.beats for v in voicings)
    pooled = {k: 0.0 for k in ("parallels", "crossing", "range", "spacing", "all")}
    for v in voicings:
        for k, x in faults(v).items():
            pooled[k] += x * v.beats / 100.0
    ranges = [in_range_and_on_top(v) for v in voicings]
    return {
        "chorales": len(voicings),
        "beats": round(beats, 1),
        "faults_per_100_beats": round(pooled["all"] * 100.0 / max(beats, 1e-9), 2),
        "faults_by_kind_per_100_beats": {
            k: round(x * 100.0 / max(beats, 1e-9), 2) for k, x in pooled.items() if k != "all"
        },
        "chord_tone_share": round(float(np.mean([chord_tone_share(v) for v in voicings])), 3),
        "in_range_share": round(float(np.mean([r[0] for r in ranges])), 3),
        "soprano_highest_share": round(float(np.mean([r[1] for r in ranges])), 3),
    }


def held_out_chorales(test: TokenSplit, tok: PartTokenizer, count: int) -> list[tuple[int, list[BarTokens]]]:
    """The test split's chorales with four parts: (their Tempo token, their bars)."""
    out: list[tuple[int, list[BarTokens]]] = []
    gi = tok.genres.index("chorale")
    for i in np.flatnonzero(test.index["genre"] == gi):
        bars = tok.parse_bars(np.asarray(test.piece(int(i)), dtype=np.int64)[1:])
        if {p for b in bars for p in b.parts} == {0, 1, 2, 3}:
            out.append((int(test.piece(int(i))[0]), bars))
        if len(out) == count:
            break
    return out


def harmonize_report(
    ck: Checkpoint, test: TokenSplit, count: int, seed: int, rule_based: Harmonizer | None
) -> dict[str, object]:
    """Bach, the model and (when given) the rule-based harmonizer on the same held-out sopranos."""
    tok = ck.tokenizer
    assert isinstance(tok, PartTokenizer)
    chorales = held_out_chorales(test, tok, count)
    bach = [voicing(tok.bars_to_score(bars)) for _, bars in chorales]
    sopranos = [
        (tempo, [BarTokens(b.time_sig, {0: b.parts[0]} if 0 in b.parts else {}) for b in bars])
        for tempo, bars in chorales
    ]
    model = asyncio.run(_model_harmonies(ck, tok, sopranos, seed))
    out: dict[str, object] = {"model": summary(model), "bach": summary(bach)}
    if rule_based is not None:
        out["rule_based"] = summary(
            [voicing(_rule_based(tok.bars_to_score(b), rule_based)) for _, b in sopranos]
        )
    return out


async def _model_harmonies(
    ck: Checkpoint, tok: PartTokenizer, sopranos: list[tuple[int, list[BarTokens]]], seed: int
) -> list[Voicing]:
    engine = Engine(ck, EngineSettings(max_batch=16, max_queue=len(sopranos) + 1, request_timeout_s=1800))
    try:
        reqs = [
            GenerationRequest(
                genre="chorale", seconds=1, seed=seed + i, task=Task.FILL,
                source=(tempo, *tok.bars_tokens(bars, len(bars))), given_parts=(0,), parts=4,
            )
            for i, (tempo, bars) in enumerate(sopranos)
        ]  # fmt: skip
        pieces = await asyncio.gather(*(engine.generate(r) for r in reqs))
    finally:
        await engine.close()
    return [voicing(p.score) for p in pieces]


def _rule_based(soprano: symusic.Score, harmonize: Harmonizer) -> symusic.Score:
    """render/harmonize.py's accompaniment of the soprano as four tracks: melody, the upper and lower
    inner voice (it writes both into one track, two notes per chord), bass."""
    pm = pretty_midi.PrettyMIDI(io.BytesIO(bytes(soprano.dumps_midi())))
    harmonized = harmonize(pm)
    lead, inner, bass = harmonized.instruments
    upper, lower = pretty_midi.Instrument(0), pretty_midi.Instrument(0)
    chords: dict[float, list[pretty_midi.Note]] = {}
    for note in inner.notes:
        chords.setdefault(note.start, []).append(note)
    for notes in chords.values():
        notes.sort(key=lambda n: -n.pitch)
        upper.notes.append(notes[0])
        lower.notes.extend(notes[1:2])
    harmonized.instruments = [lead, upper, lower, bass]
    return symusic.Score.from_midi(_bytes(harmonized))


def _bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()
