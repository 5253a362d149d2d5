"""config.toml and the `cadenza` command: bad config stops start-up with a message that names the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest

from cadenza.errors import ConfigError
from launch.commands.bot import web_front
from launch.config import SHIPPED_CONFIG, config_from_tables, config_path, load_config

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
        ({"web": {"prot": 8080}}, "unknown key web.prot"),
        ({"web": {"base_url": "ftp://x"}}, r"\[web\]: base_url must be an http\(s\) address"),
        ({"web": {"port": 70000}}, r"\[web\]: port must be 0..65535"),
        ({"web": {"enabled": "yes"}}, "web.enabled must be true or false"),
    ],
)
def test_bad_config_names_what_is_wrong(tables: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_tables(tables, env={})


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "CADENZA_CONFIG")}
    # The repository on the path, as an installed package would be, wherever the command runs.
    path = os.pathsep.join(p for p in (str(REPO), base.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**base, "PYTHONPATH": path, **(env or {})},
    )


def test_help_lists_every_subcommand() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ("corpus", "train", "evaluate", "compose", "transcribe", "bot", "worker"):
        assert name in out.stdout


def test_the_web_table_loads_into_the_web_settings() -> None:
    shipped = load_config(REPO / "config.toml", env={})
    assert shipped.web.enabled is False and shipped.web.port == 8080  # the shipped [web] table, commented
    web = {"enabled": True, "port": 0, "base_url": "https://cadenza.example/"}
    config = config_from_tables({"web": web}, env={})
    assert config.web.enabled and config.web.public_root == "https://cadenza.example"


def test_web_on_without_a_secret_stops_the_bot_with_a_clear_message() -> None:
    config = config_from_tables({"web": {"enabled": True}}, env={})
    with pytest.raises(ConfigError, match="enabled = true, but CADENZA_WEB_SECRET must be set"):
        web_front(config, {})
    assert web_front(config, {"CADENZA_WEB_SECRET": "x" * 32}) is not None
    assert web_front(config_from_tables({}, env={}), {}) is None  # off: no secret needed


def test_bot_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "launch.cli", "--config", str(REPO / "config.toml"), "bot"],
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


def test_outside_the_checkout_the_command_uses_the_shipped_defaults_and_says_so(tmp_path: Path) -> None:
    song = pretty_midi.PrettyMIDI(initial_tempo=100)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(90, 60 + (i % 5) * 2, i * 0.6, i * 0.6 + 0.5) for i in range(12)]
    song.instruments.append(piano)
    song.write(str(tmp_path / "song.mid"))
    out = run_cli("transcribe", "song.mid", "--out", "notes.mid", cwd=tmp_path)  # no ./config.toml here
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "notes.mid").stat().st_size > 0
    assert f"config: {SHIPPED_CONFIG}" in out.stderr.splitlines()[0]


def test_help_names_the_shipped_defaults() -> None:
    out = run_cli("--help", cwd=REPO / "docs")
    assert "--config" in out.stdout and "shipped defaults" in out.stdout
    assert SHIPPED_CONFIG.read_text() == (REPO / "config.toml").read_text()  # one file, not a copy


@pytest.mark.parametrize(
    ("given", "env", "here", "expected"),
    [
        (Path("mine.toml"), {"CADENZA_CONFIG": "env.toml"}, True, Path("mine.toml")),
        (None, {"CADENZA_CONFIG": "env.toml"}, True, Path("env.toml")),
        (None, {}, True, Path("config.toml")),
        (None, {}, False, SHIPPED_CONFIG),
    ],
)
def test_config_path_prefers_the_flag_then_the_environment_then_this_folder(
    given: Path | None,
    env: dict[str, str],
    here: bool,
    expected: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    if here:
        (tmp_path / "config.toml").write_text("")
    assert config_path(given, env) == expected
