"""Text handling shared by parsing, classification and fingerprints.

``plain_text`` turns feed HTML into readable text; ``matching_text`` readies any text for
matching (tags, entities, Unicode normal form); ``fold`` makes the matching form of a word
(Unicode case folding, accents removed, Azerbaijani/Turkish dotted and dotless i unified);
``tokenize`` splits text into words with their character offsets; ``split_words`` and
``fold_words`` give the same words faster, without offsets (the classifier's pure-Python
scanner; its compiled scanner does the same in C, see ``wordscan``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr td th table section article figure".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})
# Runs of spaces (plain, tab, no-break, thin...) become one plain space. A lone plain space is
# left alone, so the substitution only touches what changes (most texts: nothing), which makes
# it several times faster than rewriting every space.
_OTHER_SPACES = "\\t\\r\\f\\v\\u00a0\\u2000-\\u200b\\u202f\\u205f\\u3000"
_SPACE = re.compile(f"[ {_OTHER_SPACES}]{{2,}}|[{_OTHER_SPACES}]")


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
    # Lines stripped (str.strip takes what \s matches), blank ones dropped.
    return "\n".join(line for line in map(str.strip, text.split("\n")) if line)


def matching_text(text: str) -> str:
    """Text as the classifier reads it: HTML tags and entities resolved, Unicode NFC.

    NFC matters for words typed with combining accents ("e" + U+0301), which would otherwise
    split in two at the accent.
    """
    if "&" in text or ("<" in text and ">" in text):
        text = plain_text(text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


# Azerbaijani and Turkish: dotted capital İ and dotless ı are the letter i once case is ignored
# (plain casefold would turn İ into "i" plus a combining dot). The Azerbaijani schwa ə is folded to
# e because Azerbaijani is often typed without it ("minatemizleme"); the other Azerbaijani letters
# (ç ğ ö ş ü) lose their marks like every accented letter.
_LETTER_FOLD = (("ı", "i"), ("İ", "i"), ("ə", "e"), ("Ə", "e"))


def _char_class(codes: Iterable[int]) -> str:
    """A regular-expression character class of ``codes``, as ranges (compact and fast)."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return f"[{body}]"


# Accents: the Combining Diacritical Marks blocks (Latin, Greek and Cyrillic accents, the
# Cyrillic breve of й and diaeresis of ё and ї). Marks of other scripts (Indic vowel signs, for
# one) carry meaning and stay.
_COMBINING_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def fold(text: str) -> str:
    """Matching form: NFKC compatibility forms, ı/İ → i, ə → e, case-folded, accents stripped.

    "MINATƏMİZLƏMƏ", "minatemizleme" and "Minatəmizləmə" fold alike, as do "Déminage" and
    "deminage", "Ёлка" and "елка".
    """
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    for letter, replacement in _LETTER_FOLD:  # str.replace beats str.translate here
        if letter in text:
            text = text.replace(letter, replacement)
    text = text.casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _COMBINING_MARKS.sub("", decomposed))


# A word is a run of letters or digits: apostrophes and hyphens split words, so
# "mine-clearance" matches the phrase "mine clearance" and "UNICEF’s" matches "unicef".
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# The fast word splitter below turns separators into spaces and splits on whitespace: ASCII
# punctuation through a byte table, and the common non-ASCII punctuation (quotes, dashes,
# guillemets, the no-break space) through one character class. Anything it leaves inside a word
# that is not a letter or digit sends the text to the regular expression instead.
_ASCII_SEPARATORS = bytes(c if chr(c).isalnum() or c >= 128 else 32 for c in range(256))
_UNICODE_SEPARATORS = re.compile(
    _char_class(
        c
        for c in (*range(0x80, 0x2C00), *range(0x3000, 0x3040), *range(0xFE10, 0xFE70))
        if not chr(c).isalnum() and unicodedata.category(chr(c))[0] in "PSZC"
    )
)


def split_words(text: str) -> list[str]:
    """The words of ``text`` as written (not folded): the same words ``tokenize`` finds.

    Faster than a regular expression over the whole text (a split on whitespace after a byte
    translation), which matters because every article goes through it.
    """
    if not text.isascii():
        text = _UNICODE_SEPARATORS.sub(" ", text)
    words = text.encode("utf-8").translate(_ASCII_SEPARATORS).decode("utf-8").split()
    if text.isascii() or "".join(words).isalnum() or not words:
        return words
    return _WORD.findall(text)


class _FoldCache(dict[str, str]):
    """word -> fold(word), filled on first use; words repeat across articles."""

    limit = 200_000

    def __missing__(self, word: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        folded = self[word] = fold(word)
        return folded


_FOLDED = _FoldCache()


def fold_words(words: list[str]) -> list[str]:
    """``fold`` of each word (cached: words repeat across texts)."""
    return list(map(_FOLDED.__getitem__, words))


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Folded words of ``text`` with their [start, end) character offsets in ``text``."""
    return [(_FOLDED[m.group()], m.start(), m.end()) for m in _WORD.finditer(text)]


def normalise_space(text: str) -> str:
    return " ".join(text.split())
