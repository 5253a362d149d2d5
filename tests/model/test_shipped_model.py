"""The shipped checkpoint: it loads, honours the requested key, and the whole pipeline gives real files."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pretty_midi
import pytest
from pydub import AudioSegment

from bot.pipeline import ComposeRequest, Pipeline, default_checkpoint
from cadenza.theory import parse_key
from launch.config import config_from_tables
from model.checkpoint import load_checkpoint
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.request import GenerationRequest

SHIPPED = default_checkpoint()


def test_shipped_checkpoint_describes_itself() -> None:
    meta = json.loads((SHIPPED / "model.json").read_text())
    assert meta["kind"] == "transformer"
    assert set(meta["genres"]) >= {"chorale", "folk", "celtic"}
    assert (SHIPPED / "model.safetensors").stat().st_size < 25 * 2**20
    assert load_checkpoint(SHIPPED.parent / "lstm").kind == "lstm"


@pytest.mark.slow
async def test_requested_key_is_estimated_in_at_least_90_percent_of_50_pieces() -> None:
    keys = ["C major", "G major", "D minor", "A minor", "Eb major"]
    engine = Engine(load_checkpoint(SHIPPED), EngineSettings(max_batch=50))
    try:
        reqs = [GenerationRequest(genre="chorale", seconds=15, seed=s, key=keys[s % 5]) for s in range(50)]
        pieces = await asyncio.gather(*(engine.generate(r) for r in reqs))
    finally:
        await engine.close()
    hits = sum(parse_key(p.key) == parse_key(p.key_requested) for p in pieces)
    assert hits >= 45, [(p.key, p.key_requested) for p in pieces if p.key != p.key_requested]


@pytest.mark.slow
async def test_pipeline_turns_a_request_into_mp3_midi_and_png(tmp_path: Path) -> None:
    config = config_from_tables(
        {"app": {"data_dir": str(tmp_path)}, "render": {"soundfont": "builtin", "pool_kind": "thread"}}, {}
    )
    pipeline = await Pipeline.create(config.serving())
    try:
        piece = await pipeline.compose(ComposeRequest(genre="folk", seconds=10, seed=5, sound="piano"))
    finally:
        await pipeline.close()
    audio = AudioSegment.from_file(io.BytesIO(piece.audio), format="mp3")
    assert 10.0 <= audio.duration_seconds <= 12.5  # 10 s of music plus the fade-out
    midi = pretty_midi.PrettyMIDI(io.BytesIO(piece.midi))
    assert len(midi.instruments[0].notes) > 5
    assert piece.png.startswith(b"\x89PNG")
    assert piece.meta["seed"] == 5 and piece.meta["genre"] == "folk"
