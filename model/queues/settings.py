"""Settings of the job queue between bots and composers (the `[queue]` table of config.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class QueueSettings:
    """Which queue carries generation jobs, and how the Redis Streams one behaves.

    Key names are built from `prefix`: `<prefix>:jobs` (the job stream), `<prefix>:dead` (dead
    letters) and `<prefix>:reply:<client>` (one reply stream per bot process).
    """

    backend: Literal["inprocess", "redis"] = (
        "inprocess"  # "redis" needs CADENZA_REDIS_URL and `cadenza worker`s
    )
    prefix: str = "cadenza"  # namespace of every Redis key we use, so several deployments can share one Redis
    group: str = "composers"  # the workers' consumer group on the job stream
    max_stream_length: int = (
        256  # jobs waiting or in flight; past this new requests are told Busy (never trimmed away)
    )
    claim_idle_ms: int = (
        15_000  # a job not heartbeated for this long belongs to a dead worker and is claimed (XAUTOCLAIM)
    )
    heartbeat_ms: int = (
        5_000  # workers re-claim their own in-flight jobs this often, so live work is never "idle"
    )
    max_deliveries: int = (
        3  # a job handed out more often than this (it keeps killing workers) goes to the dead-letter stream
    )
    dead_letter_max_length: int = (
        10_000  # dead letters kept for inspection (approximately; oldest trimmed first)
    )
    result_ttl_s: int = (
        600  # a reply stream nobody reads (its bot died) expires this long after its last write
    )
    read_count: int = 16  # jobs taken per XREADGROUP (never more than free engine capacity)
    block_ms: int = 1_000  # how long one blocking read waits; also bounds how fast a worker notices shutdown
    reply_timeout_s: float = 300.0  # a bot stops waiting for a job after this (queue wait + composing)
    progress_interval_s: float = 0.5  # at most one progress event per job per this many seconds crosses Redis
    shutdown_grace_s: float = (
        30.0  # on SIGTERM a worker finishes in-flight jobs this long, then leaves them for others
    )

    def __post_init__(self) -> None:
        if self.backend not in ("inprocess", "redis"):
            raise ValueError(f"backend must be 'inprocess' or 'redis', got {self.backend!r}")
        if not self.prefix or not self.group or any(c.isspace() for c in self.prefix + self.group):
            raise ValueError("prefix and group must be non-empty names without spaces")
        ints = {
            "max_stream_length": self.max_stream_length,
            "claim_idle_ms": self.claim_idle_ms,
            "heartbeat_ms": self.heartbeat_ms,
            "max_deliveries": self.max_deliveries,
            "dead_letter_max_length": self.dead_letter_max_length,
            "result_ttl_s": self.result_ttl_s,
            "read_count": self.read_count,
            "block_ms": self.block_ms,
        }
        for name, value in ints.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.heartbeat_ms >= self.claim_idle_ms:
            raise ValueError("heartbeat_ms must be shorter than claim_idle_ms, or live jobs would be claimed")
        if self.reply_timeout_s <= 0 or self.progress_interval_s < 0 or self.shutdown_grace_s < 0:
            raise ValueError(
                "reply_timeout_s must be positive; progress_interval_s and shutdown_grace_s >= 0"
            )

    @property
    def jobs_key(self) -> str:
        """The job stream."""
        return f"{self.prefix}:jobs"

    @property
    def dead_key(self) -> str:
        """The dead-letter stream."""
        return f"{self.prefix}:dead"

    def reply_key(self, client_id: str) -> str:
        """The reply stream of one bot process."""
        return f"{self.prefix}:reply:{client_id}"
