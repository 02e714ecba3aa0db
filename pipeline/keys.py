"""The Redis layout: every key newsmon uses, its type and its time-to-live. Nothing else spells
a key; the store and the monitors call these functions.

All keys start with ``newsmon:``. Celery's own keys (the queue lists ``articles`` and
``deliveries``, kombu's ``unacked`` bookkeeping) are named by kombu from ``QUEUES`` below.

key                                  type    TTL             holds
newsmon:feeds:due                    zset    none            feed id -> unix time of next poll
newsmon:feed:{id}                    hash    none            poll state: url, etag, last_modified,
                                                             last_status, last_error, failures...
newsmon:feed:{id}:seen               zset    none, trimmed   entry id -> first seen (newest N)
newsmon:lease:feed:{id}              string  lease seconds   the poller holding the feed
newsmon:ids:{day}:{shard}            hash    window + 1 day  identity digest -> article+story id
newsmon:fp:{day}:{shard}             hash    window + 1 day  story id -> near-dup fingerprint
newsmon:bands:{day}:{shard}          hash    window + 1 day  LSH band key -> latest story id
newsmon:lineage:{day}:{shard}        hash    window + 1 day  story id -> "feed@time,feed@time…"
newsmon:subscriptions                set     none            subscription ids
newsmon:sub:{id}                     string  none            subscription JSON
newsmon:sub-token:{sha256}           string  none            subscription id owning the token
newsmon:alerts:{sub id}              stream  capped length   alert JSON in field "alert"
newsmon:alerted:{sub id}:{story id}  string  dedupe window   alert id (one alert per story)
newsmon:stats:{counter}:{minute}     string  2 hours         per-minute counter
newsmon:latency:fetch_to_alert       list    none, trimmed   latest fetch-to-alert seconds
newsmon:workers                      zset    none, pruned    worker hostname -> last heartbeat
newsmon:delivered:{key}              string  dedupe window   push accepted (idempotency key)
newsmon:sub:{id}:deliveries          stream  capped length   delivery log of a subscription
newsmon:deliveries:dead              stream  capped length   dead letters (replayable)
newsmon:sub:{id}:digest-cursor       string  none            last alert a digest included
newsmon:sub:{id}:digest:{period}     string  3 days          digest period claimed (sent once)
newsmon:sub:{id}:rate:{hour}         string  2 hours         instant pushes this hour
newsmon:sub:{id}:overflow            list    none            alerts over the rate cap
newsmon:redbeat:*                    (celery-redbeat)        beat schedule; :lock held by beat
newsmon:metrics:counters             hash    none            telemetry counter series -> total
newsmon:metrics:histograms           hash    none            histogram series, bucket -> count
newsmon:metrics:history:{minute}     hash    2 hours         queue depth / oldest age, peak of
                                                             the minute, per queue
newsmon:host:{host}:in-flight        zset    ~lease seconds  request token -> expiry (politeness)
newsmon:host:{host}:last-start       string  spacing + 1 s   unix time of the last request start
newsmon:host:{host}:unsent           string  connect timeout token of a granted request not yet
                                             + 1 s           written (politeness)
newsmon:websub:{feed id}             hash    none            WebSub subscription: hub, topic,
                                                             secret, token, state, lease, pushes
"""

from __future__ import annotations

PREFIX = "newsmon:"

#: Celery queues, one per stage, so each can be watched on its own.
ARTICLES_QUEUE = "articles"
DELIVERIES_QUEUE = "deliveries"
QUEUES = (ARTICLES_QUEUE, DELIVERIES_QUEUE)

STATS_TTL = 2 * 3600
LATENCY_SAMPLES = 2000


def feeds_due() -> str:
    return f"{PREFIX}feeds:due"


def feed_state(feed_id: str) -> str:
    return f"{PREFIX}feed:{feed_id}"


def feed_seen(feed_id: str) -> str:
    return f"{PREFIX}feed:{feed_id}:seen"


def feed_lease(feed_id: str) -> str:
    return f"{PREFIX}lease:feed:{feed_id}"


def subscriptions() -> str:
    return f"{PREFIX}subscriptions"


def subscription(sub_id: str) -> str:
    return f"{PREFIX}sub:{sub_id}"


def subscription_token(token_sha256: str) -> str:
    return f"{PREFIX}sub-token:{token_sha256}"


def alerts(sub_id: str) -> str:
    return f"{PREFIX}alerts:{sub_id}"


def alerted(sub_id: str, story_id: str) -> str:
    return f"{PREFIX}alerted:{sub_id}:{story_id}"


def stat(counter: str, minute: int) -> str:
    return f"{PREFIX}stats:{counter}:{minute}"


def fetch_to_alert_latency() -> str:
    return f"{PREFIX}latency:fetch_to_alert"


def workers() -> str:
    return f"{PREFIX}workers"


# --- delivery (issue 6) -------------------------------------------------------------------------


#: Celery beat's schedule and lock (celery-redbeat); the lock key is REDBEAT_PREFIX + ":lock".
REDBEAT_PREFIX = f"{PREFIX}redbeat"


def redbeat_lock() -> str:
    return f"{REDBEAT_PREFIX}:lock"


def delivered(idempotency_key: str) -> str:
    """string, TTL dedupe window: the push with this key was accepted by its target."""
    return f"{PREFIX}delivered:{idempotency_key}"


def delivery_log(sub_id: str) -> str:
    """stream, capped: one entry per push attempt outcome of a subscription."""
    return f"{PREFIX}sub:{sub_id}:deliveries"


def dead_letters() -> str:
    """stream, capped: pushes that failed their last attempt, with the reason; replayable."""
    return f"{PREFIX}deliveries:dead"


def digest_cursor(sub_id: str) -> str:
    """string: id of the last alert-stream entry a digest included."""
    return f"{PREFIX}sub:{sub_id}:digest-cursor"


def digest_claim(sub_id: str, period: str) -> str:
    """string, TTL 3 days: this digest period was sent (several beats cannot double-send)."""
    return f"{PREFIX}sub:{sub_id}:digest:{period}"


def rate(sub_id: str, hour: int) -> str:
    """string, TTL 2 hours: instant pushes of a subscription in one hour (the rate cap)."""
    return f"{PREFIX}sub:{sub_id}:rate:{hour}"


def overflow(sub_id: str) -> str:
    """list: alerts over the rate cap, waiting for the next hourly digest."""
    return f"{PREFIX}sub:{sub_id}:overflow"


# --- polling (issue 3)


def feed_lease_prefix() -> str:
    """``feed_lease(id)`` is this prefix plus the id (the claim script builds lease keys)."""
    return feed_lease("")


def feed_state_prefix() -> str:
    """``feed_state(id)`` is this prefix plus the id (the claim and release scripts build state
    keys)."""
    return feed_state("")


def host_in_flight(host: str) -> str:
    return f"{PREFIX}host:{host}:in-flight"


def host_last_start(host: str) -> str:
    return f"{PREFIX}host:{host}:last-start"


def host_unsent(host: str) -> str:
    """string, TTL connect timeout + 1 s: token of a granted request not yet written (no other
    grant for the host until it is)."""
    return f"{PREFIX}host:{host}:unsent"


# --- story index (issue 5): day-bucketed, sharded hashes -----------------------------------------
# Small hashes stay in Redis's compact listpack encoding (up to 128 fields by default), so an
# entry costs its bytes plus a few, instead of a key of its own with TTL bookkeeping. Each bucket
# expires a day after the dedupe window passes it.


def bucket_prefixes() -> dict[str, str]:
    """Prefixes of the story index buckets; "{prefix}{day}:{shard}" is a bucket's key (the
    lookup script in ``pipeline.story_index`` builds bucket keys from these)."""
    return {
        "ids": f"{PREFIX}ids:",
        "fp": f"{PREFIX}fp:",
        "bands": f"{PREFIX}bands:",
        "lineage": f"{PREFIX}lineage:",
    }


def identity_bucket(day: int, shard: int) -> str:
    """hash: identity digest -> "{article id}{story id}" (16 hex chars each)."""
    return f"{PREFIX}ids:{day}:{shard}"


def fingerprint_bucket(day: int, shard: int) -> str:
    """hash: story id -> near-duplicate fingerprint JSON (of the story's first article)."""
    return f"{PREFIX}fp:{day}:{shard}"


def lineage_bucket(day: int, shard: int) -> str:
    """hash: story id -> "feed@unix,feed@unix…": every source that carried it, first first."""
    return f"{PREFIX}lineage:{day}:{shard}"


def band_bucket(day: int, shard: int) -> str:
    """hash: LSH band key -> id of the latest story indexed under it."""
    return f"{PREFIX}bands:{day}:{shard}"


# --- monitoring (issue 7)
HISTORY_TTL = 2 * 3600


def metric_counters() -> str:
    return f"{PREFIX}metrics:counters"


def metric_histograms() -> str:
    return f"{PREFIX}metrics:histograms"


def queue_history(minute: int) -> str:
    return f"{PREFIX}metrics:history:{minute}"


# --- websub (issue 3)


def websub(feed_id: str) -> str:
    """hash: the feed's WebSub subscription (hub, topic, secret, callback token, state, lease
    end, push counters)."""
    return f"{PREFIX}websub:{feed_id}"
