"""Hooks a worker calls as it works, so `bot/` can turn them into Prometheus metrics (model/ stays free of it)."""

from __future__ import annotations

from typing import Protocol


class WorkerObserver(Protocol):
    """What a worker reports; every method must be cheap and never raise."""

    def jobs_read(self, count: int, claimed: bool) -> None:
        """`count` jobs taken in one read (`claimed`: from a dead worker)."""

    def job_done(self, queue_s: float, compute_s: float, tokens: int) -> None:
        """A piece was published."""

    def job_failed(self, kind: str) -> None:
        """A job ended in an error of class `kind` (or "DeadLettered")."""

    def sample(self, queue_depth: int, active_rows: int, batch_size: int, tokens_generated: int) -> None:
        """Periodic figures: stream length, engine rows, rows in the last step, total tokens so far."""


class NullObserver:
    """Reports nowhere."""

    def jobs_read(self, count: int, claimed: bool) -> None:
        """Ignore."""

    def job_done(self, queue_s: float, compute_s: float, tokens: int) -> None:
        """Ignore."""

    def job_failed(self, kind: str) -> None:
        """Ignore."""

    def sample(self, queue_depth: int, active_rows: int, batch_size: int, tokens_generated: int) -> None:
        """Ignore."""
