"""`newsmon feeds`: one row per configured feed, from its poll state in Redis."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.core.alerts import iso_utc
from pipeline.store import Store


def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        return iso_utc(float(value))
    except ValueError:
        return ""


def feed_rows(config: Config, store: Store) -> list[dict[str, Any]]:
    ids = [f.id for f in config.feeds]
    rows = []
    for feed, state in zip(config.feeds, store.feeds.feed_states(ids), strict=True):
        rows.append(
            {
                "id": feed.id,
                "name": feed.name,
                "url": state.get("url") or feed.url,
                "status": state.get("last_status")
                or ("disabled" if not feed.enabled else "pending"),
                "reason": state.get("last_reason", ""),
                "last_poll": _when(state.get("last_poll")),
                "next_poll": _when(state.get("next_poll")),
                "failures": int(state.get("failures") or 0),
                "last_error": state.get("last_error", ""),
                "new_articles": int(state.get("new_articles") or 0),
            }
        )
    return rows
