"""Poll outcomes: a fixed set of statuses and reason strings, so metrics and `newsmon feeds` can
count them, and the rules that turn an HTTP answer into one. Pure.

Statuses
  ok            the feed was fetched and parsed (articles may be 0)
  not_modified  304, or a 200 whose body is byte-for-byte the last one
  moved         fetched through a permanent redirect (301/308); the stored URL now points there
  rate_limited  429, or 503 with Retry-After: the server asked us to come back later
  soft_error    probably temporary: DNS, connect, TLS, timeout, reset, 5xx, empty body
  hard_error    needs a person: 4xx, not a feed, parse error, too large, redirect loop
  gone          410: the feed is disabled until the operator changes its URL

Reasons: ``dns``, ``connect``, ``tls``, ``timeout``, ``reset``, ``http_NNN``, ``too_large``,
``not_a_feed``, ``parse_error``, ``redirects``, ``encoding``, ``empty``, ``unchanged_body``,
``internal`` (a bug in newsmon; logged with a traceback).
"""

from __future__ import annotations

OK = "ok"
NOT_MODIFIED = "not_modified"
MOVED = "moved"
RATE_LIMITED = "rate_limited"
SOFT_ERROR = "soft_error"
HARD_ERROR = "hard_error"
GONE = "gone"

STATUSES = (OK, NOT_MODIFIED, MOVED, RATE_LIMITED, SOFT_ERROR, HARD_ERROR, GONE)
#: Statuses that count as a failure (consecutive failures back off, then mark a feed unhealthy).
FAILURES = frozenset({RATE_LIMITED, SOFT_ERROR, HARD_ERROR, GONE})
#: Statuses of a successful fetch.
SUCCESSES = frozenset({OK, NOT_MODIFIED, MOVED})

REASONS = frozenset(
    {
        "dns",
        "connect",
        "tls",
        "timeout",
        "reset",
        "too_large",
        "not_a_feed",
        "parse_error",
        "redirects",
        "encoding",
        "empty",
        "unchanged_body",
        "internal",
    }
)

#: Permanent redirects: the stored URL follows them.
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def is_reason(reason: str) -> bool:
    """True for the fixed reason strings and ``http_NNN``."""
    if reason in REASONS or reason == "":
        return True
    return reason.startswith("http_") and reason[5:].isdigit() and len(reason) == 8


def http_reason(status: int) -> str:
    return f"http_{status}"


def classify_http_status(status: int, has_retry_after: bool) -> tuple[str, str] | None:
    """(status, reason) for an HTTP answer that carries no feed; None for 2xx (parse the body)."""
    if 200 <= status < 300:
        return None
    reason = http_reason(status)
    if status == 304:
        return NOT_MODIFIED, reason
    if status == 429 or (status == 503 and has_retry_after):
        return RATE_LIMITED, reason
    if status == 410:
        return GONE, reason
    if status in (408, 425) or status >= 500:
        return SOFT_ERROR, reason
    # Other 4xx, and 3xx that were not followed (no Location, 300, 305...).
    return HARD_ERROR, reason


def consecutive_failures(previous: int, status: str) -> int:
    return previous + 1 if status in FAILURES else 0


def is_unhealthy(failures: int, threshold: int) -> bool:
    return failures >= threshold


def is_quiet(
    now: float,
    last_new_entry: float | None,
    mean_gap: float | None,
    factor: float,
    min_seconds: float,
) -> bool:
    """A feed that has published before is quiet when silent for ``factor`` times its learned
    gap between entries, and at least ``min_seconds`` (a weekly feed is not quiet on day 8)."""
    if not last_new_entry or not mean_gap or mean_gap <= 0:
        return False
    return now - last_new_entry > max(min_seconds, factor * mean_gap)
