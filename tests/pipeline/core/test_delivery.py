"""Pure delivery helpers: signatures, backoff, digest periods and grouping, keyword queries."""

from __future__ import annotations

import pytest

from pipeline.core.delivery import (
    backoff_seconds,
    build_digest,
    digest_period,
    idempotency_key,
    sign,
    verify_signature,
)
from pipeline.core.keywords import QueryError, parse_query, query_matches


def test_signature_round_trip_and_rejections() -> None:
    body = b'{"alert_id":"a1"}'
    header = sign("k", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("k", header, body, now=1_700_000_100)
    assert not verify_signature("other", header, body, now=1_700_000_100)
    assert not verify_signature("k", header, body + b" ", now=1_700_000_100)
    assert not verify_signature("k", header, body, now=1_700_000_000 + 301)  # replay window
    assert not verify_signature("k", "garbage", body)


def test_idempotency_key_is_stable_per_subscription_item_channel() -> None:
    key = idempotency_key("s1", "story1", "webhook-0")
    assert key == idempotency_key("s1", "story1", "webhook-0")
    assert key != idempotency_key("s1", "story1", "email-1")
    assert key != idempotency_key("s2", "story1", "webhook-0")


def test_backoff_is_capped_jittered_and_honours_retry_after() -> None:
    assert backoff_seconds(1, 5, 900, jitter=1.0) == 5
    assert backoff_seconds(4, 5, 900, jitter=1.0) == 40
    assert backoff_seconds(20, 5, 900, jitter=1.0) == 900
    assert backoff_seconds(4, 5, 900, jitter=0.0) == 20
    assert backoff_seconds(1, 5, 900, jitter=0.0, retry_after=120) == 120
    assert backoff_seconds(1, 5, 900, jitter=0.0, retry_after=10**6) == 900


def test_digest_periods() -> None:
    assert digest_period("hourly", 7200.5, "08:00", "UTC", 3600) == "h2"
    assert digest_period("hourly", 10.0, "08:00", "UTC", 4) == "h2"
    # 2024-01-11 05:30 UTC is 09:30 in Baku (UTC+4): past 08:00, so today's digest.
    assert digest_period("daily", 1704951000, "08:00", "Asia/Baku", 3600) == "d2024-01-11"
    assert digest_period("daily", 1704951000, "10:00", "Asia/Baku", 3600) == "d2024-01-10"


def test_digest_groups_by_best_subscribed_topic() -> None:
    alerts = [
        {"topics": {"demining": 6, "climate": 9}, "article": {}, "story": {}},
        {"topics": {"demining": 6}, "article": {}, "story": {}},
    ]
    digest = build_digest("s", "h1", alerts, ["demining", "climate"], 0)
    assert digest["count"] == 2
    assert [len(v) for v in digest["topics"].values()] == [1, 1]
    assert list(digest["topics"]) == ["demining", "climate"]


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("mine -minecraft", "Mine clearance resumes", True),
        ("mine -minecraft", "A Minecraft mine tour", False),
        ('"risk education" OR unicef', "UNICEF says", True),
        ('"risk education"', "education risk", False),
        ("(landmine OR uxo) AND NOT naval", "UXO found near Aghdam", True),
        ("(landmine OR uxo) AND NOT naval", "Naval UXO found", False),
        ("clear*", "Fields cleared", True),
        ("Qarabağ", "QARABAG wins", True),
        ("", "anything", True),
    ],
)
def test_keyword_queries(query: str, text: str, expected: bool) -> None:
    assert query_matches(query, text) is expected


@pytest.mark.parametrize("query", ["(mine", 'mine "risk', "mine OR", "AND", ")"])
def test_bad_keyword_queries_say_what_is_wrong(query: str) -> None:
    with pytest.raises(QueryError, match="keywords:"):
        parse_query(query)
