"""Settings of the storage layer (the `[storage]` table of config.toml)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StorageSettings:
    """How the database is reached; which database comes from CADENZA_DATABASE_URL (or SQLite)."""

    sqlite_file: str = "cadenza.db"  # SQLite file inside app.data_dir, used when no database URL is set
    sqlite_busy_timeout_s: float = 15.0  # a writer (and Storage.open) waits this long for another's lock
    pool_size: int = 5  # PostgreSQL connections kept open per process (a bot or a worker)
    max_overflow: int = 10  # extra PostgreSQL connections allowed under bursts, closed when idle
    pool_timeout_s: float = 10.0  # wait this long for a free pooled connection, then fail the request
    echo: bool = False  # log every SQL statement (debugging only: it is very verbose)

    def __post_init__(self) -> None:
        if not self.sqlite_file or "/" in self.sqlite_file or "\\" in self.sqlite_file:
            raise ValueError(f"sqlite_file must be a plain file name, got {self.sqlite_file!r}")
        if self.sqlite_busy_timeout_s <= 0:
            raise ValueError(f"sqlite_busy_timeout_s must be positive, got {self.sqlite_busy_timeout_s}")
        if self.pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {self.pool_size}")
        if self.max_overflow < 0:
            raise ValueError(f"max_overflow must be 0 or more, got {self.max_overflow}")
        if self.pool_timeout_s <= 0:
            raise ValueError(f"pool_timeout_s must be positive, got {self.pool_timeout_s}")
