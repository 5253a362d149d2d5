"""Encode float audio to MP3 (with ID3 tags), WAV or OGG.

MP3 goes through libmp3lame by ctypes when the system has it (Debian's ffmpeg pulls it in): ctypes
releases the GIL, so time slices of one piece encode in parallel threads. Slices are cut on MP3 frame
boundaries, each encoder is warmed up on the audio before its slice, and the bit reservoir is off so
the frames of different encoders join without a seam. Without the library, lameenc (a pip wheel)
encodes the whole piece in one pass.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cadenza.errors import RenderFailed

log = logging.getLogger(__name__)

WARMUP_FRAMES = 4  # MP3 frames of preceding audio each slice's encoder hears before its own frames
LOOKAHEAD_FRAMES = 3  # frames of following audio fed so a slice's last frames are complete
JOINT_STEREO = 1  # LAME's MPEG_mode value


@dataclass(frozen=True)
class Tags:
    """ID3 tags written into an MP3."""

    title: str
    genre: str = ""
    artist: str = "Cadenza"
    comment: str = ""  # e.g. "seed 1234"


@lru_cache(maxsize=1)
def _libmp3lame() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("mp3lame")
    if path is None:
        return None
    lib = ctypes.CDLL(path)
    if not hasattr(lib, "lame_encode_buffer_interleaved_ieee_float"):
        return None
    lib.lame_init.restype = ctypes.c_void_p  # a pointer; the other calls return int, ctypes' default
    return lib


def _lame_frames(audio: np.ndarray, rate: int, kbps: int, quality: int, reservoir: bool) -> bytes:
    """Encode (frames, 2) float32 audio with libmp3lame: raw MP3 frames, no Xing/Info header."""
    lib = _libmp3lame()
    assert lib is not None
    vp = ctypes.c_void_p
    gfp = vp(lib.lame_init())
    if not gfp:
        raise RenderFailed("LAME could not start")
    try:
        for fn, value in (
            (lib.lame_set_in_samplerate, rate),
            (lib.lame_set_out_samplerate, rate),
            (lib.lame_set_num_channels, 2),
            (lib.lame_set_brate, kbps),
            (lib.lame_set_quality, quality),
            (lib.lame_set_mode, JOINT_STEREO),
            (lib.lame_set_bWriteVbrTag, 0),  # an Info header would state the wrong length for joined slices
            (lib.lame_set_disable_reservoir, int(not reservoir)),
        ):
            fn(gfp, ctypes.c_int(value))
        if lib.lame_init_params(gfp) < 0:
            raise RenderFailed("LAME rejected the MP3 settings")
        pcm = np.ascontiguousarray(audio, dtype=np.float32)
        n = len(pcm)
        size = int(1.25 * n + 7200) + 16384
        buf = ctypes.create_string_buffer(size)
        used = lib.lame_encode_buffer_interleaved_ieee_float(
            gfp, vp(pcm.ctypes.data), ctypes.c_int(n), buf, ctypes.c_int(size)
        )
        if used < 0:
            raise RenderFailed(f"LAME failed to encode (error {used})")
        out = buf.raw[:used]
        used = lib.lame_encode_flush(gfp, buf, ctypes.c_int(size))
        return out + buf.raw[: max(used, 0)]
    finally:
        lib.lame_close(gfp)


def split_frames(mp3: bytes) -> list[bytes]:
    """Cut a raw MPEG audio (layer III) stream into its frames."""
    bitrates = {
        1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
        2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    }
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    frames, pos = [], 0
    while pos + 4 <= len(mp3):
        h = int.from_bytes(mp3[pos : pos + 4], "big")
        if h >> 21 != 0x7FF:
            raise RenderFailed("LAME produced an unreadable MP3 stream")
        version, br_index, sr_index, padding = (h >> 19) & 3, (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        mpeg1 = version == 3
        kbps = bitrates[1 if mpeg1 else 2][br_index]
        length = (144 if mpeg1 else 72) * kbps * 1000 // rates[version][sr_index] + padding
        frames.append(mp3[pos : pos + length])
        pos += length
    return frames


def encode_mp3(
    audio: np.ndarray,
    rate: int,
    tags: Tags,
    kbps: int = 192,
    quality: int = 5,
    slices: int = 1,
    executor: Executor | None = None,
) -> bytes:
    """MP3 bytes (ID3v2 tags + CBR frames) of (frames, 2) float audio; `slices` > 1 encodes in parallel on `executor`."""
    if _libmp3lame() is None:
        return id3v2(tags) + _lameenc(audio, rate, kbps, quality)
    frame_len = 1152 if rate >= 32000 else 576
    total = -(-len(audio) // frame_len)
    if slices <= 1 or executor is None or total < slices * 8:
        return id3v2(tags) + _lame_frames(audio, rate, kbps, quality, reservoir=True)
    cuts = [round(total * k / slices) for k in range(slices + 1)]
    jobs: list[Callable[[], list[bytes]]] = [
        _slice_job(audio, rate, kbps, quality, cuts[k], cuts[k + 1], frame_len, last=k == slices - 1)
        for k in range(slices)
    ]
    futures = [executor.submit(job) for job in jobs[1:]]
    parts = [jobs[0](), *(f.result() for f in futures)]
    return id3v2(tags) + b"".join(b"".join(p) for p in parts)


def _slice_job(
    audio: np.ndarray, rate: int, kbps: int, quality: int, first: int, stop: int, frame_len: int, last: bool
) -> Callable[[], list[bytes]]:
    """A job encoding MP3 frames [first, stop) of `audio` (all the rest when `last`)."""

    def run() -> list[bytes]:
        warm = min(first, WARMUP_FRAMES)
        lo = (first - warm) * frame_len
        hi = len(audio) if last else (stop + LOOKAHEAD_FRAMES) * frame_len
        frames = split_frames(_lame_frames(audio[lo:hi], rate, kbps, quality, reservoir=False))
        return frames[warm:] if last else frames[warm : warm + stop - first]

    return run


def _lameenc(audio: np.ndarray, rate: int, kbps: int, quality: int) -> bytes:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(2)
    encoder.set_quality(quality)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def id3v2(tags: Tags) -> bytes:
    """An ID3v2.4 tag (UTF-8 text frames): title, artist, genre and a comment."""
    frames = b"".join(
        _id3_frame(fid, payload)
        for fid, payload in (
            ("TIT2", b"\x03" + tags.title.encode()),
            ("TPE1", b"\x03" + tags.artist.encode()),
            ("TCON", b"\x03" + tags.genre.encode()),
            ("COMM", b"\x03eng\x00" + tags.comment.encode()),
        )
        if payload[-1:] not in (b"\x03", b"\x00")
    )
    return b"ID3\x04\x00\x00" + _synchsafe(len(frames)) + frames


def _id3_frame(frame_id: str, payload: bytes) -> bytes:
    return frame_id.encode("ascii") + _synchsafe(len(payload)) + b"\x00\x00" + payload


def _synchsafe(n: int) -> bytes:
    return bytes(((n >> shift) & 0x7F) for shift in (21, 14, 7, 0))


def encode_wav(audio: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV bytes."""
    return _soundfile(audio, rate, "WAV", "PCM_16")


def encode_ogg(audio: np.ndarray, rate: int, quality: float = 0.6) -> bytes:
    """Ogg Vorbis bytes at Vorbis `quality` 0..1."""
    return _soundfile(audio, rate, "OGG", "VORBIS", compression_level=1.0 - quality)


def _soundfile(
    audio: np.ndarray, rate: int, fmt: str, subtype: str, compression_level: float | None = None
) -> bytes:
    import soundfile

    buf = io.BytesIO()
    try:
        soundfile.write(
            buf,
            np.clip(audio, -1.0, 1.0),
            rate,
            format=fmt,
            subtype=subtype,
            compression_level=compression_level,
        )
    except (RuntimeError, soundfile.LibsndfileError) as e:
        raise RenderFailed(f"could not write {fmt}: {e}") from e
    return buf.getvalue()


def encoded_seconds(frames: Sequence[bytes], rate: int) -> float:
    """Duration of a list of MP3 frames."""
    return len(frames) * (1152 if rate >= 32000 else 576) / rate
