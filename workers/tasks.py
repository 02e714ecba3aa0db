"""Celery tasks: thin bindings from queue messages to ``pipeline.process``."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import redis
import structlog

from pipeline.config import load_topics
from pipeline.core.classify import Classifier
from pipeline.process import process_batch
from pipeline.queueing import PROCESS_ARTICLES_TASK
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
    try:
        result = process_batch(
            _store(app.conf.broker_url),
            classifier(),
            articles,
            now=time.time(),
            dedupe_window=settings.dedupe_window,
            stream_maxlen=settings.alert_stream_maxlen,
            dedupe_shards=settings.dedupe_shards,
        )
    except (
        redis.exceptions.ConnectionError
    ) as exc:  # Redis briefly away: try again, nothing was half-done
        raise self.retry(exc=exc, countdown=2) from exc
    log.info(
        "batch_processed",
        source=source,
        articles=result.articles,
        duplicates=result.duplicates,
        alerts=result.alerts,
    )
    return {"articles": result.articles, "alerts": result.alerts}
