"""WebSub (W3C WebSub, PubSubHubbub 0.4), the pure part: callback addresses, when to
(re)subscribe, the lease a verification grants, and the check of a push's ``X-Hub-Signature``.

The I/O (Redis, the hub request, the callback routes) is in ``pipeline.websub``,
``pipeline.poller`` and ``pipeline.api.websub``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

#: Subscription states kept in Redis.
PENDING = "pending"  # subscribe requested, the hub has not verified it yet
ACTIVE = "active"  # verified; pushes are expected until ``lease_expires``
DENIED = "denied"  # the hub refused (hub.mode=denied)
FAILED = "failed"  # the subscribe request itself failed

#: A pending, denied or failed subscription is asked for again after this many seconds.
RETRY_SECONDS = 3600.0
#: Signature algorithms a hub may use (WebSub 0.4 §8, "sha1", "sha256", "sha384", "sha512").
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384}
ALGORITHMS["sha512"] = hashlib.sha512


def callback_url(public_url: str, feed_id: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/websub/{quote(feed_id, safe='')}/{token}"


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def subscribe_action(
    sub: Mapping[str, str], hub: str, topic: str, now: float, renew_margin: float
) -> str | None:
    """What to ask the hub now: ``"new"`` (no subscription for this hub and topic yet),
    ``"renew"`` (an active lease ends within ``renew_margin``), ``"retry"`` (an earlier
    request was not verified, was denied or failed, long enough ago), or None (nothing)."""
    if not hub or not topic:
        return None
    if sub.get("hub") != hub or sub.get("topic") != topic or not sub.get("token"):
        return "new"
    state = sub.get("state")
    if state == ACTIVE:
        return "renew" if _float(sub.get("lease_expires")) - now <= renew_margin else None
    if now - _float(sub.get("requested_at")) >= RETRY_SECONDS:
        return "retry"
    return None


def push_until(sub: Mapping[str, str], hub: str, topic: str, now: float) -> float | None:
    """End of the active lease of the subscription to this hub and topic, if there is one."""
    if not hub or sub.get("state") != ACTIVE or sub.get("hub") != hub:
        return None
    if sub.get("topic") != topic:
        return None
    until = _float(sub.get("lease_expires"))
    return until if until > now else None


def granted_lease(value: str | None, requested: int) -> int:
    """The lease a verification request grants (``hub.lease_seconds``); the one we asked for
    when the hub leaves it out or sends nonsense."""
    try:
        lease = int(value or "")
    except ValueError:
        return requested
    return lease if lease > 0 else requested


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature: method=hex`` is the HMAC of the raw body with the subscription's
    secret. A missing, malformed or unknown-method signature is invalid."""
    if not secret or not header:
        return False
    method, _, signature = header.strip().partition("=")
    digest = ALGORITHMS.get(method.strip().lower())
    if digest is None or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given)


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value a hub sends (tests and tools)."""
    return f"{method}=" + hmac.new(secret.encode(), body, ALGORITHMS[method]).hexdigest()
