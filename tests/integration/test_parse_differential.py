"""Differential test of parse_feed's fast path against feedparser, the reference.

For every file of ../shared/corpora/feedparser-tests/ and real-feeds/, under the content types
and base URLs the poller passes, wherever parse_feed reads the document with the fast path
(after its charset repair) its ParsedFeed must equal the one built from feedparser: every
Article field (id, URL, canonical URL, GUID, title, summary, language, published date, content
hash) and the feed's title, hints, hub, self URL, entry count, publication times and error. The
same check then runs on generated feeds (tests/pipeline/core/test_parse.py), which mix the
shapes the fast path models in orders the corpora do not hold.
"""

from __future__ import annotations

import pytest

from pipeline.core.parse import parse_feed
from tests.conftest import corpus_files
from tests.pipeline.core.test_parse import fast_path_mismatches, generated_feeds

pytestmark = pytest.mark.slow

VARIANTS = [
    ("application/xml", ""),
    ("application/rss+xml; charset=UTF-8", "http://news.test/feeds/rss.xml"),
    ("text/xml; charset=utf-8", "http://news.test/a/b/"),
    ("", ""),
]
#: Files the fast path took when this test was last tightened: it must not quietly take fewer.
MIN_TAKEN, MIN_REAL_TAKEN = 870, 34


@pytest.mark.parametrize(("content_type", "base_url"), VARIANTS)
def test_fast_path_equals_feedparser(content_type: str, base_url: str) -> None:
    files = corpus_files()
    assert len(files) > 2000
    accepted, real_accepted, mismatches = 0, 0, []
    for path in files:
        body = path.read_bytes()
        kwargs = dict(source="s", content_type=content_type, base_url=base_url, fetched_at=1.0)
        fast = parse_feed(body, **kwargs)
        if not fast.fast_path:
            continue
        accepted += 1
        real_accepted += "real-feeds" in path.parts
        reference = parse_feed(body, fast=False, **kwargs)
        if fast != reference:
            mismatches.append(str(path))
    print(f"\n{content_type or '(no type)'}: fast path took {accepted} of {len(files)} files")
    print(f"  ({real_accepted} real feeds)")
    assert not mismatches, mismatches[:20]
    assert accepted >= MIN_TAKEN and real_accepted >= MIN_REAL_TAKEN


@pytest.mark.parametrize("seed", range(2))
def test_fast_path_equals_feedparser_on_many_generated_feeds(seed: int) -> None:
    taken, mismatches = fast_path_mismatches(generated_feeds(seed=1000 + seed, count=500))
    assert taken > 800
    assert not mismatches, mismatches[0].decode()
