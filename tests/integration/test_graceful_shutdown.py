"""SIGTERM, as docker compose sends it on `stop`, `down` or an upgrade, loses no article.

A worker that gets SIGTERM in the middle of a batch finishes that batch, acknowledges it and
leaves the batches still queued to the next worker. A poller that gets SIGTERM while feeds are
being fetched finishes those feeds (enqueues their articles, records them as seen, releases their
leases) and leaves the feeds it had not started to the next poller. Every article is counted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from pipeline import keys
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.queueing import client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.feedserver import FeedServer, Route, rss
from tests.helpers.processes import BIN, worker_env
from tests.integration.test_pipeline_e2e import drained, wait_for
from tests.integration.test_redelivery import demining_batch

pytestmark = pytest.mark.slow


def test_sigterm_to_a_worker_mid_batch_loses_nothing(
    store: Store, redis_url: str, worker_factory
) -> None:
    sub, _ = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    stream = keys.alerts(sub.id)
    worker = worker_factory()
    sender = client_app(Settings(redis_url=redis_url), redis_url)
    first, big, queued = (
        demining_batch(0, 200),
        demining_batch(200, 6000),
        demining_batch(6200, 300),
    )
    send_articles(sender, "agency", first)
    wait_for(lambda: store.r.xlen(stream) >= len(first))
    send_articles(sender, "agency", big)
    send_articles(sender, "agency", queued)
    wait_for(lambda: store.r.hlen("unacked") > 0, interval=0.01)  # the big batch is running
    time.sleep(0.2)

    assert worker.proc is not None
    os.kill(worker.proc.pid, signal.SIGTERM)  # the main process, as `docker stop` does
    at_signal = store.r.xlen(stream)
    assert at_signal < len(first) + len(big), "the signal came after the batch finished"
    assert worker.proc.wait(120) == 0

    # Warm shutdown: the batch in flight was finished and acknowledged, not abandoned...
    assert store.r.xlen(stream) == len(first) + len(big)
    assert store.r.hlen("unacked") == 0
    # ...and the one not started is still queued for the next worker.
    assert store.r.llen(keys.ARTICLES_QUEUE) == 1

    worker_factory()
    total = len(first) + len(big) + len(queued)
    wait_for(lambda: store.r.xlen(stream) >= total and drained(store), timeout=120)
    alerts = [a for _, a in store.alerts(sub.id, count=total + 10)]
    assert len(alerts) == total
    assert {a["article"]["url"] for a in alerts} == {a["url"] for a in first + big + queued}


class SlowFeedServer(FeedServer):
    """A feed server that takes ``delay`` seconds to answer, so polls are caught in flight."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.started = 0
        self.answered = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.started += 1
        await asyncio.sleep(self.delay)
        try:
            return await super()._handle(request)
        finally:
            self.answered += 1


def feed_items(feed: int, count: int) -> list[dict[str, str]]:
    """The team-written clearance reports of ``demining_batch``, as one feed's items."""
    items = []
    for n in range(feed * 100, feed * 100 + count):
        url = f"http://agency.test/feed{feed}/{n}"
        items.append(
            {
                "title": f"Sappers cleared {n} landmines in sector {n % 97}",
                "description": f"Deminers of ANAMA found {n} anti-personnel mines and {n % 13} "
                f"unexploded ordnance items during clearance work in week {n}.",
                "link": url,
                "guid": url,
            }
        )
    return items


def start_poller(redis_url: str, config_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = worker_env(
        redis_url,
        config_dir,
        NEWSMON_POLL_TICK="0.1",
        NEWSMON_POLL_CONCURRENCY="4",
        NEWSMON_HOST_MAX_IN_FLIGHT="8",
        NEWSMON_HOST_MIN_SPACING="0",
        NEWSMON_PARSE_PROCESSES="1",
    )
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(BIN / "newsmon"), "poll"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def test_sigterm_to_a_poller_mid_cycle_loses_nothing(
    store: Store, redis_url: str, config_dir: Path, tmp_path: Path, worker_factory
) -> None:
    feeds, per_feed = 10, 8
    server = SlowFeedServer(delay=2.0).start()
    try:
        for f in range(feeds):
            server.set(f"/feed{f}.xml", Route(rss(feed_items(f, per_feed))))
        (config_dir / "feeds.yaml").write_text(
            "feeds:\n"
            + "".join(
                f"  - id: feed-{f}\n    name: Feed {f}\n    url: {server.url(f'/feed{f}.xml')}\n"
                "    language: en\n    interval: 3600\n"  # one poll each in this test
                for f in range(feeds)
            )
        )
        sub, _ = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
        worker_factory()

        first = start_poller(redis_url, config_dir, tmp_path / "poller1.log")
        wait_for(lambda: server.started >= 1, timeout=30, interval=0.02)  # fetches in flight
        time.sleep(0.3)
        first.send_signal(signal.SIGTERM)
        in_flight_at_signal = server.started - server.answered
        assert in_flight_at_signal >= 1
        assert first.wait(60) == 0, (tmp_path / "poller1.log").read_text()[-3000:]
        assert server.started < feeds, "the first poller was meant to stop mid-cycle"
        # It finished what it had started: every fetch answered, every lease given back.
        assert server.answered == server.started
        assert not [k for k in store.r.scan_iter(keys.feed_lease("*"))]
        polled_by_first = server.started

        second = start_poller(redis_url, config_dir, tmp_path / "poller2.log")
        try:
            wait_for(lambda: server.answered >= feeds, timeout=90, interval=0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0, (tmp_path / "poller2.log").read_text()[-3000:]
        assert server.started == feeds, "a feed was polled twice or not at all"
        assert polled_by_first < feeds

        # Counted: every article reached a worker once; each alerted or joined a story as a
        # near-duplicate of another (the templated reports look alike), none twice.
        total = feeds * per_feed
        now = time.time()
        wait_for(lambda: store.counts_last_minutes("articles", now, 10) >= total, 60)
        wait_for(lambda: drained(store))
        assert store.counts_last_minutes("articles", now, 10) == total
        alerts = [a for _, a in store.alerts(sub.id, count=total + 10)]
        urls = [a["article"]["url"] for a in alerts]
        assert len(urls) == len(set(urls))
        assert set(urls) <= {item["link"] for f in range(feeds) for item in feed_items(f, per_feed)}
        assert len(alerts) + store.counts_last_minutes("duplicates", now, 10) == total
    finally:
        server.stop()


def test_sigterm_to_the_api_ends_live_dashboards_and_exits(
    store: Store, redis_url: str, config_dir: Path, tmp_path: Path
) -> None:
    from tests.integration.test_dashboard_browser import start_api

    proc, base = start_api(redis_url, config_dir, tmp_path / "api.log")
    try:
        stream = urllib.request.urlopen(f"{base}/api/stats/stream", timeout=10)
        assert stream.readline().startswith(b"retry:")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = stream.read()  # returns when the server ends the stream
        assert b"event: stats" in rest
        assert proc.wait(20) == 0
        assert time.monotonic() - started < 10, "an open dashboard held the API's shutdown up"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
