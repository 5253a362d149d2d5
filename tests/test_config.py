"""config.toml and the `cadenza` command: bad config stops start-up with a message that names the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import config_from_tables, load_config
from cadenza.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_secrets_from_the_environment() -> None:
    config = load_config(
        REPO / "config.toml", env={"DISCORD_TOKEN": "abc", "CADENZA_REDIS_URL": "redis://x:1/0"}
    )
    assert config.secrets.discord_token == "abc" and config.secrets.redis_url == "redis://x:1/0"
    assert config.secrets.database_url is None
    assert "abc" not in repr(config.secrets)  # secrets never show up in logs of the config
    assert set(config.corpus.genres) == {"chorale", "folk", "celtic", "renaissance", "medieval", "classical"}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"bot": {"max_secnods": 30}}, "unknown key bot.max_secnods"),
        ({"rendr": {}}, r"unknown section \[rendr\]"),
        ({"engine": {"max_batch": "many"}}, "engine.max_batch must be an integer"),
        ({"queue": {"backend": "kafka"}}, "queue.backend must be one of"),
        ({"training": {"d_model": 100, "n_head": 3}}, "divisible"),
        ({"bot": {"max_jobs": 500}}, r"bot.max_jobs \(500\) exceeds render.workers \+ render.queue_limit"),
    ],
)
def test_bad_config_names_what_is_wrong(tables: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_tables(tables, env={})


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**base, **(env or {})},
    )


def test_help_lists_every_subcommand() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ("corpus", "train", "evaluate", "compose", "transcribe", "bot", "worker"):
        assert name in out.stdout


def test_bot_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(REPO / "config.toml"), "bot"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # no .env here
        env={k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"},
    )
    assert out.returncode == 1
    assert "DISCORD_TOKEN" in out.stdout and "applications.commands" in out.stdout and ".env" in out.stdout


def test_bad_config_file_stops_the_command_with_its_message(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[engine]\nmax_bach = 4\n")
    out = run_cli("--config", str(bad), "bot")
    assert out.returncode == 2
    assert "unknown key engine.max_bach" in out.stderr


def test_session_settings_refuse_a_menu_longer_than_discord_allows() -> None:
    with pytest.raises(ConfigError, match="branch_choices"):
        config_from_tables({"sessions": {"branch_choices": 26}}, env={})
