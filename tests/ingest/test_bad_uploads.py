"""Hostile and broken uploads end in a clear BadInput (or are trimmed), in bounded time, leaving nothing behind."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cadenza.errors import BadInput, TooLong
from ingest import IngestSettings, UploadKind, ingest_bytes
from ingest.decode import decode_audio
from tests.ingest.conftest import SR, encode, encode_seekable, melody_audio, wav_bytes

SETTINGS = IngestSettings()


def _children() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids |= {int(p) for p in (task / "children").read_text().split()}
    return pids


@pytest.fixture(autouse=True)
def nothing_leaks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No child processes, open descriptors or temporary files survive a test."""
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    before_files = {p.name for p in tmp.iterdir()}
    before_fds = set(os.listdir("/proc/self/fd"))
    before_children = _children()
    yield
    assert _children() <= before_children
    assert set(os.listdir("/proc/self/fd")) <= before_fds | {"3", "4"}  # pytest's own capture may open some
    leaked = {p.name for p in tmp.iterdir()} - before_files
    assert not {n for n in leaked if not n.startswith("pytest")}


def test_zero_bytes_are_refused() -> None:
    with pytest.raises(BadInput, match="empty"):
        ingest_bytes(b"", SETTINGS)


def test_an_executable_named_wav_is_refused() -> None:
    with pytest.raises(BadInput, match="MIDI"):
        ingest_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096), SETTINGS)


def test_oversized_upload_is_refused_before_parsing() -> None:
    with pytest.raises(TooLong):
        ingest_bytes(b"RIFF" + bytes(2048), IngestSettings(max_upload_bytes=1024))


def test_truncated_mp3_decodes_what_is_there() -> None:
    mp3 = encode(melody_audio(4.0), ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"])
    audio = decode_audio(mp3[: len(mp3) // 2], UploadKind.MP3, SETTINGS)
    assert 1.5 < audio.size / SR < 2.5


def test_mp3_cut_after_its_first_frame_is_too_short() -> None:
    mp3 = encode(melody_audio(4.0), ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"])
    with pytest.raises(BadInput, match=r"too short|damaged|no audio"):
        ingest_bytes(mp3[:600], SETTINGS)


def test_mp3_made_of_a_frame_header_and_garbage_is_refused() -> None:
    data = b"\xff\xfb\x90\x64" + np.random.default_rng(3).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    with pytest.raises(BadInput):
        ingest_bytes(data, SETTINGS)


def test_wav_header_declaring_4_gb_reads_only_the_real_data() -> None:
    wav = bytearray(wav_bytes(melody_audio(3.0)))
    wav[4:8] = struct.pack("<I", 0xFFFFFFF0)  # RIFF size
    data_at = wav.index(b"data")
    wav[data_at + 4 : data_at + 8] = struct.pack("<I", 0xFFFFFFF0)  # 4 GB of samples declared
    audio = decode_audio(bytes(wav), UploadKind.WAV, SETTINGS)
    assert audio.size / SR == pytest.approx(3.0, abs=0.05)


def test_ten_minute_clip_is_cut_to_the_configured_seconds() -> None:
    rate = 8000
    long_wav = wav_bytes(np.tile(melody_audio(4.0, sr=rate), 150), sr=rate)  # 10 minutes
    audio = decode_audio(long_wav, UploadKind.WAV, IngestSettings(max_seconds=20.0))
    assert audio.size == 20 * SETTINGS.sample_rate


def test_fifty_millisecond_clip_is_too_short() -> None:
    with pytest.raises(BadInput, match="too short"):
        ingest_bytes(wav_bytes(melody_audio(0.05)), SETTINGS)


def test_silence_is_refused() -> None:
    with pytest.raises(BadInput, match="silent"):
        ingest_bytes(wav_bytes(np.zeros(3 * SR, np.float32)), SETTINGS)


def test_white_noise_has_no_clear_melody() -> None:
    noise = np.random.default_rng(1).uniform(-0.5, 0.5, 5 * SR).astype(np.float32)
    with pytest.raises(BadInput, match="couldn't hear a clear melody"):
        ingest_bytes(wav_bytes(noise), SETTINGS)


def test_six_channel_96k_float_wav_becomes_mono_at_the_configured_rate() -> None:
    rate = 96000
    mono = melody_audio(2.0, sr=rate)
    wav = wav_bytes(np.stack([mono] * 6, axis=1), sr=rate, subtype="FLOAT")
    audio = decode_audio(wav, UploadKind.WAV, SETTINGS)
    assert audio.dtype == np.float32
    assert audio.size / SR == pytest.approx(2.0, abs=0.01)


def test_float_wav_with_nan_and_huge_samples_is_sanitised() -> None:
    audio = melody_audio(2.0)
    audio[100:200] = np.nan
    audio[300:400] = 1e30
    decoded = decode_audio(wav_bytes(audio, subtype="FLOAT"), UploadKind.WAV, SETTINGS)
    assert np.isfinite(decoded).all() and np.abs(decoded).max() <= 1.0


def test_wav_declaring_thousands_of_channels_is_refused() -> None:
    wav = bytearray(wav_bytes(melody_audio(1.0)))
    fmt_at = wav.index(b"fmt ")
    wav[fmt_at + 10 : fmt_at + 12] = struct.pack("<H", 5000)
    with pytest.raises(BadInput):
        ingest_bytes(bytes(wav), SETTINGS)


def test_a_decoder_that_runs_too_long_is_killed() -> None:
    with pytest.raises(BadInput, match="too long"):
        decode_audio(wav_bytes(melody_audio(2.0)), UploadKind.WAV, IngestSettings(ffmpeg_timeout_s=0.001))


@pytest.mark.parametrize(
    "fmt",
    [
        ["-c:a", "libopus", "-f", "ogg"],  # a Discord voice message
        ["-c:a", "libopus", "-f", "webm"],
        ["-c:a", "flac", "-f", "flac"],
        ["-c:a", "aac", "-f", "adts"],
    ],
)
def test_common_formats_decode_to_the_whole_clip(fmt: list[str]) -> None:
    data = encode(melody_audio(3.0), fmt)
    from ingest import sniff_upload

    audio = decode_audio(data, sniff_upload(data), SETTINGS)
    assert audio.size / SR == pytest.approx(3.0, abs=0.1)


def test_m4a_with_its_index_at_the_end_decodes() -> None:
    data = encode_seekable(melody_audio(3.0), ["-c:a", "aac", "-f", "ipod"])
    assert data.find(b"moov") > data.find(b"mdat") > 0  # the index really is at the end
    audio = decode_audio(data, UploadKind.M4A, SETTINGS)
    assert audio.size / SR == pytest.approx(3.0, abs=0.1)
