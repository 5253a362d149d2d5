"""Benchmark: how well and how fast `ingest` transcribes melodies from audio clips.

Clips are rendered here with FluidSynth (FluidR3_GM) from held-out corpus melodies:
- melodies: monophonic tunes from music21's corpus, Essen folk songs (books ballad10, kinder0,
  erk5) and Ryan's Mammoth, in simple meters (2/4, 3/4, 4/4, C) with 16-120 notes. Candidates are
  ordered by the SHA-256 of "file#X-number" and the first N that pass are used, so the choice is
  deterministic and independent of any training split (transcription is not trained).
- each tune is played at a tempo drawn deterministically from 84-132 quarter notes per minute,
  notes at 90 % of their written length, velocities 80-100, transposed into the instrument's range;
  the first 30 s are kept.
- instruments: piano, flute, violin, choir aahs, voice oohs; each clip clean and "noisy" (a
  synthetic room reverb with RT60 0.6 s mixed at -6 dB, then white noise at 20 dB SNR).
Scores: mir_eval.transcription onset-only F1 (50 ms, pitch within 50 cents) on the unquantised
notes; raw pitch accuracy (mir_eval.melody, 10 ms frames); tempo within 4 % of the rendered quarter-
note tempo; key accuracy against the key of the true notes by the same Temperley profiles; meter
(duple/triple) accuracy; seconds to transcribe a 30 s clip (after warm-up). The last line printed is
one JSON object.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import fluidsynth
import numpy as np
import scipy.signal

SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 22050
CLIP_S = 30.0
INSTRUMENTS = {
    "piano": (0, 48, 84),
    "flute": (73, 60, 93),
    "violin": (40, 55, 88),
    "choir": (52, 48, 79),
    "voice": (53, 48, 79),
}
ESSEN_BOOKS = ("ballad10.abc", "kinder0.abc", "erk5.abc")
SIMPLE_METERS = {"2/4": 2, "3/4": 3, "4/4": 4, "C": 4, "2/2": 2, "C|": 2}


@dataclass(frozen=True)
class Melody:
    """A reference melody in seconds at its rendering tempo."""

    name: str
    intervals: np.ndarray  # (N, 2) seconds
    pitches: np.ndarray  # (N,) MIDI
    velocities: np.ndarray  # (N,)
    tempo: float
    beats_per_bar: int


def corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def candidate_tunes() -> list[tuple[str, str]]:
    """(name, ABC text of one tune) for every tune in the chosen books, in hash order."""
    tunes: list[tuple[str, str]] = []
    root = corpus_dir()
    files = [root / "essenFolksong" / b for b in ESSEN_BOOKS] + sorted((root / "ryansMammoth").glob("*.abc"))
    for path in files:
        text = path.read_text(encoding="latin-1")
        for chunk in re.split(r"\n(?=X:)", text):
            m = re.match(r"X:\s*(\d+)", chunk)
            if m:
                tunes.append((f"{path.parent.name}/{path.name}#{m.group(1)}", chunk))
    return sorted(tunes, key=lambda t: hashlib.sha256(t[0].encode()).hexdigest())


def parse_melody(name: str, abc: str, lo: int, hi: int) -> Melody | None:
    """The tune as a Melody, or None when it is not a simple-meter monophonic line."""
    from music21 import converter

    meter = re.search(r"^M:\s*(\S+)", abc, re.M)
    if not meter or meter.group(1) not in SIMPLE_METERS:
        return None
    try:
        score = converter.parse(abc, format="abc").stripTies()
    except Exception:  # music21's ABC reader fails on some tunes in many ways; skip them
        return None
    events = [
        (float(n.offset), float(n.quarterLength), n.pitch.midi)
        for n in score.flatten().notes
        if not n.isChord and n.quarterLength > 0
    ]
    if not 16 <= len(events) <= 400 or any(b[0] < a[0] + a[1] - 1e-6 for a, b in itertools.pairwise(events)):
        return None
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    tempo = 84 + digest % 49
    spb = 60.0 / tempo
    pitches = np.array([p for _, _, p in events])
    pitches = pitches + 12 * int(np.ceil((lo - pitches.min()) / 12)) if pitches.min() < lo else pitches
    pitches = pitches - 12 * int(np.ceil((pitches.max() - hi) / 12)) if pitches.max() > hi else pitches
    lead = 0.5  # a little silence before the first note, as a recording would have
    intervals = np.array([(lead + o * spb, lead + (o + 0.9 * d) * spb) for o, d, _ in events])
    keep = intervals[:, 0] < CLIP_S - 1.0
    intervals[:, 1] = np.minimum(intervals[:, 1], CLIP_S - 0.2)
    rng = np.random.default_rng(digest % 2**32)
    vel = rng.integers(80, 101, size=len(events))
    return Melody(
        name, intervals[keep], pitches[keep], vel[keep], float(tempo), SIMPLE_METERS[meter.group(1)]
    )


def pick_melodies(n: int, lo: int = 0, hi: int = 127) -> list[Melody]:
    """The first `n` usable tunes in hash order (see the module docstring)."""
    out: list[Melody] = []
    for name, abc in candidate_tunes():
        mel = parse_melody(name, abc, 55, 84)
        if mel is not None:
            out.append(mel)
            if len(out) == n:
                break
    return out


def render(mel: Melody, program: int) -> np.ndarray:
    """Mono float32 audio of the melody played by one General MIDI program, CLIP_S long."""
    fs = fluidsynth.Synth(samplerate=float(SR))
    sfid = fs.sfload(SF2)
    fs.program_select(0, sfid, 0, program)
    events = sorted(
        [
            (s, 1, int(p), int(v))
            for (s, _), p, v in zip(mel.intervals, mel.pitches, mel.velocities, strict=False)
        ]
        + [(e, 0, int(p), 0) for (_, e), p in zip(mel.intervals, mel.pitches, strict=False)],
        key=lambda x: (x[0], x[1]),
    )
    chunks, pos = [], 0
    for t, on, pitch, vel in events:
        n = round(t * SR) - pos
        if n > 0:
            chunks.append(np.asarray(fs.get_samples(n)))
            pos += n
        fs.noteon(0, pitch, vel) if on else fs.noteoff(0, pitch)
    chunks.append(np.asarray(fs.get_samples(int(CLIP_S * SR) - pos)))
    fs.delete()
    audio = np.concatenate(chunks).astype(np.float32).reshape(-1, 2).mean(axis=1) / 32768.0
    return audio[: int(CLIP_S * SR)]


def degrade(audio: np.ndarray, seed: int) -> np.ndarray:
    """Room reverb (exponentially decaying noise, RT60 0.6 s, at -6 dB) plus white noise at 20 dB SNR."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.8 * SR)) / SR
    ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / 0.6)
    ir[0] = 0.0
    wet = scipy.signal.fftconvolve(audio, ir)[: audio.size]
    wet *= 0.5 * np.std(audio) / (np.std(wet) + 1e-12)
    mix = audio + wet
    noise = rng.standard_normal(mix.size) * np.std(mix) / 10.0
    out = mix + noise
    return (out / max(1.0, np.abs(out).max() / 0.99)).astype(np.float32)
