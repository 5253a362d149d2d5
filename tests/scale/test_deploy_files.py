"""Dockerfile and docker-compose.yml, checked by reading them (no Docker engine runs here).

Every command, module, path, port and environment variable they name must exist in this repository
and agree with the code: a renamed subcommand or a moved config line breaks this test, not a deploy.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.metrics import MetricsSettings
from launch.cli import SUBCOMMANDS, build_parser
from launch.config import config_from_tables

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONSOLE_SCRIPTS = PYPROJECT["project"]["scripts"]
CONFIG_SWITCH = re.compile(r"sed -i 's/\^(.+?)/(.+?)/' config\.toml")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines: list[str] = []
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1].rstrip() + " " + line
        else:
            lines.append(line)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def instructions(name: str) -> list[str]:
    return [args for instr, args in dockerfile() if instr == name]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_image_is_a_cuda_runtime_image() -> None:
    [base] = instructions("FROM")
    assert base.startswith("nvidia/cuda:") and "-runtime-" in base


def test_torch_is_the_pinned_version_from_a_cuda_index() -> None:
    pinned = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch=="))
    args = dict(a.split("=", 1) for a in instructions("ARG"))
    assert f"torch=={args['TORCH_VERSION']}" == pinned
    assert re.fullmatch(r"https://download\.pytorch\.org/whl/cu\d+", args["TORCH_INDEX"])


def test_system_packages_are_the_ones_the_project_uses() -> None:
    apt = next(a for a in instructions("RUN") if "apt-get install" in a)
    packages = {w for w in apt.split("--no-install-recommends", 1)[1].split("&&")[0].split() if w != "\\"}
    makefile = (ROOT / "Makefile").read_text()
    project_packages = set(re.search(r"^APT_PACKAGES := (.+)$", makefile, re.M).group(1).split())  # type: ignore[union-attr]
    assert {"libfluidsynth3", "fluid-soundfont-gm", "ffmpeg"} <= packages
    assert packages - project_packages <= {"python3", "python3-venv", "ca-certificates"}


def test_copied_paths_exist() -> None:
    for args in instructions("COPY"):
        *sources, _dest = shlex.split(args)
        for source in sources:
            assert (ROOT / source).exists(), source


def test_image_runs_as_a_non_root_user() -> None:
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in a and users[-1] in a for a in instructions("RUN"))
    last_user = max(i for i, (instr, _a) in enumerate(dockerfile()) if instr == "USER")
    assert all(instr != "RUN" for instr, _a in dockerfile()[last_user:]), "RUN after USER would need root"


def test_entrypoint_is_our_console_script_and_cmd_a_subcommand() -> None:
    [entrypoint] = instructions("ENTRYPOINT")
    [cmd] = instructions("CMD")
    assert yaml.safe_load(entrypoint) == ["cadenza"] and "cadenza" in CONSOLE_SCRIPTS
    build_parser().parse_args(yaml.safe_load(cmd))


def test_health_check_reads_the_metrics_port_of_each_role() -> None:
    [check] = instructions("HEALTHCHECK")
    argv = yaml.safe_load(check.split("CMD", 1)[1])
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")
    assert "/metrics" in argv[2] and "CADENZA_HEALTH_PORT" in argv[2]
    defaults = MetricsSettings()
    exposed = {int(p) for a in instructions("EXPOSE") for p in a.split()}
    assert exposed == {defaults.bot_port, defaults.worker_port}
    services = compose()["services"]
    assert services["bot"]["environment"]["CADENZA_HEALTH_PORT"] == str(defaults.bot_port)
    assert services["worker"]["environment"]["CADENZA_HEALTH_PORT"] == str(defaults.worker_port)


def test_image_switches_config_to_the_redis_queue_and_the_result_loads() -> None:
    switch = next(a for a in instructions("RUN") if "config.toml" in a)
    old, new = CONFIG_SWITCH.search(switch).groups()  # type: ignore[union-attr]
    text = (ROOT / "config.toml").read_text()
    assert len(re.findall(f"^{re.escape(old)}", text, re.M)) == 1, (
        f"config.toml must have one line starting {old!r}"
    )
    switched = re.sub(f"^{re.escape(old)}", new, text, flags=re.M)
    config = config_from_tables(tomllib.loads(switched), {"CADENZA_REDIS_URL": "redis://redis:6379/0"})
    assert config.queue.backend == "redis"


def test_compose_has_the_four_services() -> None:
    assert set(compose()["services"]) == {"bot", "worker", "redis", "postgres"}


@pytest.mark.parametrize("service", ["bot", "worker"])
def test_compose_commands_parse_as_cadenza_subcommands(service: str) -> None:
    spec = compose()["services"][service]
    assert spec["build"] == "." and DOCKERFILE.exists()
    assert spec["command"][0] in SUBCOMMANDS
    build_parser().parse_args(spec["command"])


def test_compose_environment_names_are_ones_the_code_reads() -> None:
    config_source = (ROOT / "launch" / "config.py").read_text()
    for service in ("bot", "worker"):
        for name in compose()["services"][service]["environment"]:
            assert f'"{name}"' in config_source or name in DOCKERFILE.read_text(), (
                f"{service}: nothing reads {name}"
            )


def test_compose_urls_point_at_the_compose_services() -> None:
    services = compose()["services"]
    env = services["worker"]["environment"]
    assert env["CADENZA_REDIS_URL"].startswith("redis://redis:6379/")
    db = services["postgres"]["environment"]
    assert re.match(
        rf"postgresql://{db['POSTGRES_USER']}:.+@postgres:5432/{db['POSTGRES_DB']}$",
        env["CADENZA_DATABASE_URL"],
    )


def test_compose_gives_the_data_folder_a_volume_and_in_flight_work_time_to_finish() -> None:
    data = compose()
    config = config_from_tables(tomllib.loads((ROOT / "config.toml").read_text()), {})
    [workdir] = instructions("WORKDIR")
    for service in ("bot", "worker"):
        spec = data["services"][service]
        mounts = dict(v.split(":", 1) for v in spec["volumes"])
        assert mounts["cadenza-data"] == f"{workdir}/{config.app.data_dir}"
        assert float(spec["stop_grace_period"].rstrip("s")) > config.queue.shutdown_grace_s
    named = {v.split(":", 1)[0] for s in data["services"].values() for v in s.get("volumes", [])}
    assert named <= set(data["volumes"])


def test_deploy_doc_names_only_real_subcommands_and_files() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text()
    for sub in re.findall(r"`cadenza (\w[\w-]*)", text):
        assert sub in SUBCOMMANDS, sub
    for path in re.findall(r"`((?:docs|model|bot|benchmarks|tests)/[\w./-]+)`", text):
        assert (ROOT / path).exists(), path
