"""The poller against a real Valkey and a hostile HTTP server on 127.0.0.1: outcome statuses,
moves, 410, health, the body-hash guard, forced unconditional polls, leases, politeness and
backpressure. (No Celery worker: new articles are only enqueued.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.config import load_config
from pipeline.feeds_report import feed_rows
from pipeline.politeness import HostGate, async_twin
from pipeline.poller import Poller
from pipeline.queueing import client_app
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.hostile import HOSTILE, SECRET_MARKER, HostileServer


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_MARKER + "\n")
    return path


@pytest.fixture
def hostile(secret_file: Path) -> Iterator[HostileServer]:
    server = HostileServer(secret_path=str(secret_file), slow_seconds=12).start()
    try:
        yield server
    finally:
        server.stop()


def write_feeds(config_dir: Path, feeds: dict[str, str], **extra: object) -> None:
    lines = ["feeds:"]
    for feed_id, url in feeds.items():
        lines += [f"  - id: {feed_id}", f"    name: {feed_id}", f"    url: {url}"]
        for key, value in extra.items():
            lines.append(f"    {key}: {json.dumps(value)}")
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")


def settings_for(redis_url: str, config_dir: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "redis_url": redis_url,
        "config_dir": config_dir,
        "fetch_timeout": 8.0,
        "read_timeout": 2.0,
        "connect_timeout": 1.0,
        "max_body_bytes": 1024 * 1024,
        "max_compressed_bytes": 2 * 1024 * 1024,
        "host_min_spacing": 0.0,
        "host_max_in_flight": 50,
        "poll_concurrency": 32,
        "parse_processes": 1,
    }
    base.update(overrides)
    return Settings(**base)


def poll_all(settings: Settings, store: Store, times: int = 1) -> list[dict]:
    config = load_config(settings.config_dir)

    async def main() -> list[dict]:
        async with Poller(settings, config, store, client_app(settings, settings.redis_url)) as p:
            for _ in range(times):
                store.r.zadd(keys.feeds_due(), {f.id: 0 for f in config.feeds})
                await p.run_once()
        return feed_rows(config, store, settings)

    return asyncio.run(main())


def queued_articles(store: Store) -> list[dict]:
    """The articles waiting in the `articles` queue (kombu's JSON envelope, base64 body)."""
    import base64

    articles = []
    for raw in store.r.lrange(keys.ARTICLES_QUEUE, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        articles.extend(args[1])
    return articles


def slug(path: str) -> str:
    return "h-" + path.strip("/").replace("/", "-")


def test_each_misbehaviour_ends_in_its_status(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    feeds = {slug(p): hostile.url(p) for p in HOSTILE}
    feeds["good"] = hostile.url("/ok/good")
    write_feeds(config_dir, feeds)
    started = time.monotonic()
    rows = {r["id"]: r for r in poll_all(settings_for(redis_url, config_dir), store)}
    # Every fetch is bounded by the total timeout (plus the parse), whatever the server does.
    assert time.monotonic() - started < 2 * settings_for(redis_url, config_dir).fetch_timeout
    for path, (status, reason) in HOSTILE.items():
        if path == "/old":
            continue  # checked below: the first poll moves it
        row = rows[slug(path)]
        assert (row["status"], row["reason"]) == (status, reason), (path, row)
    assert rows["good"]["status"] == "ok" and rows["good"]["new_articles"] == 5
    assert rows["h-html"]["feed_link"] == hostile.url("/ok/from-html")
    assert "links to the feed" in rows["h-html"]["last_error"]
    # Nothing of the local file reached an article or the state.
    articles = queued_articles(store)
    text = json.dumps(articles, ensure_ascii=False)
    assert SECRET_MARKER not in text and SECRET_MARKER not in json.dumps(rows)
    by_source = {a["source"]: a for a in articles}
    assert by_source["h-xxe"]["title"].startswith("Leak")  # the XXE feed's entry did arrive
    assert len(by_source["h-lol"]["title"]) < 100  # entities were not expanded
    assert by_source["h-charset"]["title"] == "Минёры очистили поле"  # charset recovered


def test_permanent_redirect_updates_the_url_and_records_the_move(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"old": hostile.url("/old")})
    settings = settings_for(redis_url, config_dir)
    (row,) = poll_all(settings, store)
    assert (row["status"], row["reason"]) == ("moved", "http_301")
    assert row["url"] == hostile.url("/ok/new-home") and row["moved_from"] == hostile.url("/old")
    (row,) = poll_all(settings, store)
    assert row["status"] == "not_modified" and hostile.hits["/old"] == 1


def test_gone_disables_until_the_url_changes(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"f": hostile.url("/gone")})
    settings = settings_for(redis_url, config_dir)
    (row,) = poll_all(settings, store)
    assert row["status"] == "gone" and row["disabled"]
    assert store.r.zscore(keys.feeds_due(), "f") > time.time() + 300 * 86400
    write_feeds(config_dir, {"f": hostile.url("/ok/back")})
    (row,) = poll_all(settings, store)
    assert row["status"] == "ok" and not row["disabled"]


def test_consecutive_failures_make_a_feed_unhealthy_probed_at_max_interval(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"f": hostile.url("/500")}, tags=["agency"])
    settings = settings_for(redis_url, config_dir, unhealthy_after=3)
    rows = poll_all(settings, store, times=3)
    assert rows[0]["failures"] == 3 and rows[0]["unhealthy"]
    due = store.r.zscore(keys.feeds_due(), "f")
    assert due - time.time() == pytest.approx(settings.agency_max_interval, abs=60)


def test_retry_after_is_honoured(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"f": hostile.url("/429")}, interval=60)
    poll_all(settings_for(redis_url, config_dir), store)
    due = store.r.zscore(keys.feeds_due(), "f")
    assert due - time.time() == pytest.approx(3600, abs=30)


def test_lying_server_body_hash_and_forced_unconditional(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"f": hostile.url("/ok/f")})
    settings = settings_for(redis_url, config_dir, unconditional_every=4)
    poll_all(settings, store, times=8)
    # 8 polls: 1 and 5 are unconditional (the first fetch; then a 200 with the same body), the
    # other six are answered 304.
    assert hostile.hits["/ok/f"] == 8
    assert hostile.not_modified["/ok/f"] == 6
    (row,) = poll_all(settings, store)  # the 9th: unconditional again
    assert (row["status"], row["reason"]) == ("not_modified", "unchanged_body")
    assert hostile.not_modified["/ok/f"] == 6
    # A server whose ETag no longer matches while the body has not changed.
    store.r.hset(keys.feed_state("f"), "etag", '"stale"')
    (row,) = poll_all(settings, store)
    assert (row["status"], row["reason"]) == ("not_modified", "unchanged_body")


def test_limits_are_settings(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    write_feeds(config_dir, {"f": hostile.url("/ok/big"), "r": hostile.url("/old")})
    from tests.helpers.hostile import rss_feed

    hostile.feeds["big"] = rss_feed("big", 40)
    rows = {
        r["id"]: r
        for r in poll_all(
            settings_for(redis_url, config_dir, max_entries_per_feed=7, max_redirects=0), store
        )
    }
    assert rows["f"]["new_articles"] == 7
    assert (rows["r"]["status"], rows["r"]["reason"]) == ("hard_error", "redirects")
    store.r.hdel(keys.feed_state("f"), "etag", "body_hash")
    rows = {
        r["id"]: r
        for r in poll_all(settings_for(redis_url, config_dir, max_body_bytes=2048), store)
    }
    assert (rows["f"]["status"], rows["f"]["reason"]) == ("hard_error", "too_large")


def test_claims_are_exclusive_and_expired_leases_are_taken_over(store: Store) -> None:
    feeds = store.feeds
    feeds.sync_feeds([(f"f{i}", "n", "http://x.test/") for i in range(10)], 100.0)
    a = feeds.claim_due_feeds("a", 100.0, 6, lease_seconds=30)
    b = feeds.claim_due_feeds("b", 100.0, 6, lease_seconds=30)
    assert len(a) == 6 and len(b) == 4 and not set(a) & set(b)
    assert feeds.claim_due_feeds("c", 110.0, 10, lease_seconds=30) == []
    # "a" dies: its feeds fall due when the lease ends and "c" takes them.
    for f in b:
        feeds.release_feed(f, 1000.0, {"last_status": "ok"})
    taken = feeds.claim_due_feeds("c", 131.0, 10, lease_seconds=30)
    assert sorted(taken) == sorted(a)
    assert feeds.lease_owner(a[0]) == "c"


def test_host_gate_limits_in_flight_and_spacing(store: Store) -> None:
    async def main() -> None:
        client = async_twin(store.r)

        def gate(n: int, spacing: float, hold: float) -> HostGate:
            return HostGate(
                client, max_in_flight=n, min_spacing=spacing, hold_seconds=hold, max_wait=0
            )

        g = gate(2, 0.0, 5)
        assert await g.try_acquire("h", "t1") == 0 and await g.try_acquire("h", "t2") == 0
        assert await g.try_acquire("h", "t3") > 0
        assert await g.try_acquire("other", "t4") == 0
        await g.release("h", "t1")
        assert await g.try_acquire("h", "t3") == 0
        spaced = gate(5, 1.0, 5)
        assert await spaced.try_acquire("s", "a") == 0
        # Granted but not yet written: no other grant until "a" goes out (or is released)...
        await asyncio.sleep(0.3)
        assert await spaced.try_acquire("s", "b") == pytest.approx(1.15)
        # ...and the spacing (1 s + margin) counts from the moment it is written, not granted.
        spaced.started("s", "a")
        wait = await spaced.try_acquire("s", "b")
        assert 1.0 < wait <= 1.15
        await asyncio.sleep(wait + 0.01)
        assert await spaced.try_acquire("s", "b") == 0
        # A granted request that never went out (connection refused) clears its mark at release;
        # the spacing then counts from its grant.
        await spaced.release("s", "b")
        assert 1.0 < await spaced.try_acquire("s", "c") <= 1.15
        # A slot whose holder died expires.
        short = gate(1, 0.0, 0.2)
        assert await short.try_acquire("d", "x") == 0 and await short.try_acquire("d", "y") > 0
        await asyncio.sleep(0.25)
        assert await short.try_acquire("d", "y") == 0
        await client.aclose()

    asyncio.run(main())


def test_politeness_holds_across_pollers(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    """Two pollers, six feeds on one host: starts at least 0.3 s apart, at most 2 in flight."""
    write_feeds(config_dir, {f"p{i}": hostile.url(f"/ok/p{i}") for i in range(6)})
    settings = settings_for(redis_url, config_dir, host_min_spacing=0.3, host_max_in_flight=2)
    config = load_config(config_dir)

    async def main() -> None:
        app = client_app(settings, redis_url)
        async with (
            Poller(settings, config, store, app) as p1,
            Poller(settings, config, store, app) as p2,
        ):
            p2.owner += "-2"
            await asyncio.gather(p1.run_once(), p2.run_once())

    asyncio.run(main())
    stats = hostile.hosts["127.0.0.1"]
    assert len(stats.starts) == 6
    assert stats.min_gap() >= 0.25 and stats.max_in_flight <= 2


def test_backpressure_slows_claims_and_resumes(
    store: Store, redis_url: str, config_dir: Path
) -> None:
    write_feeds(config_dir, {"f": "http://127.0.0.1:9/"})
    settings = settings_for(redis_url, config_dir, backpressure_age=10)
    config = load_config(config_dir)

    async def main() -> tuple[bool, bool]:
        async with Poller(settings, config, store, client_app(settings, redis_url)) as p:
            old = json.dumps({"headers": {"enqueued_at": time.time() - 60}})
            store.r.lpush(keys.ARTICLES_QUEUE, old)
            await p._check_backpressure()
            on = p.backpressured
            store.r.delete(keys.ARTICLES_QUEUE)
            await p._check_backpressure()
            return on, p.backpressured

    assert asyncio.run(main()) == (True, False)


def test_compressed_feeds_are_decoded(
    store: Store, redis_url: str, config_dir: Path, hostile: HostileServer
) -> None:
    kinds = ["gzip", "deflate", "raw-deflate", "br"]
    write_feeds(config_dir, {f"c-{k}": hostile.url(f"/compressed/{k}") for k in kinds})
    rows = poll_all(settings_for(redis_url, config_dir), store)
    assert [(r["status"], r["new_articles"]) for r in rows] == [("ok", 5)] * len(kinds)


def test_bombs_are_inflated_off_the_event_loop(hostile: HostileServer) -> None:
    """Decompression runs in worker threads, so a bomb (here allowed 32 MiB of output, about a
    hundred milliseconds of inflating) does not stall the event loop the other feeds share."""
    import threading

    import aiohttp

    from pipeline import fetch as fetch_module
    from pipeline.fetch import FetchError, Limits, accept_encoding, fetch

    inflating_threads: set[int] = set()
    pieces = fetch_module._Inflater.pieces

    def spy(self, data):  # noqa: ANN001, ANN202
        inflating_threads.add(threading.get_ident())
        return pieces(self, data)

    async def main() -> dict[str, tuple[str, float, float]]:
        lags: list[float] = []
        done = False

        async def heartbeat() -> None:  # how late the loop runs a 1 ms timer
            while not done:
                before = time.perf_counter()
                await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - before - 0.001)

        beat = asyncio.create_task(heartbeat())
        limits = Limits(max_body=32 * 1024 * 1024, max_compressed=2 * 1024 * 1024)
        seen = {}
        async with aiohttp.ClientSession(
            headers={"Accept-Encoding": accept_encoding()}, auto_decompress=False
        ) as session:
            for path in ("/gzip-bomb", "/deflate-bomb", "/br-bomb"):
                await asyncio.sleep(0.02)
                lags.clear()
                started = time.perf_counter()
                try:
                    await fetch(session, hostile.url(path), {}, limits)
                    outcome = "fetched"
                except FetchError as exc:
                    outcome = exc.reason
                took = time.perf_counter() - started
                await asyncio.sleep(0.005)
                seen[path] = (outcome, took, max(lags))
        done = True
        await beat
        return seen

    fetch_module._Inflater.pieces = spy  # type: ignore[method-assign]
    try:
        seen = asyncio.run(main())
    finally:
        fetch_module._Inflater.pieces = pieces  # type: ignore[method-assign]
    assert inflating_threads and threading.main_thread().ident not in inflating_threads
    for path, (outcome, took, worst_lag) in seen.items():
        # 64 MiB gzip/deflate bombs stop at the limit; the brotli one (16 MiB) is decoded whole.
        assert outcome == ("fetched" if path == "/br-bomb" else "too_large"), path
        # On the loop, the loop stood still for about the whole fetch; off it, for a fraction.
        assert worst_lag < took / 2, (path, worst_lag, took)


def _socket_inodes() -> set[str]:
    import os

    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                inodes.add(target)
    return inodes


def test_parse_workers_hold_none_of_the_pollers_sockets() -> None:
    """A parse worker that kept a copy of the poller's sockets would keep connections open after
    the poller (or, in tests, the feed server in the same process) closed them: a reset never
    reached the client. Workers are spawned, not forked, so they start without them."""
    import socket

    from pipeline.parse_pool import parse_pool

    with socket.create_server(("127.0.0.1", 0)) as listening:
        inode = f"socket:[{os.fstat(listening.fileno()).st_ino}]"
        assert inode in _socket_inodes()
        pool = parse_pool(1)
        try:
            worker_sockets = pool.submit(_socket_inodes).result(timeout=60)
        finally:
            pool.shutdown()
    assert inode not in worker_sockets
