"""Sampling pieces from a checkpoint through the batch engine, and writing them out as MIDI files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from model.checkpoint import Checkpoint
from model.engine import Engine, EngineSettings
from model.request import GeneratedPiece, GenerationRequest
from model.sampling import SamplingParams

log = logging.getLogger(__name__)


def generate_pieces(
    checkpoint: Checkpoint,
    genres: Sequence[str],
    per_genre: int,
    seconds: float,
    seed: int,
    max_batch: int = 16,
    sampling: SamplingParams | None = None,
) -> dict[str, list[GeneratedPiece]]:
    """`per_genre` pieces of each genre, seeds seed, seed+1, ...: the same requests for every model.

    `sampling` overrides the balanced preset (to measure what a sampler setting costs).
    """
    return asyncio.run(_generate(checkpoint, list(genres), per_genre, seconds, seed, max_batch, sampling))


async def _generate(
    ck: Checkpoint,
    genres: list[str],
    per_genre: int,
    seconds: float,
    seed: int,
    max_batch: int,
    sampling: SamplingParams | None,
) -> dict[str, list[GeneratedPiece]]:
    # Every request is queued at once, so the queue must hold them all; the deadline is generous
    # because a busy CPU may take minutes for a few hundred pieces.
    total = len(genres) * per_genre
    settings = EngineSettings(max_batch=max_batch, max_queue=max(total, 1), request_timeout_s=3600.0)
    engine = Engine(ck, settings)
    try:
        requests = [
            GenerationRequest(genre=g, seconds=seconds, seed=seed + i, sampling=sampling)
            for g in genres
            for i in range(per_genre)
        ]
        pieces = await asyncio.gather(*(engine.generate(r) for r in requests))
    finally:
        await engine.close()
    out: dict[str, list[GeneratedPiece]] = {g: [] for g in genres}
    for piece in pieces:
        out[piece.request.genre].append(piece)
    log.info("sampled %d pieces from %s", total, ck.name)
    return out


def sample_path(out_dir: Path, piece: GeneratedPiece) -> Path:
    """Where a sample goes: `<out_dir>/<genre>-<seed>.mid`."""
    return out_dir / f"{piece.request.genre}-{piece.request.seed}.mid"


def write_samples(pieces: dict[str, list[GeneratedPiece]], out_dir: Path, per_genre: int) -> list[Path]:
    """Write the first `per_genre` pieces of each genre as standard MIDI files; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for genre_pieces in pieces.values():
        for piece in genre_pieces[:per_genre]:
            path = sample_path(out_dir, piece)
            path.write_bytes(piece.midi_bytes())
            written.append(path)
    return written
