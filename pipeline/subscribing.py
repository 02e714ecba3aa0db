"""Creating and changing subscriptions, shared by the CLI and the API: the checks that need the
configuration or the network (known topics, public push targets) on top of the model's own."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.core.subscriptions import (
    AppriseChannel,
    Subscription,
    SubscriptionSpec,
    WebhookChannel,
)
from pipeline.store import Store
from pipeline.targets import TargetRefused, check_apprise_target, check_target


def problems(spec: SubscriptionSpec, topic_ids: Iterable[str], allow_private: bool) -> list[str]:
    known = set(topic_ids)
    found = []
    unknown = [t for t in spec.topics if t not in known]
    if unknown:
        found.append(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for i, channel in enumerate(spec.channels):
        try:
            if isinstance(channel, WebhookChannel):
                check_target(channel.url, allow_private)
            elif isinstance(channel, AppriseChannel):
                check_apprise_target(channel.url, allow_private)
        except TargetRefused as exc:
            found.append(f"channels.{i}: {exc}")
    return found


def create(store: Store, spec: SubscriptionSpec, now: float) -> tuple[Subscription, str]:
    sub, token = store.create_subscription(spec, now)
    store.deliveries.start_digest_cursor(sub.id, "0-0")  # digests start with its first alert
    return sub, token


def update(store: Store, sub: Subscription, spec: SubscriptionSpec) -> Subscription:
    changed = Subscription(
        **spec.model_dump(), id=sub.id, created_at=sub.created_at, token_sha256=sub.token_sha256
    )
    store.update_subscription(changed)
    if changed.mode != "instant":
        store.deliveries.start_digest_cursor(sub.id, store.last_alert_id(sub.id) or "0-0")
    return changed
