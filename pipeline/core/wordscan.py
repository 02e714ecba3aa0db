"""The classifier's phrase finding: one pass over a text for its words, folded, and the ones that
anchor a phrase (``scanner``), then the phrases around each anchor (``find_phrases``).

``scanner(lookup)`` gives an object with ``scan(text, base=0)`` returning
``(folded, positions, entries, spans)``:

* ``folded``: ``text.fold`` of every word of ``text`` (the words ``text.tokenize`` finds);
* ``positions``: the numbers (counted from ``base``) of the words whose folded form has an entry,
  that is ``lookup(folded)`` is not None, and ``entries`` those entries;
* ``spans``: each word's [start, end) character offsets, as ``array('i')``-compatible bytes
  (pairs of native int32); the pure-Python scanner gives the words as written instead (a list
  of str) and leaves offsets to ``text.tokenize``.

``fold`` and ``lookup`` are called once per distinct word; both scanners remember their
answers (up to ``limit`` words, then start afresh), so ``lookup`` must give the same answer for
the same word until ``clear()`` is called.

``find_phrases(words, positions, entries, title_words)`` takes the scan's entries, each an
``Anchored`` (the layout below, built by ``classify``), and returns ``{phrase id: [(first word,
last word), ...]}``, spans in text order; no phrase runs from the title (its first
``title_words`` words) into the summary.

The compiled module (``_wordscan.c``, built by ``pip install``) does both without making a
string per word, which was most of the classifier's time on a 2 KB article; the pure-Python
versions here give the same answers (tests hold them to it) and are used where the module was
not built (no C compiler) or when ``NEWSMON_PURE_PYTHON_CLASSIFIER=1``, the one switch for the
classifier's compiled parts (the scoring in ``_scoring.c`` follows the scanner's choice).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import compress
from typing import Any, NamedTuple, Protocol

from pipeline.core.text import fold, fold_words, split_words

try:
    from pipeline.core._wordscan import Scanner as _CompiledScanner
    from pipeline.core._wordscan import find_phrases as _compiled_find_phrases
except ImportError:  # not built: no C compiler where it was installed
    _CompiledScanner = None
    _compiled_find_phrases = None

#: A phrase as seen from its anchor word: (phrase id, index of the anchor in the phrase, the
#: phrase's length, its other words as (offset from the anchor, exact forms, prefixes)).
Anchor = tuple[int, int, int, tuple[tuple[int, frozenset[str], tuple[str, ...]], ...]]


class Anchored(NamedTuple):
    """The phrases one word anchors. A common anchor ("climate" anchors dozens of phrases) files
    them by one other word, so a hit costs a lookup of that word rather than a check of each."""

    #: Phrases checked word by word (one-word phrases, and those with no plain key word).
    direct: tuple[Anchor, ...]
    #: (offset from the anchor, exact form of the word there -> phrases)
    by_word: tuple[tuple[int, dict[str, tuple[Anchor, ...]]], ...]
    #: (offset from the anchor, prefix of the word there -> phrases, the prefixes' lengths)
    by_prefix: tuple[tuple[int, dict[str, tuple[Anchor, ...]], tuple[int, ...]], ...]


Scan = tuple[list[str], list[int], list[Any], bytes | list[str]]
#: Distinct words remembered before starting afresh: 150,000 fill at most 262,144 slots of 64
#: bytes (16 MiB) in the compiled table, about 34 MiB with the strings. (Every feed in
#: ../shared/corpora together holds 27,000 distinct words; a worker running for weeks meets
#: more, and a fresh start costs one fold and one lookup per word met again.)
LIMIT = 150_000


class Scanner(Protocol):
    def scan(self, text: str, base: int = 0) -> Scan: ...

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class _Entries(dict[str, Any]):
    """folded word -> lookup(folded word), filled on first use."""

    def __init__(self, lookup: Callable[[str], Any], limit: int) -> None:
        super().__init__()
        self._lookup = lookup
        self._limit = limit

    def __missing__(self, word: str) -> Any:
        if len(self) >= self._limit:
            self.clear()
        entry = self[word] = self._lookup(word)
        return entry


class PythonScanner:
    """The same answers as the compiled scanner, in Python (split, fold and look up in turn)."""

    def __init__(self, lookup: Callable[[str], Any], limit: int = LIMIT) -> None:
        self._entries = _Entries(lookup, limit)

    def scan(self, text: str, base: int = 0) -> Scan:
        written = split_words(text) if text else []
        folded = fold_words(written)
        found = list(map(self._entries.__getitem__, folded))
        positions = list(compress(range(len(found)), map(_is_entry, found)))
        return folded, [base + i for i in positions], [found[i] for i in positions], written

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _is_entry(found: Any) -> bool:
    return found is not None


def compiled_available() -> bool:
    return _CompiledScanner is not None


def scanner(lookup: Callable[[str], Any], *, compiled: bool | None = None) -> Scanner:
    """The compiled scanner when it is built (unless ``compiled`` is False or
    NEWSMON_PURE_PYTHON_CLASSIFIER=1), else the pure-Python one."""
    if compiled is None:
        compiled = _use_compiled()
    if compiled and _CompiledScanner is not None:
        return _CompiledScanner(fold, lookup, LIMIT)
    return PythonScanner(lookup)


Spans = dict[int, list[tuple[int, int]]]


def python_find_phrases(
    words: list[str], positions: list[int], entries: list[Anchored], title_words: int
) -> Spans:
    """``find_phrases`` in Python."""
    found: Spans = {}
    n = len(words)
    for i, anchored in zip(positions, entries, strict=True):
        candidates = anchored.direct
        for offset, table in anchored.by_word:
            if 0 <= i + offset < n:
                more = table.get(words[i + offset])
                if more:
                    candidates = candidates + more
        for offset, table, lengths in anchored.by_prefix:
            if 0 <= i + offset < n:
                word = words[i + offset]
                for length in lengths:
                    if length > len(word):
                        break
                    more = table.get(word[:length])
                    if more:
                        candidates = candidates + more
        for pid, at, length, others in candidates:
            start = i - at
            end = start + length - 1
            if start < 0 or end >= n or (start < title_words <= end):
                continue
            for offset, exact, prefixes in others:
                word = words[i + offset]
                if not (word in exact or word.startswith(prefixes)):
                    break
            else:
                found.setdefault(pid, []).append((start, end))
    return found


def find_phrases_for(scanner: Scanner) -> Callable[[list[str], list[int], list[Any], int], Spans]:
    """``find_phrases`` of the same kind as ``scanner``: compiled for the compiled scanner."""
    if isinstance(scanner, PythonScanner) or _compiled_find_phrases is None:
        return python_find_phrases
    return _compiled_find_phrases


def _use_compiled() -> bool:
    return os.environ.get("NEWSMON_PURE_PYTHON_CLASSIFIER", "") not in ("1", "true", "yes")
