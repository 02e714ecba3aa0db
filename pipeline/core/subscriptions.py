"""Subscriptions as data, and the pure rule deciding which classified articles reach them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.core.models import Article, Classification
from pipeline.core.text import tokenize


class Channels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook: str | None = None
    webhook_secret: str | None = None
    email: str | None = None
    apprise: list[str] = Field(default_factory=list)


class SubscriptionSpec(BaseModel):
    """What a user asks for (the body of ``POST /api/subscriptions``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    topics: list[str] = Field(min_length=1, max_length=50)
    keywords: str = Field(default="", max_length=1000)
    sources: list[str] = Field(default_factory=list, max_length=500)
    languages: list[str] = Field(default_factory=list, max_length=50)
    min_score: float = Field(default=0.0, ge=0)
    digest: Literal["hourly", "daily"] | None = None
    channels: Channels = Field(default_factory=Channels)

    @field_validator("keywords")
    @classmethod
    def _valid_query(cls, keywords: str) -> str:
        parse_keywords(keywords)
        return keywords

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, languages: list[str]) -> list[str]:
        for code in languages:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not a language code such as 'en' or 'ru'")
        return languages


class Subscription(SubscriptionSpec):
    id: str
    created_at: str
    #: SHA-256 of the subscription's bearer token (the token itself is shown once).
    token_sha256: str


# --- keyword queries: words and "phrases", all required; a leading '-' excludes -----------------

KeywordQuery = tuple[list[tuple[str, ...]], list[tuple[str, ...]]]
_QUERY_PART = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def parse_keywords(query: str) -> KeywordQuery:
    """``'mine "risk education" -minecraft'`` -> (required phrases, excluded phrases)."""
    required: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    if query.count('"') % 2:
        raise ValueError('keywords: a quoted phrase is not closed (unbalanced ")')
    for match in _QUERY_PART.finditer(query):
        negate = match.group(1) or match.group(3)
        text = match.group(2) if match.group(2) is not None else match.group(4)
        words = tuple(w for w, _, _ in tokenize(text))
        if not words:
            continue
        (excluded if negate else required).append(words)
    return required, excluded


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def keywords_match(query: str, text: str) -> bool:
    required, excluded = parse_keywords(query)
    if not required and not excluded:
        return True
    words = [w for w, _, _ in tokenize(text)]
    return all(_contains(words, p) for p in required) and not any(
        _contains(words, p) for p in excluded
    )


def matches(subscription: SubscriptionSpec, article: Article, result: Classification) -> bool:
    """True when the article belongs in this subscription's alerts."""
    scores = [result.topics[t] for t in subscription.topics if t in result.topics]
    if not scores or max(scores) < subscription.min_score:
        return False
    if subscription.sources and article.source not in subscription.sources:
        return False
    if subscription.languages and article.language not in subscription.languages:
        return False
    return keywords_match(subscription.keywords, f"{article.title}\n{article.summary}")
