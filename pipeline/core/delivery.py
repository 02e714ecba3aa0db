"""Pure parts of push delivery: signatures, idempotency keys, backoff, digests, email bodies.

Webhook signature (DESIGN.md): ``Newsmon-Signature: t=UNIX_SECONDS,v1=HEX`` where HEX is
HMAC-SHA256 with the subscription's secret over ``"{t}.{raw body}"``. Receivers recompute it over
the raw bytes they received and reject a timestamp older than their replay window (5 minutes is
a good default); ``verify_signature`` is the reference implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.core.identity import short_hash

SIGNATURE_HEADER = "Newsmon-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is not older than ``tolerance``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def idempotency_key(subscription_id: str, item: str, channel: str) -> str:
    """Stable per (subscription, story or digest period, channel): receivers dedupe on it."""
    return short_hash("delivery", subscription_id, item, channel)


def backoff_seconds(
    attempt: int, base: float, cap: float, jitter: float, retry_after: float | None = None
) -> float:
    """Capped exponential backoff with full jitter in [50%, 100%], never below Retry-After
    (itself capped: a retry scheduled past the cap could outlive the broker's visibility
    timeout and run twice)."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    delay = delay * (0.5 + 0.5 * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


# --- digests ----------------------------------------------------------------------------------


def digest_period(mode: str, now: float, digest_at: str, timezone: str, hour_seconds: float) -> str:
    """The digest period that ``now`` falls in: the latest boundary passed.

    Hourly digests close every ``hour_seconds`` (3600; tests shorten it); daily ones at
    ``digest_at`` local time in ``timezone``.
    """
    if mode == "hourly":
        return f"h{int(now // hour_seconds)}"
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now, zone)
    hour, minute = (int(x) for x in digest_at.split(":"))
    boundary = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local < boundary:
        boundary -= timedelta(days=1)
    return f"d{boundary.date().isoformat()}"


def group_by_topic(alerts: list[dict[str, Any]], topics: list[str]) -> dict[str, list[dict]]:
    """Alerts under the subscribed topic they scored highest on, topics in subscription order."""
    groups: dict[str, list[dict]] = {t: [] for t in topics}
    for alert in alerts:
        scored = [(alert["topics"].get(t, 0), t) for t in topics if t in alert.get("topics", {})]
        topic = max(scored)[1] if scored else (topics[0] if topics else "other")
        groups.setdefault(topic, []).append(alert)
    return {t: items for t, items in groups.items() if items}


def build_digest(
    subscription_id: str,
    period: str,
    alerts: list[dict[str, Any]],
    topics: list[str],
    now: float,
) -> dict[str, Any]:
    return {
        "type": "digest",
        "subscription_id": subscription_id,
        "period": period,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "count": len(alerts),
        "topics": group_by_topic(alerts, topics),
    }


# --- texts for email and chat -------------------------------------------------------------------


def _line(alert: dict[str, Any]) -> str:
    art = alert["article"]
    sources = ", ".join(alert.get("story", {}).get("sources") or [art.get("source", "")])
    scores = ", ".join(f"{t} {s:g}" for t, s in alert.get("topics", {}).items())
    return f"{art.get('title') or '(no title)'}\n  {art.get('url', '')}\n  [{scores}] via {sources}"


def alert_text(payload: dict[str, Any]) -> tuple[str, str]:
    """(title, plain text) for an alert or a digest."""
    if payload.get("type") == "digest":
        title = f"newsmon digest: {payload['count']} stories"
        parts = []
        for topic, alerts in payload["topics"].items():
            parts.append(f"== {topic} ({len(alerts)}) ==")
            parts.extend(_line(a) for a in alerts)
        return title, "\n".join(parts)
    art = payload["article"]
    matched = "; ".join(f"{t}: {', '.join(terms)}" for t, terms in payload["matched"].items())
    return (
        f"newsmon: {art.get('title') or art.get('url')}",
        f"{_line(payload)}\n\n{art.get('summary', '')}\n\nmatched: {matched}",
    )


def alert_html(payload: dict[str, Any]) -> str:
    def item(alert: dict[str, Any]) -> str:
        art = alert["article"]
        sources = ", ".join(alert.get("story", {}).get("sources") or [])
        scores = ", ".join(f"{html.escape(t)} {s:g}" for t, s in alert.get("topics", {}).items())
        return (
            f'<li><a href="{html.escape(art.get("url", ""), quote=True)}">'
            f"{html.escape(art.get('title') or '(no title)')}</a><br>"
            f"<small>{scores} · via {html.escape(sources)}</small>"
            f"<p>{html.escape(art.get('summary', '')[:600])}</p></li>"
        )

    if payload.get("type") == "digest":
        sections = "".join(
            f"<h2>{html.escape(topic)} ({len(alerts)})</h2><ul>{''.join(map(item, alerts))}</ul>"
            for topic, alerts in payload["topics"].items()
        )
        return f"<html><body><h1>newsmon digest</h1>{sections}</body></html>"
    return f"<html><body><ul>{item(payload)}</ul></body></html>"
