"""The user story, as a user runs it: `newsmon run --demo`, then subscribe and follow alerts from
another process in the same directory; Ctrl-C stops every part; subscriptions survive a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"NEWSMON_API_PORT": str(port), "NEWSMON_CONFIG_DIR": str(REPO / "config")})
    return env


def start_run(cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(cwd / "run.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(BIN / "newsmon"), "run", "--demo"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(cwd: Path, port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, (cwd / "run.log").read_text()
        url_file = cwd / "var" / "redis.url"
        if url_file.exists():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return url_file.read_text().strip()
            except OSError:
                pass
        time.sleep(0.3)
    raise AssertionError("newsmon run did not come up:\n" + (cwd / "run.log").read_text())


def stop_run(proc: subprocess.Popen[bytes], cwd: Path) -> None:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
    try:
        assert proc.wait(60) == 0, (cwd / "run.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_demo_user_story(tmp_path: Path) -> None:
    port = free_port()
    env = env_for(port)
    proc = start_run(tmp_path, env)
    follower = None
    try:
        redis_url = wait_ready(tmp_path, port, proc)
        sub = subprocess.run(
            [str(BIN / "newsmon"), "subscribe", "--topic", "demining", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sub.returncode == 0, sub.stderr
        created = json.loads(sub.stdout)
        assert set(created) == {"id", "token"}

        follower = subprocess.Popen(
            [str(BIN / "newsmon"), "alerts", created["id"], "--follow", "--json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = follower.stdout.readline()  # type: ignore[union-attr]  # blocks until an alert
        alert = json.loads(line)
        assert "demining" in alert["topics"] and alert["matched"]["demining"]
        assert set(alert) == {
            "alert_id",
            "subscription_id",
            "created_at",
            "topics",
            "matched",
            "article",
            "story",
        }
        assert alert["subscription_id"] == created["id"]
        assert alert["article"]["source"].startswith("demo-")

        ping = subprocess.run(
            [str(BIN / "celery"), "-A", "workers", "inspect", "ping"],
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr

        feeds = subprocess.run(
            [str(BIN / "newsmon"), "feeds", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        rows = [json.loads(x) for x in feeds.stdout.splitlines()]
        assert rows and all(
            r["status"] in ("ok", "not_modified") for r in rows if r["id"] == "demo-trend"
        )
    finally:
        if follower:
            follower.terminate()
            follower.wait(10)
        stop_run(proc, tmp_path)

    log = (tmp_path / "run.log").read_text()
    assert "newsmon: stopped" in log
    assert not (tmp_path / "var" / "redis.url").exists()
    leftover = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "var" / "valkey")], capture_output=True, text=True
    )
    assert leftover.stdout.strip() == ""

    # Subscriptions live in the append-only file: a restart keeps them.
    proc = start_run(tmp_path, env)
    try:
        wait_ready(tmp_path, port, proc)
        listed = subprocess.run(
            [str(BIN / "newsmon"), "subscriptions", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert created["id"] in listed.stdout
    finally:
        stop_run(proc, tmp_path)
