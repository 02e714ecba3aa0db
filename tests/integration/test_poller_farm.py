"""Acceptance: three poller processes share 300 feeds on 100 hostnames for several cycles. No
feed is polled twice within its interval, no host sees more than 2 requests in flight or two
starts less than 1 s apart (the server counts), killing one poller loses no feed, and after the
first cycle at least 95% of polls of the unchanged feeds are conditional and answered 304."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.store import Store
from tests.helpers.hostile import HostileServer

pytestmark = pytest.mark.slow

FEEDS = 300
HOSTS = 100
INTERVAL = 8
LEASE = 10  # longer than the interval: a crashed poller's feed is not polled early
RUN_SECONDS = 34
KILL_AT = 12
CONCURRENCY = 40


@pytest.fixture
def farm() -> Iterator[HostileServer]:
    server = HostileServer().start()
    server.farm_entries = 10
    try:
        yield server
    finally:
        server.stop()


def start_poller(redis_url: str, config_dir: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "NEWSMON_POLL_RESOLVE": ".farm.test=127.0.0.1",
        "NEWSMON_POLL_LEASE_SECONDS": str(LEASE),
        "NEWSMON_POLL_TICK": "0.2",
        "NEWSMON_POLL_CONCURRENCY": str(CONCURRENCY),
        "NEWSMON_PARSE_PROCESSES": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--config", str(config_dir), "poll"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=_below_the_server,
    )


def _below_the_server() -> None:
    """The pollers (and the parse workers they spawn) run at a lower CPU priority than this
    process, whose server thread is the measuring instrument: starved by six processes starting
    on two cores, it once stamped a first request 0.5 s late and reported a 0.65 s gap the
    pollers had spaced 1.15 s apart. The pollers space their requests on Redis's clock, so their
    priority can only lengthen the gaps, never shorten them."""
    os.nice(5)


def test_three_pollers_share_300_feeds_politely(
    store: Store, redis_url: str, config_dir: Path, farm: HostileServer, tmp_path: Path
) -> None:
    lines = ["feeds:"]
    for n in range(FEEDS):
        url = farm.url(f"/farm/{n}", f"h{n % HOSTS}.farm.test")
        lines += [f"  - id: f{n}", f"    name: f{n}", f"    url: {url}"]
        lines += [f"    interval: {INTERVAL}"]
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")

    pollers = [start_poller(redis_url, config_dir, tmp_path / f"poller{i}.log") for i in range(3)]
    try:
        started = time.monotonic()
        time.sleep(KILL_AT)
        victim = pollers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        time.sleep(max(0.0, RUN_SECONDS - (time.monotonic() - started)))
    finally:
        for p in pollers[1:]:
            p.send_signal(signal.SIGTERM)
        for p in pollers[1:]:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
    logs = "\n".join((tmp_path / f"poller{i}.log").read_text(errors="replace") for i in range(3))

    # Every feed polled, each cycle at most once per interval (the jitter only lengthens it).
    for n in range(FEEDS):
        times = farm.times[f"/farm/{n}"]
        assert len(times) >= 2, (n, times, logs[-3000:])
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= INTERVAL - 0.5, (n, gaps)
        # Killing a poller lost no feed: each was polled again after the kill.
        assert times[-1] > killed_at, (n, times, killed_at)

    # Politeness across the three pollers, as the server saw it. The pollers space the moments
    # they write requests at least 1 s + 0.15 s apart (on Redis's clock: each write is reported
    # and the next grant waits for it, so a poller's own delays cannot shorten the gap); what
    # the server sees differs from that only by each request's way to the server's handler,
    # which the 0.15 s margin covers.
    assert len(farm.hosts) == HOSTS
    for host, stats in farm.hosts.items():
        assert stats.max_in_flight <= 2, host
        assert stats.min_gap() >= 1.0, (host, stats.min_gap())

    # Cheap when nothing changes: after each feed's first poll, 304s. A first poll the killed
    # poller had fetched but not recorded (at most its CONCURRENCY polls in flight, when the
    # first cycle is slow on a loaded machine) is rightly repeated without validators.
    repeat_polls = sum(len(farm.times[f"/farm/{n}"]) - 1 for n in range(FEEDS))
    not_modified = sum(farm.not_modified[f"/farm/{n}"] for n in range(FEEDS))
    assert repeat_polls >= 2 * FEEDS
    assert not_modified / (repeat_polls - CONCURRENCY) >= 0.95, (not_modified, repeat_polls)
    assert store.r.zcard(keys.feeds_due()) == FEEDS
