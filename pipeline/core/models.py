"""The data that flows through the pipeline, as plain dataclasses with JSON round-trips."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Article:
    """One feed entry, normalised: plain text, canonical URL, UTC times."""

    #: Stable id derived from the entry's identity (see ``identity.article_id``).
    id: str
    #: Feed id from feeds.yaml (the article's source).
    source: str
    url: str
    canonical_url: str
    guid: str
    title: str
    summary: str
    language: str
    #: ISO 8601 UTC ("2024-01-11T08:40:00Z"), or "" when the feed gave no date.
    published: str
    #: Unix seconds when the poller fetched the feed (for fetch-to-alert latency).
    fetched_at: float = 0.0
    #: Hash of the normalised title and text.
    content_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def public(self) -> dict[str, Any]:
        """The article as it appears inside an alert (DESIGN.md's alert JSON)."""
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "summary": self.summary,
            "source": self.source,
            "language": self.language,
            "published": self.published,
        }


@dataclass(slots=True)
class Classification:
    """Topic scores of one text: only topics at or over their threshold are kept."""

    topics: dict[str, float] = field(default_factory=dict)
    #: Per matched topic, the surface text of each matched term, in order of appearance.
    matched: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": dict(self.topics),
            "matched": {k: list(v) for k, v in self.matched.items()},
        }
