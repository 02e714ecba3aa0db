"""The dedupe step as the worker runs it: CPU per article and Redis memory per article in the
window, on an embedded Valkey.

    .venv/bin/python benchmarks/dedupe_store.py [--days 7] [--per-day 3000] [--copies 0.3]

Articles are the real feed samples in ``../shared/corpora/real-feeds`` (about 2,200), reused with
their figures and places changed so that each reuse is a different story (the look-alike guard
keeps them apart), plus a share of syndicated copies (agency prefix, dateline, boilerplate,
truncation). They arrive in batches of 100 spread over ``--days`` days, and go through
``StoryIndex.assign``, the exact call the worker makes. CPU is this process's time in
``assign`` (fingerprints, Python side of the pipelined Redis calls); memory is Valkey's
``used_memory`` growth divided by the articles in the window, with the shard count set from the
daily volume as the settings advise (articles per day / 50).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core.identity import new_article  # noqa: E402
from pipeline.core.models import Article  # noqa: E402
from pipeline.core.parse import parse_feed  # noqa: E402
from pipeline.embedded import start_valkey  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import Store, connect  # noqa: E402

PREFIXES = ["(MENAFN- Trend News Agency) ", "By Azernews ", "BAKU, Azerbaijan, March 4. "]


def real_texts() -> list[tuple[str, str]]:
    folder = REPO.parent / "shared" / "corpora" / "real-feeds"
    texts = []
    for path in sorted(folder.glob("*.xml")):
        for a in parse_feed(path.read_bytes(), source=path.stem).articles:
            if len(a.summary.split()) >= 8:
                texts.append((a.title, a.summary))
    if not texts:
        sys.exit(f"no articles under {folder}: the real feed samples are needed")
    return texts


def make(source: str, url: str, title: str, summary: str, now: float) -> Article:
    return new_article(source, url, title, summary, guid=url, language="en", fetched_at=now)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=3000)
    parser.add_argument("--copies", type=float, default=0.3)
    parser.add_argument(
        "--lineage",
        action="store_true",
        help="also record story lineage (sources per story), as the worker does",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    texts = real_texts()
    shards = max(1, args.per_day // 50)
    window = args.days * 86400
    valkey = start_valkey(None, appendonly=False)
    store = Store(
        connect(f"redis://127.0.0.1:{valkey.port}/0"),
        Settings(dedupe_window=window, dedupe_shards=shards),
    )
    try:
        base_memory = int(store.r.info("memory")["used_memory"])
        start_day = 20_000 * 86400.0
        published: list[Article] = []
        cpu = 0.0
        counts = {"new": 0, "near": 0, "exact": 0, "same_article": 0}
        n = 0
        for day in range(args.days):
            for _ in range(args.per_day // 100):
                batch = []
                for _ in range(100):
                    n += 1
                    if published and rng.random() < args.copies:
                        orig = rng.choice(published[-500:])
                        summary = rng.choice(PREFIXES) + orig.summary
                        batch.append(
                            make(
                                f"copy{n % 50}",
                                f"https://copy{n}.test/a",
                                orig.title,
                                summary,
                                start_day,
                            )
                        )
                    else:
                        title, summary = texts[n % len(texts)]
                        edition = f" Report {n}, issue {n % 977}, district {n % 83}."
                        batch.append(
                            make(
                                f"feed{n % 40}",
                                f"https://agency{n % 40}.test/{n}",
                                title,
                                summary + edition,
                                start_day,
                            )
                        )
                now = start_day + day * 86400 + 3600
                started = time.process_time()
                result = store.stories.assign(batch, now, window, shards)
                if args.lineage:
                    store.stories.add_sources(
                        [
                            (a.story_id, art.source, now)
                            for art, a in zip(batch, result, strict=True)
                        ],
                        now,
                    )
                cpu += time.process_time() - started
                for article, assignment in zip(batch, result, strict=True):
                    counts[assignment.how] += 1
                    if assignment.how == "new":
                        published.append(article)
        memory = int(store.r.info("memory")["used_memory"]) - base_memory
        encodings: dict[str, int] = {}
        for key in store.r.scan_iter(count=1000):
            enc = store.r.object("encoding", key)
            encodings[enc] = encodings.get(enc, 0) + 1
        print(
            json.dumps(
                {
                    "articles_in_window": n,
                    "days": args.days,
                    "shards_per_day": shards,
                    "assignments": counts,
                    "cpu_ms_per_article": round(cpu * 1000 / n, 3),
                    "redis_bytes_per_article": round(memory / n, 1),
                    "includes_lineage": args.lineage,
                    "key_encodings": encodings,
                },
                indent=2,
            )
        )
    finally:
        valkey.stop()


if __name__ == "__main__":
    main()
