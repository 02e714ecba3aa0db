"""Metrics shared by every process (pollers, workers, API), kept in Redis, exposed for Prometheus.

Pollers, workers and the API are separate processes, often on separate machines, so a metric
cannot live in one process's memory the way prometheus-client's default registry keeps it.
Counters and histograms live in two Redis hashes instead, one field per series; the hot paths
add a few commands to a pipeline they already execute (``count``, ``observe``,
``observe_many``), never a round trip of their own. ``render_metrics`` turns a monitoring
snapshot (``pipeline.monitor.snapshot``: these totals plus the gauges read from Redis at that
moment, queue depth, workers, feed statuses) into Prometheus text with prometheus-client.

Every metric is declared once below, with its labels; recording an undeclared one is a bug and
raises. Counters are also counted per minute (``keys.stat``, summed over labels), which gives the
dashboard its rates and its one-hour chart.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from pipeline import keys

#: Prometheus text exposition format 0.0.4, what /metrics answers with.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Histogram bucket upper bounds in seconds, shared by every stage latency: from a fast local
#: batch (tens of milliseconds) to a backlog an operator must hear about (an hour).
BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    help: str
    labels: tuple[str, ...] = ()


COUNTERS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("articles_fetched", "New articles the pollers found and enqueued.", ("feed",)),
        MetricSpec("articles_processed", "Articles the workers took off the articles queue."),
        MetricSpec("articles_classified", "Articles classified (exact duplicates are not)."),
        MetricSpec("articles_deduplicated", "Articles dropped or joined as duplicates.", ("kind",)),
        MetricSpec("articles_alerted", "Articles that alerted at least one subscriber."),
        MetricSpec("alerts_routed", "Alerts appended to subscription streams."),
        MetricSpec("polls", "Feed polls by outcome.", ("status",)),
        MetricSpec("deliveries", "Push deliveries by channel and outcome.", ("channel", "outcome")),
    )
}

HISTOGRAMS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("fetch_to_alert", "Seconds from fetching an article to alerting on it."),
        MetricSpec("fetch_to_enqueue", "Seconds from starting a fetch to enqueuing its batch."),
        MetricSpec("queue_wait", "Seconds a batch waited in its queue.", ("queue",)),
        MetricSpec("process_batch", "Seconds a worker spent on one batch.", ("queue",)),
    )
}


def _series(spec: MetricSpec, labels: Mapping[str, str]) -> str:
    if set(labels) != set(spec.labels):
        raise ValueError(f"metric {spec.name} takes labels {spec.labels}, not {tuple(labels)}")
    return json.dumps([spec.name, [str(labels[name]) for name in spec.labels]])


# --- recording: add commands to a pipeline the caller executes ----------------------------------


def count(
    pipe: redis.client.Pipeline,
    name: str,
    amount: int = 1,
    *,
    now: float | None = None,
    **labels: str,
) -> None:
    """Add ``amount`` to a counter; with ``now``, also to its per-minute count."""
    if amount <= 0:
        return
    pipe.hincrby(keys.metric_counters(), _series(COUNTERS[name], labels), amount)
    if now is not None:
        minute_key = keys.stat(name, int(now // 60))
        pipe.incrby(minute_key, amount)
        pipe.expire(minute_key, keys.STATS_TTL)


def observe(pipe: redis.client.Pipeline, name: str, seconds: float, **labels: str) -> None:
    """Record one observation in a histogram."""
    observe_many(pipe, name, [seconds], **labels)


def observe_many(
    pipe: redis.client.Pipeline, name: str, values: Iterable[float], **labels: str
) -> None:
    """Record many observations with one command per bucket touched, plus one for the sum."""
    series = _series(HISTOGRAMS[name], labels)
    per_bucket: dict[int, int] = {}
    total = 0.0
    for value in values:
        value = max(0.0, float(value))
        index = bisect.bisect_left(BUCKETS, value)  # len(BUCKETS) is the +Inf bucket
        per_bucket[index] = per_bucket.get(index, 0) + 1
        total += value
    if not per_bucket:
        return
    for index, n in per_bucket.items():
        pipe.hincrby(keys.metric_histograms(), f"{series}#{index}", n)
    pipe.hincrbyfloat(keys.metric_histograms(), f"{series}#sum", round(total, 6))


# --- one call per event, for the processes that record ------------------------------------------


def record_batch(
    client: redis.Redis,
    *,
    processed: int,
    classified: int,
    duplicates: int,
    articles_alerted: int,
    alerts: int,
    fetch_to_alert: Iterable[float] = (),
    queue: str = keys.ARTICLES_QUEUE,
    waited: float | None = None,
    took: float | None = None,
    duplicate_kind: str = "any",
) -> None:
    """A worker's batch, in one round trip: what it did, how long it waited and took."""
    pipe = client.pipeline(transaction=False)
    count(pipe, "articles_processed", processed)
    count(pipe, "articles_classified", classified)
    count(pipe, "articles_deduplicated", duplicates, kind=duplicate_kind)
    count(pipe, "articles_alerted", articles_alerted)
    count(pipe, "alerts_routed", alerts)
    observe_many(pipe, "fetch_to_alert", fetch_to_alert)
    if waited is not None:
        observe(pipe, "queue_wait", waited, queue=queue)
    if took is not None:
        observe(pipe, "process_batch", took, queue=queue)
    pipe.execute()


def add_poll(
    pipe: Any,
    feed_id: str,
    status: str,
    new_articles: int,
    now: float,
    fetch_to_enqueue: float | None = None,
) -> None:
    """A poller's feed poll, added to a pipeline the poller already sends (sync or asyncio):
    its outcome and the articles it enqueued."""
    count(pipe, "polls", 1, status=status)
    count(pipe, "articles_fetched", new_articles, now=now, feed=feed_id)
    if fetch_to_enqueue is not None and new_articles:
        observe(pipe, "fetch_to_enqueue", fetch_to_enqueue)


def record_poll(
    client: redis.Redis,
    feed_id: str,
    status: str,
    new_articles: int,
    now: float,
    fetch_to_enqueue: float | None = None,
) -> None:
    """``add_poll`` in a round trip of its own."""
    pipe = client.pipeline(transaction=False)
    add_poll(pipe, feed_id, status, new_articles, now, fetch_to_enqueue)
    pipe.execute()


def record_delivery(client: redis.Redis, channel: str, outcome: str) -> None:
    """One push delivery's outcome (``delivered``, ``retry``, ``dead``, …) on its channel."""
    pipe = client.pipeline(transaction=False)
    count(pipe, "deliveries", 1, channel=channel, outcome=outcome)
    pipe.execute()


# --- the queue history behind the dashboard's chart ---------------------------------------------

# Keep the peak of the minute per field: several samplers (API replicas, CLI watchers) may write.
_PEAK_SCRIPT = """
for i = 1, #ARGV - 1, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[#ARGV])
return 1
"""


def sample_queues(
    client: redis.Redis, queues: Mapping[str, Mapping[str, float]], now: float
) -> None:
    """Keep the peak depth and oldest-job age of this minute, per queue, for two hours."""
    args: list[Any] = []
    for queue, stats in queues.items():
        args += [f"{queue}:depth", stats["depth"], f"{queue}:age", stats["oldest_age_seconds"]]
    args.append(keys.HISTORY_TTL)
    client.eval(_PEAK_SCRIPT, 1, keys.queue_history(int(now // 60)), *args)


def queue_history(
    client: redis.Redis, queues: Iterable[str], now: float, minutes: int
) -> dict[str, dict[str, list[float | None]]]:
    """Per queue, the peak depth and oldest age of each of the last ``minutes`` minutes, oldest
    first, the current minute last; None where nothing sampled that minute."""
    current = int(now // 60)
    pipe = client.pipeline(transaction=False)
    for minute in range(current - minutes + 1, current + 1):
        pipe.hgetall(keys.queue_history(minute))
    rows = pipe.execute()
    out: dict[str, dict[str, list[float | None]]] = {}
    for queue in queues:
        depth = [_float(row.get(f"{queue}:depth")) for row in rows]
        age = [_float(row.get(f"{queue}:age")) for row in rows]
        out[queue] = {"depth": depth, "oldest_age_seconds": age}
    return out


def minute_counts(
    client: redis.Redis, names: Iterable[str], now: float, minutes: int
) -> dict[str, list[int]]:
    """Per counter, its count in each of the last ``minutes`` minutes, the current one last."""
    names = list(names)
    current = int(now // 60)
    span = range(current - minutes + 1, current + 1)
    values = client.mget([keys.stat(name, m) for name in names for m in span]) if names else []
    return {
        name: [int(v or 0) for v in values[i * minutes : (i + 1) * minutes]]
        for i, name in enumerate(names)
    }


def per_minute_rate(counts: list[int], now: float) -> float:
    """Events in the last 60 seconds, estimated from whole-minute counts (current one last):
    the current minute so far plus the part of the previous minute still inside the window."""
    if not counts:
        return 0.0
    elapsed = (now % 60) / 60
    previous = counts[-2] if len(counts) > 1 else 0
    return round(counts[-1] + previous * (1 - elapsed), 1)


def _float(value: str | None) -> float | None:
    return float(value) if value is not None else None


# --- reading totals back --------------------------------------------------------------------------


def read_totals(client: redis.Redis) -> dict[str, Any]:
    """Counter and histogram totals: ``{"counters": {name: [(labels, value)]},
    "histograms": {name: [(labels, {"buckets": [non-cumulative counts], "sum": s})]}}``."""
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.metric_counters())
    pipe.hgetall(keys.metric_histograms())
    raw_counters, raw_histograms = pipe.execute()

    counters: dict[str, list[tuple[dict[str, str], float]]] = {n: [] for n in COUNTERS}
    for field, value in raw_counters.items():
        name, label_values = json.loads(field)
        spec = COUNTERS.get(name)
        if spec is not None and len(label_values) == len(spec.labels):
            counters[name].append((dict(zip(spec.labels, label_values, strict=True)), float(value)))

    histograms: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in HISTOGRAMS}
    for field, value in raw_histograms.items():
        series, _, part = field.rpartition("#")
        name, label_values = json.loads(series)
        spec = HISTOGRAMS.get(name)
        if spec is None or len(label_values) != len(spec.labels):
            continue
        entry = histograms[name].setdefault(
            series,
            {
                "labels": dict(zip(spec.labels, label_values, strict=True)),
                "buckets": [0] * (len(BUCKETS) + 1),
                "sum": 0.0,
            },
        )
        if part == "sum":
            entry["sum"] = float(value)
        elif part.isdigit() and int(part) <= len(BUCKETS):
            entry["buckets"][int(part)] = int(value)
    return {
        "counters": {n: sorted(v, key=lambda s: sorted(s[0].items())) for n, v in counters.items()},
        "histograms": {n: list(v.values()) for n, v in histograms.items()},
    }


def counter_total(totals: Mapping[str, Any], name: str) -> float:
    return sum(value for _, value in totals["counters"].get(name, []))


def histogram_quantile(buckets: list[int], q: float) -> float | None:
    """The upper bound of the bucket holding quantile ``q`` (None without observations)."""
    total = sum(buckets)
    if not total:
        return None
    rank, seen = q * total, 0
    for index, n in enumerate(buckets):
        seen += n
        if seen >= rank and n:
            return BUCKETS[index] if index < len(BUCKETS) else float("inf")
    return float("inf")


# --- Prometheus exposition ------------------------------------------------------------------------


class SnapshotCollector(Collector):
    """Yields the metric families of one monitoring snapshot (``pipeline.monitor.snapshot``)."""

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot
        depth = GaugeMetricFamily(
            "newsmon_queue_depth", "Jobs waiting in a Celery queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "newsmon_queue_oldest_job_age_seconds",
            "Age of the oldest job waiting in a Celery queue, in seconds.",
            labels=["queue"],
        )
        for queue, stats in snap["queues"].items():
            depth.add_metric([queue], stats["depth"])
            age.add_metric([queue], stats["oldest_age_seconds"])
        yield depth
        yield age

        yield GaugeMetricFamily(
            "newsmon_workers_alive",
            "Workers whose heartbeat is recent.",
            value=len(snap["workers"]),
        )
        feeds = GaugeMetricFamily(
            "newsmon_feeds", "Feeds by the status of their last poll.", labels=["status"]
        )
        for status, n in sorted(snap.get("feeds", {}).items()):
            feeds.add_metric([status], n)
        yield feeds

        totals = snap["totals"]
        for name, spec in COUNTERS.items():
            family = CounterMetricFamily(f"newsmon_{name}", spec.help, labels=list(spec.labels))
            series = totals["counters"].get(name, [])
            for labels, value in series:
                family.add_metric([labels[label] for label in spec.labels], value)
            if not series and not spec.labels:
                family.add_metric([], 0)  # an unlabelled series exists from the start
            yield family

        for name, spec in HISTOGRAMS.items():
            family = HistogramMetricFamily(
                f"newsmon_{name}_seconds", spec.help, labels=list(spec.labels)
            )
            entries = totals["histograms"].get(name, [])
            if not entries and not spec.labels:
                entries = [{"labels": {}, "buckets": [0] * (len(BUCKETS) + 1), "sum": 0.0}]
            for entry in entries:
                cumulative, running = [], 0
                for bound, n in zip([*BUCKETS, float("inf")], entry["buckets"], strict=True):
                    running += n
                    cumulative.append((_bound(bound), running))
                family.add_metric(
                    [entry["labels"][label] for label in spec.labels],
                    cumulative,
                    sum_value=entry["sum"],
                )
            yield family

        recent = GaugeMetricFamily(
            "newsmon_fetch_to_alert_recent_seconds",
            "Fetch-to-alert latency over the latest alerts, by quantile.",
            labels=["quantile"],
        )
        latency = snap["fetch_to_alert_seconds"]
        if latency["samples"]:
            for key, q in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
                recent.add_metric([q], latency[key])
        yield recent


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def render_metrics(snapshot: Mapping[str, Any]) -> str:
    """Prometheus text exposition (format 0.0.4) of a monitoring snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry).decode("utf-8")
