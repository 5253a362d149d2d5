"""The render pool: finished pieces from the event loop, bounded waiting, both worker kinds."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time

import numpy as np
import pytest
import soundfile

from cadenza.errors import Busy, RenderFailed
from render import RenderJob, RenderPool, RenderSettings, midi_from_bytes
from tests.render.scores import single_track_chorale

# Thread workers start in milliseconds; the spawned process kind (the default) has its own test.


def _job(seconds: float = 4.0, **kw) -> RenderJob:  # type: ignore[no-untyped-def]
    return RenderJob(single_track_chorale(seconds=seconds), title="Pool test", genre="chorale", seed=99, **kw)


async def test_pool_renders_mp3_and_picture() -> None:
    async with RenderPool(RenderSettings(soundfont="builtin", pool_kind="thread")) as pool:
        piece = await pool.render(_job())
    audio, rate = soundfile.read(io.BytesIO(piece.audio))
    assert rate == 44100 and audio.shape[1] == 2
    assert piece.audio_format == "mp3" and piece.bitrate_kbps == 192
    assert piece.preset == "organ"  # chorale's default
    assert piece.png[:4] == b"\x89PNG"
    assert piece.duration_s == pytest.approx(5.0, abs=0.05)
    assert piece.loudness_lufs == pytest.approx(-16.0, abs=1.0)


async def test_pool_renders_concurrent_jobs() -> None:
    async with RenderPool(RenderSettings(soundfont="builtin", pool_kind="thread", workers=2)) as pool:
        pieces = await asyncio.wait_for(asyncio.gather(*(pool.render(_job(2.0 + i)) for i in range(4))), 120)
    assert [round(p.duration_s) for p in pieces] == [3, 4, 5, 6]


async def test_full_queue_answers_busy() -> None:
    async with RenderPool(
        RenderSettings(soundfont="builtin", pool_kind="thread", workers=1, queue_limit=1)
    ) as pool:
        results = await asyncio.gather(*(pool.render(_job()) for _ in range(3)), return_exceptions=True)
    assert sum(isinstance(r, Busy) for r in results) == 1
    assert sum(not isinstance(r, BaseException) for r in results) == 2


async def test_the_timeout_counts_rendering_not_waiting_for_a_worker() -> None:
    """A burst queued behind one worker finishes: each job's clock starts when a worker takes it."""
    settings = RenderSettings(soundfont="builtin", pool_kind="thread", workers=1, queue_limit=16)
    async with RenderPool(settings) as pool:
        started = time.monotonic()
        await pool.render(_job())
        one = time.monotonic() - started
    # Room for one render (four times over), far from enough for the ten in the queue together.
    patient = dataclasses.replace(settings, job_timeout_s=max(4 * one, 0.5))
    async with RenderPool(patient) as pool:
        pieces = await asyncio.gather(*(pool.render(_job()) for _ in range(10)), return_exceptions=True)
    assert [type(p).__name__ for p in pieces] == ["RenderedPiece"] * 10


async def test_render_before_start_fails_clearly() -> None:
    with pytest.raises(RenderFailed, match="not running"):
        await RenderPool(RenderSettings(soundfont="builtin", pool_kind="thread")).render(_job())


@pytest.mark.parametrize("audio_format", ["wav", "ogg"])
async def test_pool_renders_other_formats(audio_format: str) -> None:
    async with RenderPool(RenderSettings(soundfont="builtin", pool_kind="thread")) as pool:
        piece = await pool.render(_job(audio_format=audio_format))
    audio, _ = soundfile.read(io.BytesIO(piece.audio))
    assert len(audio) / 44100 == pytest.approx(piece.duration_s, abs=0.05)


async def test_continuation_joins_the_users_clip() -> None:
    clip = (0.3 * np.sin(2 * np.pi * 330 * np.arange(3 * 22050) / 22050)).astype(
        np.float32
    )  # mono, 22.05 kHz
    async with RenderPool(RenderSettings(soundfont="builtin", pool_kind="thread")) as pool:
        piece = await pool.render(_job(6.0, primer_end_s=3.0, clip=clip, clip_rate=22050, audio_format="wav"))
    audio, rate = soundfile.read(io.BytesIO(piece.audio))
    head = audio[: rate * 2, 0]
    spectrum = np.abs(np.fft.rfft(head))
    assert np.fft.rfftfreq(len(head), 1 / rate)[np.argmax(spectrum)] == pytest.approx(330, abs=2)


@pytest.mark.slow
async def test_process_pool_renders_too() -> None:
    async with RenderPool(RenderSettings(soundfont="builtin", pool_kind="process")) as pool:
        piece = await pool.render(_job())
        with_sheet = await pool.render(_job(sheet=True, rewritten_bars=(1, 1)))
    assert piece.duration_s == pytest.approx(5.0, abs=0.05)
    assert piece.sheet is None
    assert with_sheet.sheet is not None  # the sheet music crosses the process boundary
    assert with_sheet.sheet.musicxml.count(b"<score-part ") == 4 and with_sheet.sheet.png[:4] == b"\x89PNG"


def test_midi_bytes_round_trip_and_garbage_is_bad_input() -> None:
    from cadenza.errors import BadInput

    buf = io.BytesIO()
    single_track_chorale(seconds=2.0).write(buf)
    assert len(midi_from_bytes(buf.getvalue()).instruments[0].notes) == 16
    with pytest.raises(BadInput):
        midi_from_bytes(b"not midi at all")
