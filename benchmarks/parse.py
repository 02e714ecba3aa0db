"""Feed parsing speed: parse_feed with the lxml fast path against feedparser alone.

    .venv/bin/python benchmarks/parse.py [REAL_FEEDS_DIR]

Prints, in CPU time on one core (best of ``ROUNDS``):

(a) how many files of ``../shared/corpora/feedparser-tests`` and ``real-feeds`` the fast path takes
    (the rest go to feedparser);
(b) per real feed the fast path takes, cut to its first 50 entries (feeds with 50 or more entries;
    the cut is made with lxml at run time, nothing is copied into the repository): milliseconds
    per ``parse_feed`` call with the fast path and with feedparser, and the ratio;
(c) every real feed as it is, the whole folder in one pass: what the poller pays with the fast
    path (falling back to feedparser where it declines) and without it.

The poller's content type and base URL are used, so the figures include charset checks, DOCTYPE
defusing and article building, not only the XML parse.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.core.parse import ParsedFeed, fast_feed, parse_feed

ROUNDS = 5
ENTRIES = 50
CONTENT_TYPE = "application/rss+xml; charset=UTF-8"
BASE_URL = "http://news.test/feeds/rss.xml"
SKIP_NAMES = {"SOURCE.md", "SOURCES.md", "README.md"}


def _cpu(work: Callable[[], object], repeat: int = 1) -> float:
    """Best CPU seconds of one call to ``work`` over ``ROUNDS`` rounds of ``repeat`` calls."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(repeat):
            work()
        best = min(best, (time.process_time() - start) / repeat)
    return best


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in SKIP_NAMES)


def _taken(files: list[Path]) -> int:
    return sum(
        fast_feed(p.read_bytes(), content_type=CONTENT_TYPE, base_url=BASE_URL) is not None
        for p in files
    )


def _first_entries(body: bytes, count: int) -> bytes | None:
    """The feed with only its first ``count`` entries, or None when it has fewer."""
    from lxml import etree

    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    entries = list(root.iter("item", "entry", "{*}item", "{*}entry"))
    if len(entries) < count:
        return None
    for el in entries[count:]:
        el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _parse(body: bytes, fast: bool) -> Callable[[], ParsedFeed]:
    return lambda: parse_feed(
        body, source="bench", content_type=CONTENT_TYPE, base_url=BASE_URL, fast=fast
    )


def main() -> None:
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
    real = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "real-feeds"
    real_files = _files(real)
    if not real_files:
        sys.exit(f"no feeds found under {real}")
    tests_folder = shared / "feedparser-tests"
    if tests_folder.is_dir():
        test_files = _files(tests_folder)
        print(f"feedparser-tests: fast path takes {_taken(test_files)} of {len(test_files)} files")
    print(f"real-feeds:       fast path takes {_taken(real_files)} of {len(real_files)} files")

    print(f"\nper {ENTRIES}-entry feed (the first {ENTRIES} entries of each real feed), ms")
    print(f"{'feed':34} {'fast':>7} {'feedparser':>10} {'ratio':>6}")
    ratios, fast_ms, reference_ms = [], [], []
    for path in real_files:
        try:
            body = _first_entries(path.read_bytes(), ENTRIES)
        except Exception:  # noqa: BLE001 - not well-formed: nothing to cut
            body = None
        if body is None or fast_feed(body, content_type=CONTENT_TYPE, base_url=BASE_URL) is None:
            continue
        fast = _cpu(_parse(body, True), repeat=5) * 1000
        reference = _cpu(_parse(body, False)) * 1000
        ratios.append(reference / fast)
        fast_ms.append(fast)
        reference_ms.append(reference)
        print(f"{path.stem:34} {fast:7.2f} {reference:10.2f} {reference / fast:5.1f}x")
    if ratios:
        print(
            f"{'median':34} {statistics.median(fast_ms):7.2f} "
            f"{statistics.median(reference_ms):10.2f} {statistics.median(ratios):5.1f}x"
        )

    bodies = [p.read_bytes() for p in real_files]
    entries = sum(_parse(b, False)().total_entries for b in bodies)

    def all_feeds(fast: bool) -> Callable[[], object]:
        return lambda: [_parse(b, fast)() for b in bodies]

    with_fast, without = _cpu(all_feeds(True)), _cpu(all_feeds(False))
    print(f"\nall {len(bodies)} real feeds as they are ({entries} entries), one pass:")
    for label, seconds in (("with the fast path", with_fast), ("feedparser only", without)):
        print(f"  {label:19} {seconds * 1000:8.1f} ms  ({entries / seconds:,.0f} entries/s)")
    print(f"  speed-up            {without / with_fast:8.1f}x")


if __name__ == "__main__":
    main()
