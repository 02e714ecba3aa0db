"""WebSub end to end against a local hub written for the tests: the poller finds the hub a feed
advertises and subscribes; the hub verifies intent against newsmon's HTTP API (a real aiohttp
server of ``make_app`` on 127.0.0.1, reached through NEWSMON_PUBLIC_URL); the hub pushes signed
feed updates whose new entries go to the `articles` queue at once; a badly signed push is
acknowledged but ignored; a short lease is renewed by the next poll; a WebSub feed is polled
at its long interval as a safety net."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import aiohttp
import pytest
from aiohttp import web

from pipeline import keys
from pipeline.api import make_app
from pipeline.config import load_config
from pipeline.core.websub import sign
from pipeline.feeds_report import feed_rows
from pipeline.poller import Poller
from pipeline.queueing import client_app
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.feedserver import FeedServer, Route
from tests.helpers.threaded import ThreadedServer

pytestmark = pytest.mark.slow


def feed_xml(items: list[tuple[str, str]], hub: str, self_url: str) -> bytes:
    """RSS 2.0 advertising its hub and self URL with atom:link; items are (guid, title)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
        "<title>Pushed</title><link>http://example.test/</link><description>d</description>",
        f'<atom:link rel="hub" href="{escape(hub)}"/>',
        f'<atom:link rel="self" href="{escape(self_url)}" type="application/rss+xml"/>',
    ]
    for guid, title in items:
        parts.append(
            f"<item><title>{escape(title)}</title><link>http://example.test/{guid}</link>"
            f"<guid>{guid}</guid><description>{escape(title)} in full.</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class Hub(ThreadedServer):
    """A WebSub hub: takes subscribe requests (202), verifies intent asynchronously with a
    challenge, keeps verified subscriptions, and pushes signed content on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, str]] = []
        self.verifications: list[dict[str, Any]] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        #: Lease granted at verification; None grants the one asked for.
        self.grant_lease: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    async def _subscribe(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append({k: str(v) for k, v in form.items()})
        if form.get("hub.mode") != "subscribe" or not form.get("hub.callback"):
            return web.Response(status=400, text="bad request")
        asyncio.get_running_loop().create_task(self._verify({k: str(v) for k, v in form.items()}))
        return web.Response(status=202)

    async def _verify(self, form: dict[str, str]) -> None:
        await asyncio.sleep(0.05)  # after the subscriber has its answer, as a real hub does
        challenge = secrets.token_urlsafe(16)
        lease = self.grant_lease or int(form["hub.lease_seconds"])
        query = {
            "hub.mode": "subscribe",
            "hub.topic": form["hub.topic"],
            "hub.challenge": challenge,
            "hub.lease_seconds": str(lease),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.get(form["hub.callback"], params=query) as resp,
        ):
            text = await resp.text()
        verified = resp.status == 200 and text == challenge
        self.verifications.append({"status": resp.status, "verified": verified, "form": form})
        if verified:
            self.subscriptions[form["hub.topic"]] = {
                "callback": form["hub.callback"],
                "secret": form["hub.secret"],
                "lease": lease,
                "at": time.time(),
            }

    async def _push(
        self, topic: str, body: bytes, secret: str | None, method: str
    ) -> tuple[int, str]:
        sub = self.subscriptions[topic]
        headers = {"Content-Type": "application/rss+xml"}
        if secret is not None or sub["secret"]:
            headers["X-Hub-Signature"] = sign(secret or sub["secret"], body, method)
        async with (
            aiohttp.ClientSession() as session,
            session.post(sub["callback"], data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    def push(
        self, topic: str, body: bytes, secret: str | None = None, method: str = "sha256"
    ) -> tuple[int, str]:
        """POST ``body`` to the topic's subscriber, signed with its secret (or ``secret``)."""
        future = asyncio.run_coroutine_threadsafe(
            self._push(topic, body, secret, method), self._loop
        )
        return future.result(10)

    def wait_verified(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.time() + timeout
        while sum(v["verified"] for v in self.verifications) < count:
            assert time.time() < deadline, self.verifications
            time.sleep(0.05)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hub", self._subscribe)
        return app


class Api(ThreadedServer):
    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.store = store

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        return make_app(self.settings, load_config(self.settings.config_dir), self.store)


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub().start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(redis_url: str, config_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "redis_url": redis_url,
        "config_dir": config_dir,
        "host_min_spacing": 0.0,
        "parse_processes": 1,
        "fetch_timeout": 8.0,
    }
    base.update(overrides)
    return Settings(**base)


@pytest.fixture
def api(store: Store, redis_url: str, config_dir: Path) -> Iterator[Api]:
    settings = settings_for(redis_url, config_dir, websub_max_body_bytes=100_000)
    server = Api(settings, store).start()
    try:
        yield server
    finally:
        server.stop()


def poll(settings: Settings, store: Store) -> None:
    config = load_config(settings.config_dir)

    async def main() -> None:
        async with Poller(settings, config, store, client_app(settings, settings.redis_url)) as p:
            store.r.zadd(keys.feeds_due(), {f.id: 0 for f in config.feeds})
            await p.run_once()

    asyncio.run(main())


def queued_batches(store: Store) -> list[list[dict]]:
    """The article batches waiting in the `articles` queue, oldest first."""
    batches = []
    for raw in reversed(store.r.lrange(keys.ARTICLES_QUEUE, 0, -1)):
        body = json.loads(base64.b64decode(json.loads(raw)["body"]))
        batches.append(body[0][1])
    return batches


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_subscribe_verify_push_and_safety_net(
    store: Store,
    redis_url: str,
    config_dir: Path,
    feed_server: FeedServer,
    hub: Hub,
    api: Api,
) -> None:
    self_url = feed_server.url("/pushed.xml")
    feed_server.set(
        "/pushed.xml", Route(body=feed_xml([("a1", "First"), ("a2", "Second")], hub.url, self_url))
    )
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - id: pushed\n    name: Pushed\n    url: {self_url}\n"
    )
    settings = settings_for(redis_url, config_dir, public_url=api.url)

    started = time.time()
    poll(settings, store)
    # The poll found two entries and asked the hub to push the feed's self URL.
    assert [a["title"] for a in queued_batches(store)[0]] == ["First", "Second"]
    (request,) = hub.requests
    assert request["hub.mode"] == "subscribe" and request["hub.topic"] == self_url
    assert request["hub.callback"].startswith(f"{api.url}/websub/pushed/")
    assert request["hub.lease_seconds"] == str(settings.websub_lease_seconds)
    assert len(request["hub.secret"]) >= 32
    hub.wait_verified(1)
    sub = store.r.hgetall(keys.websub("pushed"))
    assert sub["state"] == "active" and sub["secret"] == request["hub.secret"]
    assert float(sub["lease_expires"]) == pytest.approx(
        time.time() + settings.websub_lease_seconds, abs=30
    )

    # Verification of intent is answered only for our own topic, token and mode.
    callback = request["hub.callback"]
    good = {"hub.mode": "subscribe", "hub.topic": self_url, "hub.challenge": "c1"}
    assert http_get(f"{callback}?{urlencode(good)}") == (200, "c1")
    for wrong in (
        {**good, "hub.topic": "http://elsewhere.test/feed"},
        {**good, "hub.mode": "unsubscribe"},
    ):
        assert http_get(f"{callback}?{urlencode(wrong)}")[0] == 404
    assert http_get(f"{api.url}/websub/pushed/not-the-token?{urlencode(good)}")[0] == 404

    # The safety net: the hub verified after the first poll ended, so that poll was scheduled
    # as usual; from the next one on, with a long lease, the feed is polled at its longest
    # interval, and no new subscribe request is made while the lease lasts.
    assert store.r.zscore(keys.feeds_due(), "pushed") < started + settings.feed_max_interval
    second = time.time()
    poll(settings, store)
    assert len(hub.requests) == 1
    assert store.r.zscore(keys.feeds_due(), "pushed") >= second + settings.feed_max_interval - 1
    assert float(store.r.hget(keys.feed_state("pushed"), "websub_until")) > time.time()
    (row,) = feed_rows(load_config(config_dir), store, settings)
    assert row["hub"] == hub.url and row["websub_until"].startswith("20")

    # A signed push: only the entry not seen before is enqueued, at once.
    pushed = feed_xml([("a3", "Third"), ("a2", "Second")], hub.url, self_url)
    status, _ = hub.push(self_url, pushed)
    assert 200 <= status < 300
    batches = queued_batches(store)
    assert len(batches) == 2 and [a["title"] for a in batches[1]] == ["Third"]
    assert batches[1][0]["source"] == "pushed"
    # The same push again adds nothing; sha1 and sha512 signatures are accepted as well.
    assert 200 <= hub.push(self_url, pushed, method="sha1")[0] < 300
    assert len(queued_batches(store)) == 2
    fourth = feed_xml([("a4", "Fourth")], hub.url, self_url)
    assert 200 <= hub.push(self_url, fourth, method="sha512")[0] < 300
    assert [a["title"] for a in queued_batches(store)[2]] == ["Fourth"]

    # A push signed with another secret is acknowledged (the spec) but ignored, and counted.
    forged = feed_xml([("x1", "Forged")], hub.url, self_url)
    status, _ = hub.push(self_url, forged, secret="not-the-secret")
    assert 200 <= status < 300
    assert len(queued_batches(store)) == 3
    sub = store.r.hgetall(keys.websub("pushed"))
    assert sub["bad_signatures"] == "1" and sub["pushes"] == "3" and sub["pushed_articles"] == "2"
    # The forged entry was not even remembered: the real one still gets through later.
    status, _ = hub.push(self_url, forged)
    assert [a["title"] for a in queued_batches(store)[3]] == ["Forged"]

    # Pushes are bounded in size.
    huge = b"<rss>" + b" " * (api.settings.websub_max_body_bytes + 1) + b"</rss>"
    assert hub.push(self_url, huge)[0] == 413


def test_short_lease_is_renewed_by_the_next_poll(
    store: Store,
    redis_url: str,
    config_dir: Path,
    feed_server: FeedServer,
    hub: Hub,
    api: Api,
) -> None:
    self_url = feed_server.url("/short.xml")
    feed_server.set("/short.xml", Route(body=feed_xml([("b1", "One")], hub.url, self_url)))
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - id: short\n    name: Short\n    url: {self_url}\n"
    )
    settings = settings_for(redis_url, config_dir, public_url=api.url, websub_renew_margin=60)
    hub.grant_lease = 30  # within the renewal margin as soon as it is granted

    poll(settings, store)
    hub.wait_verified(1)
    first = store.r.hgetall(keys.websub("short"))
    assert first["state"] == "active" and first["lease_seconds"] == "30"

    # Another poll (a 304: nothing changed) sees the lease ending within the margin: it renews
    # with the same callback and secret, and the hub verifies again.
    poll(settings, store)
    assert len(hub.requests) == 2
    assert hub.requests[1]["hub.callback"] == hub.requests[0]["hub.callback"]
    assert hub.requests[1]["hub.secret"] == hub.requests[0]["hub.secret"]
    hub.wait_verified(2)
    renewed = store.r.hgetall(keys.websub("short"))
    assert float(renewed["verified_at"]) > float(first["verified_at"])
    assert float(renewed["lease_expires"]) > float(first["lease_expires"])
    state = store.r.hgetall(keys.feed_state("short"))
    assert state["last_status"] == "not_modified"
    # A lease shorter than the margin: the next poll comes at the shortest interval, to renew.
    next_poll = store.r.zscore(keys.feeds_due(), "short")
    assert next_poll <= time.time() + settings.feed_min_interval + 1

    # With a long lease the next poll waits for the long interval again.
    hub.grant_lease = None
    store.r.hset(keys.websub("short"), "lease_expires", str(time.time() + 5))
    poll(settings, store)
    hub.wait_verified(3)
    poll(settings, store)  # the renewed ten-day lease is active: no new request
    assert len(hub.requests) == 3
    assert store.r.zscore(keys.feeds_due(), "short") >= time.time() + 0.9 * 86400


def test_websub_off_without_public_url(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer, hub: Hub
) -> None:
    self_url = feed_server.url("/plain.xml")
    feed_server.set("/plain.xml", Route(body=feed_xml([("c1", "One")], hub.url, self_url)))
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - id: plain\n    name: Plain\n    url: {self_url}\n"
    )
    poll(settings_for(redis_url, config_dir), store)
    assert hub.requests == [] and store.r.hgetall(keys.websub("plain")) == {}
    assert store.r.hget(keys.feed_state("plain"), "hub") == hub.url
