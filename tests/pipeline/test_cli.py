"""The `newsmon` command line, run as a real process against a real Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.store import Store

NEWSMON = str(Path(sys.executable).parent / "newsmon")


def newsmon(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [NEWSMON, *args],
        env=full_env,
        cwd=cwd,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
    )


def test_without_redis_says_so_plainly(tmp_path: Path, config_dir: Path) -> None:
    result = newsmon("--config", str(config_dir), "subscriptions", cwd=tmp_path)
    assert result.returncode == 1
    assert "no Redis: set REDIS_URL, or start `newsmon run` in this directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_finds_the_server_newsmon_run_left_in_this_directory(
    tmp_path: Path, redis_url: str, store: Store, config_dir: Path
) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "redis.url").write_text(redis_url + "\n")
    result = newsmon(
        "--config", str(config_dir), "subscribe", "--topic", "demining", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"id", "token"}
    assert store.subscription(created["id"]).topics == ["demining"]


def test_subscribe_list_alerts_unsubscribe(redis_url: str, store: Store, config_dir: Path) -> None:
    env = {"REDIS_URL": redis_url}
    cfg = ["--config", str(config_dir)]
    bad = newsmon(*cfg, "subscribe", "--topic", "football", env=env)
    assert bad.returncode == 2 and "unknown topic(s) football" in bad.stderr
    created = json.loads(
        newsmon(
            *cfg,
            "subscribe",
            "--topic",
            "demining",
            "--topic",
            "climate",
            "--keywords",
            "mine -minecraft",
            "--json",
            env=env,
        ).stdout
    )
    listed = newsmon(*cfg, "subscriptions", "--json", env=env)
    assert json.loads(listed.stdout.splitlines()[0])["topics"] == ["demining", "climate"]

    alert = {
        "alert_id": "x1",
        "subscription_id": created["id"],
        "created_at": "2024-01-01T00:00:00Z",
        "topics": {"demining": 6.0},
        "matched": {"demining": ["mine clearance"]},
        "article": {
            "id": "a",
            "url": "http://a.test/1",
            "title": "T",
            "summary": "S",
            "source": "s",
            "language": "en",
            "published": "",
        },
        "story": {"id": "st", "sources": ["s"]},
    }
    store.route([(created["id"], "st", alert)], 60, 100)
    shown = newsmon(*cfg, "alerts", created["id"], "--json", env=env)
    assert [json.loads(line) for line in shown.stdout.splitlines()] == [alert]
    assert "mine clearance" not in newsmon(*cfg, "alerts", created["id"], env=env).stderr

    assert newsmon(*cfg, "unsubscribe", created["id"], env=env).returncode == 0
    gone = newsmon(*cfg, "alerts", created["id"], env=env)
    assert gone.returncode == 1 and "no subscription" in gone.stderr


def test_alerts_follow_prints_new_alerts(redis_url: str, store: Store, config_dir: Path) -> None:
    sub, _ = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    env = {k: v for k, v in os.environ.items()}
    env.update({"REDIS_URL": redis_url, "NEWSMON_CONFIG_DIR": str(config_dir)})
    proc = subprocess.Popen(
        [NEWSMON, "alerts", sub.id, "--follow", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        store.route(
            [(sub.id, "s1", {"alert_id": "new", "story": {"id": "s1", "sources": []}})], 60, 100
        )
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert json.loads(line)["alert_id"] == "new"
    finally:
        proc.terminate()
        proc.wait(10)


def test_classify_jsonl_contract(config_dir: Path) -> None:
    lines = [
        {"id": "1", "title": "Sappers cleared 300 landmines near Fuzuli", "summary": ""},
        {"title": "Coal mine collapse kills 12 miners", "summary": "", "language": "en"},
    ]
    result = newsmon(
        "--config",
        str(config_dir),
        "classify",
        "--jsonl",
        stdin="\n".join(json.dumps(x) for x in lines),
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["id"] == "1" and "demining" in out[0]["topics"]
    assert out[0]["matched"]["demining"]
    assert out[1] == {"topics": {}, "matched": {}}


def test_classify_explain_and_bad_input(config_dir: Path) -> None:
    text = "Investment climate improves\nMinisters said the business climate is better."
    explained = newsmon("--config", str(config_dir), "classify", "--explain", stdin=text)
    assert "cancelled by 'investment climate'" in explained.stdout
    bad = newsmon("--config", str(config_dir), "classify", "--jsonl", stdin="{oops\n")
    assert bad.returncode == 2 and "<stdin>" not in bad.stderr and ":1:" in bad.stderr


def test_broken_config_is_named(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n  - id: ok-feed\n    name: OK\n    url: http://a.test/rss\n"
        "  - id: bad-feed\n    name: Bad\n    url: ftp://a.test/rss\n"
    )
    result = newsmon("--config", str(config_dir), "feeds", env={"REDIS_URL": "redis://x"})
    assert result.returncode == 1
    assert "feeds.yaml: feeds[1] (id 'bad-feed').url:" in result.stderr
    assert "not an http(s) URL" in result.stderr
