"""One batch of articles through the pipeline: exact dedupe -> classify -> stories -> route.

Called by the Celery task in ``workers.tasks``; it takes a Store and a Classifier so tests and
benchmarks can run it directly too. Every side effect is idempotent per (article, subscription),
so a redelivered batch changes nothing it already did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.alerts import build_alert
from pipeline.core.classify import Classifier
from pipeline.core.identity import exact_keys
from pipeline.core.models import Article, Classification
from pipeline.core.subscriptions import matches
from pipeline.store import Store


@dataclass(slots=True)
class BatchResult:
    articles: int = 0
    duplicates: int = 0
    classified: int = 0
    alerts: int = 0
    latencies: list[float] = field(default_factory=list)


def process_batch(
    store: Store,
    classifier: Classifier,
    raw_articles: list[dict[str, Any]],
    *,
    now: float,
    dedupe_window: int,
    stream_maxlen: int,
) -> BatchResult:
    articles = [Article.from_dict(raw) for raw in raw_articles]
    result = BatchResult(articles=len(articles))
    if not articles:
        return result

    claims = store.claim_identities(
        [(a.id, exact_keys(a.source, a.canonical_url, a.guid, a.content_hash)) for a in articles],
        dedupe_window,
    )
    sources = store.add_story_sources(
        [
            (c.story_id, a.source, a.fetched_at or now)
            for a, c in zip(articles, claims, strict=True)
        ],
        dedupe_window,
    )

    fresh: list[tuple[Article, str, Classification]] = []
    for article, claim in zip(articles, claims, strict=True):
        if claim.duplicate:
            result.duplicates += 1
            continue
        classification = classifier.classify(article.title, article.summary, article.language)
        result.classified += 1
        if classification.topics:
            fresh.append((article, claim.story_id, classification))

    routed: list[tuple[str, str, dict[str, Any]]] = []
    fetched: list[float] = []
    if fresh:
        for sub in store.subscriptions():
            for article, story_id, classification in fresh:
                if matches(sub, article, classification):
                    alert = build_alert(
                        sub.id, article, classification, story_id, sources[story_id], now
                    )
                    routed.append((sub.id, story_id, alert))
                    fetched.append(article.fetched_at)
    outcomes = store.route(routed, dedupe_window, stream_maxlen)
    result.alerts = sum(outcomes)
    result.latencies = [
        max(0.0, now - at) for at, new in zip(fetched, outcomes, strict=True) if new and at
    ]
    store.count("articles", result.articles, now)
    store.count("duplicates", result.duplicates, now)
    if result.alerts:
        store.count("alerts", result.alerts, now)
        store.record_latencies(result.latencies)
    return result
