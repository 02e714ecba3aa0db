"""Evaluation: loading, the fixed split, the figures and the report.

The small items here are team-written; the labelled set is read from ../shared at test time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import load_topics
from pipeline.core.classify import Classifier
from pipeline.evaluate import EvalDataError, evaluate, format_report, load_jsonl, split

REPO = Path(__file__).resolve().parents[2]
LABELLED = REPO.parent / "shared" / "corpora" / "labelled-dev" / "articles.jsonl"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_topics(REPO / "config"))


def test_load_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "title": "x", "labels": []}\n\n{"id": "b", oops}\n')
    with pytest.raises(EvalDataError, match=r"items.jsonl:3: not valid JSON"):
        load_jsonl(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(EvalDataError, match=r":1: expected a JSON object"):
        load_jsonl(path)
    path.write_text('{"id": "a", "title": "x"}\n')
    with pytest.raises(EvalDataError, match=r":1: 'labels' must be a list"):
        load_jsonl(path)
    with pytest.raises(EvalDataError, match="file not found"):
        load_jsonl(tmp_path / "missing.jsonl")


def test_split_is_fixed_and_about_thirty_percent() -> None:
    items = [{"id": f"x{i:03d}"} for i in range(1000)]
    dev, held_out = split(items)
    assert len(dev) + len(held_out) == 1000
    assert 250 <= len(held_out) <= 350
    assert split(list(reversed(items)))[1] == list(reversed(held_out))


def test_evaluate_counts_and_report(classifier: Classifier) -> None:
    items = [
        {
            "id": "t1",
            "title": "Sappers clear landmines",
            "summary": "",
            "language": "en",
            "labels": ["demining"],
        },
        {
            "id": "t2",
            "title": "Coal mine collapse kills miners",
            "summary": "",
            "language": "en",
            "labels": [],
        },
        {
            "id": "t3",
            "title": "Children's choir sings",
            "summary": "",
            "language": "en",
            "labels": ["child_rights"],
        },
    ]
    report = evaluate(items, classifier)
    total = report.all
    assert total.by_topic["demining"].tp == 1
    assert total.by_topic["child_rights"].fn == 1
    assert [e.id for e in report.errors] == ["t3"]
    text = format_report(report)
    assert "held-out" in text and "dev" in text and "t3" in text and "missed child_rights" in text
    data = report.to_dict()
    json.dumps(data)
    assert set(data) >= {"dev", "held_out", "all", "errors"}
    assert data["errors"][0]["missed"] == ["child_rights"]


def test_labelled_set_meets_targets(classifier: Classifier) -> None:
    if not LABELLED.exists():
        pytest.skip(f"{LABELLED} is absent: the labelled set is read at test time, not copied")
    report = evaluate(load_jsonl(LABELLED), classifier)
    for topic, counts in report.dev.by_topic.items():
        assert counts.precision is not None and counts.precision >= 0.95, topic
        assert counts.recall is not None and counts.recall >= 0.9, topic
    # issue 4's acceptance on the held-out part. Its figures are read, never tuned on: a
    # failure here calls for broader vocabulary from the guidelines, not for rules fitted to
    # the held-out items.
    held_out = report.held_out
    assert held_out.macro_f1 is not None and held_out.macro_f1 >= 0.90
    for topic, counts in held_out.by_topic.items():
        assert counts.precision is not None and counts.precision >= 0.95, topic
    for language, counts in held_out.language_totals().items():
        if counts.positives >= 10:
            assert counts.f1 is not None and counts.f1 >= 0.85, language


def _two_part_items() -> list[dict[str, object]]:
    """Team-written items, one wrong in each part (ids chosen by where they hash)."""
    items = [{"id": f"p{i:03d}"} for i in range(40)]
    dev, held_out = split(items)
    wrong = {"title": "Choir of children sings carols", "summary": "", "language": "en"}
    return [
        {**dev[0], **wrong, "labels": ["child_rights"]},
        {**held_out[0], **wrong, "labels": ["child_rights"]},
        {**dev[1], "title": "Sappers clear landmines", "language": "en", "labels": ["demining"]},
    ]


def test_dev_part_only_hides_held_out_items(classifier: Classifier) -> None:
    items = _two_part_items()
    dev_id, held_id = str(items[0]["id"]), str(items[1]["id"])
    report = evaluate(items, classifier)
    assert [e.id for e in report.errors_in("dev")] == [dev_id]
    assert [e.id for e in report.errors_in("held-out")] == [held_id]
    text = format_report(report, part="dev")
    assert dev_id in text and held_id not in text
    assert "dev: 2 items" in text and "held-out:" not in text
    data = report.to_dict(part="dev")
    assert "held_out" not in data and "all" not in data
    assert [e["id"] for e in data["errors"]] == [dev_id]
    summary = format_report(report, part="held-out", errors=False)
    assert "held-out: 1 items" in summary and "errors" not in summary and held_id not in summary
    assert "errors" not in report.to_dict(part="held-out", errors=False)
    # the default still shows both parts and every error
    assert held_id in format_report(report) and dev_id in format_report(report)
    with pytest.raises(ValueError, match="unknown part"):
        format_report(report, part="test")


def test_cli_eval_part_option(tmp_path: Path) -> None:
    items = _two_part_items()
    held_id = str(items[1]["id"])
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    newsmon = str(Path(sys.executable).parent / "newsmon")
    config = ["--config", str(REPO / "config")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [newsmon, *config, "eval", str(path), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    dev = run("--part", "dev")
    assert dev.returncode == 0, dev.stderr
    assert "dev:" in dev.stdout and "held-out:" not in dev.stdout and held_id not in dev.stdout
    as_json = json.loads(run("--part", "dev", "--json").stdout)
    assert "held_out" not in as_json and held_id not in json.dumps(as_json)
    summary = run("--part", "held-out", "--no-errors")
    assert "held-out:" in summary.stdout and held_id not in summary.stdout
    bad = run("--part", "test")
    assert bad.returncode == 2 and "--part must be one of" in bad.stderr
