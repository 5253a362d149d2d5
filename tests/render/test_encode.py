"""Encoding: MP3 that decodes back to the right length with its tags; sliced encoding without seams; WAV, OGG."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile

from render import Tags, encode_mp3, encode_ogg, encode_wav
from render.encode import split_frames

RATE = 44100


def _music(seconds: float) -> np.ndarray:
    """Plucked harmonic tones on a changing pitch, a little noise: something an encoder must work at."""
    t = np.arange(int(seconds * RATE)) / RATE
    f = 220 * 2 ** ((np.floor(t * 4) % 12) / 12)
    tone = sum(0.2 / k * np.sin(2 * np.pi * k * f * t) for k in range(1, 6)) * np.exp(-3 * ((t * 4) % 1))
    noise = np.random.default_rng(0).standard_normal((len(t), 2)) * 0.005
    return (np.c_[tone, 0.8 * tone] + noise).astype(np.float32)


def _decode(data: bytes) -> np.ndarray:
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == RATE
    return audio


def test_mp3_decodes_back_with_the_right_duration() -> None:
    audio = _music(10.0)
    decoded = _decode(encode_mp3(audio, RATE, Tags("Test")))
    # LAME adds its encoder delay (~1105 samples) and pads the last frame.
    assert len(decoded) / RATE == pytest.approx(10.0, abs=0.08)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (ffmpeg) not installed")
def test_mp3_carries_title_genre_artist_and_seed() -> None:
    data = encode_mp3(_music(2.0), RATE, Tags("Morning Air", genre="celtic", comment="seed 1234"))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", "-i", "pipe:0"],
        input=data, capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    tags = {k.lower(): v for k, v in json.loads(probe.stdout)["format"]["tags"].items()}
    assert tags["title"] == "Morning Air"
    assert tags["genre"] == "celtic"
    assert tags["artist"] == "Cadenza"
    assert "seed 1234" in tags["comment"]


@pytest.mark.parametrize("slices", [2, 3])
def test_sliced_encoding_has_no_seam(slices: int) -> None:
    audio = _music(12.0)
    with ThreadPoolExecutor(slices) as pool:
        sliced = _decode(encode_mp3(audio, RATE, Tags("t"), slices=slices, executor=pool))
    whole = _decode(encode_mp3(audio, RATE, Tags("t")))
    assert len(sliced) == len(whole)
    delay = 1105  # LAME encoder + decoder delay
    reference = audio[: len(whole) - delay]

    def worst_window_snr(decoded: np.ndarray) -> float:
        err = decoded[delay : delay + len(reference)] - reference
        w = 2205  # 50 ms windows
        n = len(err) // w * w
        e = (err[:n] ** 2).reshape(-1, w * 2).sum(axis=1)
        s = (reference[:n] ** 2).reshape(-1, w * 2).sum(axis=1)
        return float(np.min(10 * np.log10(s / e)))

    # The worst 50 ms anywhere (joins included) is as good as without slicing, within 1 dB.
    assert worst_window_snr(sliced) > worst_window_snr(whole) - 1.0


def test_mp3_is_whole_frames_after_the_tag() -> None:
    data = encode_mp3(_music(3.0), RATE, Tags("t"))
    assert data[:3] == b"ID3"
    tag_size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    frames = split_frames(data[10 + tag_size :])
    assert len(frames) == pytest.approx(3.0 * RATE / 1152, abs=3)


def test_wav_round_trips_exactly_to_16_bits() -> None:
    audio = _music(1.0)
    decoded = _decode(encode_wav(audio, RATE))
    np.testing.assert_allclose(decoded, audio, atol=1 / 32768 + 1e-6)


def test_ogg_decodes_back_with_the_right_duration() -> None:
    decoded = _decode(encode_ogg(_music(3.0), RATE))
    assert len(decoded) / RATE == pytest.approx(3.0, abs=0.01)
