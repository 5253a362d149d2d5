"""The entry points: uploaded bytes -> Primer, synchronously or without blocking an event loop."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import Executor

import numpy as np

from cadenza.errors import BadInput, TooLong
from ingest.decode import decode_audio
from ingest.midi_upload import read_midi
from ingest.primer import Primer
from ingest.settings import IngestSettings
from ingest.sniff import UploadKind, sniff_upload
from ingest.transcribe import transcribe_clip

log = logging.getLogger(__name__)

UNCLEAR = "I couldn't hear a clear melody in that clip. Try a solo instrument or voice, with little background noise."


def ingest_bytes(data: bytes, settings: IngestSettings) -> Primer:
    """Read an upload (audio or MIDI) into a Primer; every problem with the file is a `BadInput`."""
    if len(data) > settings.max_upload_bytes:
        raise TooLong(f"That file is too large (limit {settings.max_upload_bytes // (1024 * 1024)} MB).")
    kind = sniff_upload(data)
    if kind is UploadKind.MIDI:
        return read_midi(data, settings)
    audio = decode_audio(data, kind, settings)
    check_audio(audio, settings)
    return transcribe_audio(audio, kind, settings)


def check_audio(audio: np.ndarray, settings: IngestSettings) -> None:
    """Refuse clips that are too short or silent, with the reason."""
    seconds = audio.size / settings.sample_rate
    if seconds < settings.min_clip_seconds:
        raise BadInput(
            f"That clip is too short ({seconds:.2f} s); send at least {settings.min_clip_seconds:g} s of music."
        )
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms <= 0 or 20 * np.log10(rms) < settings.silence_dbfs:
        raise BadInput("That clip is silent (or nearly); I need something to listen to.")


def transcribe_audio(audio: np.ndarray, kind: UploadKind, settings: IngestSettings) -> Primer:
    """Transcribe decoded audio; too-unsure results are refused politely."""
    result = transcribe_clip(audio, settings.sample_rate, settings.min_pitch, settings.max_pitch)
    if result.confidence < settings.min_confidence:
        log.info("refused a %s clip: confidence %.2f", kind.name, result.confidence)
        raise BadInput(UNCLEAR)
    seconds = audio.size / settings.sample_rate
    remarks = (
        (f"used the first {settings.max_seconds:g} s",) if seconds >= settings.max_seconds - 0.05 else ()
    )
    return Primer(
        kind=kind,
        score=result.score,
        tempo_bpm=result.grid.bpm,
        key=result.key,
        beats_per_bar=result.grid.beats_per_bar,
        confidence=result.confidence,
        duration_s=seconds,
        audio=audio,
        sample_rate=settings.sample_rate,
        offset_s=result.grid.downbeat_s,
        chords=result.chord_names,
        notes=remarks,
    )


async def ingest_upload(data: bytes, settings: IngestSettings, executor: Executor | None = None) -> Primer:
    """`ingest_bytes` off the event loop: in `executor` (a process pool works) or the default thread pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(ingest_bytes, data, settings))


def warm_up(settings: IngestSettings | None = None) -> None:
    """Compile librosa's numba kernels (pYIN, beat tracking: ~15 s on first use) on a synthetic clip."""
    settings = settings or IngestSettings()
    sr = settings.sample_rate
    t = np.arange(int(2.0 * sr)) / sr
    pitches = np.repeat([60, 64, 67, 72], t.size // 4 + 1)[: t.size]
    clip = (0.3 * np.sin(2 * np.pi * 440.0 * 2 ** ((pitches - 69) / 12) * t)).astype(np.float32)
    transcribe_clip(clip, sr, settings.min_pitch, settings.max_pitch)
    from ingest.melody import track_pitch
    from ingest.rhythm import tracker_tempo

    tracker_tempo(track_pitch(clip[:: max(1, sr // 16000)], settings.min_pitch, settings.max_pitch).onset_env)
    log.info("ingest warmed up")
