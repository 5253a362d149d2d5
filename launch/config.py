"""The one place that reads config.toml and the environment.

Which file: `--config`, else `$CADENZA_CONFIG`, else `./config.toml`, else the defaults shipped with the
package (`launch/config.toml`, the repository's config.toml), so `cadenza` works from any folder.

Each package owns a frozen settings dataclass for its part; this module maps the TOML tables onto
them (see `SECTIONS`), applies environment overrides for secrets and URLs, and stops start-up with a
message naming any unknown key or bad value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bot.serving import Secrets, ServingConfig
from cadenza.errors import ConfigError
from launch.config_loader import build_section
from training.corpus_settings import CorpusSettings
from training.train_settings import TrainSettings
from web.settings import WebSettings

DEFAULT_CONFIG = Path("config.toml")  # an operator's file in the folder the command runs in
# The defaults shipped with the package: a link to the repository's config.toml (package data).
SHIPPED_CONFIG = Path(__file__).resolve().parent / "config.toml"


@dataclass(frozen=True)
class Config(ServingConfig):
    """Everything the program was configured with: the serving sections plus corpus and training."""

    corpus: CorpusSettings = CorpusSettings()
    training: TrainSettings = TrainSettings()
    web: WebSettings = WebSettings()  # the pages `cadenza bot` serves beside the bot (web/)
    source: Path | None = None  # the file this came from, for messages

    def serving(self) -> ServingConfig:
        """The sections a bot, a worker or `cadenza compose` uses (no training settings)."""
        shared = {f.name: getattr(self, f.name) for f in fields(ServingConfig)}
        sources = {genre: list(c) for genre, c in self.corpus.genres.items()}
        return ServingConfig(**{**shared, "genre_sources": sources})


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
    "web": "web",
}


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate config: the file `config_path` picks, plus the environment."""
    env = os.environ if env is None else env
    path = config_path(path, env)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    return config_from_tables(raw, env, source=path)


def config_path(path: Path | None, env: Mapping[str, str]) -> Path:
    """--config, else $CADENZA_CONFIG, else ./config.toml, else the defaults shipped with Cadenza."""
    if path is not None:
        return path
    if env.get("CADENZA_CONFIG"):
        return Path(env["CADENZA_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else SHIPPED_CONFIG


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
