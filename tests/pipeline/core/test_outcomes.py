"""Fixed statuses and reasons, and the HTTP answer -> status rules."""

from __future__ import annotations

from pipeline.core import outcomes as oc


def test_http_status_classification() -> None:
    assert oc.classify_http_status(200, False) is None
    assert oc.classify_http_status(304, False) == ("not_modified", "http_304")
    assert oc.classify_http_status(429, False) == ("rate_limited", "http_429")
    assert oc.classify_http_status(503, True) == ("rate_limited", "http_503")
    assert oc.classify_http_status(503, False) == ("soft_error", "http_503")
    assert oc.classify_http_status(500, False) == ("soft_error", "http_500")
    assert oc.classify_http_status(410, False) == ("gone", "http_410")
    assert oc.classify_http_status(404, False) == ("hard_error", "http_404")
    assert oc.classify_http_status(403, False) == ("hard_error", "http_403")
    assert oc.classify_http_status(302, False) == ("hard_error", "http_302")


def test_reasons_are_a_fixed_vocabulary() -> None:
    for reason in ("dns", "timeout", "too_large", "not_a_feed", "http_503", ""):
        assert oc.is_reason(reason)
    assert not oc.is_reason("HTTP 503") and not oc.is_reason("http_5000")


def test_failures_count_and_unhealthy() -> None:
    failures = 0
    for status in ("soft_error", "rate_limited", "hard_error"):
        failures = oc.consecutive_failures(failures, status)
    assert failures == 3 and not oc.is_unhealthy(failures, 5)
    assert oc.is_unhealthy(oc.consecutive_failures(4, "gone"), 5)
    assert oc.consecutive_failures(7, "not_modified") == 0
    assert oc.consecutive_failures(7, "moved") == 0


def test_quiet_means_silent_far_longer_than_learned_cadence() -> None:
    day = 86400.0
    # Hourly feed silent for 4 days: quiet (10 x 1 h < 3 days minimum -> 3 days).
    assert oc.is_quiet(10 * day, 6 * day, 3600, 10, 3 * day)
    assert not oc.is_quiet(10 * day, 8 * day, 3600, 10, 3 * day)
    # Weekly feed silent 8 days: not quiet.
    assert not oc.is_quiet(20 * day, 12 * day, 7 * day, 10, 3 * day)
    assert not oc.is_quiet(20 * day, None, 3600, 10, 0)
