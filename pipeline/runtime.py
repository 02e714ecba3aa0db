"""Finding the Redis to use: ``REDIS_URL``, or the embedded server `newsmon run` started here."""

from __future__ import annotations

from pathlib import Path

from pipeline.settings import Settings
from pipeline.store import NoRedisError

ADDRESS_FILE = "redis.url"


def address_file(settings: Settings) -> Path:
    return settings.data_dir / ADDRESS_FILE


def resolve_redis_url(settings: Settings) -> str:
    """REDIS_URL if set, else the address `newsmon run` wrote under the data directory."""
    if settings.redis_url:
        return settings.redis_url
    path = address_file(settings)
    try:
        url = path.read_text().strip()
    except FileNotFoundError:
        url = ""
    if not url:
        raise NoRedisError(
            "no Redis: set REDIS_URL, or start `newsmon run` in this directory "
            f"(it writes the embedded server's address to {path})"
        )
    return url
