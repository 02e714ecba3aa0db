"""Topic classification: weighted term rules over a title and a summary, explainable.

The classifier indexes a text once (folded words and their positions) and looks every compiled
term up in that index: exact words by dictionary, prefixes by bisecting the sorted vocabulary.
A term counts once per topic, with its weight multiplied by the topic's ``title_weight`` when
it occurs in the title; occurrences cancelled by an exclusion do not count.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.core.models import Classification
from pipeline.core.rules import Exclusion, Pattern, Phrase, Term, TokenPattern, Topic
from pipeline.core.text import tokenize

Span = tuple[int, int]  # [first token, last token] inclusive


class TextIndex:
    """Folded tokens of "title\\nsummary", with the token positions of every distinct word."""

    def __init__(self, title: str, summary: str) -> None:
        self.text = f"{title}\n{summary}" if title else summary
        self.title_end = len(title) if title else -1  # char offset where the title ends
        self.tokens = tokenize(self.text)
        self.title_tokens = sum(1 for _, start, _ in self.tokens if start < self.title_end)
        self.positions: dict[str, list[int]] = {}
        for i, (word, _, _) in enumerate(self.tokens):
            self.positions.setdefault(word, []).append(i)
        self.vocabulary = sorted(self.positions)

    def token_positions(self, pattern: TokenPattern) -> list[int]:
        if not pattern.prefix:
            return self.positions.get(pattern.text, [])
        found: list[int] = []
        i = bisect_left(self.vocabulary, pattern.text)
        while i < len(self.vocabulary) and self.vocabulary[i].startswith(pattern.text):
            found.extend(self.positions[self.vocabulary[i]])
            i += 1
        return sorted(found)

    def _token_matches(self, index: int, pattern: TokenPattern) -> bool:
        word = self.tokens[index][0]
        return word.startswith(pattern.text) if pattern.prefix else word == pattern.text

    def phrase_spans(self, phrase: Phrase) -> list[Span]:
        spans = []
        n = len(phrase)
        for start in self.token_positions(phrase[0]):
            end = start + n - 1
            if end >= len(self.tokens):
                continue
            if (start < self.title_tokens) != (end < self.title_tokens):
                continue  # phrases do not run from the title into the summary
            if all(self._token_matches(start + k, phrase[k]) for k in range(1, n)):
                spans.append((start, end))
        return spans

    def pattern_spans(self, pattern: Pattern) -> list[Span]:
        first = self.phrase_spans(pattern.first)
        if pattern.second is None or not first:
            return first
        second = self.phrase_spans(pattern.second)
        spans = []
        for a in first:
            for b in second:
                gap = max(b[0] - a[1], a[0] - b[1]) - 1
                if gap < pattern.near and not (a[0] <= b[1] and b[0] <= a[1]):
                    spans.append((min(a[0], b[0]), max(a[1], b[1])))
        return spans

    def surface(self, span: Span) -> str:
        return self.text[self.tokens[span[0]][1] : self.tokens[span[1]][2]]

    def char_offset(self, span: Span) -> int:
        return self.tokens[span[0]][1]

    def in_title(self, span: Span) -> bool:
        return span[0] < self.title_tokens


@dataclass(slots=True)
class Occurrence:
    text: str
    #: Character offset in the title (field "title") or the summary (field "summary").
    offset: int
    field: str
    cancelled_by: str = ""


@dataclass(slots=True)
class TermMatch:
    pattern: str
    language: str
    weight: float
    strong: bool
    occurrences: list[Occurrence] = field(default_factory=list)
    #: What the term added to the score (0 if every occurrence was cancelled).
    contribution: float = 0.0


@dataclass(slots=True)
class TopicResult:
    topic: str
    label: str
    score: float
    threshold: float
    matched: bool
    terms: list[TermMatch]
    #: Why a topic over threshold still did not match ("" when matched or under threshold).
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "label": self.label,
            "score": self.score,
            "threshold": self.threshold,
            "matched": self.matched,
            "reason": self.reason,
            "terms": [
                {
                    "pattern": t.pattern,
                    "language": t.language,
                    "weight": t.weight,
                    "strong": t.strong,
                    "contribution": t.contribution,
                    "occurrences": [
                        {
                            "text": o.text,
                            "field": o.field,
                            "offset": o.offset,
                            "cancelled_by": o.cancelled_by,
                        }
                        for o in t.occurrences
                    ],
                }
                for t in self.terms
            ],
        }


def _cancelled_by(span: Span, exclusions: Iterable[tuple[Exclusion, list[Span]]]) -> str:
    for exclusion, spans in exclusions:
        for ex in spans:
            if ex[0] - exclusion.within <= span[1] and span[0] <= ex[1] + exclusion.within:
                return exclusion.pattern.source
    return ""


class Classifier:
    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics = tuple(topics)

    def explain(self, title: str, summary: str, language: str = "") -> list[TopicResult]:
        """Every topic's score with each matched term, its occurrences and cancellations."""
        index = TextIndex(title, summary)
        results = []
        for topic in self.topics:
            results.append(self._score(topic, index))
        return results

    def classify(self, title: str, summary: str, language: str = "") -> Classification:
        result = Classification()
        for topic_result in self.explain(title, summary, language):
            if topic_result.matched:
                result.topics[topic_result.topic] = topic_result.score
                result.matched[topic_result.topic] = _matched_texts(topic_result)
        return result

    def _score(self, topic: Topic, index: TextIndex) -> TopicResult:
        exclusions = [(ex, index.pattern_spans(ex.pattern)) for ex in topic.exclusions]
        exclusions = [(ex, spans) for ex, spans in exclusions if spans]
        terms: list[TermMatch] = []
        score = 0.0
        strong_hit = False
        for term in topic.terms:
            spans = index.pattern_spans(term.pattern)
            if not spans:
                continue
            match = _term_match(term, spans, index, exclusions)
            live = [o for o in match.occurrences if not o.cancelled_by]
            if live:
                in_title = any(o.field == "title" for o in live)
                match.contribution = term.weight * (topic.title_weight if in_title else 1.0)
                score += match.contribution
                strong_hit = strong_hit or term.strong
            terms.append(match)
        score = round(score, 2)
        over = score >= topic.threshold
        reason = ""
        if over and topic.has_strong_terms and not strong_hit:
            reason = "no strong term matched"
        terms.sort(key=lambda t: min((o.offset for o in t.occurrences), default=0))
        return TopicResult(
            topic.id, topic.label, score, topic.threshold, over and not reason, terms, reason
        )


def _term_match(
    term: Term,
    spans: list[Span],
    index: TextIndex,
    exclusions: list[tuple[Exclusion, list[Span]]],
) -> TermMatch:
    match = TermMatch(term.pattern.source, term.language, term.weight, term.strong)
    title_chars = index.title_end + 1 if index.title_end >= 0 else 0
    for span in spans:
        offset = index.char_offset(span)
        in_title = index.in_title(span)
        match.occurrences.append(
            Occurrence(
                text=index.surface(span),
                offset=offset if in_title else offset - title_chars,
                field="title" if in_title else "summary",
                cancelled_by=_cancelled_by(span, exclusions),
            )
        )
    return match


def _matched_texts(result: TopicResult) -> list[str]:
    """The distinct surface texts that counted, in order of first appearance."""
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    for term in result.terms:
        if not term.contribution:
            continue
        for occ in term.occurrences:
            key = occ.text.casefold()
            if occ.cancelled_by or key in seen:
                continue
            seen.add(key)
            found.append((occ.offset + (0 if occ.field == "title" else 10**6), occ.text))
    return [text for _, text in sorted(found)]
