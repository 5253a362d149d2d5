"""Decide what an upload is from its first bytes (magic numbers), never from its name or content type."""

from __future__ import annotations

import enum

from cadenza.errors import BadInput

ACCEPTED = "MP3, WAV, OGG/Opus, FLAC, M4A/AAC, WebM audio, or a MIDI file (.mid)"


class UploadKind(enum.Enum):
    """What an upload turned out to be; the value is ffmpeg's demuxer for that container."""

    MP3 = "mp3"
    WAV = "wav"
    OGG = "ogg"
    FLAC = "flac"
    M4A = "mov"
    AAC = "aac"
    WEBM = "matroska"
    MIDI = "midi"

    @property
    def is_audio(self) -> bool:
        """True for everything ffmpeg decodes (all but MIDI)."""
        return self is not UploadKind.MIDI


def sniff_upload(data: bytes) -> UploadKind:
    """The kind of `data` by its magic number; `BadInput` naming what is accepted otherwise."""
    if not data:
        raise BadInput(f"That file is empty. Send {ACCEPTED}.")
    head = data[:64]
    kind = _container_kind(head) or _mp3_kind(data) or _adts_kind(head)
    if kind is None:
        raise BadInput(f"I can't read that kind of file. Send {ACCEPTED}.")
    return kind


def _container_kind(head: bytes) -> UploadKind | None:
    """Formats with an unambiguous signature at a fixed offset."""
    if head.startswith(b"MThd"):
        return UploadKind.MIDI
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return UploadKind.WAV
    if head.startswith(b"OggS"):
        # Opus (Discord voice messages), Vorbis, or FLAC inside Ogg; Theora-only video is not audio.
        return UploadKind.OGG if any(m in head for m in (b"OpusHead", b"\x01vorbis", b"\x7fFLAC")) else None
    if head.startswith(b"fLaC"):
        return UploadKind.FLAC
    if head[4:8] == b"ftyp":
        return UploadKind.M4A
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska and WebM
        return UploadKind.WEBM
    return None


def _mp3_kind(data: bytes) -> UploadKind | None:
    """MP3: an ID3v2 tag (skipped by its declared size) or straight away an MPEG audio frame header."""
    start = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        size = _syncsafe(data[6:10])
        if size is None:
            return None
        start = 10 + size
        if start + 4 > len(data):
            return UploadKind.MP3  # a tag bigger than the upload: ffmpeg will call it truncated
    return UploadKind.MP3 if _is_mpeg_audio_header(data[start : start + 4]) else None


def _syncsafe(b: bytes) -> int | None:
    """ID3v2 sizes use 7 bits per byte; a set high bit means this is not an ID3 tag."""
    if any(x & 0x80 for x in b):
        return None
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _is_mpeg_audio_header(h: bytes) -> bool:
    """11 sync bits, then a valid version, layer, bitrate and sample-rate index (MPEG 1/2/2.5, layer I-III)."""
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return False
    version = (h[1] >> 3) & 0b11  # 0b01 is reserved
    layer = (h[1] >> 1) & 0b11  # 0b00 is reserved (and is what ADTS AAC uses)
    bitrate = h[2] >> 4  # 0b1111 is invalid
    rate = (h[2] >> 2) & 0b11  # 0b11 is reserved
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and rate != 0b11


def _adts_kind(head: bytes) -> UploadKind | None:
    """Raw AAC in ADTS frames: sync 0xFFF, layer 00, a valid sampling-frequency index."""
    if len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and ((head[2] >> 2) & 0x0F) < 13:
        return UploadKind.AAC
    return None
