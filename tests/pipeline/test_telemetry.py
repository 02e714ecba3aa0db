"""Telemetry on a real Redis: counters and histograms recorded through pipelines, read back by
any process, rendered as Prometheus text that prometheus-client's own parser accepts."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline import keys, telemetry
from pipeline.monitor import queue_snapshot
from pipeline.store import Store


def record(store: Store, fn, *args, **kwargs) -> None:
    pipe = store.r.pipeline(transaction=False)
    fn(pipe, *args, **kwargs)
    pipe.execute()


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_counters_add_up_per_label_set_and_per_minute(store: Store) -> None:
    now = 1_700_000_000.0
    record(store, telemetry.count, "articles_fetched", 3, now=now, feed="a")
    record(store, telemetry.count, "articles_fetched", 2, now=now + 1, feed="a")
    record(store, telemetry.count, "articles_fetched", 4, now=now, feed="b")
    record(store, telemetry.count, "articles_processed", 0)  # nothing to add: no command
    totals = telemetry.read_totals(store.r)
    assert totals["counters"]["articles_fetched"] == [({"feed": "a"}, 5.0), ({"feed": "b"}, 4.0)]
    assert telemetry.counter_total(totals, "articles_fetched") == 9
    assert totals["counters"]["articles_processed"] == []
    minutes = telemetry.minute_counts(store.r, ["articles_fetched"], now, 3)
    assert minutes == {"articles_fetched": [0, 0, 9]}
    assert store.r.ttl(keys.stat("articles_fetched", int(now // 60))) > 0


def test_unknown_metric_or_wrong_labels_is_an_error(store: Store) -> None:
    pipe = store.r.pipeline(transaction=False)
    with pytest.raises(KeyError):
        telemetry.count(pipe, "articles_fetchd", 1, feed="a")
    with pytest.raises(ValueError, match="labels"):
        telemetry.count(pipe, "articles_fetched", 1)
    with pytest.raises(ValueError, match="labels"):
        telemetry.observe(pipe, "queue_wait", 1.0)


def test_histogram_buckets_sum_and_quantile(store: Store) -> None:
    values = [0.005, 0.2, 0.3, 0.3, 4.0, 7200.0]
    record(store, telemetry.observe_many, "fetch_to_alert", values)
    record(store, telemetry.observe, "fetch_to_alert", 0.3)
    [entry] = telemetry.read_totals(store.r)["histograms"]["fetch_to_alert"]
    buckets = entry["buckets"]
    assert sum(buckets) == 7
    assert buckets[0] == 1  # 0.005 <= 0.01
    assert buckets[telemetry.BUCKETS.index(0.25)] == 1  # 0.2
    assert buckets[telemetry.BUCKETS.index(0.5)] == 3  # 0.3 three times
    assert buckets[-1] == 1  # 7200 s: +Inf
    assert entry["sum"] == pytest.approx(sum(values) + 0.3)
    assert telemetry.histogram_quantile(buckets, 0.5) == 0.5
    assert telemetry.histogram_quantile(buckets, 0.99) == float("inf")
    assert telemetry.histogram_quantile([0] * len(buckets), 0.5) is None


def test_batch_of_observations_is_a_few_commands(store: Store) -> None:
    pipe = store.r.pipeline(transaction=False)
    telemetry.observe_many(pipe, "process_batch", [0.2] * 500, queue="articles")
    assert len(pipe.command_stack) == 2  # one bucket touched, plus the sum
    pipe.execute()


def test_queue_history_keeps_the_peak_of_each_minute(store: Store) -> None:
    now = 1_700_000_010.0
    telemetry.sample_queues(store.r, {"articles": {"depth": 5, "oldest_age_seconds": 2.0}}, now)
    telemetry.sample_queues(store.r, {"articles": {"depth": 3, "oldest_age_seconds": 9.5}}, now)
    telemetry.sample_queues(
        store.r, {"articles": {"depth": 1, "oldest_age_seconds": 0.0}}, now + 60
    )
    hist = telemetry.queue_history(store.r, ["articles", "deliveries"], now + 60, 3)
    assert hist["articles"] == {"depth": [None, 5.0, 1.0], "oldest_age_seconds": [None, 9.5, 0.0]}
    assert hist["deliveries"]["depth"] == [None, None, None]
    assert 0 < store.r.ttl(keys.queue_history(int(now // 60))) <= keys.HISTORY_TTL


def test_per_minute_rate_slides_over_the_minute_boundary() -> None:
    assert telemetry.per_minute_rate([60, 10], 1_700_000_040.0 - 1_700_000_040.0 % 60) == 70
    assert telemetry.per_minute_rate([60, 10], 1_700_000_040.0 - 1_700_000_040.0 % 60 + 30) == 40
    assert telemetry.per_minute_rate([], 0.0) == 0.0


def test_metrics_parse_and_carry_every_named_series(store: Store) -> None:
    now = time.time()
    pipe = store.r.pipeline(transaction=False)
    telemetry.count(pipe, "articles_fetched", 7, now=now, feed="trend-en")
    telemetry.count(pipe, "articles_classified", 6, now=now)
    telemetry.count(pipe, "articles_deduplicated", 1, now=now, kind="exact")
    telemetry.count(pipe, "articles_alerted", 2, now=now)
    telemetry.count(pipe, "alerts_routed", 3, now=now)
    telemetry.count(pipe, "deliveries", 1, channel="webhook", outcome="delivered")
    telemetry.observe_many(pipe, "fetch_to_alert", [0.4, 0.6])
    telemetry.observe(pipe, "queue_wait", 0.05, queue="articles")
    pipe.execute()
    store.r.zadd(keys.feeds_due(), {"trend-en": now, "menafn-en": now})
    store.r.hset(keys.feed_state("trend-en"), mapping={"last_status": "ok"})
    store.heartbeat("w1@host", now)

    text = telemetry.render_metrics(queue_snapshot(store, now))
    got = families(text)
    for name in (
        "newsmon_queue_depth",
        "newsmon_queue_oldest_job_age_seconds",
        "newsmon_workers_alive",
        "newsmon_feeds",
        "newsmon_articles_fetched",
        "newsmon_articles_classified",
        "newsmon_articles_deduplicated",
        "newsmon_articles_alerted",
        "newsmon_alerts_routed",
        "newsmon_deliveries",
        "newsmon_polls",
        "newsmon_fetch_to_alert_seconds",
        "newsmon_fetch_to_enqueue_seconds",
        "newsmon_queue_wait_seconds",
        "newsmon_process_batch_seconds",
    ):
        assert name in got, name
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in got.values() for s in f.samples
    }
    assert samples[("newsmon_queue_depth", (("queue", "articles"),))] == 0
    assert samples[("newsmon_workers_alive", ())] == 1
    assert samples[("newsmon_feeds", (("status", "ok"),))] == 1
    assert samples[("newsmon_feeds", (("status", "pending"),))] == 1
    assert samples[("newsmon_articles_fetched_total", (("feed", "trend-en"),))] == 7
    assert (
        samples[("newsmon_deliveries_total", (("channel", "webhook"), ("outcome", "delivered")))]
        == 1
    )
    assert samples[("newsmon_fetch_to_alert_seconds_count", ())] == 2
    assert samples[("newsmon_fetch_to_alert_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("newsmon_fetch_to_alert_seconds_bucket", (("le", "+Inf"),))] == 2
    # Unlabelled series exist before anything happened, so rate() works from the first scrape.
    assert samples[("newsmon_fetch_to_enqueue_seconds_count", ())] == 0
    assert samples[("newsmon_articles_processed_total", ())] == 0
    assert got["newsmon_fetch_to_alert_seconds"].type == "histogram"
    assert got["newsmon_articles_fetched"].type == "counter"


def test_metrics_show_a_waiting_job_and_its_age(store: Store) -> None:
    from pipeline.queueing import client_app, send_articles
    from pipeline.settings import Settings

    url = store.r.connection_pool.connection_kwargs
    redis_url = f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}"
    app = client_app(Settings(redis_url=redis_url), redis_url)
    send_articles(app, "feed", [{"id": "x"}])
    time.sleep(0.05)
    got = families(telemetry.render_metrics(queue_snapshot(store, time.time() + 30)))
    depth = {s.labels["queue"]: s.value for s in got["newsmon_queue_depth"].samples}
    age = {s.labels["queue"]: s.value for s in got["newsmon_queue_oldest_job_age_seconds"].samples}
    assert depth == {"articles": 1, "deliveries": 0}
    assert 30 <= age["articles"] < 35


def test_record_helpers_one_round_trip_each(store: Store) -> None:
    now = time.time()
    telemetry.record_poll(store.r, "trend-en", "ok", 4, now, fetch_to_enqueue=0.3)
    telemetry.record_poll(store.r, "trend-en", "not_modified", 0, now, fetch_to_enqueue=0.1)
    telemetry.record_batch(
        store.r,
        processed=4,
        classified=4,
        duplicates=1,
        articles_alerted=2,
        alerts=3,
        fetch_to_alert=[0.5, 0.6, 0.7],
        waited=0.02,
        took=0.15,
    )
    telemetry.record_delivery(store.r, "webhook", "delivered")
    totals = telemetry.read_totals(store.r)
    assert totals["counters"]["polls"] == [
        ({"status": "not_modified"}, 1.0),
        ({"status": "ok"}, 1.0),
    ]
    assert telemetry.counter_total(totals, "articles_fetched") == 4
    assert telemetry.counter_total(totals, "articles_processed") == 4
    assert telemetry.counter_total(totals, "alerts_routed") == 3
    assert telemetry.counter_total(totals, "deliveries") == 1
    [enqueue] = totals["histograms"]["fetch_to_enqueue"]
    assert sum(enqueue["buckets"]) == 1  # a poll that enqueued nothing has no such latency
    [wait] = totals["histograms"]["queue_wait"]
    assert wait["labels"] == {"queue": "articles"} and sum(wait["buckets"]) == 1
    assert telemetry.minute_counts(store.r, ["articles_fetched"], now, 1) == {
        "articles_fetched": [4]
    }
