"""The promises README.md makes to a newcomer stay true: every setting is documented, the two
commands exist as written, and CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT: Path = settings.BASE_DIR
# env_str("NAME", ...), env_bool("NAME", ...), ... and dj_database_url.config(env="NAME")
READ_FROM_ENV = re.compile(r'env_(?:str|bool|int|float|list|path)\(\s*"([A-Z0-9_]+)"|env="([A-Z0-9_]+)"')


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        for match in READ_FROM_ENV.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _settings_table() -> str:
    match = re.search(r"^## Settings\n(.*?)(?=^## )", _readme(), flags=re.M | re.S)
    assert match, "README.md has no '## Settings' section"
    return match.group(1)


def test_settings_read_the_variables_this_test_knows_about():
    # Guards the regex above: if it stopped matching, the next two tests would pass vacuously.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RECSYS_HF_OFFLINE"} <= _settings_variables()


def test_every_variable_the_settings_read_has_a_row_in_the_readme_table():
    rows = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", _settings_table(), flags=re.M))
    assert sorted(_settings_variables() - rows) == []


def test_every_runtime_variable_is_listed_in_env_example():
    listed = set(re.findall(r"^#? ?([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    runtime = {name for name in _settings_variables() if not name.startswith("TEST_")}
    assert sorted(runtime - listed) == []


def test_readme_gives_exactly_the_two_commands_for_a_fresh_machine():
    section = re.search(r"^## On a fresh machine\n(.*?)(?=^## )", _readme(), flags=re.M | re.S)
    assert section
    blocks = re.findall(r"```sh\n(.*?)```", section.group(1), flags=re.S)
    assert blocks[0].split("\n")[:2] == ["make run", "make test"]


@pytest.mark.parametrize(
    "target", ["run", "test", "lint", "format", "worker", "bench", "compose-up", "clean"]
)
def test_makefile_has_the_documented_target(target):
    assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), flags=re.M)


def test_ci_starts_the_servers_then_runs_only_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    commands = [line for line in script.splitlines() if re.match(r"^(exec )?make\b", line)]
    assert commands == ["exec make test"]
    assert script.rstrip().endswith("exec make test")


def test_compose_services_have_healthchecks_and_wait_for_healthy_backends():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "flower", "postgres", "redis"} <= services.keys()
    for name in ("web", "worker", "flower", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert {"media", "artefacts", "postgres-data"} <= compose["volumes"].keys()


def test_compose_publishes_web_and_flower_on_loopback_only():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web_ports = compose["services"]["web"]["ports"]
    flower_ports = compose["services"]["flower"]["ports"]
    assert web_ports == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8000}:8000"]
    assert all(port.startswith("127.0.0.1:") for port in flower_ports)
    assert "WEB_BIND=127.0.0.1" in (ROOT / ".env.example").read_text()
