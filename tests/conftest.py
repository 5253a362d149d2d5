"""Fixtures shared by every test area. Keep each one small; areas add their own in tests/<area>/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import PostgresServer, RedisServer, ServerError, postgres_server, redis_server


@pytest.fixture(scope="session")
def redis_service() -> Iterator[RedisServer]:
    """A private Redis for this test session (started on first use, stopped at the end)."""
    try:
        with redis_server() as server:
            yield server
    except ServerError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def redis_url(redis_service: RedisServer) -> str:
    """`redis://127.0.0.1:PORT/0` of the private Redis."""
    return redis_service.url


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for this test session (started on first use, removed at the end)."""
    try:
        with postgres_server() as server:
            yield server
    except ServerError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def postgres_url(postgres_service: PostgresServer) -> str:
    """`postgresql://cadenza@127.0.0.1:PORT/cadenza` of the private PostgreSQL (shared by the session)."""
    return postgres_service.url


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real corpus built once per session (Bach chorales and Essen folk songs)."""
    from tests.tiny_corpus import build_tiny_corpus

    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny transformer trained briefly on the tiny corpus: real weights, fast to load."""
    from tests.tiny_corpus import tiny_train_settings
    from training.trainer import Trainer

    out = tmp_path_factory.mktemp("tiny_run")
    Trainer(tiny_train_settings(out, max_steps=30), tiny_corpus, device="cpu").run(progress=False)
    return out / "best"
