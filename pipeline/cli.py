"""The `newsmon` command line: one entry point for every part and every operator question."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.config import Config, ConfigError, load_config, load_topics
from pipeline.settings import Settings, get_settings
from pipeline.store import NoRedisError, Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="newsmon: watch news agencies for the stories you care about.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON.")]


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"newsmon: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def _global(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Directory with feeds.yaml and topics.yaml.", file_okay=False
        ),
    ] = None,
) -> None:
    if config is not None:
        # Through the environment, so the processes `newsmon run` starts see it too.
        os.environ["NEWSMON_CONFIG_DIR"] = str(config.resolve())
        get_settings.cache_clear()


def settings() -> Settings:
    return get_settings()


def config() -> Config:
    try:
        return load_config(settings().config_dir)
    except ConfigError as exc:
        fail(str(exc))
        raise  # unreachable


def redis_url() -> str:
    from pipeline.runtime import resolve_redis_url

    try:
        return resolve_redis_url(settings())
    except NoRedisError as exc:
        fail(str(exc))
        raise


def store() -> Store:
    url = redis_url()
    s = Store.from_url(url)
    if not s.ping():
        fail(f"cannot reach Redis at {url} (is `newsmon run` still running?)")
    return s


# --- running the parts -------------------------------------------------------------------------


@app.command()
def run(
    demo: Annotated[bool, typer.Option("--demo", help="Serve and poll demo feeds.")] = False,
) -> None:
    """Everything on one machine: embedded Valkey (unless REDIS_URL), worker, poller, API."""
    from pipeline.runner import run_foreground

    raise typer.Exit(run_foreground(demo))


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """The Celery worker (the same as `celery -A workers worker`), on both queues."""
    from pipeline.keys import QUEUES

    store()  # a plain error now beats Celery's retry loop against a missing server
    n = concurrency or settings().worker_concurrency
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "-Q",
        ",".join(QUEUES),
        "--concurrency",
        str(n),
        "--loglevel",
        "INFO",
        "--hostname",
        "newsmon@%h",
    ]
    os.execv(sys.executable, args)


@app.command()
def beat(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 0 if a beat holds the lock.")
    ] = False,
) -> None:
    """Celery beat for digests, with its schedule and lock in Redis (several may run)."""
    from pipeline import keys

    st = store()
    if check:
        raise typer.Exit(0 if st.r.exists(keys.redbeat_lock()) else 1)
    os.execv(
        sys.executable,
        [sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel", "INFO"],
    )


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="Poll due feeds once, exit.")] = False,
) -> None:
    """The feed poller (several may run; they share the schedule in Redis)."""
    from pipeline.poller import Poller
    from pipeline.queueing import client_app

    cfg, st = config(), store()
    celery = client_app(settings(), redis_url())

    async def main() -> None:
        async with Poller(settings(), cfg, st, celery) as poller:
            if once:
                outcomes = await poller.run_once()
                for o in outcomes:
                    typer.echo(
                        f"{o.feed_id}: {o.status} {o.reason} new={o.new_articles}"
                        + (f" error={o.error}" if o.error else "")
                    )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await poller.run(stop)

    asyncio.run(main())


@app.command()
def api() -> None:
    """The HTTP API."""
    from aiohttp import web

    from pipeline.api import make_app

    s = settings()
    web.run_app(
        make_app(s, config(), store()),
        host=s.api_host,
        port=s.api_port,
        print=lambda msg: typer.echo(msg, err=True),
    )


# --- subscriptions and alerts ------------------------------------------------------------------


@app.command()
def subscribe(
    topic: Annotated[list[str], typer.Option("--topic", help="Topic id (repeatable).")],
    keywords: Annotated[
        str, typer.Option(help='Query: words, "phrases", AND, OR, NOT, -word, ( ).')
    ] = "",
    source: Annotated[list[str] | None, typer.Option("--source", help="Feed id.")] = None,
    language: Annotated[list[str] | None, typer.Option("--language", help="Code.")] = None,
    min_score: Annotated[float, typer.Option(help="Minimum topic score.")] = 0.0,
    digest: Annotated[str | None, typer.Option(help="hourly or daily (default: instant).")] = None,
    digest_at: Annotated[str, typer.Option(help="Daily digest time, HH:MM.")] = "08:00",
    timezone: Annotated[str, typer.Option(help="Time zone of --digest-at.")] = "UTC",
    rate_cap: Annotated[int | None, typer.Option(help="Instant pushes per hour at most.")] = None,
    webhook: Annotated[str | None, typer.Option(help="Webhook URL.")] = None,
    secret: Annotated[str | None, typer.Option(help="Webhook signing secret.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    apprise: Annotated[list[str] | None, typer.Option("--apprise", help="Apprise URL.")] = None,
    name: Annotated[str, typer.Option(help="A name for it.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Subscribe to topics; prints the subscription id and its token."""
    from pydantic import ValidationError

    from pipeline.core.subscriptions import SubscriptionSpec
    from pipeline.subscribing import create, problems

    channels: list[dict[str, str]] = []
    if webhook:
        channels.append({"type": "webhook", "url": webhook, "secret": secret or ""})
    if email:
        channels.append({"type": "email", "to": email})
    channels += [{"type": "apprise", "url": url} for url in apprise or []]
    try:
        spec = SubscriptionSpec.model_validate(
            {
                "name": name,
                "topics": topic,
                "keywords": keywords,
                "sources": source or [],
                "languages": language or [],
                "min_score": min_score,
                "mode": digest or "instant",
                "digest_at": digest_at,
                "timezone": timezone,
                "rate_cap": rate_cap,
                "channels": channels,
            }
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 2)
        raise
    found = problems(spec, (t.id for t in _topics()), settings().allow_private_targets)
    if found:
        fail("; ".join(found), 2)
    sub, token = create(store(), spec, time.time())
    if as_json:
        typer.echo(json.dumps({"id": sub.id, "token": token}))
    else:
        typer.echo(
            f"subscription {sub.id} (topics: {', '.join(sub.topics)})\ntoken {token}"
            "\n(the token is shown once; it reads this subscription through the API)"
        )


def _topics() -> tuple[Any, ...]:
    try:
        return load_topics(settings().config_dir)
    except ConfigError as exc:
        fail(str(exc))
        raise


@app.command()
def unsubscribe(sub_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Delete a subscription and its alert stream."""
    if not store().delete_subscription(sub_id):
        fail(f"no subscription {sub_id!r}", 1)
    typer.echo(f"deleted {sub_id}")


@app.command()
def subscriptions(as_json: JsonOpt = False) -> None:
    """List subscriptions."""
    subs = store().subscriptions()
    if as_json:
        for sub in subs:
            typer.echo(json.dumps(sub.model_dump(exclude={"token_sha256"})))
        return
    if not subs:
        typer.echo("no subscriptions")
    for sub in subs:
        extra = f" keywords={sub.keywords!r}" if sub.keywords else ""
        typer.echo(f"{sub.id}  topics={','.join(sub.topics)}{extra}  created {sub.created_at}")


def _show_alert(alert: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(alert, ensure_ascii=False))
        return
    art = alert["article"]
    topics = ", ".join(f"{t} {s:g}" for t, s in alert["topics"].items())
    sources = ", ".join(alert["story"]["sources"])
    typer.echo(
        f"{alert['created_at']}  [{topics}]  {art['title']}\n    {art['url']}  (sources: {sources})"
    )


@app.command()
def alerts(
    sub_id: Annotated[str, typer.Argument(metavar="ID")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new alerts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print a subscription's alerts (one JSON object per line with --json)."""
    st = store()
    if st.subscription(sub_id) is None:
        fail(f"no subscription {sub_id!r}")
    cursor = "-"
    while True:
        batch = st.alerts(sub_id, cursor, 500)
        for entry_id, alert in batch:
            _show_alert(alert, as_json)
            cursor = entry_id
        if len(batch) < 500:
            break
    if not follow:
        return
    cursor = cursor if cursor != "-" else "0-0"
    try:
        while True:
            for entry_id, alert in st.wait_alerts(sub_id, cursor, block_ms=5000):
                _show_alert(alert, as_json)
                cursor = entry_id
    except KeyboardInterrupt:
        return


deliveries_app = typer.Typer(
    help="Push deliveries: the log of a subscription, dead letters, and replay.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(deliveries_app, name="deliveries")


@deliveries_app.callback()
def deliveries(
    ctx: typer.Context,
    sub_id: Annotated[str | None, typer.Option("--subscription", help="Its delivery log.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Dead letters only.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show deliveries: the dead-letter stream (--failed, or by default), or one subscription's
    delivery log (--subscription ID)."""
    if ctx.invoked_subcommand is not None:
        return
    st = store()
    if sub_id and not failed:
        rows = st.deliveries.log_entries(sub_id, 200)
        for row in rows:
            if as_json:
                typer.echo(json.dumps(row))
            else:
                typer.echo(
                    f"{row['id']}  {row['channel']:<10} {row['outcome']:<9} "
                    f"attempt {row['attempt']}  {row['note']}"
                )
        if not rows and not as_json:
            typer.echo("no deliveries")
        return
    dead = st.deliveries.dead_letters()
    if sub_id:
        dead = [d for d in dead if d["delivery"]["subscription_id"] == sub_id]
    for row in dead:
        if as_json:
            typer.echo(json.dumps(row))
        else:
            d = row["delivery"]
            typer.echo(
                f"{row['id']}  {d['subscription_id']} {d['channel']:<10} "
                f"after {row['attempts']} attempt(s): {row['reason']}"
            )
    if not dead and not as_json:
        typer.echo("no failed deliveries")


@deliveries_app.command("replay")
def replay(
    entry_ids: Annotated[list[str] | None, typer.Argument(metavar="[ENTRY_ID]...")] = None,
) -> None:
    """Send dead letters again (all of them, or those named), through the deliveries queue."""
    from pipeline.deliver import take_dead_letters
    from pipeline.queueing import client_app, send_delivery

    st = store()
    celery = client_app(settings(), redis_url())
    items = take_dead_letters(st, entry_ids or None)
    for item in items:
        send_delivery(celery, item)
    typer.echo(f"replayed {len(items)} deliver{'y' if len(items) == 1 else 'ies'}")


# --- classification ----------------------------------------------------------------------------


@app.command()
def classify(
    file: Annotated[str, typer.Argument(metavar="[FILE|-]", help="Text to classify.")] = "-",
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show every term and score.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Classify text (first line is the title) or JSON lines of {id, title, summary, language}."""
    from pipeline.core.classify import Classifier, format_explanation

    clf = Classifier(_topics())
    try:
        data = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", 2)
        raise
    if jsonl:
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                fail(f"{file}:{number}: not a JSON object: {exc}", 2)
            title, summary = str(item.get("title") or ""), str(item.get("summary") or "")
            language = str(item.get("language") or "")
            out: dict[str, Any] = {"id": item["id"]} if "id" in item else {}
            if explain:
                out["explain"] = [r.to_dict() for r in clf.explain(title, summary, language)]
            out.update(clf.classify(title, summary, language).to_dict())
            typer.echo(json.dumps(out, ensure_ascii=False))
        return
    title, _, summary = data.strip().partition("\n")
    results = clf.explain(title, summary)
    if as_json:
        payload: dict[str, Any] = clf.classify(title, summary).to_dict()
        if explain:
            payload["explain"] = [r.to_dict() for r in results]
        typer.echo(json.dumps(payload, ensure_ascii=False))
    elif explain:
        typer.echo(format_explanation(results))
    elif any(r.matched for r in results):
        typer.echo(format_explanation(results, matched_only=True))
    else:
        typer.echo("no topic matched")


@app.command("eval")
def eval_topics(
    file: Annotated[Path, typer.Argument(metavar="FILE.jsonl", help="Labelled articles.")],
    part: Annotated[
        str,
        typer.Option(
            "--part",
            help="Show one part only: 'dev' to tune without seeing held-out items, "
            "'held-out' for the honest estimate, 'all' for both.",
        ),
    ] = "all",
    errors: Annotated[
        bool, typer.Option("--errors/--no-errors", help="List the errors (of the part shown).")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Precision, recall and F1 per topic and language, dev and held-out, with every error."""
    from pipeline.core.classify import Classifier
    from pipeline.evaluate import PARTS, EvalDataError, evaluate, format_report, load_jsonl

    if part not in PARTS:
        fail(f"--part must be one of {', '.join(PARTS)}, not {part!r}", 2)
    try:
        items = load_jsonl(file)
    except (OSError, EvalDataError) as exc:
        fail(str(exc), 2)
        raise
    report = evaluate(items, Classifier(_topics()))
    if as_json:
        typer.echo(json.dumps(report.to_dict(part, errors)))
    else:
        typer.echo(format_report(report, part=part, errors=errors))


@app.command("eval-dedupe")
def eval_dedupe(
    file: Annotated[Path, typer.Argument(metavar="FILE.jsonl", help="Labelled pairs.")],
    as_json: JsonOpt = False,
) -> None:
    """Would b join a's story? Copy recall and look-alike separation on labelled pairs."""
    from pipeline.evaluate_dedupe import PairsFileError, evaluate_pairs, format_report, load_pairs

    try:
        pairs = load_pairs(file)
    except (OSError, PairsFileError) as exc:
        fail(str(exc), 2)
        raise
    report = evaluate_pairs(pairs)
    if as_json:
        for row in report.results:
            typer.echo(json.dumps({"id": row.id, "same_story": row.same_story}))
        typer.echo(format_report(report), err=True)
    else:
        typer.echo(format_report(report))


# --- operations --------------------------------------------------------------------------------


@app.command()
def feeds(as_json: JsonOpt = False) -> None:
    """Per feed: status and reason, interval, last and next poll, last new entry, failures,
    new articles, flags (moved, unhealthy, quiet, disabled) and the last error."""
    from pipeline.feeds_report import feed_rows

    rows = feed_rows(config(), store())
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "feed",
        "status",
        "reason",
        "interval",
        "last poll",
        "next poll",
        "last new entry",
        "fail",
        "new",
        "flags",
        "error",
    )
    for row in rows:
        flags = [name for name in ("disabled", "unhealthy", "quiet") if row.get(name)]
        if row.get("moved_from"):
            flags.append("moved")
        error = row["last_error"][:60]
        if row.get("feed_link"):
            error = f"{error} (feed: {row['feed_link']})".strip()
        interval = row.get("interval")
        table.add_row(
            row["id"],
            row["status"],
            row.get("reason") or "",
            f"{interval:.0f}s" if interval else "-",
            row["last_poll"] or "-",
            row["next_poll"] or "-",
            row.get("last_new_entry") or "-",
            str(row["failures"]),
            str(row["new_articles"]),
            ",".join(flags),
            error,
        )
    Console().print(table)


@app.command()
def queue(
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every 2 seconds.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Queue depth and oldest-job age per queue, workers alive, throughput in the last minute."""
    from pipeline.monitor import queue_snapshot, queue_table

    st = store()
    if as_json:
        typer.echo(json.dumps(queue_snapshot(st, time.time())))
        return
    from rich.console import Console
    from rich.live import Live

    if not watch:
        Console().print(queue_table(queue_snapshot(st, time.time())))
        return
    with Live(queue_table(queue_snapshot(st, time.time())), refresh_per_second=1) as live:
        try:
            while True:
                time.sleep(2)
                live.update(queue_table(queue_snapshot(st, time.time())))
        except KeyboardInterrupt:
            pass


def main() -> None:
    app(prog_name="newsmon")


if __name__ == "__main__":
    main()
