"""Known-answer clips become a two-part score with the right notes, tempo and key."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ingest import CHORD_TRACK, MELODY_TRACK, IngestSettings, UploadKind, ingest_bytes, ingest_upload
from tests.ingest.conftest import SR, melody_audio, wav_bytes

SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]


def test_scale_clip_becomes_melody_and_chords_in_c_major(melody_wav: bytes) -> None:
    primer = ingest_bytes(melody_wav, IngestSettings())
    assert primer.kind is UploadKind.WAV
    names = [i.name for i in primer.score.instruments]
    assert names == [MELODY_TRACK, CHORD_TRACK]
    melody = primer.score.instruments[0].notes
    assert [n.pitch for n in melody[:14]] == SCALE
    assert primer.key.name == "C major"
    assert primer.tempo_bpm == pytest.approx(120.0, rel=0.04)
    assert primer.confidence >= IngestSettings().min_confidence
    assert primer.audio is not None and primer.sample_rate == SR
    assert primer.audio.size / SR == pytest.approx(4.0, abs=0.01)
    assert primer.chords and all(c for c in primer.chords)


def test_notes_are_quantised_to_sixteenths_of_the_detected_beat(melody_wav: bytes) -> None:
    primer = ingest_bytes(melody_wav, IngestSettings())
    step = 60.0 / primer.tempo_bpm / 4
    starts = np.array([n.start for n in primer.score.instruments[0].notes])
    assert np.allclose(starts / step, np.round(starts / step), atol=1e-6)


def test_transposed_clip_moves_the_key() -> None:
    up_a_fifth = np.interp(np.arange(0, 4 * SR, 1.5), np.arange(4 * SR), melody_audio(4.0)).astype(np.float32)
    primer = ingest_bytes(wav_bytes(up_a_fifth), IngestSettings(min_clip_seconds=1.0))
    assert primer.key.name == "G major"


async def test_async_ingest_leaves_the_event_loop_free(melody_wav: bytes) -> None:
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    try:
        primer = await asyncio.wait_for(ingest_upload(melody_wav, IngestSettings()), timeout=120)
    finally:
        beat.cancel()
    assert primer.key.name == "C major"
    assert ticks > 10  # the loop kept running while the clip was transcribed
