"""Topic classification: weighted term rules over a title and a summary, explainable.

How a text is scored (the rule language itself is in ``rules`` and ``docs/topics.md``):

1. One pass over the title and the summary (``wordscan``, compiled C where built) splits them
   into words, folds each word and picks out the words that anchor a phrase. Each phrase is
   looked up by its longest word, its anchor ("state of the climate" by "climate", so the
   many "the" of a text cost nothing); what a word anchors is worked out once per distinct word
   and remembered across texts, so a word already seen costs a hash and one probe.
2. At each anchor the phrases it anchors are checked against the words around it; an anchor
   shared by many phrases ("climate") files them by one of their other words, so a hit costs a
   lookup of that word. ``A NEAR/n B`` then pairs up the spans of A and B.
3. Per topic, each term occurrence is

   * *cancelled* when an exclusion of the topic overlaps it or lies within ``within`` words;
   * *subsumed* when it lies inside an occurrence of another term of the topic that covers more
     words, or the same words with a higher weight ("mine" inside "mine clearance"), so one
     stretch of text is counted once, by its most specific term.

4. A term counts once, with its weight times the topic's ``title_weight`` when a counted
   occurrence is in the title. The topic matches when the score reaches the threshold and, if
   the topic has strong terms, one of them occurs (cancelled occurrences do not).

Terms apply by language: an article in a language the topic has terms for is read with that
language's terms and the ``any`` terms; an article in another language, or with no language, is
read with all of them.

Steps 3 and 4, and the matched texts an alert quotes, run in C (``_scoring.c``) where it was
built; ``_python_score_topic`` and ``_python_matched_texts`` state the same rules
and are the fallback (``NEWSMON_PURE_PYTHON_CLASSIFIER=1``, or no C compiler at install time).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from pipeline.core import wordscan

try:
    from pipeline.core._scoring import matched_texts as _compiled_matched_texts
    from pipeline.core._scoring import score_topic as _compiled_score_topic
except ImportError:  # not built: no C compiler where it was installed
    _compiled_matched_texts = _compiled_score_topic = None
from pipeline.core.models import Classification
from pipeline.core.rules import Pattern, Phrase, Term, Topic
from pipeline.core.text import matching_text, tokenize
from pipeline.core.wordscan import Anchor, Anchored

Span = tuple[int, int]  # [first word, last word] inclusive, positions in title + summary
# The words an occurrence covers: one span, or two for NEAR (the words between do not count).
Cover = tuple[Span, ...]


# --- results -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Occurrence:
    text: str
    #: Character offset in the title (field "title") or the summary (field "summary").
    offset: int
    field: str
    cancelled_by: str = ""
    #: The pattern of the longer or heavier term whose occurrence contains this one.
    subsumed_by: str = ""
    #: Word position in its field (0 = first word).
    position: int = 0

    @property
    def counted(self) -> bool:
        return not (self.cancelled_by or self.subsumed_by)


@dataclass(slots=True)
class TermMatch:
    pattern: str
    language: str
    weight: float
    strong: bool
    occurrences: list[Occurrence] = field(default_factory=list)
    #: What the term added to the score (0 if no occurrence counted).
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
                            "position": o.position,
                            "cancelled_by": o.cancelled_by,
                            "subsumed_by": o.subsumed_by,
                        }
                        for o in t.occurrences
                    ],
                }
                for t in self.terms
            ],
        }


def format_explanation(results: Sequence[TopicResult], matched_only: bool = False) -> str:
    """Human-readable explanation: per topic, score against threshold and every occurrence."""
    lines = []
    for r in results:
        if matched_only and not r.matched:
            continue
        verdict = "MATCH" if r.matched else ("no: " + r.reason if r.reason else "no")
        lines.append(f"{r.topic}: score {r.score:g} / threshold {r.threshold:g}  {verdict}")
        for term in r.terms:
            strong = " strong" if term.strong else ""
            lines.append(
                f"  {term.pattern} [{term.language}] weight {term.weight:g}{strong}"
                f" -> +{term.contribution:g}"
            )
            for occ in term.occurrences:
                if occ.cancelled_by:
                    fate = f"  cancelled by '{occ.cancelled_by}'"
                elif occ.subsumed_by:
                    fate = f"  subsumed by '{occ.subsumed_by}'"
                else:
                    fate = ""
                lines.append(
                    f"    {occ.text!r} {occ.field} word {occ.position} char {occ.offset}{fate}"
                )
    return "\n".join(lines)


# --- matching ----------------------------------------------------------------------------------


def _anchor_index(phrase: Phrase) -> int:
    """The word a phrase is looked up by: its longest (longer words are rarer, so "state of the
    climate" is looked for at "climate", not at every "the"); the first among equals."""
    return max(range(len(phrase)), key=lambda k: (min(len(o.text) for o in phrase[k]), -k))


def _anchored(anchors: list[Anchor]) -> Anchored:
    direct: list[Anchor] = []
    by_word: dict[int, dict[str, list[Anchor]]] = {}
    by_prefix: dict[int, dict[str, list[Anchor]]] = {}
    for anchor in anchors:
        others = anchor[3]
        plain = [o for o in others if o[1] and not o[2]]
        prefixed = [o for o in others if o[2] and not o[1]]
        if plain:
            offset, exact, _ = max(plain, key=lambda o: min(map(len, o[1])))
            for word in exact:
                by_word.setdefault(offset, {}).setdefault(word, []).append(anchor)
        elif prefixed:
            offset, _, prefixes = max(prefixed, key=lambda o: min(map(len, o[2])))
            for prefix in prefixes:
                by_prefix.setdefault(offset, {}).setdefault(prefix, []).append(anchor)
        else:
            direct.append(anchor)
    return Anchored(
        tuple(direct),
        tuple((k, {w: tuple(a) for w, a in t.items()}) for k, t in sorted(by_word.items())),
        tuple(
            (k, {w: tuple(a) for w, a in t.items()}, tuple(sorted({len(w) for w in t})))
            for k, t in sorted(by_prefix.items())
        ),
    )


class _Phrases:
    """Every distinct phrase of every topic, each looked up by one of its words (its anchor)."""

    def __init__(self) -> None:
        self.phrases: list[Phrase] = []
        self._ids: dict[Phrase, int] = {}
        self._exact: dict[str, list[Anchor]] = {}
        self._prefix: dict[str, list[Anchor]] = {}
        self._prefix_lengths: tuple[int, ...] = ()
        #: Splits a text into folded words and finds the anchors among them, in one pass.
        self.scanner = wordscan.scanner(self._anchored)
        self._find = wordscan.find_phrases_for(self.scanner)

    def add(self, phrase: Phrase) -> int:
        if phrase in self._ids:
            return self._ids[phrase]
        pid = self._ids[phrase] = len(self.phrases)
        self.phrases.append(phrase)
        at = _anchor_index(phrase)
        others = tuple(
            (
                k - at,
                frozenset(o.text for o in options if not o.prefix),
                tuple(o.text for o in options if o.prefix),
            )
            for k, options in enumerate(phrase)
            if k != at
        )
        anchor: Anchor = (pid, at, len(phrase), others)
        for option in phrase[at]:
            table = self._prefix if option.prefix else self._exact
            anchors = table.setdefault(option.text, [])
            if anchor not in anchors:
                anchors.append(anchor)
        self._prefix_lengths = tuple(sorted({len(p) for p in self._prefix}))
        self.scanner.clear()
        return pid

    def _anchored(self, word: str) -> Anchored | None:
        """The phrases ``word`` is the anchor of (None: none)."""
        found = list(self._exact.get(word, ()))
        for length in self._prefix_lengths:
            if length > len(word):
                break
            found.extend(self._prefix.get(word[:length], ()))
        return _anchored(list(dict.fromkeys(found))) if found else None

    def find(self, text: _Text) -> dict[int, list[Span]]:
        """Spans of every phrase in the text; no phrase runs from the title into the summary."""
        return self._find(text.words, text.positions, text.entries, text.title_words)


class _CompiledTerm(NamedTuple):
    """A term as the scoring reads it; a tuple, so the compiled scoring reads its first seven
    fields by position (``_scoring.c`` relies on this order)."""

    first: int  # phrase id
    second: int  # phrase id of the NEAR side, -1 unless NEAR
    near: int
    weight: float
    strong: bool
    index: int  # position in the topic's terms
    source: str  # the pattern as written
    topic: int
    language: str
    term: Term


_weight = attrgetter("weight")
_strong = attrgetter("strong")


class _CompiledExclusion(NamedTuple):
    """An exclusion as the scoring reads it (the compiled scoring by position: keep the order)."""

    source: str
    first: int
    second: int  # -1 unless NEAR
    near: int
    within: int
    order: int  # position in the topic's exclusions: the first written names a cancel
    topic: int


class _Occ:
    """One occurrence of a term, and its fate."""

    __slots__ = ("term", "cover", "cancelled_by", "subsumed_by", "rank")

    def __init__(self, term: _CompiledTerm, cover: Cover) -> None:
        self.term = term
        self.cover = cover
        self.cancelled_by = ""
        self.subsumed_by = ""
        size = sum(b - a + 1 for a, b in cover) if len(cover) > 1 else cover[0][1] - cover[0][0] + 1
        #: Which of two overlapping occurrences is the more specific: the bigger, then the
        #: heavier, then the term written first in the topic (smallest rank first).
        self.rank = (-size, -term.weight, term.index)


@dataclass(slots=True)
class _TopicScore:
    topic: Topic
    #: (term, cover, cancelled_by, subsumed_by) of each occurrence, by term then cover
    occurrences: list[tuple[_CompiledTerm, Cover, str, str]]
    contributions: dict[int, float]
    score: float
    strong_hit: bool

    @property
    def over(self) -> bool:
        return self.score >= self.topic.threshold

    @property
    def reason(self) -> str:
        if self.over and self.topic.has_strong_terms and not self.strong_hit:
            return "no strong term matched"
        return ""

    @property
    def matched(self) -> bool:
        return self.over and not self.reason


def _contains(outer: Cover, inner: Cover) -> bool:
    return all(any(o0 <= i0 and i1 <= o1 for o0, o1 in outer) for i0, i1 in inner)


def _near_covers(first: list[Span], second: list[Span], near: int) -> list[Cover]:
    covers: list[Cover] = []
    for a in first:
        for b in second:
            if a[0] <= b[1] and b[0] <= a[1]:
                continue  # the two sides overlap: not two separate phrases
            if max(b[0] - a[1], a[0] - b[1]) <= near:
                covers.append((a, b) if a[0] < b[0] else (b, a))
    return covers


def _language_key(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


class Classifier:
    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics = tuple(topics)
        self._phrases = _Phrases()
        #: Whether the compiled scanner and scoring run (one switch: both C modules built and
        #: NEWSMON_PURE_PYTHON_CLASSIFIER unset), or their pure-Python twins.
        self.compiled = _compiled_score_topic is not None and not isinstance(
            self._phrases.scanner, wordscan.PythonScanner
        )
        self._score_topic = self._compiled_score if self.compiled else self._python_score_topic
        self._matched_texts = _compiled_matched if self.compiled else _python_matched_texts
        #: phrase id -> (terms whose first phrase it is, exclusions whose first phrase it is)
        self._by_phrase: dict[int, tuple[list[_CompiledTerm], list[_CompiledExclusion]]] = {}
        self._languages: list[frozenset[str]] = []
        for t_index, topic in enumerate(self.topics):
            for k, term in enumerate(topic.terms):
                first, second, near = self._add_pattern(term.pattern)
                compiled = _CompiledTerm(
                    first,
                    second,
                    near,
                    term.weight,
                    term.strong,
                    k,
                    term.pattern.source,
                    t_index,
                    term.language,
                    term,
                )
                self._by_phrase.setdefault(first, ([], []))[0].append(compiled)
            for order, ex in enumerate(topic.exclusions):
                first, second, near = self._add_pattern(ex.pattern)
                compiled_ex = _CompiledExclusion(
                    ex.pattern.source, first, second, near, ex.within, order, t_index
                )
                self._by_phrase.setdefault(first, ([], []))[1].append(compiled_ex)
            self._languages.append(frozenset(t.language for t in topic.terms) - {"any"})

    def _add_pattern(self, pattern: Pattern) -> tuple[int, int, int]:
        first = self._phrases.add(pattern.first)
        second = self._phrases.add(pattern.second) if pattern.second is not None else -1
        return first, second, pattern.near

    # -- public API --

    def classify(self, title: str, summary: str, language: str = "") -> Classification:
        result = Classification()
        text = _Text(title, summary, self._phrases.scanner)
        for score in self._scores(text, language, hopeless=False):
            if score.matched:
                result.topics[score.topic.id] = score.score
                result.matched[score.topic.id] = self._matched_texts(score, text)
        return result

    def explain(self, title: str, summary: str, language: str = "") -> list[TopicResult]:
        """Every topic's score with each matched term, its occurrences and their fate."""
        text = _Text(title, summary, self._phrases.scanner)
        scored = {s.topic.id: s for s in self._scores(text, language)}
        results = []
        for topic in self.topics:
            score = scored.get(topic.id)
            if score is None:
                results.append(TopicResult(topic.id, topic.label, 0.0, topic.threshold, False, []))
            else:
                results.append(_topic_result(score, text))
        return results

    # -- scoring --

    def _scores(self, text: _Text, language: str, hopeless: bool = True) -> list[_TopicScore]:
        """Scores of the topics with a term in the text; with ``hopeless=False``, topics that
        cannot match whatever their terms' fates (their terms' best total is under the
        threshold, or no strong term occurs where one is needed) are left out unscored."""
        found = self._phrases.find(text)
        if not found:
            return []
        candidates: dict[int, list[_CompiledTerm]] = {}
        exclusions: dict[int, list[_CompiledExclusion]] = {}
        by_phrase = self._by_phrase
        for pid in found:
            if pid in by_phrase:
                terms, excluding = by_phrase[pid]
                for compiled in terms:
                    candidates.setdefault(compiled.topic, []).append(compiled)
                for ex in excluding:
                    exclusions.setdefault(ex.topic, []).append(ex)
        lang = _language_key(language)
        scores = []
        for t_index, terms in sorted(candidates.items()):
            allowed = self._languages[t_index]
            if lang in allowed:
                terms = [c for c in terms if c.language == lang or c.language == "any"]
            if not hopeless and self._hopeless(t_index, terms, text.title_words):
                continue
            present = exclusions.get(t_index, [])
            present.sort(key=_order)  # the first exclusion written names a cancel
            score = self._score_topic(t_index, terms, found, text.title_words, present)
            if score is not None:
                scores.append(score)
        return scores

    def _hopeless(self, t_index: int, terms: list[_CompiledTerm], title_words: int) -> bool:
        topic = self.topics[t_index]
        if topic.has_strong_terms and not any(map(_strong, terms)):
            return True
        best = sum(map(_weight, terms)) * (topic.title_weight if title_words else 1.0)
        return round(best, 2) < topic.threshold

    def _compiled_score(
        self,
        t_index: int,
        terms: list[_CompiledTerm],
        found: dict[int, list[Span]],
        title_words: int,
        exclusions: list[_CompiledExclusion],
    ) -> _TopicScore | None:
        """``_python_score_topic`` in C (``_scoring.c``): the same answers."""
        topic = self.topics[t_index]
        scored = _compiled_score_topic(terms, found, title_words, topic.title_weight, exclusions)
        if scored is None:
            return None
        occurrences, contributions, strong_hit = scored
        score = round(sum(contributions.values()), 2)
        return _TopicScore(topic, occurrences, contributions, score, strong_hit)

    def _python_score_topic(
        self,
        t_index: int,
        terms: list[_CompiledTerm],
        found: dict[int, list[Span]],
        title_words: int,
        exclusions: list[_CompiledExclusion],
    ) -> _TopicScore | None:
        topic = self.topics[t_index]
        occurrences: list[_Occ] = []
        for compiled in terms:
            spans = found[compiled.first]
            if compiled.second < 0:
                covers: list[Cover] = [(span,) for span in spans]
            else:
                second = found.get(compiled.second)
                if not second:
                    continue
                covers = _near_covers(spans, second, compiled.near)
                covers = [c for c in covers if (c[0][0] < title_words) == (c[-1][0] < title_words)]
            occurrences += [_Occ(compiled, cover) for cover in covers]
        if not occurrences:
            return None
        if exclusions:
            _cancel(occurrences, exclusions, found)
        _mark_subsumed(occurrences)
        contributions: dict[int, float] = {}
        strong_hit = False
        title_weight = topic.title_weight
        for occ in occurrences:
            if occ.cancelled_by:
                continue
            term = occ.term
            strong_hit = strong_hit or term.strong
            if occ.subsumed_by:
                continue
            weight = term.weight
            if occ.cover[0][0] < title_words:
                weight *= title_weight
            if weight > contributions.get(term.index, 0.0):
                contributions[term.index] = weight
        score = round(sum(contributions.values()), 2)
        fates = [(o.term, o.cover, o.cancelled_by, o.subsumed_by) for o in occurrences]
        return _TopicScore(topic, fates, contributions, score, strong_hit)


def _order(ex: _CompiledExclusion) -> int:
    return ex.order


def _cancel(
    occurrences: list[_Occ],
    present: list[_CompiledExclusion],
    found: dict[int, list[Span]],
) -> None:
    """Mark the occurrences an exclusion overlaps or lies within ``within`` words of; the first
    exclusion written in the topic (``present`` is in that order) names the cancel."""
    # An occurrence span (a0, a1) is within w words of an exclusion span (b0, b1) when
    # a0 <= b1 + w and a1 >= b0 - w: each exclusion becomes the intervals it reaches.
    reaches = []
    for ex in present:
        covers = _exclusion_covers(found, ex)
        if covers:
            w = ex.within
            reaches.append((ex.source, [(b0 - w, b1 + w) for c in covers for b0, b1 in c]))
    if not reaches:
        return
    for occ in occurrences:
        for source, intervals in reaches:
            if _reaches(occ.cover, intervals):
                occ.cancelled_by = source
                break


def _reaches(cover: Cover, intervals: list[tuple[int, int]]) -> bool:
    for a0, a1 in cover:
        for lo, hi in intervals:
            if a0 <= hi and a1 >= lo:
                return True
    return False


def _exclusion_covers(found: dict[int, list[Span]], ex: _CompiledExclusion) -> list[Cover]:
    spans = found.get(ex.first)
    if not spans:
        return []
    if ex.second < 0:
        return [(span,) for span in spans]
    other = found.get(ex.second)
    return _near_covers(spans, other, ex.near) if other else []


def _rank(occ: _Occ) -> tuple[int, float, int]:
    return occ.rank


def _extent(occ: _Occ) -> tuple[int, int]:
    return occ.cover[0][0], occ.cover[-1][1]


def _mark_subsumed(occurrences: list[_Occ]) -> None:
    """An occurrence inside a bigger (or equally big and heavier) one of another term.

    Only occurrences that overlap can contain one another, so the live ones are cut into runs
    whose first-to-last word extents overlap, and each run of two or more is settled alone.
    """
    live = [o for o in occurrences if not o.cancelled_by]
    if len(live) < 2:
        return
    live.sort(key=_extent)
    run = [live[0]]
    run_end = live[0].cover[-1][1]
    for occ in live[1:]:
        if occ.cover[0][0] <= run_end:
            run.append(occ)
            run_end = max(run_end, occ.cover[-1][1])
        else:
            if len(run) > 1:
                _settle(run)
            run = [occ]
            run_end = occ.cover[-1][1]
    if len(run) > 1:
        _settle(run)


def _settle(run: list[_Occ]) -> None:
    """Within a run of overlapping occurrences, the most specific one over an occurrence's first
    word that contains it (and is of another term) subsumes it."""
    run.sort(key=_rank)
    covering: dict[int, list[_Occ]] = {}  # word position -> occurrences over it, biggest first
    for occ in run:
        for a, b in occ.cover:
            for position in range(a, b + 1):
                covering.setdefault(position, []).append(occ)
    for occ in run:
        for bigger in covering[occ.cover[0][0]]:
            if bigger is occ:
                break
            if bigger.term.index != occ.term.index and (
                bigger.cover[0][0] <= occ.cover[0][0] and occ.cover[0][1] <= bigger.cover[0][1]
                if len(bigger.cover) == 1 and len(occ.cover) == 1
                else _contains(bigger.cover, occ.cover)
            ):
                occ.subsumed_by = bigger.term.source
                break


# --- text and explanations ---------------------------------------------------------------------


class _Text:
    """Folded words of the title then the summary, and the words among them that anchor a
    phrase; where each word sits is worked out only when an occurrence is shown."""

    __slots__ = ("title", "summary", "words", "title_words", "positions", "entries", "_spans")

    def __init__(self, title: str, summary: str, scanner: wordscan.Scanner) -> None:
        self.title = matching_text(title) if title else ""
        self.summary = matching_text(summary) if summary else ""
        words, positions, entries, title_spans = scanner.scan(self.title)
        self.title_words = len(words)
        more, more_positions, more_entries, summary_spans = scanner.scan(
            self.summary, self.title_words
        )
        self.words = words + more
        self.positions = positions + more_positions
        self.entries = entries + more_entries
        self._spans: list[bytes | memoryview | list[str]] = [title_spans, summary_spans]

    @property
    def spans(self) -> tuple[bytes | memoryview | list[str], bytes | memoryview | list[str]]:
        """Per field, the word offsets (the compiled scanner's int32 pairs) or, from the
        pure-Python scanner, the words as written."""
        return self._spans[0], self._spans[1]

    def _offsets(self, field: int) -> memoryview:
        """[start, end) character offsets of a field's words, as a flat sequence of ints."""
        spans = self._spans[field]
        if not isinstance(spans, memoryview):
            if isinstance(spans, list):  # the Python scanner's words as written: no offsets
                source = self.summary if field else self.title
                offsets = [x for _, start, end in tokenize(source) for x in (start, end)]
                spans = memoryview(array("i", offsets))
            else:
                spans = memoryview(spans).cast("i")
            self._spans[field] = spans
        return spans

    def _where(self, position: int) -> tuple[str, int, int, int]:
        """(field text, start, end, position in the field) of a word."""
        if position < self.title_words:
            spans, source, in_field = self._offsets(0), self.title, position
        else:
            spans, source, in_field = self._offsets(1), self.summary, position - self.title_words
        return source, spans[2 * in_field], spans[2 * in_field + 1], in_field

    def _written(self, position: int) -> str:
        field = 0 if position < self.title_words else 1
        spans = self._spans[field]
        in_field = position - self.title_words if field else position
        if isinstance(spans, list):
            return spans[in_field]
        source, start, end, _ = self._where(position)
        return source[start:end]

    def surfaces(self, covers: list[Cover]) -> list[str]:
        """``words_of`` of each cover (the common one-word case without a call per word)."""
        title_words = self.title_words
        fields = [self._spans[0], self._spans[1]]
        if not isinstance(fields[0], list) and not isinstance(fields[1], list):
            fields = [self._offsets(0), self._offsets(1)]
            sources = (self.title, self.summary)
            result = []
            for cover in covers:
                first, last = cover[0][0], cover[-1][1]
                if first == last:
                    field = 0 if first < title_words else 1
                    k = 2 * (first - title_words) if field else 2 * first
                    offsets = fields[field]
                    result.append(sources[field][offsets[k] : offsets[k + 1]])
                else:  # a phrase or a NEAR pair: its words, within one field, as written
                    field = 0 if first < title_words else 1
                    base = title_words if field else 0
                    offsets, source = fields[field], sources[field]
                    result.append(
                        " ".join(
                            source[offsets[2 * k] : offsets[2 * k + 1]]
                            for k in range(first - base, last - base + 1)
                        )
                    )
            return result
        return [self.words_of(cover) for cover in covers]

    def words_of(self, cover: Cover) -> str:
        """The occurrence's words as written, joined by spaces (cheaper than ``locate``)."""
        first, last = cover[0][0], cover[-1][1]
        if first == last:
            return self._written(first)
        return " ".join(map(self._written, range(first, last + 1)))

    def locate(self, cover: Cover) -> tuple[str, str, int, int]:
        """(surface text, field, char offset, word position) of an occurrence."""
        source, start, _, position = self._where(cover[0][0])
        _, _, end, _ = self._where(cover[-1][1])
        field = "title" if cover[0][0] < self.title_words else "summary"
        return source[start:end], field, start, position


def _topic_result(score: _TopicScore, text: _Text) -> TopicResult:
    matches: dict[int, TermMatch] = {}
    for compiled, cover, cancelled_by, subsumed_by in sorted(score.occurrences, key=_cover):
        term = compiled.term
        match = matches.get(compiled.index)
        if match is None:
            match = matches[compiled.index] = TermMatch(
                term.pattern.source,
                term.language,
                term.weight,
                term.strong,
                contribution=score.contributions.get(compiled.index, 0.0),
            )
        surface, where, offset, position = text.locate(cover)
        match.occurrences.append(
            Occurrence(surface, offset, where, cancelled_by, subsumed_by, position)
        )
    topic = score.topic
    return TopicResult(
        topic.id,
        topic.label,
        score.score,
        topic.threshold,
        score.matched,
        list(matches.values()),
        score.reason,
    )


def _cover(occurrence: tuple[_CompiledTerm, Cover, str, str]) -> Cover:
    return occurrence[1]


def _compiled_matched(score: _TopicScore, text: _Text) -> list[str]:
    """``_python_matched_texts`` in C, from the compiled scanner's word offsets."""
    title_spans, summary_spans = text.spans
    return _compiled_matched_texts(
        score.occurrences, text.title, text.summary, text.title_words, title_spans, summary_spans
    )


def _python_matched_texts(score: _TopicScore, text: _Text) -> list[str]:
    """The distinct texts that counted (their words as written), in order of appearance."""
    counted = sorted(
        cover for _, cover, cancelled, subsumed in score.occurrences if not (cancelled or subsumed)
    )
    found: list[str] = []
    seen: set[str] = set()
    for written in text.surfaces(counted):
        key = written.casefold()
        if key not in seen:
            seen.add(key)
            found.append(written)
    return found
