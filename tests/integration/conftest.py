from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.feedserver import FeedServer
from tests.helpers.processes import Worker


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker_factory(redis_url: str, config_dir: Path, tmp_path: Path) -> Iterator:
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(redis_url, config_dir, tmp_path / f"worker{len(started)}.log", **env)
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
