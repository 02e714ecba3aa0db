"""Text handling shared by parsing, classification and fingerprints.

``plain_text`` turns feed HTML into readable text; ``fold`` makes the matching form of a word
(Unicode case folding, accents removed, Azerbaijani/Turkish dotted and dotless i unified);
``tokenize`` splits text into words with their character offsets.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr td th table section article figure".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(markup: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    if not markup:
        return ""
    if "<" in markup:
        parser = _TextExtractor()
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    else:
        text = html.unescape(markup)
    text = _SPACE.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


_I_FOLD = str.maketrans({"ı": "i", "İ": "i"})


def fold(text: str) -> str:
    """Matching form: case-folded, accents stripped, ı/İ → i, NFKC compatibility forms."""
    text = unicodedata.normalize("NFKC", text).translate(_I_FOLD).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped)


# A word is a run of letters or digits: apostrophes and hyphens split words, so
# "mine-clearance" matches the phrase "mine clearance" and "UNICEF’s" matches "unicef".
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Folded words of ``text`` with their [start, end) character offsets in ``text``."""
    return [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def normalise_space(text: str) -> str:
    return " ".join(text.split())
