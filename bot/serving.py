"""What a bot process is configured with: the typed sections it uses, handed over by `launch`.

The bot never reads config.toml or the environment itself; `launch.config` does, once, and builds this.
Workers and `cadenza compose` use it too (they share the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.metrics import MetricsSettings
from bot.sessions.settings import SessionSettings
from bot.settings import BotSettings
from bot.storage.settings import StorageSettings
from ingest.settings import IngestSettings
from model.engine_settings import EngineSettings
from model.queues.settings import QueueSettings
from render.settings import RenderSettings


@dataclass(frozen=True)
class AppSettings:
    """Process-wide settings: where data lives and how we log."""

    data_dir: Path = Path("data")  # database, caches, the built corpus; created on first run
    log_level: str = "INFO"  # DEBUG, INFO, WARNING, ERROR
    json_logs: bool = False  # one JSON object per log line, for log shippers

    def __post_init__(self) -> None:
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"log_level must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")


@dataclass(frozen=True)
class ModelSettings:
    """Which checkpoint composes."""

    checkpoint: str = ""  # a checkpoint folder; "" = the transformer shipped in model/checkpoints/


@dataclass(frozen=True)
class Secrets:
    """Values that only ever come from the environment (or a git-ignored .env file)."""

    discord_token: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ServingConfig:
    """The sections a bot, a worker or `cadenza compose` runs with."""

    app: AppSettings = AppSettings()
    storage: StorageSettings = StorageSettings()
    render: RenderSettings = RenderSettings()
    ingest: IngestSettings = IngestSettings()
    bot: BotSettings = BotSettings()
    sessions: SessionSettings = SessionSettings()
    queue: QueueSettings = QueueSettings()
    metrics: MetricsSettings = MetricsSettings()
    model: ModelSettings = ModelSettings()
    engine: EngineSettings = EngineSettings()
    secrets: Secrets = Secrets()
    genre_sources: dict[str, list[str]] = field(default_factory=dict)  # genre -> corpus collections (/genres)
