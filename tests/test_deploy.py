"""The Dockerfile and compose.yaml, checked without a Docker engine: parsed, and their commands,
settings and health check run against the real CLI parser, Settings and an HTTP server."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import build_parser, cmd_run
from bot.config import Settings, load_settings
from tests.support.cli import REPO
from tests.support.http import LocalServer

COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
_DEFAULTED = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def newswire_services() -> dict[str, dict[str, Any]]:
    """The services that run Newswire (not the database)."""
    services = compose()["services"]
    return {name: s for name, s in services.items() if s.get("command", [""])[0] == "newswire"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def interpolated(value: str) -> str:
    """Compose's `${NAME:-default}`, with the default."""
    return _DEFAULTED.sub(lambda m: m.group(2), value)


def parsed(command: list[str]) -> Any:
    """A command line as the `newswire` console script would parse it."""
    assert command[0] == "newswire"
    return build_parser().parse_args(command[1:])


def test_the_console_script_is_the_cli_entry() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["newswire"] == "bot.__main__:main"


def test_compose_runs_postgresql_one_bot_and_two_workers() -> None:
    services = compose()["services"]
    assert services["db"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    roles = {name: parsed(s["command"]).role for name, s in newswire_services().items()}
    assert roles == {"bot": "bot", "worker": "worker"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["bot"].get("deploy", {}).get("replicas", 1) == 1  # it holds the bot lock
    for service in newswire_services().values():
        assert parsed(service["command"]).func is cmd_run
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["env_file"] == ".env"


@pytest.mark.parametrize("name", ["bot", "worker"])
def test_compose_environment_is_settings_newswire_accepts(name: str) -> None:
    environment = newswire_services()[name]["environment"]
    fields = set(Settings.model_fields)
    unknown = [key for key in environment if key.lower() not in fields]
    assert not unknown, f"not Newswire settings: {unknown}"
    values = {key.lower(): interpolated(str(value)) for key, value in environment.items()}
    settings = load_settings(telegram_bot_token="123456:" + "a" * 30, _env_file=None, **values)
    assert settings.database_url.startswith("postgresql+asyncpg://newswire:")
    assert settings.database_url.endswith("@db:5432/newswire")
    assert settings.http_host == "0.0.0.0"  # reachable from the host and the health check


def test_the_image_runs_newswire_as_a_user_with_a_health_check() -> None:
    steps = dockerfile_instructions()
    words = [word for word, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert words.index("USER") < words.index("CMD")
    command = json.loads(next(rest for word, rest in steps if word == "CMD"))
    assert command == ["newswire", "run"]
    assert parsed(command).func is cmd_run
    environment = " ".join(rest for word, rest in steps if word == "ENV")
    assert "HTTP_HOST=0.0.0.0" in environment.split()
    for name in re.findall(r"\b([A-Z_]+)=", environment):
        assert name.startswith(("PYTHON", "PIP_")) or name.lower() in Settings.model_fields
    health = next(rest for word, rest in steps if word == "HEALTHCHECK")
    assert "http://127.0.0.1:${HTTP_PORT}/healthz" in health


def test_the_build_context_leaves_out_secrets_and_keeps_the_package() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".env", ".git", ".venv", "data"} <= ignored
    for needed in ("pyproject.toml", "README.md", "bot", "content"):
        assert needed not in ignored


def health_command() -> str:
    health = next(rest for word, rest in dockerfile_instructions() if word == "HEALTHCHECK")
    return health.split(" CMD ", 1)[1]


async def test_the_health_check_passes_on_200_and_fails_on_503(tmp_path: Path) -> None:
    # `python` on the PATH is the image's; here this interpreter stands in for it.
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.symlink_to(sys.executable)

    async def run(port: int) -> int:
        # As Docker runs a shell-form CMD: /bin/sh -c, with the image's environment.
        child = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            health_command(),
            env={"HTTP_PORT": str(port), "PATH": f"{python.parent}:/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return await child.wait()

    async with LocalServer() as server:
        server.serve("/healthz", json.dumps({"status": "ok"}), content_type="application/json")
        healthy = await run(server.port)
        server.serve("/healthz", json.dumps({"status": "failing"}), status=503)
        failing = await run(server.port)
    assert (healthy, failing) == (0, 1)


def test_the_dockerfile_copies_only_what_exists() -> None:
    for word, rest in dockerfile_instructions():
        if word == "COPY":
            *sources, _destination = rest.split()
            for source in sources:
                assert (REPO / source).exists(), source
