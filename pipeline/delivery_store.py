"""Redis operations for push delivery: the delivered marks, delivery logs, dead letters, digest
cursors and claims, and the rate cap. Key names come from ``pipeline.keys``."""

from __future__ import annotations

import json
from typing import Any

import redis

from pipeline import keys


class DeliveryStore:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def is_delivered(self, key: str) -> bool:
        return bool(self.r.exists(keys.delivered(key)))

    def mark_delivered(self, key: str, window: int) -> None:
        self.r.set(keys.delivered(key), "1", ex=window)

    def log(self, sub_id: str, entry: dict[str, Any], maxlen: int) -> None:
        self.r.xadd(
            keys.delivery_log(sub_id), {"entry": json.dumps(entry)}, maxlen=maxlen, approximate=True
        )

    def log_entries(self, sub_id: str, count: int = 100) -> list[dict[str, Any]]:
        entries = self.r.xrevrange(keys.delivery_log(sub_id), count=count)
        return [{"id": eid, **json.loads(f["entry"])} for eid, f in entries]

    def dead_letter(
        self, delivery: dict[str, Any], reason: str, attempts: int, maxlen: int
    ) -> None:
        record = {"delivery": delivery, "reason": reason, "attempts": attempts}
        self.r.xadd(
            keys.dead_letters(), {"entry": json.dumps(record)}, maxlen=maxlen, approximate=True
        )

    def dead_letters(self, count: int = 1000) -> list[dict[str, Any]]:
        entries = self.r.xrange(keys.dead_letters(), count=count)
        return [{"id": eid, **json.loads(f["entry"])} for eid, f in entries]

    def remove_dead_letter(self, entry_id: str) -> bool:
        return bool(self.r.xdel(keys.dead_letters(), entry_id))

    # --- digests and the rate cap -----------------------------------------------------------

    def claim_digest(self, sub_id: str, period: str) -> bool:
        return bool(self.r.set(keys.digest_claim(sub_id, period), "1", nx=True, ex=3 * 86400))

    def digest_cursor(self, sub_id: str) -> str:
        return self.r.get(keys.digest_cursor(sub_id)) or "-"

    def set_digest_cursor(self, sub_id: str, entry_id: str) -> None:
        self.r.set(keys.digest_cursor(sub_id), entry_id)

    def start_digest_cursor(self, sub_id: str, entry_id: str) -> None:
        """A new digest subscription starts from now, not from alerts it never asked for."""
        self.r.set(keys.digest_cursor(sub_id), entry_id, nx=True)

    def take_rate(self, sub_id: str, hour: int, cap: int) -> bool:
        """Count one instant push this hour; False when over the cap."""
        key = keys.rate(sub_id, hour)
        pipe = self.r.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 7200)
        return int(pipe.execute()[0]) <= cap

    def add_overflow(self, sub_id: str, alert: dict[str, Any]) -> None:
        self.r.rpush(keys.overflow(sub_id), json.dumps(alert))

    def peek_overflow(self, sub_id: str) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.r.lrange(keys.overflow(sub_id), 0, -1)]

    def drop_overflow(self, sub_id: str, count: int) -> None:
        """Forget the first ``count`` overflow alerts, once a digest carrying them is queued."""
        self.r.ltrim(keys.overflow(sub_id), count, -1)
