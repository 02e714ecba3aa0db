"""One batch of articles through the pipeline: story (exact and near dedupe) -> classify -> route.

Called by the Celery task in ``workers.tasks``; it takes a Store and a Classifier so tests and
benchmarks can run it directly too. Every side effect is idempotent per (article, subscription),
so a redelivered batch changes nothing it already did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.alerts import build_alert
from pipeline.core.classify import Classifier
from pipeline.core.models import Article, Classification
from pipeline.core.subscriptions import Subscription, matches
from pipeline.store import Store


@dataclass(slots=True)
class BatchResult:
    articles: int = 0
    duplicates: int = 0
    classified: int = 0
    alerts: int = 0
    #: Articles that produced at least one new alert.
    articles_alerted: int = 0
    latencies: list[float] = field(default_factory=list)
    #: Alerts to push: new ones, and those of a redelivered batch (pushes are idempotent, so a
    #: push lost in a crash between routing and enqueueing is sent then).
    pushes: list[tuple[Subscription, dict[str, Any]]] = field(default_factory=list)


def process_batch(
    store: Store,
    classifier: Classifier,
    raw_articles: list[dict[str, Any]],
    *,
    now: float,
    dedupe_window: int,
    stream_maxlen: int,
) -> BatchResult:
    """Every article joins a story (new, or one it copies); each subscriber is alerted once per
    story. Copies are classified too: a fuller copy may match where a teaser did not, and the
    (subscription, story) claim keeps the alert single."""
    articles = [Article.from_dict(raw) for raw in raw_articles]
    result = BatchResult(articles=len(articles))
    if not articles:
        return result

    assignments = store.stories.assign(articles, now)
    sources = store.stories.add_sources(
        [
            (a.story_id, art.source, art.fetched_at or now)
            for art, a in zip(articles, assignments, strict=True)
        ],
        now,
    )
    matched: list[tuple[Article, str, Classification, bool]] = []
    for article, assignment in zip(articles, assignments, strict=True):
        result.duplicates += assignment.duplicate
        classification = classifier.classify(article.title, article.summary, article.language)
        result.classified += 1
        if classification.topics:
            matched.append(
                (article, assignment.story_id, classification, assignment.how == "same_article")
            )

    routed: list[tuple[str, str, dict[str, Any]]] = []
    fetched: list[float] = []
    candidates: list[tuple[Subscription, bool]] = []
    if matched:
        for sub in store.subscriptions():
            for article, story_id, classification, redelivered in matched:
                if matches(sub, article, classification):
                    alert = build_alert(
                        sub.id, article, classification, story_id, sources[story_id], now
                    )
                    routed.append((sub.id, story_id, alert))
                    fetched.append(article.fetched_at)
                    candidates.append((sub, redelivered))
    outcomes = store.route(routed, dedupe_window, stream_maxlen)
    result.alerts = sum(outcomes)
    result.articles_alerted = len(
        {alert["article"]["id"] for (_, _, alert), new in zip(routed, outcomes, strict=True) if new}
    )
    result.pushes = [
        (sub, alert)
        for (sub, redelivered), (_, _, alert), new in zip(candidates, routed, outcomes, strict=True)
        if sub.channels and (new or redelivered)
    ]
    result.latencies = [
        max(0.0, now - at) for at, new in zip(fetched, outcomes, strict=True) if new and at
    ]
    store.count("articles", result.articles, now)
    store.count("duplicates", result.duplicates, now)
    if result.alerts:
        store.count("alerts", result.alerts, now)
        store.record_latencies(result.latencies)
    return result
