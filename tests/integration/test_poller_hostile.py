"""Acceptance: a hostile feed server, one feed per misbehaviour, polled by the running poller
loop next to well-behaved feeds. Each hostile feed ends in its status in `newsmon feeds --json`,
memory stays bounded, nothing of a local file reaches an article, and the good feeds keep being
polled on schedule."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.config import load_config
from pipeline.poller import Poller
from pipeline.queueing import client_app
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.hostile import HOSTILE, SECRET_MARKER, HostileServer

pytestmark = pytest.mark.slow

GOOD = [f"good{i}" for i in range(4)]
RUN_SECONDS = 14.0
GOOD_INTERVAL = 2


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostileServer]:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_MARKER + "\n")
    server = HostileServer(secret_path=str(secret), slow_seconds=20).start()
    try:
        yield server
    finally:
        server.stop()


def feed_id(path: str) -> str:
    return "h-" + path.strip("/").replace("/", "-")


def host(name: str) -> str:
    return f"{name}.hostile.test"


def queued_articles(store: Store) -> list[dict]:
    out = []
    for raw in store.r.lrange(keys.ARTICLES_QUEUE, 0, -1):
        out.extend(json.loads(base64.b64decode(json.loads(raw)["body"]))[0][1])
    return out


def test_hostile_server(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    lines = ["feeds:"]
    for path in HOSTILE:
        fid = feed_id(path)
        lines += [f"  - id: {fid}", f"    name: {fid}", f"    url: {hostile.url(path, host(fid))}"]
    for name in GOOD:
        lines += [
            f"  - id: {name}",
            f"    name: {name}",
            f"    url: {hostile.url('/ok/' + name, host(name))}",
            f"    interval: {GOOD_INTERVAL}",
        ]
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")
    # Production limits except the timeouts, shortened so the test is quick.
    settings = Settings(
        redis_url=redis_url,
        config_dir=config_dir,
        fetch_timeout=4.0,
        read_timeout=2.0,
        connect_timeout=2.0,
        poll_tick=0.2,
        poll_resolve=".hostile.test=127.0.0.1",
    )
    config = load_config(config_dir)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def main() -> None:
        stop = asyncio.Event()
        async with Poller(settings, config, store, client_app(settings, redis_url)) as poller:
            task = asyncio.create_task(poller.run(stop))
            await asyncio.sleep(RUN_SECONDS)
            stop.set()
            await task

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 120, f"poller grew by {grown_mb:.0f} MB"

    env = {**os.environ, "REDIS_URL": redis_url}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--config", str(config_dir), "feeds", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    rows = {r["id"]: r for r in map(json.loads, out.splitlines())}
    for path, (status, reason) in HOSTILE.items():
        row = rows[feed_id(path)]
        if path == "/old":
            # Moved on the first poll; later polls of the new URL are ordinary.
            assert row["moved_from"].endswith("/old") and row["url"].endswith("/ok/new-home")
            assert row["status"] in ("moved", "ok", "not_modified")
            continue
        assert (row["status"], row["reason"]) == (status, reason), (path, row)
    assert rows[feed_id("/gone")]["disabled"]
    assert rows[feed_id("/html")]["feed_link"].endswith("/ok/from-html")

    # Good feeds kept flowing on schedule: polled about every GOOD_INTERVAL seconds.
    for name in GOOD:
        polls = hostile.hits[f"/ok/{name}"]
        assert polls >= elapsed / (GOOD_INTERVAL * 1.1 + 0.5) - 2, (name, polls)
        assert rows[name]["status"] in ("ok", "not_modified")
    # The hostile ones were not hammered: each backed off after failing.
    assert hostile.hits["/500"] <= 4 and hostile.hits["/429"] == 1 and hostile.hits["/gone"] == 1

    articles = queued_articles(store)
    assert SECRET_MARKER not in json.dumps(articles, ensure_ascii=False)
    assert {a["source"] for a in articles} >= set(GOOD) | {feed_id("/xxe"), feed_id("/charset")}
