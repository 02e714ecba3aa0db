"""poll -> classify -> dedupe -> route -> alert on real parts: a Valkey, a Celery worker process
and a feed server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.config import load_config
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.poller import Poller
from pipeline.queueing import client_app
from pipeline.settings import Settings
from pipeline.store import Store
from tests.conftest import shared_path
from tests.helpers.feedserver import FeedServer, Route, rss

pytestmark = pytest.mark.slow

# Team-written unrelated stories: they must alert nobody.
UNRELATED = [
    (
        "Baku stock exchange closes higher",
        "Shares of three banks rose on strong quarterly results.",
    ),
    (
        "Coal mine collapse traps workers",
        "Rescuers reached the coal mine after the tunnel gave way.",
    ),
    ("Investment climate improves, ministry says", "Foreign investors registered 40 new firms."),
]


def seed_item(link: str) -> dict[str, str]:
    text = shared_path("seed", "trend-menafn-2024-01-11-unicef.txt").read_text(encoding="utf-8")
    return {
        "title": "Azerbaijan's foreign minister meets UNICEF regional director",
        "link": link,
        "guid": link,
        "description": text,
    }


def unrelated_items(base: str) -> list[dict[str, str]]:
    return [
        {"title": t, "description": d, "link": f"{base}/other/{i}", "guid": f"{base}/other/{i}"}
        for i, (t, d) in enumerate(UNRELATED)
    ]


def write_feeds(config_dir: Path, feeds: list[tuple[str, str]]) -> None:
    lines = ["feeds:"]
    for feed_id, url in feeds:
        lines += [
            f"  - id: {feed_id}",
            f"    name: {feed_id}",
            f"    url: {url}",
            "    language: en",
            "    interval: 1",
        ]
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")


def poll_once(redis_url: str, config_dir: Path) -> list:
    settings = Settings(redis_url=redis_url, config_dir=config_dir)
    config = load_config(config_dir)

    async def main() -> list:
        store = Store.from_url(redis_url)
        async with Poller(settings, config, store, client_app(settings, redis_url)) as poller:
            # Make every feed due now, as if its interval had passed.
            store.r.zadd(keys.feeds_due(), {f.id: 0 for f in config.feeds})
            return await poller.run_once()

    return asyncio.run(main())


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def drained(store: Store) -> bool:
    return store.r.llen(keys.ARTICLES_QUEUE) == 0 and not store.r.hlen("unacked")


def subscribe(store: Store, *topics: str) -> str:
    sub, _ = store.create_subscription(SubscriptionSpec(topics=list(topics)), time.time())
    return sub.id


def test_seed_story_reaches_each_topic_once_across_polls(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer, worker_factory
) -> None:
    base = feed_server.url("")
    route = feed_server.set(
        "/trend.xml", Route(rss([seed_item(f"{base}/seed")] + unrelated_items(base)))
    )
    write_feeds(config_dir, [("trend-en", feed_server.url("/trend.xml"))])
    subs = {topic: subscribe(store, topic) for topic in ("climate", "child_rights", "demining")}
    worker_factory()

    outcomes = poll_once(redis_url, config_dir)
    assert [o.status for o in outcomes] == ["ok"]
    assert outcomes[0].new_articles == 4
    wait_for(lambda: all(store.alerts(s) for s in subs.values()))
    wait_for(lambda: drained(store))

    # Unchanged feed: a 304, nothing enqueued.
    articles_before = store.counts_last_minutes("articles", time.time(), minutes=5)
    outcomes = poll_once(redis_url, config_dir)
    assert [o.status for o in outcomes] == ["not_modified"]
    assert route.not_modified == 1
    assert store.r.llen(keys.ARTICLES_QUEUE) == 0

    # The feed changes: the seed item is already seen and is not sent again...
    route.body = rss([seed_item(f"{base}/seed")] + unrelated_items(base)[:1])
    outcomes = poll_once(redis_url, config_dir)
    assert outcomes[0].status == "ok" and outcomes[0].new_articles == 0
    # ...and even if the poller forgot it had seen it, the worker's dedupe absorbs the repeat.
    store.r.delete(keys.feed_seen("trend-en"))
    store.r.hdel(keys.feed_state("trend-en"), "etag", "last_modified")
    outcomes = poll_once(redis_url, config_dir)
    assert outcomes[0].new_articles == 2
    wait_for(lambda: store.counts_last_minutes("articles", time.time(), 5) >= articles_before + 2)
    wait_for(lambda: drained(store))

    for topic, sub_id in subs.items():
        alerts = [a for _, a in store.alerts(sub_id)]
        assert len(alerts) == 1, topic
        alert = alerts[0]
        assert topic in alert["topics"] and alert["matched"][topic]
        assert alert["article"]["url"] == f"{base}/seed"
        assert set(alert["topics"]) == {"climate", "child_rights", "demining"}
        assert alert["story"]["sources"] == ["trend-en"]


def test_unrelated_stories_alert_nobody(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer, worker_factory
) -> None:
    base = feed_server.url("")
    feed_server.set("/biz.xml", Route(rss(unrelated_items(base))))
    write_feeds(config_dir, [("biz", feed_server.url("/biz.xml"))])
    subs = [subscribe(store, t) for t in ("climate", "child_rights", "demining")]
    worker_factory()
    assert poll_once(redis_url, config_dir)[0].new_articles == len(UNRELATED)
    wait_for(lambda: store.counts_last_minutes("articles", time.time(), 5) >= len(UNRELATED))
    wait_for(lambda: drained(store))
    assert all(store.alerts(s) == [] for s in subs)


def test_bad_feed_fails_alone(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer, worker_factory
) -> None:
    base = feed_server.url("")
    feed_server.set("/good.xml", Route(rss([seed_item(f"{base}/seed")])))
    feed_server.set(
        "/html.xml", Route(b"<html><body>not a feed</body></html>", content_type="text/html")
    )
    feed_server.set("/broken.xml", Route(b"", status=500))
    write_feeds(
        config_dir,
        [
            ("good", feed_server.url("/good.xml")),
            ("html", feed_server.url("/html.xml")),
            ("broken", feed_server.url("/broken.xml")),
            ("missing", feed_server.url("/nothing-here.xml")),
        ],
    )
    sub = subscribe(store, "demining")
    worker_factory()
    outcomes = {o.feed_id: o for o in poll_once(redis_url, config_dir)}
    assert outcomes["good"].status == "ok"
    assert (outcomes["html"].status, outcomes["html"].reason) == ("hard_error", "not_a_feed")
    assert (outcomes["broken"].status, outcomes["broken"].reason) == ("soft_error", "http_500")
    assert (outcomes["missing"].status, outcomes["missing"].reason) == ("hard_error", "http_404")
    wait_for(lambda: store.alerts(sub))
    state = store.feeds.feed_state("broken")
    assert state["last_status"] == "soft_error" and state["failures"] == "1"
    assert "500" in state["last_error"]
