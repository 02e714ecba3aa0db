"""Celery settings shared by the worker app (``workers``) and by senders in this package.

The poller and the CLI send tasks by name through a client app built here, so this package never
imports ``workers``.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from pipeline import keys
from pipeline.settings import Settings

PROCESS_ARTICLES_TASK = "newsmon.process_articles"
DELIVER_TASK = "newsmon.deliver"
DIGESTS_TASK = "newsmon.send_digests"


def celery_config(settings: Settings, redis_url: str) -> dict[str, Any]:
    return {
        "broker_url": redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            # Look for unacknowledged messages to restore at least every visibility timeout.
            "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 2)),
            "unacked_restore_throttle": 1,
        },
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in keys.QUEUES],
        "task_default_queue": keys.ARTICLES_QUEUE,
        "task_routes": {
            PROCESS_ARTICLES_TASK: {"queue": keys.ARTICLES_QUEUE},
            DELIVER_TASK: {"queue": keys.DELIVERIES_QUEUE},
            DIGESTS_TASK: {"queue": keys.DELIVERIES_QUEUE},
        },
        # Digests: Celery beat with a schedule kept in Redis (redbeat), whose lock lets only
        # one of several beat processes tick; each digest period is also claimed in Redis.
        "beat_scheduler": "redbeat.RedBeatScheduler",
        "redbeat_redis_url": redis_url,
        "redbeat_key_prefix": keys.REDBEAT_PREFIX,
        "redbeat_lock_timeout": max(30, int(settings.digest_tick_seconds * 5)),
        "beat_max_loop_interval": max(1, int(min(settings.digest_tick_seconds, 30))),
        "beat_schedule": {
            "digests": {
                "task": DIGESTS_TASK,
                "schedule": settings.digest_tick_seconds,
                "options": {"queue": keys.DELIVERIES_QUEUE},
            }
        },
        "worker_hijack_root_logger": False,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "timezone": "UTC",
    }


def client_app(settings: Settings, redis_url: str) -> Celery:
    app = Celery("newsmon-client", set_as_current=False)
    app.conf.update(celery_config(settings, redis_url))
    return app


def send_articles(app: Celery, source: str, articles: list[dict[str, Any]]) -> None:
    """One task per feed poll, carrying the whole batch of new articles."""
    app.send_task(
        PROCESS_ARTICLES_TASK,
        args=[source, articles],
        queue=keys.ARTICLES_QUEUE,
        headers={"enqueued_at": time.time()},
    )


def send_delivery(app: Celery, delivery: dict[str, Any]) -> None:
    app.send_task(
        DELIVER_TASK,
        args=[delivery],
        queue=keys.DELIVERIES_QUEUE,
        headers={"enqueued_at": time.time()},
    )
