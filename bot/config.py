"""The one place that reads config.toml and the environment.

Each package owns a frozen settings dataclass for its part; this module maps the TOML tables onto
them (see `SECTIONS`), applies environment overrides for secrets and URLs, and stops start-up with a
message naming any unknown key or bad value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config_loader import build_section
from bot.metrics import MetricsSettings
from bot.sessions.settings import SessionSettings
from bot.settings import BotSettings
from bot.storage.settings import StorageSettings
from cadenza.errors import ConfigError
from ingest.settings import IngestSettings
from model.engine_settings import EngineSettings
from model.queues.settings import QueueSettings
from render.settings import RenderSettings
from training.corpus_settings import CorpusSettings
from training.train_settings import TrainSettings

DEFAULT_CONFIG = Path("config.toml")


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
class Config:
    """Everything the program was configured with, section by section."""

    app: AppSettings = AppSettings()
    corpus: CorpusSettings = CorpusSettings()
    training: TrainSettings = TrainSettings()
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
    source: Path | None = None  # the file this came from, for messages


# TOML table name -> the Config field it fills. Add a line here when a package gains settings.
SECTIONS: dict[str, str] = {
    "app": "app",
    "corpus": "corpus",
    "training": "training",
    "storage": "storage",
    "render": "render",
    "ingest": "ingest",
    "bot": "bot",
    "sessions": "sessions",
    "queue": "queue",
    "metrics": "metrics",
    "model": "model",
    "engine": "engine",
}


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate config: `path` (or $CADENZA_CONFIG, or ./config.toml) plus the environment."""
    env = os.environ if env is None else env
    path = path or Path(env.get("CADENZA_CONFIG", str(DEFAULT_CONFIG)))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    return config_from_tables(raw, env, source=path)


def config_from_tables(raw: dict[str, Any], env: Mapping[str, str], source: Path | None = None) -> Config:
    """Validate parsed TOML tables (and secrets from `env`) into a `Config`."""
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"unknown section [{unknown[0]}] in {source or 'config'} (known: {', '.join(SECTIONS)})"
        )
    values: dict[str, Any] = {}
    for table, attr in SECTIONS.items():
        cls = getattr(Config(), attr).__class__
        values[attr] = build_section(cls, raw.get(table, {}), table)
    _check_across_sections(values)
    secrets = Secrets(
        discord_token=_env(env, "DISCORD_TOKEN"),
        database_url=_env(env, "CADENZA_DATABASE_URL"),
        redis_url=_env(env, "CADENZA_REDIS_URL"),
    )
    return Config(**values, secrets=secrets, source=source)


def _check_across_sections(values: dict[str, Any]) -> None:
    """Rules that span tables: every job the bot admits must find a place in the render queue."""
    bot, render = values["bot"], values["render"]
    room = render.workers + render.queue_limit
    if bot.max_jobs > room:
        raise ConfigError(
            f"bot.max_jobs ({bot.max_jobs}) exceeds render.workers + render.queue_limit ({room}): "
            "admitted pieces would be refused at rendering; raise render.queue_limit or lower bot.max_jobs"
        )


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def read_dotenv(path: Path = Path(".env")) -> dict[str, str]:
    """Parse a simple KEY=value .env file (git-ignored) so operators need not export secrets."""
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip().strip("'\"")
    return out
