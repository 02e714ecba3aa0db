"""Monitoring numbers, computed once and shown three ways: `newsmon queue [--watch]` (a rich
table), the API's dashboard and /api/stats (JSON), and /metrics (Prometheus, via
``pipeline.telemetry.render_metrics``).

``queue_snapshot`` is the one place the numbers come from: queue depth and oldest-job age per
Celery queue, workers and their heartbeats, per-minute rates, counter and histogram totals,
fetch-to-alert percentiles, feeds by status. ``dashboard_stats`` adds what only the page shows:
the last hour minute by minute and the latest alerts per topic.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from pipeline import keys, telemetry
from pipeline.config import Config
from pipeline.core.alerts import iso_utc
from pipeline.feeds_report import feed_rows
from pipeline.store import Store

#: A worker whose last heartbeat is older than this is not alive (workers beat every 5 s).
WORKER_ALIVE_SECONDS = 30.0
#: Workers seen within this long but not alive now are listed as lost.
WORKER_LOST_SECONDS = 15 * 60.0
#: Per-minute counters behind the rates: articles processed and alerts routed (``Store.count``),
#: articles the pollers enqueued (``telemetry.count``).
RATES = {"articles": "articles", "alerts": "alerts", "fetched": "articles_fetched"}
HISTORY_MINUTES = 60
#: Alerts read per subscription stream, and subscriptions read, for "latest alerts per topic".
LATEST_PER_STREAM = 20
LATEST_MAX_SUBSCRIPTIONS = 200


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- the numbers ----------------------------------------------------------------------------------


def queue_snapshot(
    store: Store, now: float, config: Config | None = None, *, sample: bool = True
) -> dict[str, Any]:
    """Every monitoring number at ``now``. With ``sample``, also records this minute's queue
    depth in the one-hour history (harmless from several processes: the minute keeps its peak)."""
    queues = store.queue_stats(now)
    if sample:
        telemetry.sample_queues(store.r, queues, now)
    workers = worker_heartbeats(store, now)
    alive = [w["name"] for w in workers if w["alive"]]
    minutes = telemetry.minute_counts(store.r, RATES.values(), now, 2)
    rates = {label: telemetry.per_minute_rate(minutes[name], now) for label, name in RATES.items()}
    latencies = store.latencies()
    return {
        "at": iso_utc(now),
        "queues": queues,
        "workers": alive,
        "worker_heartbeats": workers,
        "rates_per_minute": rates,
        # Kept for `newsmon queue --json` readers: the same rates, rounded to whole events.
        "articles_last_minute": round(rates["articles"]),
        "alerts_last_minute": round(rates["alerts"]),
        "fetch_to_alert_seconds": {
            "p50": round(percentile(latencies, 0.50), 3),
            "p95": round(percentile(latencies, 0.95), 3),
            "p99": round(percentile(latencies, 0.99), 3),
            "samples": len(latencies),
        },
        "feeds": feed_status_counts(store, config),
        "totals": telemetry.read_totals(store.r),
    }


def worker_heartbeats(store: Store, now: float) -> list[dict[str, Any]]:
    """Workers seen lately, newest heartbeat first: name, seconds since it beat, alive or lost."""
    seen = store.r.zrangebyscore(keys.workers(), now - WORKER_LOST_SECONDS, "+inf", withscores=True)
    rows = [
        {
            "name": name,
            "last_seen_seconds": round(max(0.0, now - at), 1),
            "alive": now - at <= WORKER_ALIVE_SECONDS,
        }
        for name, at in seen
    ]
    return sorted(rows, key=lambda w: (w["last_seen_seconds"], w["name"]))


def feed_status_counts(store: Store, config: Config | None = None) -> dict[str, int]:
    """Feeds by the status of their last poll: the configured feeds when ``config`` is given,
    else the feeds on the pollers' schedule."""
    if config is not None:
        statuses = [row["status"] for row in feed_rows(config, store)]
    else:
        ids = store.r.zrange(keys.feeds_due(), 0, -1)
        statuses = [s.get("last_status") or "pending" for s in store.feeds.feed_states(ids)]
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def history(store: Store, now: float, minutes: int = HISTORY_MINUTES) -> dict[str, Any]:
    """The last ``minutes`` minutes, one value per minute, oldest first, current minute last."""
    current = int(now // 60)
    counts = telemetry.minute_counts(store.r, RATES.values(), now, minutes)
    return {
        "minutes": [iso_utc(m * 60) for m in range(current - minutes + 1, current + 1)],
        **{label: counts[name] for label, name in RATES.items()},
        "queues": telemetry.queue_history(store.r, keys.QUEUES, now, minutes),
    }


def latest_alerts(store: Store, per_topic: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The latest alerts per topic across subscriptions, one entry per story, newest first."""
    subs = store.subscriptions()[:LATEST_MAX_SUBSCRIPTIONS]
    if not subs:
        return {}
    pipe = store.r.pipeline(transaction=False)
    for sub in subs:
        pipe.xrevrange(keys.alerts(sub.id), count=LATEST_PER_STREAM)
    by_topic: dict[str, dict[str, dict[str, Any]]] = {}
    for entries in pipe.execute():
        for _, fields in entries:
            try:
                alert = json.loads(fields["alert"])
                article, story_id = alert["article"], alert["story"]["id"]
            except (KeyError, TypeError, ValueError):
                continue
            for topic, score in alert.get("topics", {}).items():
                stories = by_topic.setdefault(topic, {})
                known = stories.get(story_id)
                if known is None or alert["created_at"] < known["created_at"]:
                    stories[story_id] = {
                        "created_at": alert["created_at"],
                        "title": article.get("title", ""),
                        "url": article.get("url", ""),
                        "source": article.get("source", ""),
                        "score": score,
                        "sources": alert["story"].get("sources", []),
                    }
    return {
        topic: sorted(stories.values(), key=lambda a: a["created_at"], reverse=True)[:per_topic]
        for topic, stories in sorted(by_topic.items())
    }


def dashboard_stats(store: Store, now: float, config: Config | None = None) -> dict[str, Any]:
    """What the dashboard shows: the snapshot, the last hour and the latest alerts per topic."""
    snapshot = queue_snapshot(store, now, config)
    snapshot.pop("totals")
    return {
        **snapshot,
        "history": history(store, now),
        "latest_alerts": latest_alerts(store),
        "topics": {t.id: t.label for t in config.topics} if config is not None else {},
    }


# --- the terminal face ---------------------------------------------------------------------------


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def queue_table(snapshot: dict[str, Any]) -> RenderableType:
    """`newsmon queue`: queues, workers and throughput, as rich tables."""
    queues = Table(title=f"newsmon queues at {snapshot['at']}")
    queues.add_column("queue")
    queues.add_column("depth", justify="right")
    queues.add_column("oldest job age", justify="right")
    for name, q in snapshot["queues"].items():
        style = "red" if q["oldest_age_seconds"] >= 60 else None
        queues.add_row(name, str(q["depth"]), _age(q["oldest_age_seconds"]), style=style)

    workers = Table(title="workers")
    workers.add_column("worker")
    workers.add_column("state")
    workers.add_column("last heartbeat", justify="right")
    for w in snapshot.get("worker_heartbeats", []):
        state = "[green]alive[/]" if w["alive"] else "[red]lost[/]"
        workers.add_row(w["name"], state, f"{_age(w['last_seen_seconds'])} ago")
    if not snapshot.get("worker_heartbeats"):
        workers.add_row("[red]none[/]", "", "")

    rates = snapshot.get("rates_per_minute", {})
    lat = snapshot["fetch_to_alert_seconds"]
    throughput = Table(title="throughput (last 60 s) and latency")
    for column in ("fetched/min", "processed/min", "alerts/min", "fetch→alert p50 / p95 / p99"):
        throughput.add_column(column, justify="right")
    throughput.add_row(
        f"{rates.get('fetched', 0):g}",
        f"{rates.get('articles', snapshot.get('articles_last_minute', 0)):g}",
        f"{rates.get('alerts', snapshot.get('alerts_last_minute', 0)):g}",
        f"{lat['p50']}s / {lat['p95']}s / {lat['p99']}s ({lat['samples']} alerts)",
    )
    parts: list[RenderableType] = [queues, workers, throughput]
    feeds = snapshot.get("feeds")
    if feeds:
        parts.append("feeds: " + ", ".join(f"{status} {n}" for status, n in feeds.items()))
    return Group(*parts)
