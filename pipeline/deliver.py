"""Push delivery, between the Celery tasks and the channels: which pushes to make, one attempt
at a push (with its outcome logged), digests that are due, and replay of dead letters.

Every push carries an idempotency key per (subscription, story or digest period, channel). A push
whose key is marked delivered is not sent again, whatever Celery retries or redelivers; a push
interrupted mid-send is sent again with the same key, which receivers use to drop the repeat.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import structlog

from pipeline.channels import PermanentError, TransientError, send
from pipeline.core.delivery import backoff_seconds, build_digest, digest_period, idempotency_key
from pipeline.core.subscriptions import Subscription, channel_id
from pipeline.settings import Settings
from pipeline.store import Store

log = structlog.get_logger("newsmon.deliver")


def delivery(sub: Subscription, index: int, item: str, payload: dict[str, Any]) -> dict[str, Any]:
    channel = channel_id(sub.channels[index], index)
    return {
        "subscription_id": sub.id,
        "channel": channel,
        "item": item,
        "key": idempotency_key(sub.id, item, channel),
        "payload": payload,
    }


def plan_pushes(
    store: Store, pushes: list[tuple[Subscription, dict[str, Any]]], now: float
) -> list[dict[str, Any]]:
    """Deliveries for new alerts of instant subscriptions; alerts over a rate cap wait for the
    next hourly digest; digest subscriptions are served by ``due_digests``."""
    out = []
    for sub, alert in pushes:
        if sub.mode != "instant":
            continue
        if sub.rate_cap and not store.deliveries.take_rate(sub.id, int(now // 3600), sub.rate_cap):
            store.deliveries.add_overflow(sub.id, alert)
            continue
        for index in range(len(sub.channels)):
            out.append(delivery(sub, index, alert["story"]["id"], alert))
    return out


@dataclass(slots=True)
class Attempt:
    outcome: str  # delivered | already | retry | dead | dropped
    note: str = ""
    retry_in: float | None = None


def attempt_delivery(
    store: Store, item: dict[str, Any], settings: Settings, attempt: int
) -> Attempt:
    """Try one push once; log the outcome; say whether and when to retry."""
    sub_id, key = item["subscription_id"], item["key"]
    if store.deliveries.is_delivered(key):
        return Attempt("already")
    sub = store.subscription(sub_id)
    index = int(item["channel"].rsplit("-", 1)[1]) if "-" in item["channel"] else -1
    if sub is None or not 0 <= index < len(sub.channels):
        return Attempt("dropped", "subscription or channel no longer exists")
    outcome = Attempt("delivered")
    try:
        outcome.note = send(sub.channels[index], item["payload"], key, settings)
        store.deliveries.mark_delivered(key, settings.dedupe_window)
    except PermanentError as exc:
        outcome = Attempt("dead", str(exc))
    except TransientError as exc:
        if attempt >= settings.delivery_max_attempts:
            outcome = Attempt("dead", f"{exc} (after {attempt} attempts)")
        else:
            cap = min(settings.delivery_backoff_cap, settings.visibility_timeout / 2)
            delay = backoff_seconds(
                attempt, settings.delivery_backoff_base, cap, random.random(), exc.retry_after
            )
            outcome = Attempt("retry", str(exc), delay)
    if outcome.outcome == "dead":
        store.deliveries.dead_letter(item, outcome.note, attempt, settings.delivery_log_maxlen)
    store.deliveries.log(
        sub_id,
        {
            "at": time.time(),
            "channel": item["channel"],
            "item": item["item"],
            "key": key,
            "attempt": attempt,
            "outcome": outcome.outcome,
            "note": outcome.note,
            "retry_in": outcome.retry_in,
        },
        settings.delivery_log_maxlen,
    )
    log.info(
        "delivery",
        subscription=sub_id,
        channel=item["channel"],
        outcome=outcome.outcome,
        note=outcome.note,
        attempt=attempt,
    )
    return outcome


def due_digests(store: Store, settings: Settings, now: float) -> list[dict[str, Any]]:
    """Deliveries for every digest whose period has closed, each period claimed once."""
    out: list[dict[str, Any]] = []
    for sub in store.subscriptions():
        if not sub.channels:
            continue
        if sub.mode != "instant":
            period = digest_period(
                sub.mode, now, sub.digest_at, sub.timezone, settings.digest_hour_seconds
            )
            if not store.deliveries.claim_digest(sub.id, period):
                continue
            cursor = store.deliveries.digest_cursor(sub.id)
            if cursor == "-":  # first period: start from now
                last = store.last_alert_id(sub.id)
                store.deliveries.set_digest_cursor(sub.id, last or "0-0")
                continue
            entries = store.alerts(sub.id, cursor, 10_000)
            if entries:
                payload = build_digest(sub.id, period, [a for _, a in entries], sub.topics, now)
                out.extend(delivery(sub, i, period, payload) for i in range(len(sub.channels)))
                store.deliveries.set_digest_cursor(sub.id, entries[-1][0])
        elif sub.rate_cap:
            period = digest_period("hourly", now, "00:00", "UTC", settings.digest_hour_seconds)
            overflow = store.deliveries.peek_overflow(sub.id)
            if overflow and store.deliveries.claim_digest(sub.id, "overflow-" + period):
                payload = build_digest(sub.id, period, overflow, sub.topics, now)
                out.extend(
                    delivery(sub, i, "overflow-" + period, payload)
                    for i in range(len(sub.channels))
                )
                store.deliveries.drop_overflow(sub.id, len(overflow))
    return out


def take_dead_letters(store: Store, entry_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Dead letters to send again (all, or those named), removed from the dead-letter stream."""
    chosen = []
    for entry in store.deliveries.dead_letters():
        if entry_ids is None or entry["id"] in entry_ids:
            chosen.append(entry["delivery"])
            store.deliveries.remove_dead_letter(entry["id"])
    return chosen
