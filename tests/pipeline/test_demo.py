"""The offline demo feed server: feeds parse, the seed-like story is syndicated, time drives it."""

from __future__ import annotations

import asyncio
import re
from email.utils import parsedate_to_datetime

import aiohttp
import feedparser
import pytest
import yaml

from pipeline.demo.server import (
    MAX_ITEMS,
    DemoFeeds,
    demo_feeds_yaml,
    load_stories,
    start_demo_server,
)

BASE = "http://demo.test"
SEED_WORDS = ("UNICEF", "COP29", "mine threat", "displaced children")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def parse(demo: DemoFeeds, feed_id: str) -> feedparser.FeedParserDict:
    body = demo.render(feed_id, BASE)
    assert body is not None
    return feedparser.parse(body)


def seed_like(entries: list) -> list:
    return [e for e in entries if all(w in e.summary for w in SEED_WORDS)]


def test_every_feed_parses_without_bozo_now_and_after_many_releases() -> None:
    clock = FakeClock()
    demo = DemoFeeds(every=4.0, clock=clock)
    for step in (0, 400):
        clock.now += step * 4.0
        for feed in demo.feeds():
            doc = parse(demo, feed["id"])
            assert not doc.bozo, (feed["id"], doc.get("bozo_exception"))
            assert doc.version == "rss20"
            assert doc.feed.language == feed["language"]
            for entry in doc.entries:
                assert entry.title and entry.summary and entry.published_parsed
                assert entry.link == entry.id
                assert entry.link.startswith(f"{BASE}/articles/{feed['id']}/")


def test_feeds_describe_languages_and_stories_are_plentiful() -> None:
    feeds, stories, templates = load_stories()
    languages = {f.language for f in feeds}
    assert {"en", "ru", "az"} <= languages
    assert len(stories) >= 40 and len(templates) >= 4
    assert {"demo-trend", "demo-menafn"} <= {f.id for f in feeds}
    assert DemoFeeds().render("no-such-feed", BASE) is None


def test_seed_like_story_is_in_trend_and_menafn_at_different_urls() -> None:
    demo = DemoFeeds(clock=FakeClock())
    trend = seed_like(parse(demo, "demo-trend").entries)
    menafn = seed_like(parse(demo, "demo-menafn").entries)
    assert len(trend) == 1 and len(menafn) == 1
    original, copy = trend[0], menafn[0]
    assert original.link != copy.link
    assert copy.summary == "(MENAFN- Trend News Agency) " + original.summary
    assert "UNICEF" in original.title and "UNICEF" in copy.title


def test_a_story_is_released_after_every_seconds() -> None:
    clock = FakeClock()
    demo = DemoFeeds(every=5.0, clock=clock)
    counts = lambda: sum(len(parse(demo, f["id"]).entries) for f in demo.feeds())  # noqa: E731
    assert counts() == 6
    clock.now += 4.9
    assert counts() == 6
    clock.now += 0.1
    assert counts() == 7
    clock.now += 50.0
    assert counts() == 17
    newest = max(
        (e for f in demo.feeds() for e in parse(demo, f["id"]).entries),
        key=lambda e: int(e.link.rsplit("/", 1)[1]),
    )
    assert parsedate_to_datetime(newest.published).timestamp() == clock.now


def test_feeds_keep_newest_items_only_and_stay_live_from_templates() -> None:
    clock = FakeClock()
    demo = DemoFeeds(every=1.0, clock=clock)
    clock.now += 5000
    doc = parse(demo, "demo-trend")
    assert len(doc.entries) == MAX_ITEMS
    numbers = [int(e.link.rsplit("/", 1)[1]) for e in doc.entries]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] > 4900


def test_templates_produce_distinct_stories() -> None:
    clock = FakeClock()
    demo = DemoFeeds(every=1.0, clock=clock)
    clock.now += 300
    generated = [
        (r.story.title, r.story.summary)
        for f in demo.feeds()
        for r in demo.items(f["id"]) or []
        if r.n >= 60 and not r.story.summary.startswith("(MENAFN-")
    ]
    assert len(generated) > 150
    assert len(set(generated)) == len(generated)
    assert not any(re.search(r"[{}]", title + summary) for title, summary in generated)


def test_generated_stories_are_reproducible_with_a_seed() -> None:
    def titles(seed: int) -> list[str]:
        clock = FakeClock()
        demo = DemoFeeds(every=1.0, clock=clock, seed=seed)
        clock.now += 120
        return [e.title for e in parse(demo, "demo-trend").entries]

    assert titles(3) == titles(3)
    assert titles(3) != titles(4)


def test_republished_template_stories_reach_menafn_with_prefix() -> None:
    clock = FakeClock()
    demo = DemoFeeds(every=1.0, clock=clock)
    clock.now += 300
    trend = {r.story.title: r for r in demo.items("demo-trend") or []}
    copies = [
        r
        for r in demo.items("demo-menafn") or []
        if r.story.title in trend and r.story.summary.startswith("(MENAFN- Trend News Agency) ")
    ]
    assert copies
    for copy in copies:
        original = trend[copy.story.title]
        assert copy.n != original.n
        assert copy.story.summary.endswith(original.story.summary)


def test_titles_and_summaries_are_escaped() -> None:
    stories = """
feeds: [{id: f, name: "A & B <demo>", language: en, tags: []}]
stories:
  - {feed: f, title: "Fish & chips <b>bold</b>", summary: "x < y && \\"quoted\\" ]]>"}
"""
    demo = DemoFeeds(clock=FakeClock(), stories_yaml=stories)
    doc = parse(demo, "f")
    assert not doc.bozo
    assert doc.feed.title == "A & B <demo>"
    assert doc.entries[0].title == "Fish & chips <b>bold</b>"


def test_demo_feeds_yaml_is_a_feeds_file() -> None:
    demo = DemoFeeds(clock=FakeClock())
    doc = yaml.safe_load(demo_feeds_yaml(demo, "http://127.0.0.1:8765/", 3.0))
    assert [f["id"] for f in doc["feeds"]] == [f["id"] for f in demo.feeds()]
    for entry in doc["feeds"]:
        assert set(entry) == {"id", "name", "url", "language", "tags", "interval"}
        assert re.fullmatch(r"[a-z0-9-]+", entry["id"])
        assert entry["url"] == f"http://127.0.0.1:8765/feeds/{entry['id']}.xml"
        assert entry["interval"] == 3.0 and isinstance(entry["tags"], list)


def test_invalid_every_is_rejected() -> None:
    with pytest.raises(ValueError):
        DemoFeeds(every=0)


@pytest.mark.slow
def test_http_etag_304_and_new_items() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        demo = DemoFeeds(every=4.0, clock=clock)
        runner, base = await start_demo_server(demo)
        try:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/") as resp:
                    listing = await resp.json()
                assert {f["id"] for f in listing["feeds"]} >= {"demo-trend", "demo-menafn"}

                url = f"{base}/feeds/demo-trend.xml"
                async with http.get(url) as resp:
                    assert resp.status == 200
                    assert resp.content_type == "application/rss+xml"
                    body = await resp.read()
                    etag, modified = resp.headers["ETag"], resp.headers["Last-Modified"]
                doc = feedparser.parse(body)
                assert not doc.bozo and doc.entries[0].link.startswith(f"{base}/articles/")

                async with http.get(url, headers={"If-None-Match": etag}) as resp:
                    assert resp.status == 304 and resp.headers["ETag"] == etag
                    assert await resp.read() == b""
                async with http.get(url, headers={"If-Modified-Since": modified}) as resp:
                    assert resp.status == 304

                async with http.get(doc.entries[0].link) as resp:
                    assert resp.status == 200
                    assert doc.entries[0].title.split()[0] in await resp.text()

                clock.now += 4.0 * 12  # enough releases for demo-trend to get a new item
                async with http.get(url, headers={"If-None-Match": etag}) as resp:
                    assert resp.status == 200 and resp.headers["ETag"] != etag
                    assert len(feedparser.parse(await resp.read()).entries) > len(doc.entries)

                async with http.get(f"{base}/feeds/nope.xml") as resp:
                    assert resp.status == 404
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
