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

import argparse
import hashlib
import itertools
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import fluidsynth
import mir_eval
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


def note_f0(intervals: np.ndarray, pitches: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A frame-wise f0 (Hz, 0 = unvoiced) from notes, for mir_eval.melody."""
    f0 = np.zeros_like(times)
    for (s, e), p in zip(intervals, pitches, strict=True):
        f0[(times >= s) & (times < e)] = 440.0 * 2 ** ((p - 69) / 12)
    return f0


def score_clip(mel: Melody, notes: list) -> tuple[float, float, float, float]:
    """(onset F1, precision, recall, raw pitch accuracy) of transcribed notes against the melody."""
    est_iv = np.array([[n.start, n.end] for n in notes]).reshape(-1, 2)
    est_hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in notes])
    ref_hz = 440.0 * 2 ** ((mel.pitches - 69) / 12)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        mel.intervals, ref_hz, est_iv, est_hz, onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None
    )
    times = np.arange(0, CLIP_S, 0.01)
    ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(
        times,
        note_f0(mel.intervals, mel.pitches, times),
        times,
        note_f0(est_iv, np.array([n.pitch for n in notes]), times),
    )
    return f, p, r, float(mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c))


def run_clip(mel: Melody, inst: str, cond: str, settings) -> dict:  # type: ignore[no-untyped-def]
    """Render, degrade, encode as WAV, then time decode + transcription and score the result."""
    import io

    import soundfile as sf

    from cadenza.theory import estimate_key, pitch_class_histogram
    from ingest.decode import decode_audio
    from ingest.sniff import UploadKind
    from ingest.transcribe import transcribe_clip

    audio = render(mel, INSTRUMENTS[inst][0])
    if cond == "noisy":
        audio = degrade(audio, seed=len(mel.name) + INSTRUMENTS[inst][0])
    buf = io.BytesIO()
    sf.write(buf, audio, SR, format="WAV", subtype="PCM_16")
    started = time.perf_counter()
    decoded = decode_audio(buf.getvalue(), UploadKind.WAV, settings)
    tr = transcribe_clip(decoded, settings.sample_rate, settings.min_pitch, settings.max_pitch)
    seconds = time.perf_counter() - started
    f, p, r, rpa = score_clip(mel, list(tr.notes))
    true_key = estimate_key(pitch_class_histogram(mel.pitches, mel.intervals[:, 1] - mel.intervals[:, 0]))
    ratio = tr.grid.bpm / mel.tempo
    return {
        "tune": mel.name,
        "instrument": inst,
        "condition": cond,
        "f1": f,
        "precision": p,
        "recall": r,
        "pitch_accuracy": rpa,
        "tempo_ok": abs(ratio - 1) < 0.04,
        "tempo_ok_any_octave": any(abs(ratio / k - 1) < 0.04 for k in (0.5, 1.0, 2.0)),
        "key_ok": tr.key.index == true_key.index,
        "meter_ok": (tr.grid.beats_per_bar == 3) == (mel.beats_per_bar == 3),
        "refused": tr.confidence < settings.min_confidence,
        "seconds": seconds * CLIP_S / (decoded.size / SR),
    }


def table(rows: list[dict], instruments: list[str]) -> str:
    """A Markdown table: one line per instrument and condition, then all clips."""
    lines = [
        "| instrument | condition | onset F1 | precision | recall | pitch acc. | tempo ±4 % | key | meter | s / 30 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = [(i, c) for i in instruments for c in ("clean", "noisy")] + [("all", "all")]
    for inst, cond in groups:
        g = [r for r in rows if inst in ("all", r["instrument"]) and cond in ("all", r["condition"])]
        m = {
            k: statistics.mean(float(r[k]) for r in g)
            for k in ("f1", "precision", "recall", "pitch_accuracy", "tempo_ok", "key_ok", "meter_ok")
        }
        sec = statistics.median(r["seconds"] for r in g)
        lines.append(
            f"| {inst} | {cond} | {m['f1']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | {m['pitch_accuracy']:.3f} "
            f"| {m['tempo_ok']:.0%} | {m['key_ok']:.0%} | {m['meter_ok']:.0%} | {sec:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tunes", type=int, default=6, help="melodies (each played by every instrument, clean and noisy)"
    )
    parser.add_argument(
        "--instruments",
        nargs="+",
        choices=list(INSTRUMENTS),
        default=list(INSTRUMENTS),
        help="instruments to render (default: all)",
    )
    args = parser.parse_args()
    from ingest import IngestSettings, warm_up

    settings = IngestSettings()
    started = time.perf_counter()
    warm_up(settings)
    print(f"warm-up (numba compilation): {time.perf_counter() - started:.1f} s")
    melodies = pick_melodies(args.tunes)
    print("tunes:", ", ".join(m.name for m in melodies))
    rows = [
        run_clip(m, inst, cond, settings)
        for m in melodies
        for inst in args.instruments
        for cond in ("clean", "noisy")
    ]
    print(table(rows, args.instruments))

    def mean(key: str, **where: str) -> float:
        """Mean of `key` over the rows matching every field in `where`, to 3 digits."""
        return round(
            statistics.mean(float(r[key]) for r in rows if all(r[k] == v for k, v in where.items())), 3
        )

    summary = {
        "onset_f1": mean("f1"),
        "onset_f1_clean": mean("f1", condition="clean"),
        "onset_f1_noisy": mean("f1", condition="noisy"),
        "onset_f1_by_instrument": {i: mean("f1", instrument=i) for i in args.instruments},
        "onset_f1_by_instrument_condition": {
            i: {c: mean("f1", instrument=i, condition=c) for c in ("clean", "noisy")}
            for i in args.instruments
        },
        "pitch_accuracy": mean("pitch_accuracy"),
        "tempo_within_4pct": mean("tempo_ok"),
        "tempo_within_4pct_any_octave": mean("tempo_ok_any_octave"),
        "key_accuracy": mean("key_ok"),
        "meter_accuracy": mean("meter_ok"),
        "refused": sum(bool(r["refused"]) for r in rows),
        "seconds_per_30s_clip": round(statistics.median(r["seconds"] for r in rows), 2),
        "clips": len(rows),
        "tunes": len(melodies),
        "machine": "2-core x86-64 CPU",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
