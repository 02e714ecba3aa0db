"""Feed parsing: XML safety, publisher hints, HTML pages that link to their feed, caps."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
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
    fast, reference = parse_feed(body, **kwargs), parse_feed(body, fast=False, **kwargs)
    assert fast.fast_path and not reference.fast_path  # says which parser read it
    assert fast == reference


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
            b"</item>", b"<psc:chapters xmlns:psc='http://podlove.org/simple-chapters'/></item>"
        ),
        b'<feed xmlns="http://purl.org/atom/ns#" version="0.3"><title>t</title></feed>',
        b"  " + plain,  # whitespace before the XML declaration: feedparser's expat refuses it
        plain.replace(b"</channel>", b""),  # not well-formed
    ]
    assert [fast_feed(body) for body in declined] == [None] * len(declined)
    assert fast_feed(plain, content_type="text/xml") is None  # feedparser assumes us-ascii
    assert fast_feed(plain, content_type="text/html") is None


# --- generated feeds: the fast path against feedparser beyond the corpora -------------------------
# Random mixes of the shapes the fast path models (nested media titles and descriptions, repeated
# descriptions, content:encoded, guids with and without isPermaLink, relative links, typed and
# base64-looking text, mojibake, languages, images, hub/self links; RSS 2.0, Atom 1.0, RSS 1.0),
# in random order, so that the handler rules it reproduces are checked in combinations the corpora
# do not hold. Each rule, when broken on purpose, fails this test.

NAMESPACES = (
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:x="http://example.test/ns" '
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:georss="http://www.georss.org/georss"'
)
TEXTS = [
    "",
    "  Plain words  ",
    "<![CDATA[<p>Some <b>html</b> &amp; more</p>]]>",
    "caf\u00c3\u00a9 mojibake",
    "\u20ac price \u0093quoted\u0094",
    "a &amp;amp; b",
    "U29tZSB0ZXh0",  # valid base64
    "\u041f\u0440\u0438\u0432\u0435\u0442",
    "x &lt;i&gt;y&lt;/i&gt;",
]
URLS = [
    "http://example.test/a?x=1&amp;y=2",
    "/relative/path",
    "rel2",
    "",
    "  http://example.test/b  ",
    "https://example.test/c&amp;d;e",
    "tag:example.test,2024:1",
]
DATES = [
    "Wed, 10 Jan 2024 08:00:00 GMT",
    "2024-01-11T09:02:11Z",
    "",
    "garbage",
    "10 Jan 2024 +0300",
]
TEXT_TYPES = ['type="html"', 'type="text"', 'type="plain"', 'type="text/html"', 'type="image/png"']
PERMALINK = ["", ' isPermaLink="false"', ' isPermaLink="true"', ' isPermaLink="True"']
LINK_ATTRS = [
    "",
    ' rel="alternate"',
    ' rel="related"',
    ' type="text/html"',
    ' type="application/pdf"',
]


def _pick(r: random.Random, count: tuple[int, int], makers: list[Callable[[], str]]) -> str:
    return "".join(r.choice(makers)() for _ in range(r.randint(*count)))


def _text(r: random.Random) -> str:
    return r.choice(TEXTS)


def _typed(r: random.Random, tag: str) -> str:
    attrs = " " + r.choice([*TEXT_TYPES, 'mode="base64"']) if r.random() < 0.3 else ""
    return f"<{tag}{attrs}>{_text(r)}</{tag}>"


def _media_content(r: random.Random) -> str:
    inner = _pick(
        r,
        (0, 3),
        [
            lambda: _typed(r, "media:title"),
            lambda: _typed(r, "media:description"),
            lambda: '<media:credit scheme="urn:x">Credit</media:credit>',
            lambda: '<media:thumbnail url="http://img.test/t.jpg"/>',
            lambda: f"<media:text>{_text(r)}</media:text>",
            lambda: f"<title>{_text(r)}</title>",
            lambda: f"<link>{r.choice(URLS)}</link>",
        ],
    )
    return f'<media:content url="http://img.test/{r.randint(0, 9)}.jpg">{inner}</media:content>'


def _rss_item(r: random.Random, about: str = "") -> str:
    rel = r.choice(["alternate", "standout", "enclosure"])
    children = _pick(
        r,
        (0, 9),
        [
            lambda: _typed(r, "title"),
            lambda: f"<link>{r.choice(URLS)}</link>",
            lambda: _typed(r, "description"),
            lambda: f"<content:encoded>{_text(r)}</content:encoded>",
            lambda: f"<guid{r.choice(PERMALINK)}>{r.choice(URLS)}</guid>",
            lambda: f"<pubDate>{r.choice(DATES)}</pubDate>",
            lambda: f"<dc:date>{r.choice(DATES)}</dc:date>",
            lambda: f"<dc:creator>{_text(r)}</dc:creator>",
            lambda: f'<category domain="http://cat.test/">{_text(r)}</category>',
            lambda: '<enclosure url="http://e.test/a.mp3" type="audio/mpeg" length="1"/>',
            lambda: _media_content(r),
            lambda: f"<media:group>{_media_content(r)}{_media_content(r)}</media:group>",
            lambda: f"<media:title>{_text(r)}</media:title>",
            lambda: f"<media:description>{_text(r)}</media:description>",
            lambda: f'<atom:link rel="{rel}" href="{r.choice(URLS) or "x"}"/>',
            lambda: f"<language>{r.choice(['fr', 'en-GB', ''])}</language>",
            lambda: f"<dc:language>{r.choice(['de', 'pt_BR'])}</dc:language>",
            lambda: f"<x:extra>{_text(r)}</x:extra>",
            lambda: f"<x:wrap><title>{_text(r)}</title><x:in>{_text(r)}</x:in></x:wrap>",
            lambda: f"<comments>{r.choice(URLS)}</comments>",
            lambda: f"<copyright>{_text(r)}</copyright>",
            lambda: f"<itunes:summary>{_text(r)}</itunes:summary>",
            lambda: f"<dc:title>{_text(r)}</dc:title>",
            lambda: f"<author>{_text(r)}</author>",
            lambda: f"<georss:point>{r.choice(['45.2 -1.5', 'nonsense', ''])}</georss:point>",
            lambda: '<media:thumbnail url="http://t.test/"><x:img src="i.png"/></media:thumbnail>',
        ],
    )
    about = f' rdf:about="{about}"' if about else ""
    return f"<item{about}>{children}</item>"


def _channel_children(r: random.Random, link_tag: str = "atom:link") -> str:
    rel = r.choice(["hub", "self", "alternate"])
    return _pick(
        r,
        (0, 6),
        [
            lambda: f"<title>{_text(r)}</title>",
            lambda: f"<link>{r.choice(URLS)}</link>",
            lambda: f"<description>{_text(r)}</description>",
            lambda: f"<language>{r.choice(['fr', 'en-GB', 'pt_BR', ''])}</language>",
            lambda: f"<dc:language>{r.choice(['de', 'es'])}</dc:language>",
            lambda: f"<ttl>{r.choice(['30', ' 60 ', ''])}</ttl>",
            lambda: (
                "<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>"
            ),
            lambda: f'<{link_tag} rel="{rel}" href="{r.choice(URLS) or "h"}"/>',
            lambda: f"<image><title>{_text(r)}</title><url>http://i.test/l.png</url></image>",
            lambda: "<lastBuildDate>Wed, 10 Jan 2024 08:00:00 GMT</lastBuildDate>",
            lambda: "<generator>gen</generator><copyright>c</copyright>",
            lambda: f'<x:meta a="1">{_text(r)}</x:meta>',
        ],
    )


def _rss_document(r: random.Random) -> bytes:
    items = "".join(_rss_item(r) for _ in range(r.randint(0, 5)))
    lang = r.choice(["", ' xml:lang="it"', ' xml:base="http://base.test/dir/"', ' xml:base="sub/"'])
    channel = f"{_channel_children(r)}{items}{_channel_children(r)}"
    start = r.choice(['<?xml version="1.0" encoding="utf-8"?>\n', "", "\ufeff", "\n  "])
    return (
        f'{start}<rss version="2.0" {NAMESPACES}{lang}><channel>{channel}</channel></rss>'.encode()
    )


def _atom_entry(r: random.Random) -> str:
    return (
        "<entry>"
        + _pick(
            r,
            (0, 8),
            [
                lambda: f"<title {r.choice(TEXT_TYPES[:2])}>{_text(r)}</title>",
                lambda: f'<link href="{r.choice(URLS) or "l"}"{r.choice(LINK_ATTRS)}/>',
                lambda: (
                    f'<link href="/l"><media:content><media:title>{_text(r)}</media:title>'
                    "</media:content></link>"
                ),
                lambda: f"<id>{r.choice(URLS)}</id>",
                lambda: f"<updated>{r.choice(DATES)}</updated>",
                lambda: f"<published>{r.choice(DATES)}</published>",
                lambda: f"<summary {r.choice(TEXT_TYPES[:2])}>{_text(r)}</summary>",
                lambda: f"<content {r.choice(TEXT_TYPES)}>{_text(r)}</content>",
                lambda: (
                    "<author><name>N</name><email>e@x.test</email><uri>http://a.test/</uri></author>"
                ),
                lambda: '<category term="t" scheme="http://s.test/"/>',
                lambda: (
                    f'<media:thumbnail url="http://m.test/x.jpg"/><media:title>{_text(r)}</media:title>'
                ),
                lambda: f"<dc:language>{r.choice(['de', 'pt_BR'])}</dc:language>",
            ],
        )
        + "</entry>"
    )


def _atom_document(r: random.Random) -> bytes:
    rel = r.choice(["self", "hub", "alternate"])
    head = _pick(
        r,
        (0, 5),
        [
            lambda: f"<title>{_text(r)}</title>",
            lambda: f'<link rel="{rel}" href="{r.choice(URLS) or "h"}"/>',
            lambda: "<id>urn:feed</id><updated>2024-01-11T09:02:11Z</updated>",
            lambda: f"<subtitle>{_text(r)}</subtitle>",
            lambda: '<author><name>N</name></author><generator uri="http://g.test/">G</generator>',
        ],
    )
    entries = "".join(_atom_entry(r) for _ in range(r.randint(0, 5)))
    lang = r.choice(["", ' xml:lang="fr"', ' xml:lang="en_US"', ' xml:lang=""'])
    namespaces = NAMESPACES.replace('xmlns:atom="http://www.w3.org/2005/Atom" ', "")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom" {namespaces}{lang}>{head}{entries}</feed>'
    ).encode()


def _rdf_document(r: random.Random) -> bytes:
    items = "".join(
        _rss_item(r, r.choice(URLS) or "http://r.test/") for _ in range(r.randint(0, 5))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns="http://purl.org/rss/1.0/" {NAMESPACES}>'
        f'<channel rdf:about="http://r.test/">{_channel_children(r, "x:link")}'
        '<items><rdf:Seq><rdf:li rdf:resource="http://r.test/1"/></rdf:Seq></items>'
        '<image rdf:resource="http://r.test/i.png"/></channel>'
        f'<image rdf:about="http://r.test/i.png"><title>{_text(r)}</title>'
        f"<url>http://r.test/i.png</url></image>{items}</rdf:RDF>"
    ).encode()


def generated_feeds(seed: int, count: int) -> Iterator[bytes]:
    r = random.Random(seed)
    makers = [_rss_document, _rss_document, _atom_document, _rdf_document]
    for _ in range(count):
        yield r.choice(makers)(r)


def fast_path_mismatches(bodies: Iterable[bytes]) -> tuple[int, list[bytes]]:
    """(documents the fast path took, those where its result differs from feedparser's)."""
    taken, mismatches = 0, []
    for body in bodies:
        for content_type, base_url in (
            ("application/rss+xml", "http://news.test/feeds/rss.xml"),
            ("application/xml", ""),
        ):
            kwargs = dict(source="s", content_type=content_type, base_url=base_url)
            fast = parse_feed(body, **kwargs)
            if not fast.fast_path:
                continue
            taken += 1
            if fast != parse_feed(body, fast=False, **kwargs):
                mismatches.append(body)
    return taken, mismatches


def test_fast_path_equals_feedparser_on_generated_feeds() -> None:
    taken, mismatches = fast_path_mismatches(generated_feeds(seed=7, count=150))
    assert taken > 250  # the generator stays within what the fast path models
    assert not mismatches, mismatches[0].decode()
