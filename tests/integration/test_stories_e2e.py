"""One alert per story, end to end: syndicated copies across feeds collapse into the first story,
which lists every source that carried it."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.core.identity import new_article
from pipeline.queueing import client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from tests.helpers.feedserver import FeedServer, Route, rss
from tests.integration.test_pipeline_e2e import (
    drained,
    poll_once,
    seed_item,
    subscribe,
    wait_for,
    write_feeds,
)

pytestmark = pytest.mark.slow

# Team-written wire story and the edits republishers make to it.
STORY_TITLE = "Deminers return farmland to villagers near Aghdam"
STORY = (
    "Deminers of the national mine action agency have cleared 120 hectares of farmland near "
    "Aghdam this month and destroyed 48 anti-tank mines and 310 items of unexploded ordnance. "
    "The agency said families from four villages will be able to sow wheat on the land before "
    "spring, and that mine risk education sessions were held in the local school for 200 pupils."
)
PREFIXES = [
    "",
    "(MENAFN- Trend News Agency) ",
    "By Azernews ",
    "BAKU, Azerbaijan, March 4. ",
    "TBILISI/BAKU — ",
    "(Reuters) - ",
    "Baku (APA). ",
]
SUFFIXES = [
    "",
    " Follow us on Twitter @agency.",
    " Read more news at our website.",
    " The post Deminers return farmland appeared first on Caucasus Wire.",
]
TITLES = [
    STORY_TITLE,
    STORY_TITLE.upper(),
    "Azerbaijan: " + STORY_TITLE,
    "Farmland near Aghdam cleared of mines",
    "",
]


def copy_of_story(feed: int, n: int, rng: random.Random) -> dict:
    summary = rng.choice(PREFIXES) + STORY + rng.choice(SUFFIXES)
    if rng.random() < 0.3:
        summary = summary[: rng.randint(160, 260)] + " …"
    title = rng.choice(TITLES)
    url = f"https://outlet{feed}.test/news/{n}?utm_source=rss"
    return new_article(
        f"feed{feed}", url, title, summary, guid=url, language="en", fetched_at=time.time()
    ).to_dict()


def test_burst_of_1000_copies_from_100_feeds_alerts_once(
    store: Store, redis_url: str, worker_factory
) -> None:
    subs = [subscribe(store, "demining"), subscribe(store, "demining", "child_rights")]
    worker_factory()
    app = client_app(Settings(redis_url=redis_url), redis_url)
    rng = random.Random(2024)
    for feed in range(100):
        send_articles(app, f"feed{feed}", [copy_of_story(feed, n, rng) for n in range(10)])
    wait_for(lambda: store.counts_last_minutes("articles", time.time(), 5) >= 1000, timeout=120)
    wait_for(lambda: drained(store), timeout=60)
    for sub in subs:
        alerts = [a for _, a in store.alerts(sub)]
        assert len(alerts) == 1, [a["article"]["url"] for a in alerts]
        sources = alerts[0]["story"]["sources"]
        assert len(sources) == 100 and sources[0] == "feed0"
    assert store.counts_last_minutes("duplicates", time.time(), 5) == 999


def test_seed_story_from_trend_and_menafn_reaches_each_subscriber_once(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer, worker_factory
) -> None:
    base = feed_server.url("")
    trend_item = seed_item(f"{base}/trend/2024-01-11/unicef")
    # The seed file is MENAFN's copy; Trend's own item carries the text without the prefix.
    trend_item["description"] = trend_item["description"].replace(
        "(MENAFN- Trend News Agency) ", ""
    )
    menafn_item = seed_item(f"{base}/menafn/1107702277")
    menafn_item["title"] = "Azerbaijani FM, UNICEF regional director discuss cooperation"
    feed_server.set("/trend.xml", Route(rss([trend_item])))
    feed_server.set("/menafn.xml", Route(rss([])))
    write_feeds(
        config_dir,
        [
            ("trend-en", feed_server.url("/trend.xml")),
            ("menafn-en", feed_server.url("/menafn.xml")),
        ],
    )
    subs = {t: subscribe(store, t) for t in ("climate", "child_rights", "demining")}
    worker_factory()
    poll_once(redis_url, config_dir)
    wait_for(lambda: all(store.alerts(s) for s in subs.values()))
    # MENAFN republishes it later, at another URL, with its prefix.
    feed_server.set("/menafn.xml", Route(rss([menafn_item])))
    poll_once(redis_url, config_dir)
    wait_for(lambda: store.counts_last_minutes("duplicates", time.time(), 5) >= 1)
    wait_for(lambda: drained(store))
    for topic, sub in subs.items():
        alerts = [a for _, a in store.alerts(sub)]
        assert len(alerts) == 1, topic
        assert alerts[0]["article"]["source"] == "trend-en"
        assert alerts[0]["story"]["sources"] == ["trend-en", "menafn-en"]
    assert store.r.llen(keys.ARTICLES_QUEUE) == 0
    lineage = store.stories.lineage(alerts[0]["story"]["id"], time.time())
    assert [e["source"] for e in lineage] == ["trend-en", "menafn-en"]
    assert lineage[0]["at"] <= lineage[1]["at"]
