"""Real files made by the tests: tones and melodies as WAV/MP3/OGG/M4A/WebM bytes, MIDI built inline."""

from __future__ import annotations

import io
import os
import subprocess

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

SR = 22050


def melody_audio(seconds: float = 4.0, sr: int = SR, bpm: float = 120.0) -> np.ndarray:
    """A known answer: C major scale steps as plucked harmonic tones, one per eighth note."""
    step = 30.0 / bpm
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    for i in range(int(seconds / step)):
        start = int(i * step * sr)
        t = np.arange(int(step * 0.9 * sr)) / sr
        f = 440.0 * 2 ** ((pitches[i % len(pitches)] - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3)) * np.exp(-3 * t)
        out[start : start + t.size] += 0.3 * tone[: out.size - start].astype(np.float32)
    return out


def wav_bytes(audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def encode(audio: np.ndarray, fmt: list[str], sr: int = SR) -> bytes:
    """Encode with the ffmpeg CLI through pipes (no files), e.g. fmt=["-c:a", "libopus", "-f", "ogg"]."""
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(sr),
        "-ac",
        "1",
        "-i",
        "pipe:0",
    ]
    return subprocess.run(
        [*cmd, *fmt, "pipe:1"], input=audio.astype("<f4").tobytes(), capture_output=True, check=True
    ).stdout


def encode_seekable(audio: np.ndarray, fmt: list[str], sr: int = SR) -> bytes:
    """Like `encode`, into an in-memory file, for muxers that seek back (M4A writes its index last)."""
    fd = os.memfd_create("test-out")
    try:
        cmd = [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(sr),
            "-ac",
            "1",
            "-i",
            "pipe:0",
        ]
        subprocess.run(
            [*cmd, *fmt, "-y", f"/dev/fd/{fd}"],
            input=audio.astype("<f4").tobytes(),
            pass_fds=(fd,),
            check=True,
        )
        return os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)


def midi_bytes(score: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    score.write(buf)
    return buf.getvalue()


def simple_score(
    notes: int = 16, drums: bool = False, seconds_per_note: float = 0.25
) -> pretty_midi.PrettyMIDI:
    score = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    piano = pretty_midi.Instrument(0, name="Piano")
    for i in range(notes):
        pitch = [60, 62, 64, 65, 67][i % 5]
        piano.notes.append(pretty_midi.Note(90, pitch, i * seconds_per_note, (i + 1) * seconds_per_note))
    score.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(0, is_drum=True, name="Drums")
        kit.notes += [pretty_midi.Note(100, 36, i * 0.5, i * 0.5 + 0.1) for i in range(8)]
        score.instruments.append(kit)
    return score


@pytest.fixture(scope="session")
def melody_wav() -> bytes:
    return wav_bytes(melody_audio())
