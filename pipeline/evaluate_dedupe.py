"""Evaluate the de-duplicator on labelled pairs (``newsmon eval-dedupe FILE.jsonl``).

Each line is ``{"id", "relation": "copy" | "different" | "same_event", "a": {…}, "b": {…},
"note"}`` with ``title``, ``summary``, ``url``, ``source`` and ``language`` per side. For each pair
the question is the pipeline's: would b join a's story if a came first? Yes when they share an
exact identity (canonical URL or content hash) or when b finds a through a shared LSH band and
``neardup.same_story`` confirms it.

Copy recall (copies collapsed / copies) and look-alike separation (different pairs kept apart /
different pairs) are the acceptance figures; the ``same_event`` merge rate is informational
(merging independent write-ups of one event is story clustering, not a wrong dedupe).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core import neardup
from pipeline.core.identity import content_hash
from pipeline.core.urls import canonical_url

RELATIONS = ("copy", "different", "same_event")
_SIDE_KEYS = ("title", "summary", "url", "source", "language")


class PairsFileError(ValueError):
    """A malformed pairs file; the message names the line."""


@dataclass(slots=True)
class Side:
    title: str
    summary: str
    url: str = ""
    source: str = ""
    language: str = ""


@dataclass(slots=True)
class Pair:
    id: str
    relation: str
    a: Side
    b: Side
    note: str = ""


@dataclass(slots=True)
class PairResult:
    id: str
    relation: str
    same_story: bool
    #: "url", "content", "near" (band + same_story), or "" when kept apart.
    matched_by: str
    reason: str
    containment: float
    shared: float
    candidate: bool
    note: str
    title_a: str
    title_b: str

    @property
    def error(self) -> bool:
        return (self.relation == "copy" and not self.same_story) or (
            self.relation == "different" and self.same_story
        )


@dataclass(slots=True)
class DedupeReport:
    results: list[PairResult] = field(default_factory=list)

    def _count(self, relation: str, merged: bool) -> tuple[int, int]:
        rows = [r for r in self.results if r.relation == relation]
        return sum(1 for r in rows if r.same_story == merged), len(rows)

    @property
    def copy_recall(self) -> float:
        hit, total = self._count("copy", True)
        return hit / total if total else 1.0

    @property
    def separation(self) -> float:
        hit, total = self._count("different", False)
        return hit / total if total else 1.0

    @property
    def same_event_merge_rate(self) -> float:
        hit, total = self._count("same_event", True)
        return hit / total if total else 0.0

    @property
    def errors(self) -> list[PairResult]:
        return [r for r in self.results if r.error]

    def to_dict(self) -> dict[str, Any]:
        copies = self._count("copy", True)
        different = self._count("different", False)
        same_event = self._count("same_event", True)
        return {
            "pairs": len(self.results),
            "copy_recall": round(self.copy_recall, 4),
            "copies_collapsed": copies[0],
            "copies": copies[1],
            "separation": round(self.separation, 4),
            "different_kept_apart": different[0],
            "different": different[1],
            "same_event_merge_rate": round(self.same_event_merge_rate, 4),
            "same_event_merged": same_event[0],
            "same_event": same_event[1],
            "errors": [
                {
                    "id": r.id,
                    "relation": r.relation,
                    "same_story": r.same_story,
                    "reason": r.reason,
                    "note": r.note,
                    "title_a": r.title_a,
                    "title_b": r.title_b,
                }
                for r in self.errors
            ],
        }


def _side(raw: Any, where: str) -> Side:
    if not isinstance(raw, dict):
        raise PairsFileError(f"{where}: expected an object with title, summary, url")
    values = {}
    for key in _SIDE_KEYS:
        value = raw.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise PairsFileError(f"{where}.{key}: expected a string, got {type(value).__name__}")
        values[key] = value
    if not values["title"] and not values["summary"] and not values["url"]:
        raise PairsFileError(f"{where}: needs a title, a summary or a url")
    return Side(**values)


def parse_pair(line: str, where: str) -> Pair:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PairsFileError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise PairsFileError(f"{where}: expected a JSON object")
    relation = raw.get("relation")
    if relation not in RELATIONS:
        raise PairsFileError(f"{where}: relation must be one of {', '.join(RELATIONS)}")
    for side in ("a", "b"):
        if side not in raw:
            raise PairsFileError(f"{where}: missing {side!r}")
    pair_id = raw.get("id", "")
    note = raw.get("note", "")
    return Pair(
        id=str(pair_id) if pair_id is not None else "",
        relation=relation,
        a=_side(raw["a"], f"{where}: a"),
        b=_side(raw["b"], f"{where}: b"),
        note=note if isinstance(note, str) else "",
    )


def load_pairs(path: str | Path) -> list[Pair]:
    """Read a pairs file; a malformed line raises PairsFileError naming its line number."""
    path = Path(path)
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            pair = parse_pair(line, f"{path.name} line {number}")
            pair.id = pair.id or f"line{number}"
            pairs.append(pair)
    return pairs


def judge(a: Side, b: Side) -> tuple[bool, str, neardup.Comparison, bool]:
    """Would b join a's story? (same_story, matched_by, comparison, was a candidate)."""
    fa = neardup.fingerprint(a.title, a.summary, a.language)
    fb = neardup.fingerprint(b.title, b.summary, b.language)
    comparison = neardup.compare(fa, fb)
    candidate = bool(set(fa.bands) & set(fb.bands))
    url_a, url_b = canonical_url(a.url), canonical_url(b.url)
    if url_a and url_a == url_b:
        return True, "url", comparison, candidate
    if content_hash(a.title, a.summary) == content_hash(b.title, b.summary):
        return True, "content", comparison, candidate
    if candidate and comparison.same_story:
        return True, "near", comparison, candidate
    return False, "", comparison, candidate


def evaluate_pairs(pairs: list[Pair]) -> DedupeReport:
    report = DedupeReport()
    for pair in pairs:
        merged, matched_by, comparison, candidate = judge(pair.a, pair.b)
        reason = comparison.reason if candidate or matched_by else "no shared band"
        report.results.append(
            PairResult(
                id=pair.id,
                relation=pair.relation,
                same_story=merged,
                matched_by=matched_by,
                reason=reason,
                containment=comparison.containment,
                shared=comparison.shared,
                candidate=candidate,
                note=pair.note,
                title_a=pair.a.title,
                title_b=pair.b.title,
            )
        )
    return report


def _rate(hit: int, total: int) -> str:
    return f"{hit}/{total} ({100 * hit / total:.1f}%)" if total else "0/0 (n/a)"


def format_report(report: DedupeReport) -> str:
    data = report.to_dict()
    lines = [
        f"pairs: {data['pairs']}",
        f"copy recall (copies collapsed):          "
        f"{_rate(data['copies_collapsed'], data['copies'])}",
        f"look-alike separation (different apart): "
        f"{_rate(data['different_kept_apart'], data['different'])}",
        f"same_event merged (informational):       "
        f"{_rate(data['same_event_merged'], data['same_event'])}",
    ]
    errors = report.errors
    lines.append(f"errors: {len(errors)}")
    for r in errors:
        verdict = "merged" if r.same_story else "kept apart"
        lines.append(
            f"  {r.id} {r.relation} {verdict} ({r.reason}; containment {r.containment:.2f},"
            f" shared {r.shared:.0f})"
        )
        if r.note:
            lines.append(f"    note: {r.note}")
        lines.append(f"    a: {r.title_a or '(no title)'}")
        lines.append(f"    b: {r.title_b or '(no title)'}")
    return "\n".join(lines)
