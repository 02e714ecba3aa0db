"""The alert: what a subscriber receives, the same JSON in streams, webhooks and the API."""

from __future__ import annotations

import time
from typing import Any

from pipeline.core.identity import short_hash
from pipeline.core.models import Article, Classification


def alert_id(subscription_id: str, story_id: str) -> str:
    """One alert per (subscription, story): the id is derived from both, never random."""
    return short_hash("alert", subscription_id, story_id)


def iso_utc(unix_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_seconds))


def build_alert(
    subscription_id: str,
    article: Article,
    result: Classification,
    story_id: str,
    story_sources: list[str],
    now: float,
) -> dict[str, Any]:
    return {
        "alert_id": alert_id(subscription_id, story_id),
        "subscription_id": subscription_id,
        "created_at": iso_utc(now),
        "topics": dict(result.topics),
        "matched": {topic: list(terms) for topic, terms in result.matched.items()},
        "article": article.public(),
        "story": {"id": story_id, "sources": list(story_sources)},
    }
