"""Poller benchmark: a farm of feeds on many hostnames, a first cycle and a steady cycle.

A farm server (``tests/helpers/hostile.py``, its own process) serves FEEDS feeds of ENTRIES
entries each, spread over HOSTS hostnames that the poller resolves to 127.0.0.1
(``NEWSMON_POLL_RESOLVE``), so per-host politeness (default: 2 in flight, 1 s between starts)
applies as in production. An embedded Valkey holds the schedule and is the Celery broker (no
worker: the benchmark measures the poller up to the enqueued task).

First cycle: every feed answers 200 with ENTRIES new entries (parsed and enqueued). Steady cycle:
every feed answers 304 to the poller's conditional GET. Prints feeds/s, entries/s, CPU seconds
per 1,000 feeds (poller process + its parser processes) and parsing's share of that CPU.

    python benchmarks/poll_farm.py [--feeds 10000] [--hosts 2000] [--entries 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import keys  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.embedded import start_valkey  # noqa: E402
from pipeline.poller import Poller  # noqa: E402
from pipeline.queueing import client_app  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_feeds(config_dir: Path, port: int, feeds: int, hosts: int) -> None:
    lines = ["feeds:"]
    for n in range(feeds):
        lines += [
            f"  - id: f{n}",
            f"    name: f{n}",
            f"    url: http://h{n % hosts}.farm.test:{port}/farm/{n}",
        ]
    (config_dir / "feeds.yaml").write_text("\n".join(lines) + "\n")
    shutil.copyfile(REPO / "config" / "topics.yaml", config_dir / "topics.yaml")


async def cycle(
    poller: Poller, store: Store, feeds: int, others: dict[str, int]
) -> dict[str, float]:
    """Make every feed due, run the poller loop until each has been polled once. ``others``:
    processes whose CPU is reported too (name -> pid: Valkey, the farm server)."""
    statuses: dict[str, int] = {}
    entries = 0
    done = asyncio.Event()
    polled = 0
    original = poller._record

    async def record(feed, state, outcome, started):  # noqa: ANN001, ANN202
        nonlocal polled, entries
        await original(feed, state, outcome, started)
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        entries += outcome.new_articles
        polled += 1
        if polled >= feeds:
            done.set()

    poller._record = record  # type: ignore[method-assign]
    store.r.zadd(keys.feeds_due(), {f"f{n}": 0 for n in range(feeds)})
    parse_pids = list(poller._pool._processes) if poller._pool else []  # type: ignore[union-attr]
    cpu0 = self_cpu()
    parse0 = sum(proc_cpu(p) for p in parse_pids)
    others0 = {name: proc_cpu(pid) for name, pid in others.items()}
    started = time.perf_counter()
    stop = asyncio.Event()
    loop_task = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(done.wait(), timeout=max(120.0, feeds / 10))
    elapsed = time.perf_counter() - started
    stop.set()
    await loop_task
    parse_pids = list(poller._pool._processes) if poller._pool else []  # type: ignore[union-attr]
    parse_cpu = sum(proc_cpu(p) for p in parse_pids) - parse0
    main_cpu = self_cpu() - cpu0
    poller._record = original  # type: ignore[method-assign]
    total_cpu = main_cpu + parse_cpu
    return {
        "seconds": round(elapsed, 2),
        "feeds_per_s": round(feeds / elapsed, 1),
        "entries_per_s": round(entries / elapsed, 1),
        "cpu_s_per_1000_feeds": round(1000 * total_cpu / feeds, 2),
        "poller_cpu_s": round(main_cpu, 2),
        "parse_cpu_s": round(parse_cpu, 2),
        "parse_share": round(parse_cpu / total_cpu, 3) if total_cpu else 0.0,
        **{
            f"{name}_cpu_s": round(proc_cpu(pid) - others0[name], 2) for name, pid in others.items()
        },
        "statuses": statuses,
    }


async def bench(
    args: argparse.Namespace, redis_url: str, config_dir: Path, others: dict[str, int]
) -> dict:
    settings = Settings(
        redis_url=redis_url,
        config_dir=config_dir,
        poll_concurrency=args.concurrency,
        poll_tick=0.05,
        parse_processes=args.parse_processes,
        poll_resolve=".farm.test=127.0.0.1",
        host_max_wait=30.0,
        backpressure_age=1e9,  # no worker drains the queue here
    )
    config = load_config(config_dir)
    store = Store.from_url(redis_url)
    results = {}
    async with Poller(settings, config, store, client_app(settings, redis_url)) as poller:
        results["first"] = await cycle(poller, store, args.feeds, others)
        await asyncio.sleep(1.5)  # let the last hosts' spacing pass
        results["steady"] = await cycle(poller, store, args.feeds, others)
    return results


def main() -> None:
    import logging

    import structlog

    # One log line per poll is the poller's normal output; here it would be 20,000 lines.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=2_000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--parse-processes", type=int, default=2)
    parser.add_argument("--uvloop", action="store_true", help="run the poller on uvloop")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="newsmon-pollbench-"))
    valkey = start_valkey(None, appendonly=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.hostile", "--farm-entries", str(args.entries)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        config_dir = tmp / "config"
        config_dir.mkdir()
        write_feeds(config_dir, port, args.feeds, args.hosts)
        redis_url = f"redis://127.0.0.1:{valkey.port}/0"
        valkey_pid = int(Store.from_url(redis_url).r.info("server")["process_id"])
        others = {"valkey": valkey_pid, "farm_server": server.pid}
        if args.uvloop:
            import uvloop

            results = uvloop.run(bench(args, redis_url, config_dir, others))
        else:
            results = asyncio.run(bench(args, redis_url, config_dir, others))
    finally:
        server.kill()
        server.wait(10)
        valkey.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "feeds": args.feeds,
        "hosts": args.hosts,
        "entries_per_feed": args.entries,
        "event_loop": "uvloop" if args.uvloop else "asyncio",
        **results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
