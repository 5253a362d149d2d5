"""Settings of the batch engine (the `[engine]` table); kept apart so reading config never imports torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    """How the engine batches and protects itself."""

    max_batch: int = 32  # rows decoded together; more raises throughput, and per-step latency
    batch_wait_ms: float = 5.0  # how long a lone request waits for company before starting
    max_queue: int = 64  # requests waiting beyond the running batch; past this: Busy
    request_timeout_s: float = 120.0  # a request still unfinished after this fails (and frees its row)
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    threads: int = 0  # torch CPU threads of the engine thread; 0 = all cores
    nice: int = 5  # the engine thread runs this much nicer than the event loop (0 = same priority)

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_queue < 0 or self.request_timeout_s <= 0 or self.batch_wait_ms < 0:
            raise ValueError(
                "max_batch >= 1, max_queue >= 0, request_timeout_s > 0 and batch_wait_ms >= 0 required"
            )
        if not 0 <= self.nice <= 19:
            raise ValueError("nice must be between 0 and 19")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda'")
