"""Feed parsing: XML safety, publisher hints, HTML pages that link to their feed, caps."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.parse import alternate_feed_link, defuse_doctype, parse_feed

SECRET = "NEWSMON-LOCAL-SECRET-7f3a"


def rss(items: str, channel_extra: str = "", doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
        f"<link>http://example.test/</link>{channel_extra}{items}</channel></rss>"
    ).encode()


def item(n: int, title: str | None = None, desc: str = "text") -> str:
    title = f"Story {n}" if title is None else title
    return (
        f"<item><title>{title}</title><link>http://example.test/{n}</link>"
        f"<description>{desc}</description>"
        f"<pubDate>Wed, 10 Jan 2024 0{n % 10}:00:00 GMT</pubDate></item>"
    )


def test_external_entity_never_reads_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    parsed = parse_feed(rss(item(1, "a &xxe; b", "d &xxe;"), doctype=doctype), source="x")
    assert parsed.defused
    for article in parsed.articles:
        assert SECRET not in article.title + article.summary + article.url


def test_external_entity_leaks_nothing_even_without_our_defusing(tmp_path: Path) -> None:
    """feedparser on its own must not resolve it either (checks the second wall)."""
    import feedparser

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    doc = feedparser.parse(rss(item(1, "a &xxe; b", "d &xxe;"), doctype=doctype))
    assert SECRET not in repr(doc)


def test_billion_laughs_is_not_expanded() -> None:
    decls = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE rss [" + "".join(decls) + "]>"
    parsed = parse_feed(rss(item(1, "&lol9;"), doctype=doctype), source="x")
    assert parsed.defused
    assert all(len(a.title) < 100 for a in parsed.articles)


def test_harmless_entities_are_kept() -> None:
    body = rss(item(1, "a&nbsp;b"), doctype='<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>')
    assert defuse_doctype(body) == (body, False)
    assert parse_feed(body, source="x").articles[0].title == "a b"


def test_publisher_hints_and_hub() -> None:
    extra = (
        "<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
        "<sy:updateFrequency>2</sy:updateFrequency>"
        '<atom:link rel="hub" href="http://hub.test/"/>'
        '<atom:link rel="self" href="http://example.test/feed.xml"/>'
    )
    parsed = parse_feed(rss(item(1) + item(2), channel_extra=extra), source="x")
    assert (parsed.ttl, parsed.update_period, parsed.update_frequency) == ("30", "hourly", "2")
    assert parsed.hub == "http://hub.test/" and parsed.self_url == "http://example.test/feed.xml"
    assert len(parsed.published_times) == 2


def test_html_page_is_not_a_feed_and_offers_the_linked_feed() -> None:
    page = (
        b"<!doctype html><html><head><title>News</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
        b"<body><p>Hello</p></body></html>"
    )
    parsed = parse_feed(page, source="x", content_type="text/html", base_url="http://n.test/a/")
    assert not parsed.is_feed
    assert parsed.feed_link == "http://n.test/rss.xml"
    assert alternate_feed_link(b"<html><body>nothing</body></html>") == ""


def test_empty_body_is_not_a_feed() -> None:
    parsed = parse_feed(b"  \n", source="x")
    assert not parsed.is_feed and "empty" in parsed.error


def test_entry_cap_and_entries_without_text() -> None:
    body = rss("".join(item(i) for i in range(10)) + item(99, "", ""))
    parsed = parse_feed(body, source="x", max_entries=4)
    assert len(parsed.articles) == 4 and parsed.total_entries == 11
    all_ = parse_feed(body, source="x")
    assert len(all_.articles) == 10  # the entry with neither title nor text is skipped


def test_fast_path_takes_plain_rss_and_equals_feedparser() -> None:
    from pipeline.core.parse import fast_feed

    body = rss("".join(item(i) for i in range(5)) + "<item><guid>http://g.test/x</guid></item>")
    assert fast_feed(body, content_type="application/rss+xml") is not None
    kwargs = dict(source="x", content_type="application/rss+xml", base_url="http://example.test/f")
    assert parse_feed(body, **kwargs) == parse_feed(body, fast=False, **kwargs)


def test_fast_path_declines_what_it_does_not_reproduce() -> None:
    from pipeline.core.parse import fast_feed

    plain = rss(item(1))
    assert fast_feed(plain) is not None
    declined = [
        rss(item(1), doctype='<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>'),
        plain.replace(b"<title>Story 1", b'<title type="xhtml">Story 1'),
        plain.replace(b"<title>Story 1</title>", b"<title>Story <b>1</b></title>"),
        plain.replace(b"<channel>", b'<channel xml:base="http://elsewhere.test/">'),
        plain.replace(b"</item>", b"<source url='http://s.test/'>S</source></item>"),
        plain.replace(
            b"</item>",
            b'<georss:point xmlns:georss="http://www.georss.org/georss">1 2</georss:point></item>',
        ),
        b'<feed xmlns="http://purl.org/atom/ns#" version="0.3"><title>t</title></feed>',
        b"  " + plain,  # whitespace before the XML declaration: feedparser's expat refuses it
        plain.replace(b"</channel>", b""),  # not well-formed
    ]
    assert [fast_feed(body) for body in declined] == [None] * len(declined)
    assert fast_feed(plain, content_type="text/xml") is None  # feedparser assumes us-ascii
    assert fast_feed(plain, content_type="text/html") is None
