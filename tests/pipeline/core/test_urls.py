"""Canonical URLs and the exact-identity fallback chain."""

from __future__ import annotations

import pytest

from pipeline.core.identity import exact_keys, new_article
from pipeline.core.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "https://News.Example.test/a/1?utm_source=rss&utm_medium=feed",
            "https://news.example.test/a/1",
        ),
        (
            "https://example.test:443/a?id=7&fbclid=xyz&gclid=1#comments",
            "https://example.test/a?id=7",
        ),
        ("http://example.test:80/a", "http://example.test/a"),
        ("http://example.test:8080/a", "http://example.test:8080/a"),
        ("https://example.test/a?at_medium=RSS&maca=en-rss", "https://example.test/a"),
        ("https://example.test/news/x/amp", "https://example.test/news/x"),
        ("https://example.test/amp/news/x", "https://example.test/news/x"),
        ("https://example.test/news/x.amp.html", "https://example.test/news/x.html"),
        ("https://example.test/news/x?amp=1&page=2", "https://example.test/news/x?page=2"),
        ("https://example.test/campaign/amp-lifts", "https://example.test/campaign/amp-lifts"),
        ("https://example.test", "https://example.test/"),
        ("ftp://example.test/a", "ftp://example.test/a"),
        ("http://[bad", "http://[bad"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_identity_chain_url_then_guid_then_content() -> None:
    # Team-written texts.
    with_url = new_article("feed", "https://a.test/1?utm_source=x", "Title", "Text", guid="g1")
    assert exact_keys(
        with_url.source, with_url.canonical_url, with_url.guid, with_url.content_hash
    )[0].startswith("url:")
    same_page = new_article("other-feed", "https://a.test/1", "Another title", "Other text")
    assert same_page.id == with_url.id  # one page, one article, whichever feed carried it
    guid_only = new_article("feed", "", "Title", "Text", guid="g1")
    assert exact_keys("feed", "", "g1", guid_only.content_hash)[0].startswith("guid:")
    # A link shared by every entry of a feed identifies none of them: the text does.
    shared = new_article("feed", "https://a.test/", "Title", "Text", url_identifies=False)
    assert shared.canonical_url == "" and shared.url == "https://a.test/"
    assert exact_keys("feed", "", "", shared.content_hash)[0].startswith("content:")
