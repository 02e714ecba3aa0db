"""Acceptance: every file of ../shared/corpora/feedparser-tests/ and real-feeds/, served over HTTP
and polled, ends with a status and no crash; where feedparser finds entries, newsmon produces the
same number of articles.

Two documented differences: at most ``max_entries_per_feed`` articles per poll, and an entry with
neither a title nor any text (summary or content, once HTML markup is removed: an entry that is
only an image or an SVG) is skipped, since there is nothing to classify or show. The expected
count below applies the same two rules to feedparser's own output.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import feedparser
import pytest

from pipeline import keys
from pipeline.config import load_config
from pipeline.core import outcomes as oc
from pipeline.core.text import plain_text
from pipeline.poller import Poller
from pipeline.queueing import client_app
from pipeline.settings import Settings
from pipeline.store import Store
from tests.conftest import corpus_files
from tests.helpers.feedserver import FeedServer, Route

pytestmark = pytest.mark.slow

MAX_ENTRIES = 500


def has_text(entry: dict) -> bool:
    texts = [entry.get("title") or "", entry.get("summary") or ""]
    texts += [c.get("value") or "" for c in entry.get("content") or []][:1]
    return any(plain_text(t).strip() for t in texts)


def expected_articles(body: bytes) -> int | None:
    # With newsmon's settings: it strips HTML itself, so feedparser's sanitiser is off.
    doc = feedparser.parse(
        body,
        response_headers={"content-type": "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = doc.get("entries") or []
    if not entries:
        return None
    return min(MAX_ENTRIES, sum(1 for e in entries[:MAX_ENTRIES] if has_text(e)))


def test_every_corpus_file_polls_to_a_status(
    store: Store, redis_url: str, config_dir: Path, feed_server: FeedServer
) -> None:
    files = corpus_files()
    assert len(files) > 2000
    lines = ["feeds:"]
    for i, path in enumerate(files):
        feed_server.set(f"/c/{i}", Route(path.read_bytes(), content_type="application/xml"))
        lines += [f"  - id: c{i}", f"    name: c{i}", f"    url: {feed_server.url(f'/c/{i}')}"]
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")
    settings = Settings(
        redis_url=redis_url,
        config_dir=config_dir,
        host_min_spacing=0.0,
        host_max_in_flight=64,
        poll_concurrency=32,
        max_entries_per_feed=MAX_ENTRIES,
    )
    config = load_config(config_dir)

    async def main() -> list:
        async with Poller(settings, config, store, client_app(settings, redis_url)) as poller:
            return await poller.run_once()

    outcomes = {o.feed_id: o for o in asyncio.run(main())}
    assert len(outcomes) == len(files)
    mismatches = []
    for i, path in enumerate(files):
        outcome = outcomes[f"c{i}"]
        assert outcome.status in oc.STATUSES and oc.is_reason(outcome.reason), (path, outcome)
        assert outcome.reason != "internal", (path, outcome.error)
        expected = expected_articles(path.read_bytes())
        if expected is not None:
            got = outcome.new_articles if outcome.status == oc.OK else 0
            if got != expected:
                mismatches.append((str(path), expected, got, outcome.status, outcome.error))
    assert not mismatches, mismatches[:20]
    assert store.r.llen(keys.ARTICLES_QUEUE) > 0
