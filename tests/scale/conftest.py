"""Fixtures of the scale-out tests: queue settings with a private key prefix, and a small engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from model.checkpoint import Checkpoint, load_checkpoint
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.queues.settings import QueueSettings
from tests.scale.workers import scale_settings


@pytest.fixture
def settings() -> QueueSettings:
    """Redis queue settings with a key prefix of this test's own and short claim times."""
    return scale_settings()


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint: Path) -> Checkpoint:
    """The tiny checkpoint, loaded once."""
    return load_checkpoint(tiny_checkpoint)


@pytest.fixture
async def engine(tiny_model: Checkpoint) -> AsyncIterator[Engine]:
    """An engine over the tiny model (one thread, small batches), closed after the test."""
    eng = Engine(tiny_model, EngineSettings(max_batch=8, threads=1, device="cpu"))
    yield eng
    await eng.close()
