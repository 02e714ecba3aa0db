"""Runtime settings, read from the environment (``REDIS_URL``, ``NEWSMON_*``).

Every setting is documented in ``.env.example``; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_", extra="ignore")

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "NEWSMON_REDIS_URL")
    )
    #: Directory holding feeds.yaml and topics.yaml.
    config_dir: Path = Path("config")
    #: Where `newsmon run` keeps the embedded Valkey's data and its address file.
    data_dir: Path = Path("var")

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    admin_token: str | None = None
    #: Allow webhook/Apprise targets on loopback or private networks (tests turn it on).
    allow_private_targets: bool = False
    #: Largest request body the API accepts, in bytes.
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    #: Poll interval in seconds for feeds that do not pin `interval:`.
    poll_interval: float = Field(default=600.0, gt=0)
    #: Seconds the poller sleeps between looks at the schedule.
    poll_tick: float = Field(default=1.0, gt=0)
    #: Feeds fetched at once by one poller (waiting for a host's turn counts as in flight).
    poll_concurrency: int = Field(default=32, ge=1)
    #: Seconds a poller holds a feed's lease while polling it.
    poll_lease_seconds: int = Field(default=120, ge=5)
    fetch_timeout: float = Field(default=30.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    #: Largest feed body read, in bytes (decompressed).
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_entries_per_feed: int = Field(default=500, ge=1)
    #: Processes parsing feeds off the event loop.
    parse_processes: int = Field(default=2, ge=1)
    user_agent_contact: str = "https://github.com/newsmon/newsmon"

    #: How long article identities are remembered for exact dedupe, in seconds (7 days).
    dedupe_window: int = Field(default=7 * 24 * 3600, ge=60)
    #: Shards per day of the story index; about articles per day / 50 keeps every shard compact.
    dedupe_shards: int = Field(default=256, ge=1, le=65536)
    #: Entries a feed remembers as already seen.
    seen_per_feed: int = Field(default=2000, ge=100)
    #: Alerts kept per subscription stream (approximate cap).
    alert_stream_maxlen: int = Field(default=10_000, ge=10)

    #: Seconds before an unacknowledged Celery message is redelivered.
    visibility_timeout: int = Field(default=3600, ge=1)
    worker_concurrency: int = Field(default=2, ge=1)

    # --- delivery (issue 6)
    #: SMTP server for email alerts; empty disables email.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "newsmon <newsmon@localhost>"
    smtp_starttls: bool = False
    #: Seconds one push may take (webhook response, SMTP session).
    delivery_timeout: float = Field(default=15.0, gt=0)
    #: Attempts per push before it goes to the dead-letter stream.
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    #: Backoff between attempts: base seconds, doubled per attempt, capped (and never longer
    #: than half the broker's visibility timeout, so a waiting retry is never run twice).
    delivery_backoff_base: float = Field(default=5.0, gt=0)
    delivery_backoff_cap: float = Field(default=900.0, gt=0)
    #: Length of an "hour" for hourly digests, in seconds (tests shorten it).
    digest_hour_seconds: float = Field(default=3600.0, gt=0)
    #: Seconds between digest checks by Celery beat.
    digest_tick_seconds: float = Field(default=30.0, gt=0)
    #: Entries kept in each subscription's delivery log and in the dead-letter stream.
    delivery_log_maxlen: int = Field(default=1000, ge=10)

    # --- polling (issue 3)
    #: Adaptive poll interval bounds in seconds, for feeds tagged `agency` and for the others.
    agency_min_interval: float = Field(default=120.0, gt=0)
    agency_max_interval: float = Field(default=6 * 3600.0, gt=0)
    feed_min_interval: float = Field(default=600.0, gt=0)
    feed_max_interval: float = Field(default=24 * 3600.0, gt=0)
    #: Seconds of silence between socket reads before a fetch times out.
    read_timeout: float = Field(default=20.0, gt=0)
    #: Largest compressed (on the wire) feed body read, in bytes.
    max_compressed_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    #: Redirects followed per fetch.
    max_redirects: int = Field(default=5, ge=0, le=20)
    #: Consecutive failures after which a feed is `unhealthy` and probed at its maximum interval.
    unhealthy_after: int = Field(default=5, ge=1)
    #: A feed is `quiet` when silent longer than this many times its learned gap between entries…
    quiet_factor: float = Field(default=10.0, ge=1)
    #: …and at least this many seconds.
    quiet_min_seconds: float = Field(default=3 * 24 * 3600.0, ge=0)
    #: Longest Retry-After honoured, in seconds (some servers ask for days).
    max_retry_after: float = Field(default=24 * 3600.0, gt=0)
    #: Every Nth poll of a feed is unconditional (no ETag / Last-Modified), to catch lying 304s.
    unconditional_every: int = Field(default=25, ge=1)
    #: Per host, across all pollers: requests in flight and seconds between request starts.
    host_max_in_flight: int = Field(default=2, ge=1)
    host_min_spacing: float = Field(default=1.0, ge=0)
    #: Longest a poller waits for a host's turn before handing the feed back to the schedule.
    host_max_wait: float = Field(default=5.0, ge=0)
    #: Backpressure: when the oldest job waiting in `articles` is older than this, in seconds,
    #: the poller slows down until the queue drains.
    backpressure_age: float = Field(default=120.0, gt=0)
    #: Feeds one poller claims per tick while under backpressure.
    backpressure_claims: int = Field(default=1, ge=0)
    #: Static name resolution for the poller: "name=address,.suffix=address" (a leading dot
    #: matches every host under that domain); benchmarks spread a farm over many hostnames on
    #: 127.0.0.1 with it. Empty: DNS as usual.
    poll_resolve: str = ""

    # --- monitoring (issue 7)
    #: Seconds between the API's samples of queue depth for the dashboard's one-hour chart.
    metrics_sample_seconds: float = Field(default=10.0, gt=0)
    #: Seconds between live updates the dashboard receives (server-sent events).
    dashboard_refresh_seconds: float = Field(default=2.0, gt=0)
    #: The dashboard, /api/stats and /metrics are open (read-only aggregate numbers); set false
    #: to require the admin token for them too (Bearer header, or ?token= for the page).
    ops_public: bool = True

    # --- websub (issue 3)
    #: Public base URL of the HTTP API as hubs reach it (e.g. https://newsmon.example.org);
    #: hubs call {public_url}/websub/{feed id}/{token}. Empty: WebSub is off (polling only).
    public_url: str = ""
    #: Lease asked of hubs, in seconds (the hub may grant another).
    websub_lease_seconds: int = Field(default=10 * 24 * 3600, ge=60)
    #: A subscription is renewed when its lease ends within this many seconds.
    websub_renew_margin: float = Field(default=12 * 3600.0, ge=0)
    #: Largest pushed feed body accepted, in bytes.
    websub_max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
