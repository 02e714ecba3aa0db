"""docker-compose.yml, .env.example and the Dockerfile.

There is no Docker engine on this machine, so the deployment is checked without one: the compose
file against the Compose Specification's schema and against what newsmon needs of it, .env.example
against the settings it documents, and every newsmon service by starting its own command locally,
with the environment the compose file gives it, against an embedded Valkey standing in for the
redis service, until the service's own healthcheck passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, TypeAdapter
from ruamel.yaml import YAML

from pipeline import keys
from pipeline.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
COMPOSE_SCHEMA = SHARED / "schemas" / "compose-spec.json"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
VENV_BIN = Path(sys.executable).parent

REDIS_SERVICE = "redis"
NEWSMON_SERVICES = ("worker", "poller", "api", "flower")
SCALABLE_SERVICES = ("worker", "poller")
#: Where the compose file mounts ./config, and so where NEWSMON_CONFIG_DIR must point.
CONTAINER_CONFIG_DIR = "/app/config"


# --- reading the files ----------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    # YAML 1.2 rules, as Compose reads it: `yes` stays a string.
    return YAML(typ="safe", pure=True).load(path.read_text())


def load_compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


def read_env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(active, documented): the KEY=VALUE lines a copied .env sets, and every KEY=VALUE line,
    commented out (``# KEY=default``) or not."""
    active: dict[str, str] = {}
    documented: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        match = re.fullmatch(r"(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)", stripped)
        if match is None:
            assert stripped.startswith("#"), f".env.example:{number}: not KEY=VALUE: {line!r}"
            continue
        commented, name, value = match.groups()
        assert name not in documented, f".env.example:{number}: {name} given twice"
        documented[name] = value
        if not commented:
            active[name] = value
    return active, documented


def settings_env_names() -> dict[str, list[str]]:
    """Field name -> the environment variables that set it."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: dict[str, list[str]] = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names[name] = [c for c in alias.choices if isinstance(c, str)]
        elif isinstance(alias, str):
            names[name] = [alias]
        else:
            names[name] = [f"{prefix}{name}".upper()]
    return names


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<plain>\w+))"
)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation (``$$``, ``$V``, ``${V}``, ``${V:-default}``,
    ``${V:?error}`` and their unset-only forms), over a whole compose structure."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"]
        current = env.get(name)
        is_set = current is not None if op and not op.startswith(":") else bool(current)
        if op in ("-", ":-"):
            return current if is_set else arg  # type: ignore[return-value]
        if op in ("?", ":?"):
            if not is_set:
                raise ValueError(f"required variable {name} is missing: {arg}")
            return current  # type: ignore[return-value]
        if op in ("+", ":+"):
            return arg if is_set else ""
        return current or ""

    return _VARIABLE.sub(substitute, value)


def variables_used(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(variables_used(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(variables_used(v) for v in value))
    if not isinstance(value, str):
        return set()
    return {m["braced"] or m["plain"] for m in _VARIABLE.finditer(value) if not m["escaped"]}


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def container_ports(service: Mapping[str, Any]) -> list[int]:
    """The container-side ports a service publishes (short or long syntax)."""
    ports = []
    for spec in service.get("ports") or []:
        target = spec["target"] if isinstance(spec, dict) else str(spec).rsplit(":", 1)[-1]
        ports.append(int(str(target).split("/")[0]))
    return ports


def duration(text: str | None, default: float) -> float:
    if not text:
        return default
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    assert parts, f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


# --- the compose file -----------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is not here ({COMPOSE_SCHEMA})")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(load_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "docker-compose.yml breaks the Compose Specification:\n" + "\n".join(
        f"  {'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors
    )


def test_compose_services_share_one_definition_configured_by_environment() -> None:
    compose = load_compose()
    services = compose["services"]
    assert set(NEWSMON_SERVICES) | {REDIS_SERVICE} <= set(services)
    shared = compose["x-newsmon"]
    newsmon = [name for name in services if name != REDIS_SERVICE]
    for name in newsmon:
        service = services[name]
        for key, value in shared.items():
            if key != "environment":  # a service may add to the shared environment
                assert service.get(key) == value, f"{name}.{key} differs from x-newsmon"
        env = environment_of(service)
        assert environment_of(shared).items() <= env.items(), f"{name} drops shared environment"
        url = urllib.parse.urlsplit(interpolate(env["REDIS_URL"], {"REDIS_PASSWORD": "secret"}))
        assert (url.hostname, url.port, url.password) == (REDIS_SERVICE, 6379, "secret"), name
        assert env["NEWSMON_CONFIG_DIR"] == CONTAINER_CONFIG_DIR
        assert service["command"], f"{name} has no command"
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service["depends_on"][REDIS_SERVICE]["condition"] == "service_healthy"
        assert service["restart"] == "unless-stopped"

    assert f"./config:{CONTAINER_CONFIG_DIR}:ro" in shared["volumes"]
    assert {"path": ".env", "required": False} in shared["env_file"]
    assert environment_of(services["api"])["NEWSMON_API_HOST"] == "0.0.0.0"
    for name in SCALABLE_SERVICES:
        assert "container_name" not in services[name], f"{name} must scale: no container_name"
        assert "ports" not in services[name], f"{name} must scale: no fixed host ports"

    redis = services[REDIS_SERVICE]
    command = redis["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "REDIS_PASSWORD" in variables_used(command[command.index("--requirepass") + 1])
    assert "REDIS_PASSWORD" in json.dumps(redis["healthcheck"]["test"])
    data_volume = next(v.split(":")[0] for v in redis["volumes"] if v.endswith(":/data"))
    assert data_volume in (compose.get("volumes") or {}), "redis data wants a named volume"


# --- .env.example ---------------------------------------------------------------------------------


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    _, documented = read_env_example()
    fields = settings_env_names()
    missing = [names[0] for names in fields.values() if not set(names) & set(documented)]
    assert not missing, f".env.example does not document {', '.join(missing)}"
    prefix = Settings.model_config.get("env_prefix", "")
    known = {name for names in fields.values() for name in names}
    unknown = [n for n in documented if n.startswith(prefix) and n not in known]
    assert not unknown, f".env.example documents settings that do not exist: {unknown}"
    assert "REDIS_URL" in documented and "REDIS_PASSWORD" in documented


def test_env_example_shows_the_defaults() -> None:
    _, documented = read_env_example()
    for name, field in Settings.model_fields.items():
        if field.validation_alias is not None:
            continue  # REDIS_URL: an example, it has no default
        env_name = settings_env_names()[name][0]
        shown = documented[env_name]
        if field.default is None:
            assert shown == "", f"{env_name} has no default; .env.example shows {shown!r}"
            continue
        value = TypeAdapter(field.annotation).validate_python(shown)
        assert value == field.default, (
            f"{env_name}: .env.example {shown!r}, default {field.default!r}"
        )


def test_env_example_sets_what_compose_requires() -> None:
    active, documented = read_env_example()
    compose = load_compose()
    used = variables_used(compose)
    assert used <= set(documented), f"compose uses undocumented {sorted(used - set(documented))}"
    interpolate(compose, active)  # raises if a required variable (${V:?…}) is unset
    assert active.get("REDIS_PASSWORD"), "a copied .env must set REDIS_PASSWORD"


# --- the Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_caches_dependencies_and_runs_unprivileged() -> None:
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0].startswith("FROM python:3.11-slim")
    copies = [line for line in lines if line.startswith("COPY")]
    assert "pyproject.toml" in copies[0], "pyproject.toml is copied first, alone"
    assert "pipeline" not in copies[0] and "." not in copies[0].split()[1:-1]
    users = [line.split()[1] for line in lines if line.startswith("USER")]
    assert users and users[-1] not in ("root", "0"), "the image runs as a non-root user"
    assert 'CMD ["newsmon", "api"]' in lines and "EXPOSE 8080" in lines
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "var"} <= set(ignored)


# --- every service, started locally ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_argv(command: str | list[str]) -> list[str]:
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    program = shutil.which(argv[0], path=str(VENV_BIN))
    assert program, f"{argv[0]} is not installed in {VENV_BIN}"
    return [program, *argv[1:]]


def healthcheck_argv(test: str | list[str]) -> list[str]:
    if isinstance(test, str):
        return ["/bin/sh", "-c", test]
    kind, *rest = test
    if kind == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(rest)]
    assert kind == "CMD", f"cannot run healthcheck {test!r}"
    return local_argv(rest)


def rewrite_for_local(value: Any, ports: Mapping[int, int]) -> Any:
    """Container addresses to local ones: listen on 127.0.0.1, published ports on free ones."""
    if isinstance(value, dict):
        return {k: rewrite_for_local(v, ports) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite_for_local(v, ports) for v in value]
    if not isinstance(value, str):
        return value
    value = value.replace("0.0.0.0", "127.0.0.1")
    for container, local in ports.items():
        value = re.sub(rf"(?<!\d){container}(?!\d)", str(local), value)
    return value


def redis_url_for(compose_url: str, host: str, port: int) -> str:
    """The compose REDIS_URL pointed at the test server, which has no password."""
    parts = urllib.parse.urlsplit(compose_url)
    assert parts.hostname == REDIS_SERVICE, compose_url
    return parts._replace(netloc=f"{host}:{port}").geturl()


def service_names() -> list[str]:
    try:
        return [name for name in load_compose()["services"] if name != REDIS_SERVICE]
    except (OSError, KeyError, TypeError):
        return list(NEWSMON_SERVICES)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def valkey() -> Iterator[Any]:
    from pipeline.embedded import start_valkey

    server = start_valkey(None, appendonly=False)
    try:
        yield server
    finally:
        server.stop()


class LocalService:
    """One compose service's command, run here as the compose file would run it in a container."""

    def __init__(self, name: str, valkey: Any, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        active, _ = read_env_example()  # as if `cp .env.example .env`
        service = interpolate(load_compose()["services"][name], active)
        self.ports = {port: free_port() for port in container_ports(service)}
        service = rewrite_for_local(service, self.ports)
        self.command = local_argv(service["command"])
        self.healthcheck = service["healthcheck"]
        self.grace = duration(service.get("stop_grace_period"), 10.0)

        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NEWSMON_", "FLOWER_", "CELERY_")) and k != "REDIS_URL"
        }
        if service.get("env_file"):
            env.update(active)
        env.update(environment_of(service))
        env["REDIS_URL"] = redis_url_for(env["REDIS_URL"], valkey.host, valkey.port)
        env["NEWSMON_CONFIG_DIR"] = str(REPO / "config")
        env["NEWSMON_DATA_DIR"] = str(workdir / "var")
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        env["HOSTNAME"] = socket.gethostname()  # Docker sets it in every container
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def run_healthcheck(self) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            healthcheck_argv(self.healthcheck["test"]),
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            timeout=duration(self.healthcheck.get("timeout"), 30.0),
        )

    def wait_healthy(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        last = "never ran"
        while time.monotonic() < deadline:
            assert self.alive(), f"{self.name} exited:\n{log_tail(self.log)}"
            try:
                result = self.run_healthcheck()
            except subprocess.TimeoutExpired:
                last = "timed out"
            else:
                if result.returncode == 0:
                    return
                last = f"exit {result.returncode}: {(result.stdout + result.stderr)[-500:]!r}"
            time.sleep(1.0)
        pytest.fail(f"{self.name} never healthy ({last}):\n{log_tail(self.log)}")

    def stop(self) -> int | None:
        """SIGTERM, as `docker compose stop` sends; SIGKILL after the grace period.
        Returns the exit code, or None if it had to be killed."""
        if self.process is None:
            return None
        code: int | None = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(timeout=self.grace)
        else:
            code = self.process.returncode
        # Whatever it left behind in its own session (pool children), then the process itself.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return code


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.mark.slow
@pytest.mark.parametrize("name", service_names())
def test_service_comes_up_healthy_with_its_compose_command_and_environment(
    name: str, valkey: Any, tmp_path: Path
) -> None:
    if name == "flower":
        pytest.importorskip(
            "flower",
            reason="flower is not installed: the compose service runs `celery -A workers "
            "flower`, so flower belongs in pyproject.toml's dependencies",
        )
    client = valkey.client()
    client.flushall()
    service = LocalService(name, valkey, tmp_path)
    try:
        service.start()
        service.wait_healthy()

        if name == "api":
            (port,) = service.ports.values()
            assert service.env["NEWSMON_API_PORT"] == str(port)
            status, body = get(f"http://127.0.0.1:{port}/healthz")
            assert status == 200 and json.loads(body)["ok"] is True
        elif name == "flower":
            (port,) = service.ports.values()
            assert get(f"http://127.0.0.1:{port}/healthcheck") == (200, b"OK")
        elif name == "poller":
            # The feeds are on the internet, which is out of reach here: each poll fails, and the
            # poller must carry on, keeping the schedule in Redis.
            deadline = time.monotonic() + 30
            while client.zcard(keys.feeds_due()) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert client.zcard(keys.feeds_due()) > 0, log_tail(service.log)
            time.sleep(3)
            assert service.alive(), f"poller exited:\n{log_tail(service.log)}"
    finally:
        code = service.stop()
    assert code is not None, (
        f"{name} ignored SIGTERM for {service.grace:.0f}s (the compose stop_grace_period):\n"
        + log_tail(service.log)
    )
