"""Celery tasks: thin bindings from queue messages to ``pipeline.process``."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import redis
import structlog

from pipeline import telemetry
from pipeline.config import load_topics
from pipeline.core.classify import Classifier
from pipeline.deliver import attempt_delivery, due_digests, plan_pushes
from pipeline.process import process_batch
from pipeline.queueing import DELIVER_TASK, DIGESTS_TASK, PROCESS_ARTICLES_TASK, send_delivery
from pipeline.settings import get_settings
from pipeline.store import Store
from workers.celery_app import app

log = structlog.get_logger("newsmon.worker")


@lru_cache(maxsize=1)
def _store(url: str) -> Store:
    return Store.from_url(url)


_classifier: tuple[float, Classifier] | None = None


def classifier() -> Classifier:
    """The classifier for the current topics.yaml, reloaded when the file changes."""
    global _classifier
    path = get_settings().config_dir / "topics.yaml"
    mtime = path.stat().st_mtime
    if _classifier is None or _classifier[0] != mtime:
        _classifier = (mtime, Classifier(load_topics(get_settings().config_dir)))
    return _classifier[1]


@app.task(name=PROCESS_ARTICLES_TASK, bind=True, max_retries=5)
def process_articles(self: Any, source: str, articles: list[dict[str, Any]]) -> dict[str, int]:
    settings = get_settings()
    started = time.time()
    try:
        result = process_batch(
            _store(app.conf.broker_url),
            classifier(),
            articles,
            now=time.time(),
            dedupe_window=settings.dedupe_window,
            stream_maxlen=settings.alert_stream_maxlen,
        )
        for item in plan_pushes(_store(app.conf.broker_url), result.pushes, time.time()):
            send_delivery(app, item)
    except redis.exceptions.ConnectionError as exc:  # Redis away: every step is idempotent
        raise self.retry(exc=exc, countdown=2) from exc
    enqueued = self.request.get("enqueued_at") or (self.request.headers or {}).get("enqueued_at")
    telemetry.record_batch(
        _store(app.conf.broker_url).r,
        processed=result.articles,
        classified=result.classified,
        duplicates=result.duplicates,
        articles_alerted=result.articles_alerted,
        alerts=result.alerts,
        fetch_to_alert=result.latencies,
        waited=started - float(enqueued) if enqueued else None,
        took=time.time() - started,
    )
    log.info(
        "batch_processed",
        source=source,
        articles=result.articles,
        duplicates=result.duplicates,
        alerts=result.alerts,
    )
    return {"articles": result.articles, "alerts": result.alerts}


@app.task(name=DELIVER_TASK, bind=True, max_retries=None)
def deliver(self: Any, item: dict[str, Any]) -> str:
    """One push; transient failures come back through Celery's retry with a capped countdown
    (always shorter than the visibility timeout), the last one goes to the dead-letter stream."""
    store = _store(app.conf.broker_url)
    outcome = attempt_delivery(store, item, get_settings(), attempt=self.request.retries + 1)
    telemetry.record_delivery(store.r, item["channel"].rsplit("-", 1)[0], outcome.outcome)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.outcome


@app.task(name=DIGESTS_TASK)
def send_digests() -> int:
    items = due_digests(_store(app.conf.broker_url), get_settings(), time.time())
    for item in items:
        send_delivery(app, item)
    return len(items)
