"""Feed bytes to normalised Articles, with feedparser. Pure: no network, no clock.

Runs in the poller's process pool, so everything it returns is picklable plain data.
"""

from __future__ import annotations

import calendar
import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser.api
import feedparser.datetimes
import feedparser.encodings
import feedparser.mixin
import feedparser.urls

from pipeline.core.identity import new_article
from pipeline.core.models import Article
from pipeline.core.text import normalise_space, plain_text

#: Longest summary kept per article, in characters (a lede, not the whole page).
MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 500


@dataclass(slots=True)
class ParsedFeed:
    articles: list[Article] = field(default_factory=list)
    #: True when the bytes are a feed feedparser understood (possibly with recoverable errors).
    is_feed: bool = True
    #: Why the bytes are not a usable feed, or a recoverable problem ("bozo") worth recording.
    error: str = ""
    title: str = ""
    #: Entries in the document before the per-feed cap was applied.
    total_entries: int = 0
    #: Publication times (unix seconds) of every dated entry, for the adaptive schedule.
    published_times: list[float] = field(default_factory=list)
    #: Publisher hints, raw: RSS <ttl> (minutes), sy:updatePeriod, sy:updateFrequency.
    ttl: str = ""
    update_period: str = ""
    update_frequency: str = ""
    #: WebSub hub and self URL the feed advertises, if any.
    hub: str = ""
    self_url: str = ""
    #: For an HTML page: the feed it links to with <link rel="alternate">, if any.
    feed_link: str = ""
    #: True when a DOCTYPE declaring external or nested entities was neutralised.
    defused: bool = False


def _iso_utc(struct: time.struct_time | None) -> str:
    if not struct:
        return ""
    try:
        seconds = calendar.timegm(struct)
    except (OverflowError, ValueError, TypeError):
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _timestamp(struct: time.struct_time | None) -> float | None:
    if not struct:
        return None
    try:
        return float(calendar.timegm(struct))
    except (OverflowError, ValueError, TypeError):
        return None


# --- XML safety -----------------------------------------------------------------------------------
# feedparser (6.0.x) already drops DOCTYPE entity declarations other than simple text ones before
# expat sees them, and expat refuses external entities; this is a second, version-independent wall:
# an internal DTD subset that declares external (SYSTEM/PUBLIC) or nested entities is removed
# before parsing, so neither an XXE nor a "billion laughs" can reach the parser.
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s*)?[^\s>]+\s+(.*?)>", re.IGNORECASE | re.DOTALL)
_HEAD = 64 * 1024


def _unsafe_entity(declaration: re.Match[bytes]) -> bool:
    parameter, rest = declaration.group(1), declaration.group(2).lstrip()
    if parameter or rest[:6].upper() in (b"SYSTEM", b"PUBLIC"):
        return True
    return re.search(rb"&[A-Za-z_:%]", rest) is not None  # refers to other entities


def defuse_doctype(body: bytes) -> tuple[bytes, bool]:
    """``body`` with an unsafe internal DTD subset removed, and whether one was."""
    head = body[:_HEAD]
    match = _DOCTYPE_SUBSET.search(head)
    if match is None:
        if b"<!ENTITY" in head.upper() and b"<!DOCTYPE" in head.upper():
            # A DOCTYPE subset we could not delimit (e.g. unterminated): drop the declarations.
            cleaned = re.sub(rb"<!ENTITY[^>]*>", b"", head, flags=re.IGNORECASE)
            return cleaned + body[_HEAD:], True
        return body, False
    if not any(_unsafe_entity(d) for d in _ENTITY_DECL.finditer(match.group(1))):
        return body, False
    return body[: match.start()] + body[match.end() :], True


# --- charsets that lie ---------------------------------------------------------------------
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._-]+)([\"'])")
_CT_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", re.IGNORECASE)


def _declared_charset(body: bytes, content_type: str) -> str:
    match = _CT_CHARSET.search(content_type)
    if match:
        return match.group(1).lower()
    decl = _XML_DECL.match(body[:512])
    return decl.group(2).decode("ascii").lower() if decl else "utf-8"


def repair_charset(body: bytes, content_type: str) -> tuple[bytes, str, str]:
    """A body declared UTF-8 that is not UTF-8 is re-encoded from the charset it really is.

    feedparser would fall back to windows-1252 and produce mojibake for, say, Cyrillic sent as
    windows-1251 under a UTF-8 header. Returns (body, content type, note of what was done).
    """
    if body[:3] == b"\xef\xbb\xbf" or body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body, content_type, ""  # a byte-order mark says it all
    if _declared_charset(body, content_type).replace("_", "-") not in ("utf-8", "utf8"):
        return body, content_type, ""
    try:
        body.decode("utf-8")
        return body, content_type, ""
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[: 512 * 1024]).best()
    if best is None or best.encoding.replace("_", "-") in ("utf-8", "ascii"):
        return body, content_type, ""
    text = body.decode(best.encoding, errors="replace")
    fixed = _XML_DECL.sub(rb"\g<1>utf-8\g<3>", text.encode("utf-8"), count=1)
    content_type = _CT_CHARSET.sub("charset=utf-8", content_type)
    return fixed, content_type, f"declared UTF-8 but was {best.encoding}"


# --- HTML pages that link to their feed -----------------------------------------------------------
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        if (
            "alternate" in rels
            and a.get("type", "").lower().strip() in _FEED_TYPES
            and a.get("href")
        ):
            self.links.append(a["href"].strip())


def alternate_feed_link(body: bytes, base_url: str = "") -> str:
    """The first feed an HTML page links to with ``<link rel="alternate" type="…rss+xml">``."""
    text = body[: 256 * 1024].decode("utf-8", errors="replace")
    finder = _AlternateLinks()
    try:
        finder.feed(text)
        finder.close()
    except Exception:  # noqa: BLE001 - a broken page offers no link
        return ""
    for href in finder.links:
        url = urljoin(base_url, href) if base_url else href
        if url.startswith(("http://", "https://")):
            return url
    return ""


def _entry_text(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    text = normalise_space(plain_text(summary))
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[:MAX_SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
    return text


# --- fast path ------------------------------------------------------------------------------------
# feedparser is the reference, but it spends about 1 ms per entry in pure Python. The common case,
# a well-formed RSS 2.0 document in UTF-8 with plain items, is read here with lxml and given to the
# same article-building code as feedparser's result, reproducing what feedparser 6.0 makes of each
# field we use (whitespace stripping, URI joining, its latin-1 and cp1252 repairs, the guid that
# stands in for a missing link, its date parser). Anything this reader does not know exactly (a
# DOCTYPE, xml:base/xml:lang, Atom, RDF, another charset, an element feedparser maps onto a field
# we read, markup inside a text element, a repeated field) returns None, and feedparser parses the
# document. tests/integration/test_parse_differential.py checks both give the same result on every
# file of both corpora.

_FP = feedparser.api.StrictFeedParser
#: feedparser's prefix for each namespace it knows ("" = treated as RSS/Atom core elements).
_FP_PREFIXES = {uri.lower(): prefix for uri, prefix in _FP.namespaces.items()}
_XML_ENC = feedparser.encodings.RE_XML_PI_ENCODING
_UTF8 = ("utf-8", "utf8")
#: Keys of an entry that the article builder reads or that feedparser derives them from.
_RESERVED = frozenset(
    "title link id guid summary description content published updated language links "
    "published_parsed updated_parsed".split()
)
#: Elements with a feedparser handler known to leave the fields we read alone.
_HARMLESS = frozenset(
    "category author comments enclosure dc_creator dc_subject media_content media_thumbnail "
    "media_category media_credit".split()
)
#: Item elements this reader interprets: feedparser key -> our field.
_ITEM_FIELDS = {
    "title": "title",
    "link": "link",
    "guid": "id",
    "description": "description",
    "content_encoded": "content",
    "pubdate": "published",
    "dc_date": "updated",
}
#: Channel elements that could replace the fields we read from the channel.
_CHANNEL_UNSAFE = frozenset(
    "dc_title media_title itunes_title item entry source content_encoded body xhtml_body "
    "fullitem dc_description".split()
)
_CHANNEL_FIELDS = {
    "title": "title",
    "language": "language",
    "dc_language": "language",
    "ttl": "ttl",
    "sy_updateperiod": "sy_updateperiod",
    "sy_updatefrequency": "sy_updatefrequency",
}
_LXML_PARSER = None


class _Unusual(Exception):
    """Something the fast path does not reproduce exactly: feedparser takes the document."""


def _lxml_parser():  # noqa: ANN202 - lxml is imported lazily
    global _LXML_PARSER
    if _LXML_PARSER is None:
        from lxml import etree

        _LXML_PARSER = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            huge_tree=False,
            recover=False,
            strip_cdata=True,
        )
    return _LXML_PARSER


def _fp_key(el: Any) -> str:
    """The name feedparser dispatches an element on (``_start_<key>``): prefix_local, lowercased."""
    tag = el.tag
    if not isinstance(tag, str):
        raise _Unusual("not an element")
    if tag[0] == "{":
        uri, local = tag[1:].split("}", 1)
        prefix = _FP_PREFIXES.get(uri.lower(), el.prefix)
        if "backend.userland.com/rss" in uri.lower():
            prefix = ""
    else:
        prefix, local = "", tag
    local = local.lower()
    return f"{prefix.lower()}_{local}" if prefix else local


def _fp_text(el: Any, base: str = "", uri: bool = False, attrs_ok: bool = False) -> str:
    """An element's text as feedparser's ``pop`` leaves it (sanitising and URI resolution off)."""
    if len(el) or (el.attrib and not attrs_ok):
        raise _Unusual("markup or attributes in a text element")
    out = (el.text or "").strip()
    if uri and out:
        out = feedparser.urls._urljoin(base, out)
    if not out.isascii():  # feedparser's repair of UTF-8 read as latin-1
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(feedparser.mixin._cp1252)


def _fast_encoding_ok(body: bytes, content_type: str, base_url: str) -> bool:
    """True when feedparser would decode ``body`` as UTF-8 without complaint and lxml agrees."""
    if body[:1] != b"<":
        return False  # a BOM, leading space or other bytes: leave the sniffing to feedparser
    match = _XML_ENC.match(body)
    xml_encoding = match.group(1).decode("ascii", "replace").lower() if match else ""
    if xml_encoding not in ("", *_UTF8):
        return False
    mime, charset = feedparser.encodings.parse_content_type(content_type)
    if not content_type:
        if base_url:  # feedparser then sees headers without a Content-Type: a bozo
            return False
        encoding = xml_encoding or "utf-8"
    elif mime in ("application/xml", "application/xml-dtd") or (
        mime.startswith("application/") and mime.endswith("+xml")
    ):
        encoding = charset or xml_encoding or "utf-8"
    elif mime == "text/xml" or (mime.startswith("text/") and mime.endswith("+xml")):
        encoding = charset
    else:
        return False
    return encoding.lower() in _UTF8


def _safe_base(base_url: str) -> str:
    base = base_url
    for _ in range(8):
        if not base:
            return base
        nxt = feedparser.urls.make_safe_absolute_uri(base, base) or base
        if nxt == base:
            return base
        base = nxt
    raise _Unusual("base URI does not settle")


def _check_attrs(el: Any) -> None:
    for key in el.attrib:
        low = key.lower()
        if low in ("base", "lang") or low.startswith("{http://www.w3.org/xml/1998/namespace}"):
            raise _Unusual("xml:base or xml:lang")


def _link_attrs(el: Any) -> dict[str, str] | None:
    """An Atom-style link's attributes as feedparser keeps them, or None for an RSS text link."""
    attrs = {}
    for key, value in el.attrib.items():
        if key[0] == "{":
            raise _Unusual("namespaced attribute on a link")
        low = key.lower()
        attrs[low] = value.lower() if low in ("rel", "type") else value
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if not href:
        if attrs:
            raise _Unusual("link with attributes but no href")
        return None
    attrs.setdefault("rel", "alternate")
    attrs["href"] = href
    return attrs


def _fast_item(item: Any, base: str) -> dict[str, Any]:
    _check_attrs(item)
    if item.attrib:
        raise _Unusual("attributes on an item")
    seen: dict[str, Any] = {}
    guid_is_link = False
    for child in item:
        _check_attrs(child)
        key = _fp_key(child)
        if key == "link" and child.attrib:
            attrs = _link_attrs(child)
            if attrs is not None:
                if attrs["rel"] == "alternate" or len(child):
                    raise _Unusual("alternate link element in an item")
                continue
        field_ = _ITEM_FIELDS.get(key)
        if field_ is not None:
            if field_ in seen:
                raise _Unusual(f"repeated {key}")
            if key == "guid":
                attrs = {k.lower(): v for k, v in child.attrib.items()}
                if set(attrs) - {"ispermalink"}:
                    raise _Unusual("guid attributes")
                guid_is_link = attrs.get("ispermalink", "true") == "true"
                seen[field_] = _fp_text(child, base, uri=guid_is_link, attrs_ok=True)
            else:
                seen[field_] = _fp_text(child, base, uri=key == "link")
            continue
        if len(child):
            raise _Unusual(f"nested elements in {key}")
        if key in _HARMLESS:
            continue
        if key in _RESERVED or hasattr(_FP, "_start_" + key) or hasattr(_FP, "_end_" + key):
            raise _Unusual(f"item element {key}")
        if "_" not in key and child.attrib:
            raise _Unusual(f"unknown element {key} with attributes")
    entry: dict[str, Any] = {}
    if "title" in seen:
        entry["title"] = seen["title"]
    if "link" in seen:
        link = seen["link"].replace("&amp;", "&")
        entry["link"] = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", link)
    elif "id" in seen and guid_is_link:
        entry["link"] = seen["id"]
    if "id" in seen:
        entry["id"] = seen["id"]
    if "content" in seen:
        entry["content"] = [{"value": seen["content"]}]
    if "description" in seen:
        entry["summary"] = seen["description"]
    elif "content" in seen:
        entry["summary"] = seen["content"]
    if "published" in seen:
        entry["published_parsed"] = feedparser.datetimes._parse_date(seen["published"])
    if "updated" in seen:
        entry["updated_parsed"] = feedparser.datetimes._parse_date(seen["updated"])
    return entry


def fast_rss(
    body: bytes, *, content_type: str = "", base_url: str = ""
) -> tuple[dict[str, Any], list[dict[str, Any]], str] | None:
    """(feed, entries, bozo) as feedparser would give them, or None to let feedparser parse.

    Takes only well-formed RSS 2.0 in UTF-8 made of elements whose treatment by feedparser 6.0 it
    reproduces exactly; returns None for anything else, and on any surprise.
    """
    try:
        head = body[:_HEAD]
        if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
            return None
        if not _fast_encoding_ok(body, content_type, base_url):
            return None
        if b"xml:base" in body or b"xml:lang" in body:
            return None
        from lxml import etree

        root = etree.fromstring(body, _lxml_parser())
        if root.tag != "rss" or root.prefix or root.get("version", "")[:2] != "2.":
            return None
        if len(root.attrib) != 1 or len(root) != 1 or root[0].tag != "channel":
            return None
        channel = root[0]
        _check_attrs(channel)
        if channel.attrib:
            return None
        base = _safe_base(base_url)
        feed: dict[str, Any] = {"links": []}
        items = []
        for child in channel:
            key = _fp_key(child)
            _check_attrs(child)
            if key == "item":
                items.append(child)
                continue
            if key in _CHANNEL_UNSAFE:
                return None
            if key == "link":
                attrs = _link_attrs(child) if child.attrib else None
                if attrs is None:
                    feed["links"].append({"rel": "alternate", "href": _fp_text(child, base, True)})
                elif len(child):
                    return None
                else:
                    attrs["href"] = feedparser.urls._urljoin(base, attrs["href"])
                    feed["links"].append(attrs)
                continue
            name = _CHANNEL_FIELDS.get(key)
            if name is not None:
                if name in feed:
                    return None
                feed[name] = _fp_text(child)
        if sum(1 for _ in root.iter("item", "{*}item")) != len(items):
            return None
        entries = [_fast_item(item, base) for item in items]
    except _Unusual:
        return None
    except Exception:  # noqa: BLE001 - not well-formed, or anything unforeseen: feedparser decides
        return None
    return feed, entries, ""


def parse_feed(
    body: bytes,
    *,
    source: str,
    language: str = "",
    content_type: str = "",
    base_url: str = "",
    fetched_at: float = 0.0,
    max_entries: int = 500,
    fast: bool = True,
) -> ParsedFeed:
    """Parse one feed document into Articles, newest-first order preserved, at most max_entries.

    Entries with neither a title nor any text are skipped: there is nothing to classify or show.
    ``fast=False`` always uses feedparser (the reference the fast path is tested against).
    """
    if not body.strip():
        return ParsedFeed(is_feed=False, error="empty body")
    body, content_type, charset_note = repair_charset(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    body, defused = defuse_doctype(body)
    fast_doc = None
    if fast and not defused:
        fast_doc = fast_rss(body, content_type=content_type, base_url=base_url)
    if fast_doc is not None:
        feed, entries, bozo = fast_doc
    else:
        doc = feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
        version = doc.get("version") or ""
        entries = doc.get("entries") or []
        if not version and not entries:
            reason = str(doc.get("bozo_exception") or "no RSS or Atom document found")
            return ParsedFeed(
                is_feed=False,
                error=f"not a feed: {reason}"[:300],
                feed_link=alternate_feed_link(body, base_url),
                defused=defused,
            )
        feed = doc.get("feed") or {}
        bozo = f"recovered from: {doc.get('bozo_exception')}" if doc.get("bozo") else ""
    feed_language = (language or feed.get("language") or "").split("-")[0].lower()
    links = Counter((e.get("link") or "").strip() for e in entries)
    guids = Counter((e.get("id") or "").strip() for e in entries)
    articles: list[Article] = []
    for entry in entries[:max_entries]:
        title = normalise_space(plain_text(entry.get("title") or ""))[:MAX_TITLE_CHARS]
        summary = _entry_text(entry)
        if not title and not summary:
            continue
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip()
        # A link or GUID shared by several entries identifies none of them.
        articles.append(
            new_article(
                source,
                link,
                title,
                summary,
                guid=guid if guid and guids[guid] == 1 else "",
                language=(entry.get("language") or feed_language or "").lower(),
                published=_iso_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
                fetched_at=fetched_at,
                url_identifies=bool(link) and links[link] == 1,
            )
        )
    error = bozo[:300]
    if charset_note:
        error = f"{charset_note}; {error}".rstrip("; ")[:300]
    if defused:
        error = ("unsafe DOCTYPE entities removed; " + error)[:300]
    published_times = [
        t
        for t in (_timestamp(e.get("published_parsed") or e.get("updated_parsed")) for e in entries)
        if t is not None
    ]
    hub = self_url = ""
    for link in feed.get("links") or []:
        rel = (link.get("rel") or "").lower()
        if rel == "hub" and not hub:
            hub = link.get("href") or ""
        elif rel == "self" and not self_url:
            self_url = link.get("href") or ""
    return ParsedFeed(
        articles=articles,
        is_feed=True,
        error=error,
        title=normalise_space(plain_text(feed.get("title") or "")),
        total_entries=len(entries),
        published_times=published_times,
        ttl=str(feed.get("ttl") or ""),
        update_period=str(feed.get("sy_updateperiod") or ""),
        update_frequency=str(feed.get("sy_updatefrequency") or ""),
        hub=hub,
        self_url=self_url,
        defused=defused,
    )
