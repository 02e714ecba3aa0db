"""End-to-end benchmark: synthetic articles through the real poller, broker and worker.

A feed server on 127.0.0.1 serves FEEDS feeds of ITEMS entries each; an embedded Valkey is the
broker and the store; a real Celery worker process (2 pool processes) classifies, dedupes and
routes to three subscriptions. Prints articles/s from the start of the poll until the last batch
is processed, and fetch-to-alert latency percentiles.

    python benchmarks/e2e.py [--feeds 40] [--items 100] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import keys  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.core.subscriptions import SubscriptionSpec  # noqa: E402
from pipeline.embedded import start_valkey  # noqa: E402
from pipeline.monitor import percentile  # noqa: E402
from pipeline.poller import Poller  # noqa: E402
from pipeline.queueing import client_app  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import Store  # noqa: E402
from tests.helpers.feedserver import FeedServer, Route, rss  # noqa: E402
from tests.helpers.processes import Worker  # noqa: E402

# Team-written templates: one in four items is on a topic.
TEMPLATES = [
    (
        "Sappers cleared {n} landmines in sector {k}",
        "Deminers found {n} anti-personnel mines and {k} unexploded ordnance items this week.",
    ),
    (
        "Ministers discuss climate finance before COP{k}",
        "Delegates debated adaptation funding and emission cuts, a statement number {n} said.",
    ),
    (
        "UNICEF opens {k} learning centres for displaced children",
        "The programme number {n} protects the rights of refugee children in the region.",
    ),
    (
        "Exchange index closes {k} points higher",
        "Trading volume reached {n} million as bank shares rose.",
    ),
    ("Team wins match {n} to {k}", "The visitors scored twice in the second half of game {n}."),
    (
        "New smartphone model {n} launched",
        "The device ships with {k} cameras and a larger battery.",
    ),
    ("Oil output reaches {n} barrels", "Production at field {k} grew on new wells."),
    ("Parliament passes budget {n}", "Deputies approved spending for {k} ministries."),
]


def items(feed: int, count: int) -> list[dict[str, str]]:
    out = []
    for i in range(count):
        n = feed * 100_000 + i
        title, summary = TEMPLATES[i % len(TEMPLATES)]
        url = f"http://bench.test/{feed}/{i}"
        out.append(
            {
                "title": title.format(n=n, k=i % 50),
                "description": summary.format(n=n, k=i),
                "link": url,
                "guid": url,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    total = args.feeds * args.items

    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    config_dir = work / "config"
    config_dir.mkdir()
    shutil.copyfile(REPO / "config" / "topics.yaml", config_dir / "topics.yaml")
    valkey = start_valkey(None, appendonly=False)
    redis_url = f"redis://127.0.0.1:{valkey.port}/0"
    server = FeedServer().start()
    worker = None
    try:
        lines = ["feeds:"]
        for f in range(args.feeds):
            server.set(f"/f{f}.xml", Route(rss(items(f, args.items))))
            lines += [
                f"  - id: f{f}",
                f"    name: feed {f}",
                f"    url: {server.url(f'/f{f}.xml')}",
                "    language: en",
            ]
        (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")
        store = Store.from_url(redis_url)
        for topic in ("climate", "child_rights", "demining"):
            store.create_subscription(SubscriptionSpec(topics=[topic]), time.time())
        worker = Worker(redis_url, config_dir, work / "worker.log", concurrency=args.concurrency)
        worker.start()
        settings = Settings(
            redis_url=redis_url, config_dir=config_dir, max_entries_per_feed=max(500, args.items)
        )
        config = load_config(config_dir)

        async def poll() -> float:
            async with Poller(settings, config, store, client_app(settings, redis_url)) as p:
                started = time.time()
                await p.run_once()
                return started

        started = asyncio.run(poll())
        enqueued = time.time()
        while store.counts_last_minutes("articles", time.time(), minutes=10) < total:
            time.sleep(0.02)
        while store.r.llen(keys.ARTICLES_QUEUE) or store.r.hlen("unacked"):
            time.sleep(0.02)
        finished = time.time()
        latencies = store.latencies()
        result = {
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
            f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}",
            "feeds": args.feeds,
            "articles": total,
            "poll_and_enqueue_seconds": round(enqueued - started, 3),
            "total_seconds": round(finished - started, 3),
            "articles_per_second": round(total / (finished - started), 1),
            "alerts": store.counts_last_minutes("alerts", time.time(), minutes=10),
            "fetch_to_alert_p50_s": round(percentile(latencies, 0.5), 3),
            "fetch_to_alert_p99_s": round(percentile(latencies, 0.99), 3),
        }
        print(json.dumps(result, indent=2))
    finally:
        if worker:
            worker.stop()
        server.stop()
        valkey.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
