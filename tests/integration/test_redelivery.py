"""A worker SIGKILLed mid-batch: the batch is redelivered, nobody is alerted twice, nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.core.identity import new_article
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.queueing import client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from tests.integration.test_pipeline_e2e import wait_for

pytestmark = pytest.mark.slow


def demining_batch(start: int, count: int) -> list[dict]:
    """Team-written template stories, each a different clearance report."""
    batch = []
    for n in range(start, start + count):
        title = f"Sappers cleared {n} landmines in sector {n % 97}"
        summary = (
            f"Deminers of ANAMA found {n} anti-personnel mines and {n % 13} unexploded "
            f"ordnance items during clearance work in week {n}."
        )
        url = f"http://agency.test/news/{n}"
        article = new_article(
            "agency", url, title, summary, guid=url, language="en", fetched_at=time.time()
        )
        batch.append(article.to_dict())
    return batch


def test_sigkill_mid_batch_loses_nothing_and_alerts_once(
    store: Store, redis_url: str, config_dir: Path, worker_factory
) -> None:
    sub, _ = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    worker = worker_factory(NEWSMON_VISIBILITY_TIMEOUT="4")
    app = client_app(Settings(redis_url=redis_url, visibility_timeout=4), redis_url)
    first, second = demining_batch(0, 500), demining_batch(500, 6000)
    send_articles(app, "agency", first)
    send_articles(app, "agency", second)
    stream = keys.alerts(sub.id)
    wait_for(lambda: store.r.xlen(stream) >= len(first))
    wait_for(lambda: store.r.hlen("unacked") > 0, interval=0.01)  # the second batch is running
    time.sleep(0.3)
    worker.kill()
    done_before_kill = store.r.xlen(stream)
    assert done_before_kill < len(first) + len(second), "the kill came after the batch finished"
    assert store.r.hlen("unacked") == 1  # kombu still holds the unacknowledged batch

    worker_factory(NEWSMON_VISIBILITY_TIMEOUT="4")
    total = len(first) + len(second)
    wait_for(lambda: store.r.xlen(stream) >= total, timeout=90)
    wait_for(
        lambda: store.r.hlen("unacked") == 0 and store.r.llen(keys.ARTICLES_QUEUE) == 0, timeout=60
    )
    alerts = [a for _, a in store.alerts(sub.id, count=total + 10)]
    assert len(alerts) == total
    assert len({a["alert_id"] for a in alerts}) == total
    assert {a["article"]["url"] for a in alerts} == {a["url"] for a in first + second}
