"""Scheduling arithmetic: when to poll a feed next. Pure: the clock and randomness are passed in.

The base interval follows how often the feed really publishes (new entries per second, learned
from entry dates and from what each poll found new), clamped to the feed's bounds; publisher hints
(``<ttl>``, ``sy:updatePeriod``/``sy:updateFrequency``, ``Cache-Control: max-age``) can only make it
longer, never beyond the upper bound. A pinned ``interval:`` replaces all of that. Failures back
off exponentially with jitter up to the upper bound; an unhealthy feed is probed at the upper
bound; a server's Retry-After is honoured up to a cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEEK = 7 * 24 * 3600.0

#: sy:updatePeriod values (RSS 1.0 syndication module), in seconds.
SY_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}

#: Weight of the latest observation in the moving average of the new-entry rate.
RATE_ALPHA = 0.3


@dataclass(frozen=True, slots=True)
class Bounds:
    min_interval: float
    max_interval: float

    def clamp(self, seconds: float) -> float:
        return min(self.max_interval, max(self.min_interval, seconds))


def bounds_for(
    tags: list[str] | tuple[str, ...],
    pinned: float | None,
    agency: Bounds,
    other: Bounds,
) -> Bounds:
    """A pinned interval is its own bound (still the ceiling of error backoff, at least the
    default ceiling); otherwise agencies get the tighter bounds."""
    if pinned:
        return Bounds(pinned, max(pinned, other.max_interval))
    return agency if "agency" in tags else other


def rate_from_dates(published: list[float], now: float, window: float = WEEK) -> float | None:
    """New entries per second from the entries' publication times in the last ``window``.

    A feed that lists only its latest N entries shows N entries over a short span: the rate is
    N divided by how far back the oldest of them goes. None without two dated recent entries.
    """
    recent = [t for t in published if now - window <= t <= now + 3600]
    if len(recent) < 2:
        return None
    span = max(now - min(recent), 60.0)
    return len(recent) / span


def observed_rate(previous: float | None, new_entries: int, elapsed: float) -> float | None:
    """Moving average of new entries per second seen between two successful polls."""
    if elapsed <= 0:
        return previous
    sample = new_entries / elapsed
    if previous is None:
        return sample
    return (1 - RATE_ALPHA) * previous + RATE_ALPHA * sample


def adaptive_interval(rate: float | None, bounds: Bounds) -> float:
    """Poll about once per new entry: 1 / rate, clamped. Unknown rate: halfway up (log scale)."""
    if rate is None:
        return bounds.clamp((bounds.min_interval * bounds.max_interval) ** 0.5)
    if rate <= 0:
        return bounds.max_interval
    return bounds.clamp(1.0 / rate)


def sy_interval(period: str | None, frequency: str | int | None) -> float | None:
    """Seconds between updates per sy:updatePeriod / sy:updateFrequency (default 1 per period)."""
    if not period:
        return None
    seconds = SY_PERIODS.get(str(period).strip().lower())
    if seconds is None:
        return None
    try:
        freq = int(str(frequency).strip()) if frequency not in (None, "") else 1
    except ValueError:
        freq = 1
    return seconds / max(1, freq)


def ttl_interval(ttl: str | int | None) -> float | None:
    """RSS ``<ttl>`` is in minutes."""
    try:
        minutes = float(str(ttl).strip()) if ttl not in (None, "") else None
    except ValueError:
        return None
    return minutes * 60.0 if minutes and minutes > 0 else None


_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)


def cache_max_age(cache_control: str | None) -> float | None:
    """Seconds from ``Cache-Control: max-age=N`` (None for no-cache / absent / zero)."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return None
    ages = [int(m.group(1)) for m in _MAX_AGE.finditer(cache_control)]
    age = max(ages) if ages else 0
    return float(age) if age > 0 else None


def base_interval(
    bounds: Bounds,
    rate: float | None,
    pinned: float | None = None,
    hints: tuple[float | None, ...] = (),
) -> float:
    """The interval for a healthy feed: pinned, or adaptive raised by publisher hints."""
    if pinned:
        return pinned
    interval = adaptive_interval(rate, bounds)
    for hint in hints:
        if hint:
            interval = max(interval, min(hint, bounds.max_interval))
    return interval


def next_poll(
    now: float,
    interval: float,
    failures: int = 0,
    retry_after: float | None = None,
    jitter: float = 0.0,
    *,
    max_interval: float | None = None,
    unhealthy_after: int | None = None,
    max_retry_after: float = 24 * 3600.0,
) -> float:
    """Next due time.

    Healthy: the interval, spread by up to +10% (``jitter`` in [0, 1)) so feeds added together do
    not stay in lockstep. Failing: the interval doubled per consecutive failure up to
    ``max_interval``, with "equal jitter" (half fixed, half random) to break up clumps of retries;
    at ``unhealthy_after`` failures, the maximum interval. Never before Retry-After (capped).
    """
    ceiling = max(interval, max_interval if max_interval is not None else 6 * 3600.0)
    if failures <= 0:
        delay = interval * (1.0 + 0.1 * jitter)
    elif unhealthy_after is not None and failures >= unhealthy_after:
        delay = ceiling
    else:
        backoff = min(ceiling, interval * 2 ** min(failures, 30))
        delay = backoff / 2 + backoff / 2 * jitter
        delay = max(min(interval, ceiling), delay)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
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
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)
