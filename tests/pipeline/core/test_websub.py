"""The pure part of WebSub: callback addresses, when to (re)subscribe, leases, signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from pipeline.core import websub as ws

HUB = "https://hub.example/"
TOPIC = "https://news.example/feed.xml"


def test_callback_url_quotes_the_feed_id() -> None:
    assert ws.callback_url("https://n.example/", "a b", "tok") == (
        "https://n.example/websub/a%20b/tok"
    )


def active(expires: float) -> dict[str, str]:
    return {
        "hub": HUB,
        "topic": TOPIC,
        "token": "t",
        "state": ws.ACTIVE,
        "lease_expires": str(expires),
        "requested_at": "0",
    }


def test_subscribe_action() -> None:
    now = 1_000_000.0
    assert ws.subscribe_action({}, "", TOPIC, now, 60) is None  # no hub advertised
    assert ws.subscribe_action({}, HUB, TOPIC, now, 60) == "new"
    assert ws.subscribe_action(active(now + 3600), HUB, TOPIC, now, 60) is None
    assert ws.subscribe_action(active(now + 30), HUB, TOPIC, now, 60) == "renew"
    assert ws.subscribe_action(active(now - 1), HUB, TOPIC, now, 60) == "renew"
    assert ws.subscribe_action(active(now + 3600), "https://other.hub/", TOPIC, now, 60) == "new"
    assert ws.subscribe_action(active(now + 3600), HUB, TOPIC + "?x", now, 60) == "new"
    pending = {**active(0), "state": ws.PENDING, "requested_at": str(now - 10)}
    assert ws.subscribe_action(pending, HUB, TOPIC, now, 60) is None
    assert ws.subscribe_action(pending, HUB, TOPIC, now + ws.RETRY_SECONDS, 60) == "retry"
    failed = {**pending, "state": ws.FAILED}
    assert ws.subscribe_action(failed, HUB, TOPIC, now + ws.RETRY_SECONDS, 60) == "retry"


def test_push_until_only_for_an_active_unexpired_lease_of_this_hub() -> None:
    now = 1000.0
    assert ws.push_until(active(2000), HUB, TOPIC, now) == 2000
    assert ws.push_until(active(900), HUB, TOPIC, now) is None
    assert ws.push_until(active(2000), "https://other.hub/", TOPIC, now) is None
    assert ws.push_until({**active(2000), "state": ws.PENDING}, HUB, TOPIC, now) is None


def test_granted_lease() -> None:
    assert ws.granted_lease("3600", 86400) == 3600
    assert ws.granted_lease(None, 86400) == 86400
    assert ws.granted_lease("soon", 86400) == 86400
    assert ws.granted_lease("-5", 86400) == 86400


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_signature_valid(method: str) -> None:
    body = b"<feed/>"
    digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert ws.signature_valid("s3cret", body, f"{method}={digest}")
    assert ws.signature_valid("s3cret", body, f"{method.upper()}={digest.upper()}")
    assert ws.sign("s3cret", body, method) == f"{method}={digest}"
    assert not ws.signature_valid("other", body, f"{method}={digest}")
    assert not ws.signature_valid("s3cret", body + b" ", f"{method}={digest}")


@pytest.mark.parametrize("header", [None, "", "sha256", "md5=abc", "sha256=", "sha1=ünïcode"])
def test_malformed_signatures_are_invalid(header: str | None) -> None:
    assert not ws.signature_valid("s3cret", b"x", header)
    assert not ws.signature_valid("", b"x", ws.sign("s3cret", b"x"))
