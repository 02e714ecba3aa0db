"""Evaluation of the topic classifier against a labelled JSON-lines set (``newsmon eval``).

Each item is ``{"id", "title", "summary", "language", "labels": [...]}`` (other keys are kept
for the report but ignored). ``split`` puts a fixed ~30% of the items, chosen by a hash of their
id, into a held-out part that rule tuning must not look at; the report gives precision, recall
and F1 for the dev part and the held-out part separately, per topic and per language, and lists
every error with the classifier's explanation. ``part="dev"`` limits the report (text and JSON)
to the dev part, so rules can be tuned without seeing a held-out item; ``part="held-out"``
gives the honest estimate alone, and ``errors=False`` leaves the error listing out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.classify import Classifier, TopicResult

#: Share of items (by id hash, in percent) kept out of tuning.
HELD_OUT_PERCENT = 30

#: Names of the parts a report can be limited to ("all" is both).
PARTS = ("all", "dev", "held-out")


class EvalDataError(ValueError):
    """The evaluation file cannot be read; the message names the file and line."""


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Items of a JSON-lines file; blank lines are skipped, a malformed line is an error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalDataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read: {exc}") from None
    items: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise EvalDataError(
                f"{path}:{number}: expected a JSON object, got {type(item).__name__}"
            )
        problem = _item_problem(item)
        if problem:
            raise EvalDataError(f"{path}:{number}: {problem}")
        items.append(item)
    return items


def _item_problem(item: dict[str, Any]) -> str:
    for key in ("title", "summary"):
        if key in item and not isinstance(item[key], str):
            return f"'{key}' must be a string"
    if not item.get("title") and not item.get("summary"):
        return "needs a 'title' or a 'summary'"
    labels = item.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return "'labels' must be a list of topic ids (empty for a negative)"
    return ""


def _item_key(item: dict[str, Any]) -> str:
    key = item.get("id")
    if key is None or key == "":
        key = f"{item.get('title', '')}\n{item.get('summary', '')}"
    return str(key)


def is_held_out(item: dict[str, Any]) -> bool:
    digest = hashlib.sha256(_item_key(item).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def split(items: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(dev, held_out): a fixed split by a hash of each item's id, about 30% held out."""
    dev: list[dict[str, Any]] = []
    held_out: list[dict[str, Any]] = []
    for item in items:
        (held_out if is_held_out(item) else dev).append(item)
    return dev, held_out


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        if not self.tp + self.fp + self.fn:
            return None
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(slots=True)
class EvalError:
    id: str
    part: str
    language: str
    title: str
    expected: list[str]
    got: list[str]
    explanation: list[TopicResult]

    @property
    def missed(self) -> list[str]:
        return [t for t in self.expected if t not in self.got]

    @property
    def spurious(self) -> list[str]:
        return [t for t in self.got if t not in self.expected]

    def to_dict(self) -> dict[str, Any]:
        wrong = set(self.missed) | set(self.spurious)
        return {
            "id": self.id,
            "part": self.part,
            "language": self.language,
            "title": self.title,
            "expected": self.expected,
            "got": self.got,
            "missed": self.missed,
            "spurious": self.spurious,
            "explanation": [r.to_dict() for r in self.explanation if r.topic in wrong],
        }


@dataclass(slots=True)
class PartReport:
    """Figures for one part of the set (dev or held-out)."""

    name: str
    items: int = 0
    by_topic: dict[str, Counts] = field(default_factory=dict)
    #: language -> topic -> counts
    by_language: dict[str, dict[str, Counts]] = field(default_factory=dict)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.by_topic.values():
            total.add(counts)
        return total

    @property
    def macro_f1(self) -> float | None:
        values = [c.f1 for c in self.by_topic.values() if c.f1 is not None]
        return sum(values) / len(values) if values else None

    def language_totals(self) -> dict[str, Counts]:
        totals: dict[str, Counts] = {}
        for lang, topics in self.by_language.items():
            total = totals.setdefault(lang, Counts())
            for counts in topics.values():
                total.add(counts)
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "topics": {t: c.to_dict() for t, c in self.by_topic.items()},
            "micro": self.micro.to_dict(),
            "macro_f1": _round(self.macro_f1),
            "languages": {
                lang: {
                    "all": total.to_dict(),
                    "topics": {t: c.to_dict() for t, c in self.by_language[lang].items()},
                }
                for lang, total in sorted(self.language_totals().items())
            },
        }


@dataclass(slots=True)
class EvalReport:
    topics: list[str]
    dev: PartReport
    held_out: PartReport
    errors: list[EvalError] = field(default_factory=list)

    @property
    def all(self) -> PartReport:
        combined = PartReport("all", self.dev.items + self.held_out.items)
        for part in (self.dev, self.held_out):
            for topic, counts in part.by_topic.items():
                combined.by_topic.setdefault(topic, Counts()).add(counts)
            for lang, topics in part.by_language.items():
                for topic, counts in topics.items():
                    combined.by_language.setdefault(lang, {}).setdefault(topic, Counts()).add(
                        counts
                    )
        return combined

    def errors_in(self, part: str = "all") -> list[EvalError]:
        """The errors of one part ("dev", "held-out") or of both ("all")."""
        _check_part(part)
        return [e for e in self.errors if part == "all" or e.part == part]

    def to_dict(self, part: str = "all", errors: bool = True) -> dict[str, Any]:
        """Figures (and errors) of both parts, or of one part only."""
        _check_part(part)
        data: dict[str, Any] = {
            "topics": self.topics,
            "held_out_percent": HELD_OUT_PERCENT,
            "part": part,
        }
        if part in ("all", "dev"):
            data["dev"] = self.dev.to_dict()
        if part in ("all", "held-out"):
            data["held_out"] = self.held_out.to_dict()
        if part == "all":
            data["all"] = self.all.to_dict()
        if errors:
            data["errors"] = [e.to_dict() for e in self.errors_in(part)]
        return data


def _check_part(part: str) -> None:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}: expected one of {', '.join(PARTS)}")


def evaluate(items: Sequence[dict[str, Any]], classifier: Classifier) -> EvalReport:
    """Classify every item and compare with its labels, dev and held-out parts apart."""
    topics = [t.id for t in classifier.topics]
    dev = PartReport("dev")
    held_out = PartReport("held-out")
    for part in (dev, held_out):
        part.by_topic = {t: Counts() for t in topics}
    report = EvalReport(topics, dev, held_out)
    for item in items:
        part = held_out if is_held_out(item) else dev
        part.items += 1
        title = str(item.get("title") or "")
        summary = str(item.get("summary") or "")
        language = str(item.get("language") or "")
        results = classifier.explain(title, summary, language)
        got = [r.topic for r in results if r.matched]
        expected = [t for t in topics if t in item.get("labels", [])]
        per_lang = part.by_language.setdefault(language or "?", {t: Counts() for t in topics})
        for topic in topics:
            outcome = _outcome(topic in expected, topic in got)
            for counts in (part.by_topic[topic], per_lang[topic]):
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        if set(got) != set(expected):
            report.errors.append(
                EvalError(_item_key(item), part.name, language, title, expected, got, results)
            )
    return report


def _outcome(expected: bool, got: bool) -> str:
    if expected:
        return "tp" if got else "fn"
    return "fp" if got else "tn"


# --- text report -------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def _row(name: str, counts: Counts) -> str:
    return (
        f"  {name:<14} {_fmt(counts.precision):>5} {_fmt(counts.recall):>5} {_fmt(counts.f1):>5}"
        f"  {counts.tp:>4} {counts.fp:>4} {counts.fn:>4} {counts.positives:>4}"
    )


def _format_part(part: PartReport) -> list[str]:
    lines = [
        f"{part.name}: {part.items} items",
        f"  {'topic':<14} {'P':>5} {'R':>5} {'F1':>5}  {'tp':>4} {'fp':>4} {'fn':>4} {'pos':>4}",
    ]
    for topic, counts in part.by_topic.items():
        lines.append(_row(topic, counts))
    lines.append(_row("micro", part.micro))
    lines.append(f"  macro-F1 {_fmt(part.macro_f1)}")
    lines.append(
        f"  {'language':<14} {'P':>5} {'R':>5} {'F1':>5}  {'tp':>4} {'fp':>4} {'fn':>4} {'pos':>4}"
    )
    for lang, total in sorted(part.language_totals().items()):
        lines.append(_row(lang, total))
        for topic, counts in part.by_language[lang].items():
            if counts.tp or counts.fp or counts.fn:
                lines.append(_row(f"  {topic}", counts))
    return lines


def _format_error(error: EvalError) -> list[str]:
    title = error.title or "(no title)"
    lines = [
        f"{error.id} [{error.part}, {error.language or '?'}] expected "
        f"{','.join(error.expected) or '-'}, got {','.join(error.got) or '-'}: {title[:100]}"
    ]
    wrong = set(error.missed) | set(error.spurious)
    for result in error.explanation:
        if result.topic not in wrong:
            continue
        kind = "missed" if result.topic in error.missed else "spurious"
        note = f" ({result.reason})" if result.reason else ""
        lines.append(
            f"    {kind} {result.topic}: score {result.score:g} / {result.threshold:g}{note}"
        )
        for term in result.terms:
            for occ in term.occurrences:
                lines.append(f"      {describe_occurrence(term, occ)}")
    return lines


def describe_occurrence(term: Any, occ: Any) -> str:
    """One line for one occurrence of a term: text, pattern, weight, where, and its fate."""
    strong = " strong" if term.strong else ""
    if occ.cancelled_by:
        fate = f"  cancelled by '{occ.cancelled_by}'"
    elif getattr(occ, "subsumed_by", ""):
        fate = f"  subsumed by '{occ.subsumed_by}'"
    else:
        fate = ""
    return (
        f"{occ.text!r} ({term.pattern} [{term.language}] weight {term.weight:g}{strong}) "
        f"{occ.field}@{occ.offset}{fate}"
    )


def format_report(
    report: EvalReport, explain_errors: bool = True, part: str = "all", errors: bool = True
) -> str:
    """The text report: figures of both parts (or of ``part`` only), then the errors."""
    _check_part(part)
    lines = [
        f"held out: items whose id hashes into the fixed {HELD_OUT_PERCENT}% (not used for tuning)",
        "",
    ]
    if part in ("all", "dev"):
        lines += _format_part(report.dev)
        lines.append("")
    if part in ("all", "held-out"):
        lines += _format_part(report.held_out)
        lines.append("")
    if not errors:
        return "\n".join(lines).rstrip("\n")
    shown = report.errors_in(part)
    lines.append(f"errors: {len(shown)}" + ("" if part == "all" else f" ({part} part)"))
    for error in sorted(shown, key=lambda e: (e.part, e.id)):
        if explain_errors:
            lines += _format_error(error)
        else:
            lines.append(_format_error(error)[0])
    return "\n".join(lines)
