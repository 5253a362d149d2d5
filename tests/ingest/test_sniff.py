"""Uploads are typed by their bytes, never by their names."""

from __future__ import annotations

import numpy as np
import pytest

from cadenza.errors import BadInput
from ingest import UploadKind, sniff_upload
from tests.ingest.conftest import encode, melody_audio, midi_bytes, simple_score, wav_bytes


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        (["-c:a", "libmp3lame", "-f", "mp3"], UploadKind.MP3),
        (["-c:a", "libopus", "-f", "ogg"], UploadKind.OGG),
        (["-c:a", "libvorbis", "-f", "ogg"], UploadKind.OGG),
        (["-c:a", "flac", "-f", "flac"], UploadKind.FLAC),
        (["-c:a", "aac", "-f", "adts"], UploadKind.AAC),
        (["-c:a", "libopus", "-f", "webm"], UploadKind.WEBM),
        (["-c:a", "aac", "-movflags", "frag_keyframe+empty_moov", "-f", "ipod"], UploadKind.M4A),
    ],
)
def test_sniffs_audio_containers_by_magic_number(fmt: list[str], kind: UploadKind) -> None:
    assert sniff_upload(encode(melody_audio(1.0), fmt)) is kind


def test_sniffs_wav_and_midi() -> None:
    assert sniff_upload(wav_bytes(np.zeros(100, np.float32))) is UploadKind.WAV
    assert sniff_upload(midi_bytes(simple_score())) is UploadKind.MIDI


def test_sniffs_mp3_behind_an_id3_tag() -> None:
    mp3 = encode(
        melody_audio(1.0), ["-c:a", "libmp3lame", "-id3v2_version", "3", "-metadata", "title=x", "-f", "mp3"]
    )
    assert mp3.startswith(b"ID3")
    assert sniff_upload(mp3) is UploadKind.MP3


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01" + bytes(200),  # a Linux executable named .wav
        b"MZ\x90\x00" + bytes(200),  # a Windows executable
        b"%PDF-1.7\n",
        b"<html><body>hi</body></html>",
        b"OggS\x00\x02" + bytes(20) + b"\x80theora",  # Ogg video without audio
    ],
)
def test_refuses_other_files_naming_what_is_accepted(data: bytes) -> None:
    with pytest.raises(BadInput, match="MP3, WAV, OGG/Opus, FLAC, M4A/AAC, WebM"):
        sniff_upload(data)


def test_refuses_zero_bytes() -> None:
    with pytest.raises(BadInput, match="empty"):
        sniff_upload(b"")


def test_refuses_random_bytes_named_mp3() -> None:
    rng = np.random.default_rng(7)
    data = b"\x00" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(BadInput, match="can't read"):
        sniff_upload(data)
