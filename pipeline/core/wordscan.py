"""One pass over a text for the classifier: its words, folded, and the ones that anchor a phrase.

``scanner(lookup)`` gives an object with ``scan(text, base=0)`` returning
``(folded, positions, entries, spans)``:

* ``folded``: ``text.fold`` of every word of ``text`` (the words ``text.tokenize`` finds);
* ``positions``: the numbers (counted from ``base``) of the words whose folded form has an entry,
  that is ``lookup(folded)`` is not None, and ``entries`` those entries;
* ``spans``: each word's [start, end) character offsets, as ``array('i')``-compatible bytes
  (pairs of native int32), or None where the scanner leaves them to ``text.tokenize``.

``fold`` and ``lookup`` are called once per distinct word; both scanners remember their
answers (up to ``limit`` words, then start afresh), so ``lookup`` must give the same answer for
the same word until ``clear()`` is called.

The compiled scanner (``_wordscan.c``, built by ``pip install``) does it in one pass without
making a string per word, which is most of the classifier's time on a 2 KB article; the
pure-Python scanner here gives the same answers and is used where the module was not built
(no C compiler) or when ``NEWSMON_PURE_PYTHON_SCAN=1``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import compress
from typing import Any, Protocol

from pipeline.core.text import fold, fold_words, split_words

try:
    from pipeline.core._wordscan import Scanner as _CompiledScanner
except ImportError:  # not built: no C compiler where it was installed
    _CompiledScanner = None

Scan = tuple[list[str], list[int], list[Any], bytes | None]
LIMIT = 200_000


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
        folded = fold_words(split_words(text)) if text else []
        found = list(map(self._entries.__getitem__, folded))
        positions = [i for i in compress(range(len(found)), map(_is_entry, found))]
        return folded, [base + i for i in positions], [found[i] for i in positions], None

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
    NEWSMON_PURE_PYTHON_SCAN=1), else the pure-Python one."""
    if compiled is None:
        compiled = os.environ.get("NEWSMON_PURE_PYTHON_SCAN", "") not in ("1", "true", "yes")
    if compiled and _CompiledScanner is not None:
        return _CompiledScanner(fold, lookup, LIMIT)
    return PythonScanner(lookup)
