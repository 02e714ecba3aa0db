"""CPU cost and stored size of the pure near-duplicate core, on the real feed samples.

    .venv/bin/python benchmarks/dedupe_core.py [FEEDS_DIR]

Parses every feed in ``../shared/corpora/real-feeds`` (or FEEDS_DIR), then measures per article:
``fingerprint()``, one JSON round trip of the stored form, and ``same_story`` against
``CANDIDATES`` earlier fingerprints (what the shell verifies after LSH candidate hits). Prints
CPU time per article (process time, best of ``ROUNDS``) and the stored JSON size.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from pipeline.core.neardup import (
    fingerprint,
    fingerprint_from_json,
    fingerprint_to_json,
    same_story,
)
from pipeline.core.parse import parse_feed

ROUNDS = 5
CANDIDATES = 4


def load_articles(folder: Path) -> list[tuple[str, str, str]]:
    articles = []
    for path in sorted(folder.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), source=path.stem)
        articles.extend((a.title, a.summary, a.language) for a in parsed.articles)
    return articles


def main() -> None:
    repo = Path(__file__).resolve().parents[1]
    default = repo.parent / "shared" / "corpora" / "real-feeds"
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    articles = load_articles(folder)
    if not articles:
        sys.exit(f"no feed articles found under {folder}")

    def fingerprint_all() -> list:
        return [fingerprint(t, s, lang) for t, s, lang in articles]

    best_fp = min(_cpu(fingerprint_all) for _ in range(ROUNDS))
    prints = fingerprint_all()
    stored = [fingerprint_to_json(fp) for fp in prints]

    def read_all() -> list:
        return [fingerprint_from_json(s, fp.bands) for s, fp in zip(stored, prints, strict=True)]

    best_json = min(_cpu(read_all) for _ in range(ROUNDS))

    def verify_all() -> int:
        merged = 0
        for i, fp in enumerate(prints):
            for j in range(max(0, i - CANDIDATES), i):
                merged += same_story(prints[j], fp)
        return merged

    best_verify = min(_cpu(verify_all) for _ in range(ROUNDS))
    n = len(articles)
    sizes = [len(s.encode()) for s in stored]
    bands = [len(fp.bands) for fp in prints]
    words = [len((t + " " + s).split()) for t, s, _ in articles]
    print(f"articles: {n} from {folder}")
    print(f"words per article (title + summary): median {statistics.median(words):.0f}")
    print(f"fingerprint():          {1e6 * best_fp / n:8.1f} µs CPU per article")
    print(f"from_json():            {1e6 * best_json / n:8.1f} µs CPU per article")
    print(
        f"same_story() x {CANDIDATES}:       {1e6 * best_verify / n:8.1f} µs CPU per article"
        f" (all candidates)"
    )
    total = best_fp + best_json + best_verify
    print(f"dedupe core total:      {1e6 * total / n:8.1f} µs CPU per article")
    print(
        f"stored JSON: mean {statistics.mean(sizes):.0f} B, median {statistics.median(sizes):.0f}"
        f" B, max {max(sizes)} B per article"
    )
    print(f"band keys: {max(bands)} per article at most, {len(prints[0].bands[0])} chars each")


def _cpu(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


if __name__ == "__main__":
    main()
