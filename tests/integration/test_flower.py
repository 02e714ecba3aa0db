"""Flower, as it is, against newsmon: `celery -A workers flower` on a test broker shows newsmon's
worker, its `articles` queue with the jobs waiting in it, and the batches it ran."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.queueing import PROCESS_ARTICLES_TASK, client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.processes import BIN, worker_env
from tests.integration.test_pipeline_e2e import wait_for
from tests.integration.test_redelivery import demining_batch
from tests.integration.test_run_demo import free_port

pytestmark = pytest.mark.slow

# Flower's API needs a login (or FLOWER_UNAUTHENTICATED_API); compose sets FLOWER_BASIC_AUTH.
LOGIN = "ops:flower-test"


class Flower:
    def __init__(self, redis_url: str, config_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = worker_env(redis_url, config_dir, FLOWER_BASIC_AUTH=LOGIN)
        log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "flower",
                "--address=127.0.0.1",
                f"--port={self.port}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str, auth: bool = True) -> tuple[int, object]:
        request = urllib.request.Request(self.base + path)
        if auth:
            token = base64.b64encode(LOGIN.encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as resp:
                body = resp.read()
                kind = resp.headers.get("Content-Type", "")
                return resp.status, json.loads(body) if "json" in kind else body.decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()[-3000:]
            try:
                if self.get("/healthcheck", auth=False)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("flower did not come up:\n" + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def flower(redis_url: str, config_dir: Path, tmp_path: Path):
    server = Flower(redis_url, config_dir, tmp_path / "flower.log")
    try:
        server.wait_up()
        yield server
    finally:
        server.stop()


def test_flower_shows_newsmon_worker_queue_and_tasks(
    store: Store, redis_url: str, worker_factory, flower: Flower
) -> None:
    worker = worker_factory()
    assert flower.get("/api/workers", auth=False)[0] == 401  # the API is behind the login

    def worker_listed() -> dict | None:
        status, workers = flower.get("/api/workers?refresh=1")
        assert status == 200, workers
        return workers.get(worker.hostname)

    info = wait_for(worker_listed, timeout=60, interval=1)
    queues = {q["name"] for q in info["active_queues"]}
    assert queues == {keys.ARTICLES_QUEUE, keys.DELIVERIES_QUEUE}
    assert PROCESS_ARTICLES_TASK in info["registered"]

    # Keep the one worker busy on a big batch so the next ones wait in `articles`.
    sender = client_app(Settings(redis_url=redis_url), redis_url)
    send_articles(sender, "agency", demining_batch(0, 6000))
    wait_for(lambda: store.r.hlen("unacked") > 0, interval=0.02)
    for start in (6000, 6100, 6200):
        send_articles(sender, "agency", demining_batch(start, 100))

    def flower_queue_lengths() -> dict[str, int]:
        status, body = flower.get("/api/queues/length")
        assert status == 200, body
        return {q["name"]: q["messages"] for q in body["active_queues"]}

    lengths = flower_queue_lengths()
    waiting = store.r.llen(keys.ARTICLES_QUEUE)
    assert lengths[keys.ARTICLES_QUEUE] >= 1, (lengths, waiting)
    assert abs(lengths[keys.ARTICLES_QUEUE] - waiting) <= 1  # the worker may take one meanwhile
    assert lengths[keys.DELIVERIES_QUEUE] == 0

    wait_for(lambda: flower_queue_lengths()[keys.ARTICLES_QUEUE] == 0, timeout=120, interval=1)

    # The batches ran, as Flower saw them through the worker's task events.
    def succeeded() -> list[dict]:
        status, tasks = flower.get(f"/api/tasks?taskname={PROCESS_ARTICLES_TASK}&state=SUCCESS")
        assert status == 200, tasks
        return list(tasks.values()) if len(tasks) == 4 else []

    done = wait_for(succeeded, timeout=60, interval=1)
    assert {t["worker"] for t in done} == {worker.hostname}
