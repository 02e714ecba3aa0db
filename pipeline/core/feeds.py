"""The feed list as written in feeds.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.urls import host_of


class FeedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    name: str = Field(min_length=1)
    url: str
    language: str = Field(default="", pattern=r"^([a-z]{2,3})?$")
    tags: list[str] = Field(default_factory=list)
    #: Pinned poll interval in seconds; otherwise the poller's default applies.
    interval: float | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        url = url.strip()
        if not url.startswith(("http://", "https://")) or not host_of(url):
            raise ValueError(f"{url!r} is not an http(s) URL with a host")
        return url


class FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeds: list[FeedSpec]

    @model_validator(mode="after")
    def _unique_ids(self) -> FeedsFile:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.id in seen:
                raise ValueError(f"feed id {feed.id!r} appears twice")
            seen.add(feed.id)
        return self
