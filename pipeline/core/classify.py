"""Topic classification: weighted term rules over a title and a summary, explainable.

How a text is scored (the rule language itself is in ``rules`` and ``docs/topics.md``):

1. The title and the summary are split into folded words once (``text.folded_words``).
2. One pass over those words finds every phrase of every topic: each distinct word is looked up
   once in a table of the phrases it can start (exact first words by dictionary, prefixes by
   their length), and the table is cached across texts, so a typical word costs one dictionary
   lookup. The phrases found are checked word by word; ``A NEAR/n B`` pairs them up.
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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import ahocorasick_rs

from pipeline.core.models import Classification
from pipeline.core.rules import Pattern, Phrase, Term, Topic
from pipeline.core.text import (
    fold_table,
    fold_text,
    folded_words,
    matching_text,
    split_words,
    tokenize,
)

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


@dataclass(frozen=True, slots=True)
class _Start:
    """The phrases a word can start: one-word phrases, and longer ones grouped by their second
    word (exact, or prefix by length), so a common first word ("climate", which starts dozens
    of phrases) costs a lookup or two of the next word."""

    single: tuple[int, ...]
    by_second: dict[str, tuple[int, ...]]
    by_second_prefix: dict[str, tuple[int, ...]]
    prefix_lengths: tuple[int, ...]

    def candidates(self, second: str) -> tuple[int, ...]:
        found = self.by_second.get(second, ())
        for length in self.prefix_lengths:
            if length > len(second):
                break
            more = self.by_second_prefix.get(second[:length])
            if more:
                found = found + more
        return found


class _Starts(dict[str, _Start | None]):
    """folded word -> the phrases it can start (None: none); filled on first use."""

    limit = 200_000

    def __init__(self, matcher: _Matcher) -> None:
        super().__init__()
        self._matcher = matcher

    def __missing__(self, word: str) -> _Start | None:
        if len(self) >= self.limit:
            self.clear()
        found = self[word] = self._matcher.starting(word)
        return found


#: An anchor word found in a field's folded text: (word key, start offset, whole word?).
_Hit = tuple[int, int, bool]
#: The options of a phrase's anchor word: (key, whole word needed?)
_Anchor = tuple[tuple[int, bool], ...]


class _Matcher:
    """Every distinct phrase of every topic, found with one Aho-Corasick pass over a text.

    The automaton (``ahocorasick_rs``) holds three kinds of keys:

    * every folded word or prefix that can start a phrase (``mine``, ``clear`` of ``clear*``):
      a hit is kept when it starts a word of the folded text (and, for a word used only exactly,
      when it also ends one);
    * every non-ASCII separator (’ « — ...): their offsets, with the ASCII separators, give each
      character's word number, needed only when a topic can match (``_Field.shape``);
    * the characters that ``text.fold_text`` cannot fold one by one: a field holding one is folded
      word by word instead (``text.folded_words``) and searched again.

    The phrases are then read off at the hits only (``find``): a table (cached across texts) gives
    the phrases a word can start, grouped by their second word, and the words after it are taken
    from the folded text. A text without hits costs the fold and the automaton pass, both in C.
    """

    def __init__(self) -> None:
        self.phrases: list[Phrase] = []
        self._ids: dict[Phrase, int] = {}
        self._exact: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._prefix_lengths: tuple[int, ...] = ()
        self._starts = _Starts(self)
        self._keys: dict[str, int] = {}  # anchor word or prefix -> key number in the automaton
        #: key -> {words from the phrase's start to its anchor: whole word needed?}
        self._anchors: dict[int, dict[int, bool]] = {}
        self._anchor_of: list[int] = []  # phrase -> its anchor word
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        self._first_separator = self._first_unsafe = 0

    def add(self, phrase: Phrase) -> int:
        if phrase in self._ids:
            return self._ids[phrase]
        pid = self._ids[phrase] = len(self.phrases)
        self.phrases.append(phrase)
        for first in phrase[0]:
            table = self._prefix if first.prefix else self._exact
            ids = table.setdefault(first.text, [])
            if pid not in ids:
                ids.append(pid)
        # the anchor: the word with the longest shortest option ("agreement" of "the paris
        # agreement"), for few hits; its options are the automaton's keys
        back = max(range(len(phrase)), key=lambda k: min(len(o.text) for o in phrase[k]))
        for option in phrase[back]:
            key = self._keys.setdefault(option.text, len(self._keys))
            anchors = self._anchors.setdefault(key, {})
            anchors[back] = anchors.get(back, True) and not option.prefix
        self._anchor_of.append(back)
        self._prefix_lengths = tuple(sorted({len(p) for p in self._prefix}))
        self._starts.clear()
        self._automaton = None
        return pid

    def anchor(self, pid: int) -> _Anchor:
        """The automaton keys of a phrase's anchor word, each with "whole word needed"."""
        return tuple(
            (self._keys[option.text], not option.prefix)
            for option in self.phrases[pid][self._anchor_of[pid]]
        )

    def starting(self, word: str) -> _Start | None:
        ids = list(self._exact.get(word, ()))
        for length in self._prefix_lengths:
            if length > len(word):
                break
            ids.extend(self._prefix.get(word[:length], ()))
        if not ids:
            return None
        single: list[int] = []
        exact: dict[str, list[int]] = {}
        prefix: dict[str, list[int]] = {}
        for pid in dict.fromkeys(ids):
            phrase = self.phrases[pid]
            if len(phrase) == 1:
                single.append(pid)
                continue
            for option in phrase[1]:
                ids = (prefix if option.prefix else exact).setdefault(option.text, [])
                if pid not in ids:
                    ids.append(pid)
        return _Start(
            tuple(single),
            {k: tuple(v) for k, v in exact.items()},
            {k: tuple(v) for k, v in prefix.items()},
            tuple(sorted({len(k) for k in prefix})),
        )

    def search(self, part: _Field) -> None:
        """The hits and the non-ASCII separators of a field (folded word by word if need be)."""
        if self._automaton is None:
            table = fold_table()
            keys = list(self._keys) + list(table.separators) + sorted(table.unsafe)
            self._first_separator = len(self._keys)
            self._first_unsafe = self._first_separator + len(table.separators)
            self._automaton = ahocorasick_rs.AhoCorasick(keys)
        folded = part.folded
        matches = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        hits: list[_Hit] = []
        separators: list[int] = []
        first_separator, first_unsafe = self._first_separator, self._first_unsafe
        anchors = self._anchors
        size = len(folded)
        # words are runs of letters and digits; folded word by word, runs of non-spaces
        in_word = " ".__ne__ if part.by_word else str.isalnum
        for key, start, end in matches:
            if key < first_separator:
                if start and in_word(folded[start - 1]):
                    continue
                whole = end == size or not in_word(folded[end])
                if whole or not all(anchors[key].values()):
                    hits.append((key, start, whole))
            elif key < first_unsafe:
                separators.append(start)
            elif not part.by_word:
                part.fold_by_word()
                self.search(part)
                return
        part.hits = hits
        part.separators = separators

    def _phrase_starts(self, part: _Field) -> list[tuple[int, int]]:
        """(word number, offset) of the words where a phrase may start: a hit's anchor word, or
        the word as many words before it as the anchor lies in one of its phrases."""
        shape = part.shape
        starts: dict[int, int] = {}
        for (key, start, whole), number in zip(part.hits, part.word_numbers(), strict=True):
            for back, whole_needed in self._anchors[key].items():
                if (whole_needed and not whole) or back > number:
                    continue
                offset = start
                for _ in range(back):  # to the start of the word before
                    offset = shape.rfind(b" ", 0, shape.rfind(b"a", 0, offset)) + 1
                starts[number - back] = offset
        return sorted(starts.items())

    def find(self, text: _Text) -> dict[int, list[Span]]:
        """Spans of every phrase in ``text``; no phrase runs from the title into the summary.

        Phrases are listed in the order of their first occurrence, and at one word in the order
        of ``_Start``: explanations list terms in that order."""
        found: dict[int, list[Span]] = {}
        phrases = self.phrases
        offset = 0
        for part in text.fields:
            if not part.hits:
                offset += part.word_count
                continue
            folded, shape = part.folded, part.shape
            size = len(folded)
            for position, start in self._phrase_starts(part):
                i = position + offset
                stop = shape.find(b" ", start)
                begins = self._starts[folded[start : stop if stop >= 0 else size]]
                if begins is None:
                    continue
                for pid in begins.single:
                    found.setdefault(pid, []).append((i, i))
                if stop < 0 or not (begins.by_second or begins.by_second_prefix):
                    continue
                start2 = shape.find(b"a", stop)
                if start2 < 0:
                    continue
                stop2 = shape.find(b" ", start2)
                for pid in begins.candidates(folded[start2 : stop2 if stop2 >= 0 else size]):
                    phrase = phrases[pid]
                    stop = stop2
                    for k in range(2, len(phrase)):
                        begin = shape.find(b"a", stop) if stop >= 0 else -1
                        if begin < 0:
                            break
                        stop = shape.find(b" ", begin)
                        word = folded[begin : stop if stop >= 0 else size]
                        if not any(option.matches(word) for option in phrase[k]):
                            break
                    else:
                        found.setdefault(pid, []).append((i, i + len(phrase) - 1))
            offset += part.word_count
        return found


@dataclass(frozen=True, slots=True)
class _CompiledTerm:
    topic: int
    index: int
    term: Term
    first: int
    second: int  # -1 unless NEAR
    near: int


@dataclass(frozen=True, slots=True)
class _CompiledExclusion:
    source: str
    first: int
    second: int  # -1 unless NEAR
    near: int
    within: int


@dataclass(slots=True)
class _Occ:
    term: _CompiledTerm
    cover: Cover
    cancelled_by: str = ""
    subsumed_by: str = ""

    @property
    def size(self) -> int:
        return sum(b - a + 1 for a, b in self.cover)


@dataclass(slots=True)
class _TopicScore:
    topic: Topic
    occurrences: list[_Occ]
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


def _distance(a: Cover, b: Cover) -> int:
    """Words from a to b: 0 when they overlap, 1 when adjacent."""
    best = 1 << 30
    for a0, a1 in a:
        for b0, b1 in b:
            best = min(best, max(0, b0 - a1, a0 - b1))
    return best


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
        self._matcher = _Matcher()
        #: phrase id -> terms whose (first) phrase it is
        self._by_phrase: dict[int, list[_CompiledTerm]] = {}
        self._exclusions: list[list[_CompiledExclusion]] = []
        self._languages: list[frozenset[str]] = []
        #: anchor key -> (topic, the anchors of a deciding term): the terms that can make a topic
        #: match (its strong terms; all its terms if it has none), under each of their anchor keys
        self._deciding: dict[int, list[tuple[int, tuple[_Anchor, ...]]]] = {}
        for t_index, topic in enumerate(self.topics):
            for k, term in enumerate(topic.terms):
                first, second, near = self._add_pattern(term.pattern)
                compiled = _CompiledTerm(t_index, k, term, first, second, near)
                self._by_phrase.setdefault(first, []).append(compiled)
            exclusions = []
            for ex in topic.exclusions:
                first, second, near = self._add_pattern(ex.pattern)
                exclusions.append(
                    _CompiledExclusion(ex.pattern.source, first, second, near, ex.within)
                )
            self._exclusions.append(exclusions)
            self._languages.append(frozenset(t.language for t in topic.terms) - {"any"})
            for term in topic.terms:
                if term.strong or not topic.has_strong_terms:
                    first, second, _ = self._add_pattern(term.pattern)
                    sides = tuple(self._matcher.anchor(pid) for pid in (first, second) if pid >= 0)
                    for key in {key for key, _ in sides[0]}:
                        self._deciding.setdefault(key, []).append((t_index, sides))

    def _add_pattern(self, pattern: Pattern) -> tuple[int, int, int]:
        first = self._matcher.add(pattern.first)
        second = self._matcher.add(pattern.second) if pattern.second is not None else -1
        return first, second, pattern.near

    # -- public API --

    def classify(self, title: str, summary: str, language: str = "") -> Classification:
        result = Classification()
        text = _Text(title, summary, self._matcher)
        possible = self._possible_topics(text)
        if not possible:
            return result
        for score in self._scores(text, language, possible):
            if score.matched:
                result.topics[score.topic.id] = score.score
                result.matched[score.topic.id] = _matched_texts(score, text)
        return result

    def explain(self, title: str, summary: str, language: str = "") -> list[TopicResult]:
        """Every topic's score with each matched term, its occurrences and their fate."""
        text = _Text(title, summary, self._matcher)
        scored = {s.topic.id: s for s in self._scores(text, language)}
        results = []
        for topic in self.topics:
            score = scored.get(topic.id)
            if score is None:
                results.append(TopicResult(topic.id, topic.label, 0.0, topic.threshold, False, []))
            else:
                results.append(_topic_result(score, text))
        return results

    def _possible_topics(self, text: _Text) -> set[int]:
        """Topics with a deciding term whose anchor words (both, for NEAR) the text holds: the
        others cannot match, so ``classify`` skips them without numbering words or scoring
        (most news holds no strong term at all)."""
        present: dict[int, bool] = {}  # key -> found as a whole word
        for part in text.fields:
            for key, _, whole in part.hits:
                present[key] = present.get(key, False) or whole
        possible: set[int] = set()
        for key in present:
            for t_index, sides in self._deciding.get(key, ()):
                if t_index not in possible and all(
                    any(k in present and (present[k] or not whole) for k, whole in side)
                    for side in sides
                ):
                    possible.add(t_index)
        return possible

    # -- scoring --

    def _scores(
        self, text: _Text, language: str, topics: set[int] | None = None
    ) -> list[_TopicScore]:
        found = self._matcher.find(text)
        if not found:
            return []
        candidates: dict[int, list[_CompiledTerm]] = {}
        for pid in found:
            for compiled in self._by_phrase.get(pid, ()):
                if topics is None or compiled.topic in topics:
                    candidates.setdefault(compiled.topic, []).append(compiled)
        lang = _language_key(language)
        scores = []
        for t_index, terms in sorted(candidates.items()):
            allowed = self._languages[t_index]
            if lang in allowed:
                terms = [c for c in terms if c.term.language in (lang, "any")]
            score = self._score_topic(t_index, terms, found, text.title_words)
            if score is not None:
                scores.append(score)
        return scores

    def _score_topic(
        self,
        t_index: int,
        terms: list[_CompiledTerm],
        found: dict[int, list[Span]],
        title_words: int,
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
            occurrences.extend(_Occ(compiled, cover) for cover in covers)
        if not occurrences:
            return None
        exclusions = [
            (ex, covers)
            for ex in self._exclusions[t_index]
            if ex.first in found and (covers := _exclusion_covers(found, ex))
        ]
        for occ in occurrences:
            for ex, covers in exclusions:
                if any(_distance(occ.cover, c) <= ex.within for c in covers):
                    occ.cancelled_by = ex.source
                    break
        _mark_subsumed(occurrences)
        contributions: dict[int, float] = {}
        strong_hit = False
        for occ in occurrences:
            if occ.cancelled_by:
                continue
            term = occ.term.term
            strong_hit = strong_hit or term.strong
            if occ.subsumed_by:
                continue
            weight = term.weight
            if occ.cover[0][0] < title_words:
                weight *= topic.title_weight
            if weight > contributions.get(occ.term.index, 0.0):
                contributions[occ.term.index] = weight
        score = round(sum(contributions.values()), 2)
        return _TopicScore(topic, occurrences, contributions, score, strong_hit)


def _exclusion_covers(found: dict[int, list[Span]], ex: _CompiledExclusion) -> list[Cover]:
    spans = found.get(ex.first)
    if not spans:
        return []
    if ex.second < 0:
        return [(span,) for span in spans]
    other = found.get(ex.second)
    return _near_covers(spans, other, ex.near) if other else []


def _mark_subsumed(occurrences: list[_Occ]) -> None:
    """An occurrence inside a bigger (or equally big and heavier) one of another term."""
    live = [o for o in occurrences if not o.cancelled_by]
    if len(live) < 2:
        return
    # Biggest first; among equals the heavier, then the term written first in the topic.
    live.sort(key=lambda o: (-o.size, -o.term.term.weight, o.term.index))
    covering: dict[int, list[_Occ]] = {}  # word position -> occurrences over it, biggest first
    for occ in live:
        for a, b in occ.cover:
            for position in range(a, b + 1):
                covering.setdefault(position, []).append(occ)
    for occ in live:
        for bigger in covering[occ.cover[0][0]]:
            if bigger is occ:
                break
            if bigger.term.index != occ.term.index and _contains(bigger.cover, occ.cover):
                occ.subsumed_by = bigger.term.term.pattern.source
                break


# --- text and explanations ---------------------------------------------------------------------


#: bytes -> one byte per character: b"a" for a letter or digit, b" " for a separator; bytes of
#: non-ASCII characters count as letters here (continuation bytes are dropped), and the matcher's
#: separator hits correct them
_SHAPE = bytes(97 if chr(b).isalnum() else 32 for b in range(128)) + b"a" * 128
_CONTINUATION = bytes(range(0x80, 0xC0))
_BELOW_ASTRAL = bytes(range(0xF0))  # lead bytes of characters above U+FFFF are 0xF0 and up


class _Field:
    """The title or the summary: its folded text, word hits, and word numbers when needed."""

    __slots__ = ("text", "folded", "by_word", "hits", "separators", "_shape", "_count")

    def __init__(self, text: str, matcher: _Matcher) -> None:
        self.text = text
        self.folded = fold_text(text)
        self.by_word = False
        self.hits: list[_Hit] = []
        self.separators: list[int] = []
        self._shape: bytes | None = None
        self._count = -1
        if text:
            matcher.search(self)

    def fold_by_word(self) -> None:
        """Folded words joined by spaces: for texts ``fold_text`` cannot fold letter by letter."""
        self.by_word = True
        self.folded = " ".join(folded_words(self.text))

    @property
    def shape(self) -> bytes:
        """One byte per character of ``folded``: b"a" in a word, b" " between words."""
        if self._shape is None:
            self._shape = self._make_shape()
        return self._shape

    def _make_shape(self) -> bytes:
        folded = self.folded
        if self.by_word:
            return bytes(32 if c == " " else 97 for c in folded)
        if folded.isascii():
            return folded.encode().translate(_SHAPE)
        encoded = folded.encode()
        if encoded.translate(None, _BELOW_ASTRAL):  # some character above U+FFFF
            return bytes(97 if c.isalnum() else 32 for c in folded)
        shape = bytearray(encoded.translate(_SHAPE, _CONTINUATION))
        for offset in self.separators:
            shape[offset] = 32
        return bytes(shape)

    def word_numbers(self) -> list[int]:
        """The word number of each hit; also counts the field's words."""
        numbers: dict[int, int] = {}
        words = 0
        counted = 0  # the words starting before offset ``counted`` are in ``words``
        for start in sorted({start for _, start, _ in self.hits}):
            words += self._words_between(counted, start)
            counted = start
            numbers[start] = words
        self._count = words + self._words_between(counted, len(self.shape))
        return [numbers[start] for _, start, _ in self.hits]

    def _words_between(self, begin: int, end: int) -> int:
        """Words starting at an offset in [begin, end)."""
        if begin == 0:
            return (end > 0 and self.shape[:1] == b"a") + self.shape.count(b" a", 0, end)
        return self.shape.count(b" a", begin - 1, end)

    @property
    def word_count(self) -> int:
        if self._count < 0:
            self._count = self._words_between(0, len(self.shape))
        return self._count


class _Text:
    """The title and the summary as the classifier reads them; the words as written and their
    offsets are worked out only when shown."""

    __slots__ = ("title", "summary", "fields", "_raw", "_tokens")

    def __init__(self, title: str, summary: str, matcher: _Matcher) -> None:
        self.title = matching_text(title) if title else ""
        self.summary = matching_text(summary) if summary else ""
        self.fields = (_Field(self.title, matcher), _Field(self.summary, matcher))
        self._raw: list[str] | None = None
        self._tokens: list[tuple[str, int, int]] | None = None

    @property
    def title_words(self) -> int:
        return self.fields[0].word_count

    def words_of(self, cover: Cover) -> str:
        """The occurrence's words as written, joined by spaces (cheaper than ``locate``)."""
        if self._raw is None:
            self._raw = split_words(self.title) if self.title else []
            if self.summary:
                self._raw += split_words(self.summary)
        return " ".join(self._raw[cover[0][0] : cover[-1][1] + 1])

    def locate(self, cover: Cover) -> tuple[str, str, int, int]:
        """(surface text, field, char offset, word position) of an occurrence."""
        if self._tokens is None:
            self._tokens = tokenize(self.title) + tokenize(self.summary)
        start, end = cover[0][0], cover[-1][1]
        title_words = self.title_words
        in_title = start < title_words
        source = self.title if in_title else self.summary
        text = source[self._tokens[start][1] : self._tokens[end][2]]
        position = start if in_title else start - title_words
        return text, "title" if in_title else "summary", self._tokens[start][1], position


def _topic_result(score: _TopicScore, text: _Text) -> TopicResult:
    matches: dict[int, TermMatch] = {}
    for occ in sorted(score.occurrences, key=lambda o: o.cover):
        term = occ.term.term
        match = matches.get(occ.term.index)
        if match is None:
            match = matches[occ.term.index] = TermMatch(
                term.pattern.source,
                term.language,
                term.weight,
                term.strong,
                contribution=score.contributions.get(occ.term.index, 0.0),
            )
        surface, where, offset, position = text.locate(occ.cover)
        match.occurrences.append(
            Occurrence(surface, offset, where, occ.cancelled_by, occ.subsumed_by, position)
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


def _matched_texts(score: _TopicScore, text: _Text) -> list[str]:
    """The distinct texts that counted (their words as written), in order of appearance."""
    found: list[str] = []
    seen: set[str] = set()
    for occ in sorted(score.occurrences, key=lambda o: o.cover):
        if occ.cancelled_by or occ.subsumed_by:
            continue
        surface = text.words_of(occ.cover)
        key = surface.casefold()
        if key not in seen:
            seen.add(key)
            found.append(surface)
    return found
