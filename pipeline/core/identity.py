"""Stable identities: article ids, content hashes and the exact-dedupe keys of an article.

The exact-identity fallback chain, strongest first:

1. the canonical URL (tracking parameters, fragments, host case and default ports removed);
2. the entry's GUID, scoped to its feed (GUIDs are only unique within one feed);
3. the content hash of the normalised title and text (for feeds that give no link, or reuse
   one GUID or one link for every entry).

An article is a duplicate when any of its keys was already claimed by another article within the
dedupe window. A feed that gives every entry the same link or GUID would make them all
duplicates, so the poller drops a link or GUID shared by several entries of one poll
(``parse.distinct_identities``) and the chain falls through to the content hash.
"""

from __future__ import annotations

import hashlib

from pipeline.core.models import Article
from pipeline.core.text import fold, normalise_space
from pipeline.core.urls import canonical_url


def short_hash(*parts: str, size: int = 16) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=size)
    return digest.hexdigest()


def content_hash(title: str, summary: str) -> str:
    return short_hash(fold(normalise_space(title)), fold(normalise_space(summary)))


def article_id(source: str, canonical: str, guid: str, chash: str) -> str:
    """The article's id: from its canonical URL when it has one, else its feed GUID, else text."""
    if canonical:
        return short_hash("url", canonical)
    if guid:
        return short_hash("guid", source, guid)
    return short_hash("content", chash)


def exact_keys(source: str, canonical: str, guid: str, chash: str) -> list[str]:
    """The identity keys an article claims in the dedupe window (without the Redis prefix)."""
    keys = []
    if canonical:
        keys.append("url:" + short_hash(canonical))
    if guid:
        keys.append("guid:" + short_hash(source, guid))
    keys.append("content:" + chash)
    return keys


def new_article(
    source: str,
    url: str,
    title: str,
    summary: str,
    *,
    guid: str = "",
    language: str = "",
    published: str = "",
    fetched_at: float = 0.0,
    url_identifies: bool = True,
) -> Article:
    """An Article with its identities filled in from its link, GUID and text.

    ``url_identifies=False`` keeps the link but not as an identity (a feed that gives several
    entries the same link)."""
    canonical = canonical_url(url) if url and url_identifies else ""
    chash = content_hash(title, summary)
    return Article(
        id=article_id(source, canonical, guid, chash),
        source=source,
        url=url,
        canonical_url=canonical,
        guid=guid,
        title=title,
        summary=summary,
        language=language,
        published=published,
        fetched_at=fetched_at,
        content_hash=chash,
    )
