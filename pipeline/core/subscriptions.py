"""Subscriptions as data, and the pure rule deciding which classified articles reach them.

A subscription: a name, topics (any of), an optional keyword query (``pipeline.core.keywords``),
sources, languages, a minimum score, a mode (``instant``, or a digest ``hourly`` / ``daily`` at a
local time in a time zone), a rate cap (instant alerts per hour; the excess waits for the next
hourly digest) and channels (webhook, email, Apprise). Pull (CLI, HTTP, SSE) always works.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.keywords import QueryError, parse_query, query_matches
from pipeline.core.models import Article, Classification


class WebhookChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["webhook"] = "webhook"
    url: str = Field(max_length=2000)
    #: HMAC-SHA256 key for the Newsmon-Signature header.
    secret: str = Field(default="", max_length=500)

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["email"] = "email"
    to: str = Field(max_length=320)

    @field_validator("to")
    @classmethod
    def _address(cls, to: str) -> str:
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", to):
            raise ValueError(f"{to!r} is not an email address")
        return to


class AppriseChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["apprise"] = "apprise"
    #: An Apprise URL: slack://…, tgram://…, msteams://…, matrix://…, json://host/path …
    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", url):
            raise ValueError(f"{url!r} is not an Apprise URL (scheme://…)")
        return url


Channel = Annotated[WebhookChannel | EmailChannel | AppriseChannel, Field(discriminator="type")]


def channel_id(channel: WebhookChannel | EmailChannel | AppriseChannel, index: int) -> str:
    """Stable name of a subscription's channel, used in idempotency keys and the delivery log."""
    return f"{channel.type}-{index}"


class SubscriptionSpec(BaseModel):
    """What a user asks for (the body of ``POST /api/subscriptions``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    topics: list[str] = Field(min_length=1, max_length=50)
    keywords: str = Field(default="", max_length=1000)
    sources: list[str] = Field(default_factory=list, max_length=500)
    languages: list[str] = Field(default_factory=list, max_length=50)
    min_score: float = Field(default=0.0, ge=0, le=1000)
    mode: Literal["instant", "hourly", "daily"] = "instant"
    #: For daily digests: local time "HH:MM" in ``timezone``.
    digest_at: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = Field(default="UTC", max_length=64)
    #: Instant pushes per hour at most; the excess goes into the next hourly digest.
    rate_cap: int | None = Field(default=None, ge=1, le=10_000)
    channels: list[Channel] = Field(default_factory=list, max_length=20)

    @field_validator("keywords")
    @classmethod
    def _valid_query(cls, keywords: str) -> str:
        try:
            parse_query(keywords)
        except QueryError as exc:
            raise ValueError(str(exc)) from None
        return keywords

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, languages: list[str]) -> list[str]:
        for code in languages:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not a language code such as 'en' or 'ru'")
        return languages

    @field_validator("timezone")
    @classmethod
    def _zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{timezone!r} is not an IANA time zone such as 'Asia/Baku'") from None
        return timezone

    @model_validator(mode="after")
    def _distinct_topics(self) -> SubscriptionSpec:
        self.topics = list(dict.fromkeys(self.topics))
        return self


class Subscription(SubscriptionSpec):
    id: str
    created_at: str
    #: SHA-256 of the subscription's bearer token (the token itself is shown once).
    token_sha256: str


def matches(subscription: SubscriptionSpec, article: Article, result: Classification) -> bool:
    """True when the article belongs in this subscription's alerts."""
    scores = [result.topics[t] for t in subscription.topics if t in result.topics]
    if not scores or max(scores) < subscription.min_score:
        return False
    if subscription.sources and article.source not in subscription.sources:
        return False
    if subscription.languages and article.language not in subscription.languages:
        return False
    return query_matches(subscription.keywords, f"{article.title}\n{article.summary}")
