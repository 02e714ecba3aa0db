"""The schedule arithmetic: adaptive interval, clamps, publisher hints, backoff, Retry-After."""

from __future__ import annotations

import pytest

from pipeline.core.schedule import (
    Bounds,
    adaptive_interval,
    base_interval,
    bounds_for,
    cache_max_age,
    next_poll,
    observed_rate,
    parse_retry_after,
    rate_from_dates,
    sy_interval,
    ttl_interval,
)

AGENCY = Bounds(120, 6 * 3600)
OTHER = Bounds(600, 24 * 3600)
NOW = 1_700_000_000.0


def test_bounds_agency_other_and_pinned() -> None:
    assert bounds_for(["agency", "az"], None, AGENCY, OTHER) == AGENCY
    assert bounds_for(["blog"], None, AGENCY, OTHER) == OTHER
    pinned = bounds_for(["agency"], 30, AGENCY, OTHER)
    assert pinned.min_interval == 30 and pinned.max_interval == OTHER.max_interval


def test_busy_agency_polls_at_its_floor_and_quiet_feed_at_its_ceiling() -> None:
    # An agency listing its last 20 stories, one a minute.
    busy = [NOW - 60 * i for i in range(20)]
    rate = rate_from_dates(busy, NOW)
    assert rate == pytest.approx(20 / (19 * 60), rel=0.01)
    assert adaptive_interval(rate, AGENCY) == 120
    # One story a day for ten days: ~7 in the last week.
    daily = [NOW - 86400 * i - 100 for i in range(10)]
    interval = adaptive_interval(rate_from_dates(daily, NOW), OTHER)
    assert 0.8 * 86400 < interval <= 86400
    assert adaptive_interval(0.0, OTHER) == OTHER.max_interval


def test_rate_decays_as_a_feed_falls_silent() -> None:
    burst = [NOW - 60 * i for i in range(10)]
    assert rate_from_dates(burst, NOW + 2 * 86400) < rate_from_dates(burst, NOW) / 100
    assert rate_from_dates([NOW - 10 * 86400], NOW) is None
    assert rate_from_dates([NOW], NOW) is None


def test_unknown_rate_starts_between_the_bounds() -> None:
    assert OTHER.min_interval < adaptive_interval(None, OTHER) < OTHER.max_interval


def test_observed_rate_moving_average() -> None:
    assert observed_rate(None, 6, 600) == pytest.approx(0.01)
    assert observed_rate(0.01, 0, 600) == pytest.approx(0.007)
    assert observed_rate(0.01, 5, 0) == 0.01


def test_publisher_hints() -> None:
    assert ttl_interval("60") == 3600 and ttl_interval("x") is None and ttl_interval("") is None
    assert sy_interval("hourly", "2") == 1800
    assert sy_interval("daily", None) == 86400
    assert sy_interval("fortnightly", "1") is None and sy_interval("", "1") is None
    assert cache_max_age("public, max-age=900") == 900
    assert cache_max_age("max-age=60, s-maxage=300") == 300
    assert cache_max_age("no-cache, max-age=900") is None
    assert cache_max_age("max-age=0") is None and cache_max_age(None) is None


def test_hints_only_lengthen_and_never_past_the_ceiling() -> None:
    rate = 1 / 60  # one a minute
    assert base_interval(AGENCY, rate) == 120
    assert base_interval(AGENCY, rate, hints=(1800.0, None)) == 1800
    assert base_interval(AGENCY, rate, hints=(7 * 86400.0,)) == AGENCY.max_interval
    assert base_interval(AGENCY, 1 / 7200, hints=(60.0,)) == 7200


def test_pinned_interval_replaces_adaptive_clamp_and_hints() -> None:
    assert base_interval(AGENCY, 1 / 60, pinned=30, hints=(3600.0,)) == 30
    # ...but backoff and Retry-After still apply.
    bounds = bounds_for([], 30, AGENCY, OTHER)
    ceiling = bounds.max_interval
    assert next_poll(NOW, 30, failures=3, jitter=0.999, max_interval=ceiling) > NOW + 200
    assert next_poll(NOW, 30, retry_after=900, max_interval=bounds.max_interval) == NOW + 900


def test_healthy_jitter_is_at_most_ten_percent() -> None:
    assert next_poll(NOW, 600) == NOW + 600
    assert NOW + 600 < next_poll(NOW, 600, jitter=0.99) <= NOW + 660


def test_errors_back_off_exponentially_with_jitter_up_to_the_ceiling() -> None:
    delays = [next_poll(0, 600, failures=f, jitter=1.0, max_interval=86400) for f in range(1, 9)]
    assert delays[:4] == [1200, 2400, 4800, 9600]
    assert delays[-1] == 86400
    low = next_poll(0, 600, failures=3, jitter=0.0, max_interval=86400)
    assert low == 2400  # equal jitter: half of the backoff is fixed
    assert next_poll(0, 600, failures=1, jitter=0.0, max_interval=86400) == 600


def test_unhealthy_feed_probed_at_the_maximum_interval() -> None:
    assert next_poll(0, 600, failures=5, max_interval=86400, unhealthy_after=5) == 86400
    assert next_poll(0, 600, failures=4, max_interval=86400, unhealthy_after=5) < 86400


def test_retry_after_honoured_and_capped() -> None:
    assert next_poll(0, 600, failures=1, retry_after=7200, max_interval=86400) == 7200
    assert next_poll(0, 600, retry_after=317100, max_retry_after=86400) == 86400
    assert parse_retry_after("120", 0) == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412400) == pytest.approx(80)
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None
