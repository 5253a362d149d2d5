"""One source (a music21 score file, one ABC tune, or a MIDI file) -> normalised MIDI pieces, a track per part.

Runs inside worker processes. Every conversion is bounded by a wall-clock alarm, and every failure is
returned as a reason string instead of raised, so one bad file never stops a corpus build.
"""

from __future__ import annotations

import copy
import hashlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import symusic

from cadenza.theory import estimate_key, pitch_class_histogram

# Bump when the conversion changes, so cached results are redone.
CONVERTER_VERSION = "4"  # 4: parts kept (a track each, highest first)
MUSIC21_SUFFIXES = {".mxl", ".xml", ".musicxml", ".krn", ".abc"}
MIDI_SUFFIXES = {".mid", ".midi"}
PITCH_LOW, PITCH_HIGH = 21, 108
MAX_PARTS = 6  # Palestrina writes up to 6 voices; more tracks than this are folded into the lowest part


@dataclass(frozen=True)
class SourceTask:
    """One unit of conversion work: a file (or one tune of an ABC file) with its genre label."""

    piece_id: str  # stable id, e.g. "essenFolksong/altdeu10.abc#12"; decides the split
    genre: str
    path: str
    abc_text: str | None = None  # set for one tune cut out of a multi-tune ABC file
    default_tempo: int = 100
    timeout_s: int = 60
    max_minutes: float = 20.0

    def cache_key(self) -> str:
        """Content hash of what is converted, plus the converter version."""
        h = hashlib.sha256(CONVERTER_VERSION.encode())
        h.update(self.genre.encode())
        h.update(str(self.default_tempo).encode())
        h.update(self.abc_text.encode() if self.abc_text is not None else Path(self.path).read_bytes())
        return h.hexdigest()[:24]


@dataclass
class ConvertedPiece:
    """A normalised piece: merged MIDI bytes and what the summary needs."""

    piece_id: str
    genre: str
    midi: bytes
    key_index: int
    notes: int
    seconds: float


@dataclass
class ConversionResult:
    """Pieces converted from one task, or the reason it failed."""

    task: SourceTask
    pieces: list[ConvertedPiece] = field(default_factory=list)
    error: str | None = None
    seconds_taken: float = 0.0


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def convert(task: SourceTask) -> ConversionResult:
    """Convert one task with a time limit; never raises."""
    started = time.monotonic()
    result = _convert(task)
    result.seconds_taken = round(time.monotonic() - started, 2)
    return result


def _convert(task: SourceTask) -> ConversionResult:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(task.timeout_s)
    try:
        scores = _load_scores(task)
        pieces = []
        for i, (score, has_tempo) in enumerate(scores):
            piece = _normalise(task, score, has_tempo, suffix="" if len(scores) == 1 else f"/{i}")
            if piece is not None:
                pieces.append(piece)
        if not pieces:
            return ConversionResult(task, error="no usable notes")
        return ConversionResult(task, pieces)
    except _Timeout:
        return ConversionResult(task, error=f"timed out after {task.timeout_s} s")
    except Exception as e:  # any parser error is a reason to skip, counted in the summary
        return ConversionResult(task, error=f"{type(e).__name__}: {str(e)[:200]}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _load_scores(task: SourceTask) -> list[tuple[symusic.Score, bool]]:
    """(score, whether the source carried its own tempo) for every piece in the task."""
    suffix = Path(task.path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        score = symusic.Score.from_midi(Path(task.path).read_bytes())
        return [(score, len(score.tempos) > 0)]
    import music21  # heavy; only in workers

    parsed = (
        music21.converter.parse(task.abc_text, format="abc")
        if task.abc_text is not None
        else music21.converter.parse(task.path)
    )
    streams = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
    out = []
    for s in streams:
        _repair_music21(s)
        has_tempo = bool(s.recurse().getElementsByClass("MetronomeMark"))
        mf = music21.midi.translate.streamToMidiFile(s)
        out.append((symusic.Score.from_midi(mf.writestr()), has_tempo))
    return out


def _repair_music21(s: object) -> None:
    """Known music21 export failures: a TimeSignature shared by two measures, and malformed repeats."""
    import music21

    seen: set[int] = set()
    for m in s.recurse().getElementsByClass(music21.stream.Measure):  # type: ignore[attr-defined]
        ts = m.timeSignature
        if ts is not None:
            if id(ts) in seen:
                m.timeSignature = copy.deepcopy(ts)
            seen.add(id(m.timeSignature))
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(m, side), music21.bar.Repeat):
                setattr(m, side, music21.bar.Barline("regular"))


def _normalise(task: SourceTask, score: symusic.Score, has_tempo: bool, suffix: str) -> ConvertedPiece | None:
    """Keep the parts (highest first), fix the tempo where the source had none, fold pitches into range."""
    parts = ordered_parts(score)
    out = symusic.Score(score.ticks_per_quarter)
    out.tempos = score.tempos
    out.time_signatures = score.time_signatures
    if not has_tempo or not out.tempos:
        out.tempos = [symusic.Tempo(0, float(task.default_tempo))]
    for i, part in enumerate(parts):
        for n in part.notes:
            while n.pitch < PITCH_LOW:
                n.pitch += 12
            while n.pitch > PITCH_HIGH:
                n.pitch -= 12
            n.velocity = 80
        part.program = i  # the part's index; render gives it the preset's i-th instrument
        out.tracks.append(part)
    notes = [n for part in parts for n in part.notes]
    if len(notes) < 8:
        return None
    seconds = out.to("second").end()
    if seconds > task.max_minutes * 60:
        return None
    pitches = np.array([n.pitch for n in notes])
    durations = np.array([max(n.duration, 1) for n in notes])
    key = estimate_key(pitch_class_histogram(pitches, durations))
    return ConvertedPiece(
        piece_id=task.piece_id + suffix,
        genre=task.genre,
        midi=out.dumps_midi(),
        key_index=key.index,
        notes=len(notes),
        seconds=float(seconds),
    )


def ordered_parts(score: symusic.Score, max_parts: int = MAX_PARTS) -> list[symusic.Track]:
    """The score's pitched tracks with notes, highest (by mean pitch) first; extras folded into the lowest."""
    tracks = [t.copy() for t in score.tracks if not t.is_drum and len(t.notes) > 0]
    tracks.sort(key=lambda t: -float(np.mean([n.pitch for n in t.notes])))
    if len(tracks) > max_parts:
        low = tracks[max_parts - 1]
        for extra in tracks[max_parts:]:
            for n in extra.notes:
                low.notes.append(n)
        low.notes.sort(key=lambda n: (n.time, n.pitch))
        tracks = tracks[:max_parts]
    return tracks
