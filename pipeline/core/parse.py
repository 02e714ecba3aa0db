"""Feed bytes to normalised Articles, with feedparser. Pure: no network, no clock.

Runs in the poller's process pool, so everything it returns is picklable plain data.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import feedparser

from pipeline.core.identity import article_id, content_hash
from pipeline.core.models import Article
from pipeline.core.text import normalise_space, plain_text
from pipeline.core.urls import canonical_url

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


def _iso_utc(struct: time.struct_time | None) -> str:
    if not struct:
        return ""
    try:
        seconds = calendar.timegm(struct)
    except (OverflowError, ValueError, TypeError):
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


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
    """Parse one feed document into Articles, newest-first order preserved, at most max_entries."""
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    doc = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    version = doc.get("version") or ""
    entries = doc.get("entries") or []
    if not version and not entries:
        reason = str(doc.get("bozo_exception") or "no RSS or Atom document found")
        return ParsedFeed(is_feed=False, error=f"not a feed: {reason}"[:300])

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
        canonical = canonical_url(link) if link and links[link] == 1 else ""
        guid = guid if guid and guids[guid] == 1 else ""
        chash = content_hash(title, summary)
        published = _iso_utc(entry.get("published_parsed") or entry.get("updated_parsed"))
        articles.append(
            Article(
                id=article_id(source, canonical, guid, chash),
                source=source,
                url=link,
                canonical_url=canonical,
                guid=guid,
                title=title,
                summary=summary,
                language=(entry.get("language") or feed_language or "").lower(),
                published=published,
                fetched_at=fetched_at,
                content_hash=chash,
            )
        )
    error = ""
    if doc.get("bozo"):
        error = f"recovered from: {doc.get('bozo_exception')}"[:300]
    return ParsedFeed(
        articles=articles,
        is_feed=True,
        error=error,
        title=normalise_space(plain_text(doc.feed.get("title") or "")),
        total_entries=len(entries),
    )
