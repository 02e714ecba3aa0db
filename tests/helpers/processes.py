"""Real processes for integration tests: a Celery worker started and stopped by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.store import Store

BIN = Path(sys.executable).parent


def worker_env(redis_url: str, config_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REDIS_URL": redis_url,
            "NEWSMON_CONFIG_DIR": str(config_dir),
            "NEWSMON_ALLOW_PRIVATE_TARGETS": "true",
            **extra,
        }
    )
    return env


class Worker:
    """`celery -A workers worker` as a child process in a process group of its own."""

    def __init__(
        self, redis_url: str, config_dir: Path, log_path: Path, concurrency: int = 1, **env: str
    ) -> None:
        self.redis_url = redis_url
        self.concurrency = concurrency
        self.env = worker_env(redis_url, config_dir, **env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@localhost"

    def start(self, timeout: float = 60.0) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "worker",
                "-Q",
                "articles,deliveries",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                self.hostname,
                "--without-mingle",
                "--without-gossip",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        store = Store.from_url(self.redis_url)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.hostname in store.workers_alive(time.time(), within=60):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
