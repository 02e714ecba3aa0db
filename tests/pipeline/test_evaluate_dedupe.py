"""Dedupe evaluation. Unit examples are team-written; the acceptance test reads the real
development pairs from ../shared at test time (never copied into the repository)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluate_dedupe import (
    PairsFileError,
    evaluate_pairs,
    format_report,
    load_pairs,
)

REPO = Path(__file__).resolve().parents[2]
DEV_PAIRS = REPO.parent / "shared" / "corpora" / "labelled-dev" / "dedupe_pairs.jsonl"

# Team-written texts.
LEDE = (
    "The port authority reopened the northern ferry terminal on Thursday after a two-year "
    "renovation, and said the first crossings to the island would start next week."
)
WEEKLY = (
    "Rescue teams cleared 41 hectares and removed 15 explosive items in the eastern region "
    "last week, the civil protection service said in its weekly summary."
)


def _side(title: str, summary: str, url: str) -> dict:
    return {"title": title, "summary": summary, "url": url, "source": "x", "language": "en"}


def _write(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def _pairs(tmp_path: Path) -> list:
    rows = [
        {
            "id": "t1",
            "relation": "copy",
            "a": _side("Ferry terminal reopens", LEDE, "https://a.example/1"),
            "b": _side("", "PORTVILLE (Wire) — " + LEDE + " Read more", "https://b.example/9"),
        },
        {
            "id": "t2",
            "relation": "copy",
            "a": _side("Ferry", "First text", "https://a.example/2?utm_source=feed"),
            "b": _side("Ferry", "Other text", "https://a.example/2"),
        },
        {
            "id": "t3",
            "relation": "different",
            "a": _side("", WEEKLY, "https://a.example/3"),
            "b": _side("", WEEKLY.replace("41", "37").replace("15", "22"), "https://a.example/4"),
            "note": "other week",
        },
        {
            "id": "t4",
            "relation": "same_event",
            "a": _side("", LEDE, "https://a.example/5"),
            "b": _side("", "Ferries to the island resume soon, officials say.", "https://c/6"),
        },
    ]
    return load_pairs(_write(tmp_path, rows))


def test_load_pairs_reads_sides(tmp_path):
    pairs = _pairs(tmp_path)
    assert [p.id for p in pairs] == ["t1", "t2", "t3", "t4"]
    assert pairs[2].note == "other week"
    assert pairs[0].b.url == "https://b.example/9"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        ('{"id": "x", "relation": "twin", "a": {}, "b": {}}', "line 2: relation must be"),
        ('{"id": "x", "relation": "copy", "a": {"title": "t"}}', "line 2: missing 'b'"),
        ('{"id": "x", "relation": "copy", "a": {"title": 3}, "b": {"title": "t"}}', "a.title"),
        ("[1, 2]", "line 2: expected a JSON object"),
    ],
)
def test_malformed_lines_are_named(tmp_path, line, message):
    good = {"id": "ok", "relation": "copy", "a": _side("t", "s", ""), "b": _side("t", "s", "")}
    with pytest.raises(PairsFileError, match=message):
        load_pairs(_write(tmp_path, [good, line]))


def test_evaluate_pairs_scores_each_relation(tmp_path):
    report = evaluate_pairs(_pairs(tmp_path))
    by_id = {r.id: r for r in report.results}
    assert by_id["t1"].same_story and by_id["t1"].matched_by == "near"
    assert by_id["t2"].same_story and by_id["t2"].matched_by == "url"
    assert not by_id["t3"].same_story
    assert not by_id["t4"].same_story
    data = report.to_dict()
    assert data["copy_recall"] == 1.0
    assert data["separation"] == 1.0
    assert data["same_event_merge_rate"] == 0.0
    assert data["errors"] == []
    text = format_report(report)
    assert "copy recall (copies collapsed):          2/2 (100.0%)" in text
    assert "errors: 0" in text


def test_errors_are_listed_with_titles_and_notes(tmp_path):
    rows = [
        {
            "id": "e1",
            "relation": "copy",
            "a": _side("Ferry terminal reopens", LEDE, "https://a.example/1"),
            "b": _side("Island ferries", "A wholly different sentence about boats.", "https://b/2"),
            "note": "rewritten beyond recognition",
        }
    ]
    report = evaluate_pairs(load_pairs(_write(tmp_path, rows)))
    text = format_report(report)
    assert "e1 copy kept apart" in text
    assert "note: rewritten beyond recognition" in text
    assert "a: Ferry terminal reopens" in text
    assert report.to_dict()["errors"][0]["title_b"] == "Island ferries"


def test_acceptance_on_the_development_pairs():
    if not DEV_PAIRS.exists():
        pytest.skip(f"development pairs not found at {DEV_PAIRS}")
    report = evaluate_pairs(load_pairs(DEV_PAIRS))
    data = report.to_dict()
    assert data["copies"] == 29 and data["different"] == 27
    assert data["copy_recall"] >= 0.95, format_report(report)
    assert data["separation"] >= 0.98, format_report(report)
