"""Monitoring numbers, computed once and shown by `newsmon queue`, `newsmon feeds` and the API."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from pipeline.core.alerts import iso_utc
from pipeline.store import Store


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def queue_snapshot(store: Store, now: float) -> dict[str, Any]:
    latencies = store.latencies()
    return {
        "at": iso_utc(now),
        "queues": store.queue_stats(now),
        "workers": store.workers_alive(now),
        "articles_last_minute": store.counts_last_minutes("articles", now),
        "alerts_last_minute": store.counts_last_minutes("alerts", now),
        "fetch_to_alert_seconds": {
            "p50": round(percentile(latencies, 0.50), 3),
            "p95": round(percentile(latencies, 0.95), 3),
            "p99": round(percentile(latencies, 0.99), 3),
            "samples": len(latencies),
        },
    }


def queue_table(snapshot: dict[str, Any]) -> Table:
    table = Table(title=f"newsmon queues at {snapshot['at']}")
    table.add_column("queue")
    table.add_column("depth", justify="right")
    table.add_column("oldest job age (s)", justify="right")
    for name, q in snapshot["queues"].items():
        table.add_row(name, str(q["depth"]), f"{q['oldest_age_seconds']:.1f}")
    lat = snapshot["fetch_to_alert_seconds"]
    table.caption = (
        f"workers alive: {len(snapshot['workers'])} ({', '.join(snapshot['workers']) or 'none'})"
        f" · articles/min: {snapshot['articles_last_minute']}"
        f" · alerts/min: {snapshot['alerts_last_minute']}"
        f" · fetch→alert p50 {lat['p50']}s p95 {lat['p95']}s p99 {lat['p99']}s"
    )
    return table
