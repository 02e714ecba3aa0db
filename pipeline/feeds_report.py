"""`newsmon feeds`: one row per configured feed, from its poll state in Redis."""

from __future__ import annotations

import time
from typing import Any

from pipeline.config import Config
from pipeline.core import outcomes as oc
from pipeline.core.alerts import iso_utc
from pipeline.settings import Settings, get_settings
from pipeline.store import Store


def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        return iso_utc(float(value))
    except ValueError:
        return ""


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def feed_rows(
    config: Config, store: Store, settings: Settings | None = None, now: float | None = None
) -> list[dict[str, Any]]:
    """Per feed: where it is, its last outcome (fixed status and reason), its schedule, and the
    flags an operator acts on: disabled (410 or off in feeds.yaml), moved, unhealthy, quiet."""
    settings = settings or get_settings()
    now = time.time() if now is None else now
    ids = [f.id for f in config.feeds]
    rows = []
    for feed, state in zip(config.feeds, store.feeds.feed_states(ids), strict=True):
        status = state.get("last_status") or ("disabled" if not feed.enabled else "pending")
        failures = int(state.get("failures") or 0)
        gone = status == oc.GONE
        rows.append(
            {
                "id": feed.id,
                "name": feed.name,
                "url": state.get("url") or feed.url,
                "status": status,
                "reason": state.get("last_reason", ""),
                "http_status": int(state.get("last_http_status") or 0),
                "last_poll": _when(state.get("last_poll")),
                "next_poll": _when(state.get("next_poll")) if not gone else "",
                "interval": _number(state.get("interval")),
                "pinned": feed.interval is not None,
                "last_new_entry": _when(state.get("last_new_entry")),
                "rate_per_day": _number(state.get("rate_per_day")),
                "failures": failures,
                "last_error": state.get("last_error", ""),
                "new_articles": int(state.get("new_articles") or 0),
                "disabled": gone or not feed.enabled,
                "unhealthy": oc.is_unhealthy(failures, settings.unhealthy_after),
                "quiet": oc.is_quiet(
                    now,
                    _number(state.get("last_new_entry")),
                    _number(state.get("learned_gap")),
                    settings.quiet_factor,
                    settings.quiet_min_seconds,
                ),
                "moved_from": state.get("moved_from", ""),
                "moved_at": _when(state.get("moved_at")),
                "feed_link": state.get("feed_link", ""),
                "hub": state.get("hub", ""),
                "websub_until": _when(state.get("websub_until")),
            }
        )
    return rows
