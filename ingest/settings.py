"""Limits and defaults for reading uploads: every number an attacker could push on is bounded here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestSettings:
    """How uploads are read: what is decoded, within which limits, and when a transcription is trusted."""

    max_upload_bytes: int = 25 * 1024 * 1024  # larger uploads are refused before any parsing
    max_seconds: float = 30.0  # only the first N seconds of audio (or MIDI) become the primer
    min_clip_seconds: float = 1.0  # shorter clips hold too little music to continue
    sample_rate: int = 22050  # decoded audio rate (mono); the continuation is crossfaded at this rate
    silence_dbfs: float = -50.0  # clips whose RMS level is below this are "silent"
    ffmpeg_path: str = "ffmpeg"  # the decoder binary; runs in a child process, never in ours
    ffmpeg_timeout_s: float = 15.0  # wall-time limit for one decode (also its CPU-time limit)
    ffmpeg_memory_mb: int = 512  # address-space limit of the decoder process
    midi_max_bytes: int = 1024 * 1024  # real songs are 10-200 KB; a million notes is ~6 MB
    midi_max_tracks: int = 64  # General MIDI has 16 channels; more tracks than this is not a song
    midi_max_notes: int = 20_000  # ~10 minutes of dense piano; counted before the file is parsed
    midi_max_seconds: float = 1800.0  # longer files are refused as absurd (longer primers are trimmed)
    min_bpm: float = 20.0  # tempo events outside [min_bpm, max_bpm] mark a broken or hostile file
    max_bpm: float = 400.0
    min_pitch: int = 36  # lowest melody pitch searched (C2)
    max_pitch: int = 96  # highest melody pitch searched (C7)
    min_confidence: float = 0.45  # transcriptions less sure than this are refused politely

    def __post_init__(self) -> None:
        positive = {
            "max_upload_bytes": self.max_upload_bytes,
            "max_seconds": self.max_seconds,
            "min_clip_seconds": self.min_clip_seconds,
            "ffmpeg_timeout_s": self.ffmpeg_timeout_s,
            "ffmpeg_memory_mb": self.ffmpeg_memory_mb,
            "midi_max_bytes": self.midi_max_bytes,
            "midi_max_tracks": self.midi_max_tracks,
            "midi_max_notes": self.midi_max_notes,
            "midi_max_seconds": self.midi_max_seconds,
            "min_bpm": self.min_bpm,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.min_clip_seconds >= self.max_seconds:
            raise ValueError("min_clip_seconds must be smaller than max_seconds")
        if not 8000 <= self.sample_rate <= 96000:
            raise ValueError(f"sample_rate must be between 8000 and 96000, got {self.sample_rate}")
        if self.ffmpeg_memory_mb < 64:
            raise ValueError("ffmpeg_memory_mb below 64 cannot even load ffmpeg")
        if self.max_bpm <= self.min_bpm:
            raise ValueError("max_bpm must be greater than min_bpm")
        if not 0 <= self.min_pitch < self.max_pitch <= 127:
            raise ValueError("need 0 <= min_pitch < max_pitch <= 127")
        if self.max_pitch - self.min_pitch < 12:
            raise ValueError("the melody pitch range must span at least an octave")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be in [0, 1]")
        if not -120.0 < self.silence_dbfs < 0.0:
            raise ValueError("silence_dbfs must be between -120 and 0")
