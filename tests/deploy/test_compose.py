"""docker-compose.yml validates, is wired the way the deployment needs, and carries no secrets.

Debian's docker-compose 1.29 checks a file without a Docker engine (``config -q``); the structure is then
read from its rendered output (anchors merged, defaults filled), the secrets check from the file itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import load_config
from collector.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = {"postgres", "clickhouse", "migrate", "collector", "scheduler", "dashboard", "load_ftp", "agent"}
ONE_SHOT = {"migrate"}
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|_URL$", re.I)
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^@\s/]+@")


def docker_compose(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: apt-get install -y --no-install-recommends docker-compose"
    return subprocess.run(
        [exe, "-f", str(COMPOSE), *args], capture_output=True, text=True, cwd=ROOT, check=False, timeout=60
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    done = docker_compose("config")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return config


def test_config_validates() -> None:
    done = docker_compose("config", "-q")
    assert done.returncode == 0 and done.stdout == "", done.stderr


def test_no_top_level_name_or_version(raw: dict[str, Any]) -> None:
    # 1.29 rejects `name:`; a `version: "3.x"` would forbid the depends_on conditions.
    assert "name" not in raw and "version" not in raw


def test_the_topology(rendered: dict[str, Any]) -> None:
    assert set(rendered["services"]) == SERVICES


def test_every_long_running_service_has_a_healthcheck(rendered: dict[str, Any]) -> None:
    for name, service in rendered["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", f"{name} is one-shot and must not restart"
        else:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert service.get("restart") == "unless-stopped", name


def test_depends_on_waits_for_health_and_migration(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            condition = spec["condition"]
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            elif condition != "service_healthy":
                assert (name, dependency) == ("agent", "load_ftp"), (
                    f"{name} starts before {dependency} is healthy"
                )
    for name in ("collector", "scheduler", "dashboard"):
        assert set(services[name]["depends_on"]) >= {"postgres", "migrate"}, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["scheduler"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert services["agent"]["depends_on"]["collector"]["condition"] == "service_healthy"


def test_no_secrets_in_the_compose_file(raw: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert not CREDENTIALS_IN_URL.search(text), "credentials in a URL inside docker-compose.yml"
    for name, service in raw["services"].items():
        environment = service.get("environment", {})
        pairs = (
            environment.items() if isinstance(environment, dict) else (e.split("=", 1) for e in environment)
        )
        for key, _ in pairs:
            assert not SECRET_KEY.search(key), f"{name} sets {key} inline; secrets belong in the env file"


def test_secrets_come_from_the_env_file(rendered: dict[str, Any]) -> None:
    for name in ("postgres", "clickhouse", "migrate", "collector", "scheduler", "dashboard"):
        environment = rendered["services"][name]["environment"]
        assert {"PRICELENS_DATABASE_URL", "POSTGRES_PASSWORD"} <= set(environment), name
    # The demo service and the agent need no server secrets at all.
    for name in ("load_ftp", "agent"):
        assert not any(SECRET_KEY.search(k) for k in rendered["services"][name].get("environment", {})), name


def volumes(rendered: dict[str, Any], service: str) -> dict[str, str]:
    """``source -> target`` of a service's mounts (1.29 renders them as ``source:target[:mode]``)."""
    mounts = {}
    for volume in rendered["services"][service].get("volumes", []):
        source, target, *_ = (
            volume.split(":") if isinstance(volume, str) else (volume["source"], volume["target"])
        )
        mounts[source] = target
    return mounts


def test_agent_is_the_sidecar_of_the_demo_service(rendered: dict[str, Any]) -> None:
    def named_volumes(service: str) -> dict[str, str]:
        return {k: v for k, v in volumes(rendered, service).items() if "/" not in k}

    agent, loader = named_volumes("agent"), named_volumes("load_ftp")
    shared = set(agent) & set(loader)
    assert {"load-ftp-logs", "load-ftp-errors"} <= shared
    assert all(agent[v] == loader[v] for v in shared), "the agent must see the files at the same paths"
    assert "pricelens-tokens" in agent and "pricelens-tokens" in named_volumes("migrate")


def test_the_mounted_agent_config_is_valid_and_matches_the_volumes(rendered: dict[str, Any]) -> None:
    config = load_config(ROOT / "config" / "agent.compose.yaml", environ={"PRICELENS_AGENT_TOKEN": "pl_x"})
    (source,) = config.sources
    assert source.service == "load_ftp"
    loader = rendered["services"]["load_ftp"]
    targets = set(volumes(rendered, "load_ftp").values())
    assert {str(Path(p).parent) for p in source.paths} | set(source.error_dirs) <= targets
    assert config.collector.url == "http://collector:8061"
    assert any(f"--log-dir={Path(source.paths[0]).parent}" == arg for arg in loader["command"])


def test_commands_name_real_entry_points(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    assert services["collector"]["command"][:2] == ["pricelens", "serve"]
    assert "--no-scheduler" in services["collector"]["command"]
    assert services["scheduler"]["command"] == ["pricelens", "scheduler"]
    assert services["dashboard"]["command"][:3] == ["python", "-m", "dashboard"]
    assert (ROOT / "dashboard" / "__main__.py").exists()
    module = services["load_ftp"]["command"][2]
    assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module


def test_dockerfile_builds_one_unprivileged_image() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert '"/src[server,agent]"' in text
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    for line in re.findall(r"^COPY (.+) /src/?\S*$", text, re.M):
        for source in line.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"


def test_compose_env_example_is_complete_for_the_stack() -> None:
    keys = {
        line.split("=", 1)[0]
        for line in (ROOT / "config" / "compose.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {
        "POSTGRES_PASSWORD",
        "CLICKHOUSE_PASSWORD",
        "PRICELENS_SECRET_KEY",
        "PRICELENS_DATABASE_URL",
    } <= keys
    assert {k[len("PRICELENS_") :].lower() for k in keys if k.startswith("PRICELENS_")} <= set(
        Settings.model_fields
    )
    assert json.dumps(sorted(keys))  # plain KEY=value lines only


def test_what_the_dockerfile_copies_builds_a_complete_package(tmp_path: Path) -> None:
    """``pip install /src[server,agent]`` in the image: the COPY lines bring enough to build the wheel,
    and the wheel carries the commands, the demo services, the migrations and the dashboard's files."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    for line in re.findall(r"^COPY (.+) /src/?\S*$", text, re.M):
        for source in line.split():
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, src / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(path, src / source)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"), str(src)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "wheel").glob("pricelens-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "collector/demo/services/load_ftp.py",
        "collector/migrations/versions/0001_initial_schema.py",
        "dashboard/__main__.py",
        "dashboard/templates/base.html",
        "agent/cli.py",
    ):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "pricelens = collector.cli:main" in scripts and "pricelens-agent = agent.cli:main" in scripts
