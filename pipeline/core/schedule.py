"""Scheduling arithmetic: when to poll a feed next. Pure: the clock and randomness are passed in."""

from __future__ import annotations

MAX_BACKOFF_SECONDS = 6 * 3600.0


def next_poll(
    now: float,
    interval: float,
    failures: int = 0,
    retry_after: float | None = None,
    jitter: float = 0.0,
) -> float:
    """Next due time: the interval, doubled per consecutive failure (capped), never before a
    server's Retry-After. ``jitter`` in [0, 1) spreads retries of many feeds apart by up to 10%."""
    delay = interval
    if failures > 0:
        delay = min(MAX_BACKOFF_SECONDS, interval * 2 ** min(failures, 16))
        delay = max(interval, delay)
    delay *= 1.0 + 0.1 * jitter
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
