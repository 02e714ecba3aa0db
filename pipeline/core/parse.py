"""Feed bytes to normalised Articles, with feedparser. Pure: no network, no clock.

Runs in the poller's process pool, so everything it returns is picklable plain data.
"""

from __future__ import annotations

import calendar
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

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


def parse_feed(
    body: bytes,
    *,
    source: str,
    language: str = "",
    content_type: str = "",
    base_url: str = "",
    fetched_at: float = 0.0,
    max_entries: int = 500,
) -> ParsedFeed:
    """Parse one feed document into Articles, newest-first order preserved, at most max_entries.

    Entries with neither a title nor any text are skipped: there is nothing to classify or show.
    """
    if not body.strip():
        return ParsedFeed(is_feed=False, error="empty body")
    body, content_type, charset_note = repair_charset(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    body, defused = defuse_doctype(body)
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

    feed_language = (language or doc.feed.get("language") or "").split("-")[0].lower()
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
    error = ""
    if doc.get("bozo"):
        error = f"recovered from: {doc.get('bozo_exception')}"[:300]
    if charset_note:
        error = f"{charset_note}; {error}".rstrip("; ")[:300]
    if defused:
        error = ("unsafe DOCTYPE entities removed; " + error)[:300]
    published_times = [
        t
        for t in (_timestamp(e.get("published_parsed") or e.get("updated_parsed")) for e in entries)
        if t is not None
    ]
    feed = doc.get("feed") or {}
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
