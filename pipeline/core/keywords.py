"""Keyword queries of subscriptions: words, "phrases", AND, OR, NOT and parentheses.

Grammar (case-insensitive operators; adjacent terms are ANDed; NOT binds tightest, then AND):

    query  := or
    or     := and ("OR" and)*
    and    := unary (["AND"] unary)*
    unary  := ("NOT" | "-") unary | "(" or ")" | "phrase" | word

Words and phrases match whole words of the title and summary, folded like the classifier does
(case, accents, ı/İ ignored); ``mine*`` matches words starting with "mine".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.core.text import fold, tokenize

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(-)(?=\S)|([^\s()"]+))')


class QueryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False

    def matches(self, words: list[str]) -> bool:
        n = len(self.words)
        for i in range(len(words) - n + 1):
            if all(words[i + k] == self.words[k] for k in range(n - 1)):
                last = words[i + n - 1]
                if last == self.words[-1] or (self.prefix and last.startswith(self.words[-1])):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Not:
    item: Node

    def matches(self, words: list[str]) -> bool:
        return not self.item.matches(words)


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Node, ...]

    def matches(self, words: list[str]) -> bool:
        return all(item.matches(words) for item in self.items)


@dataclass(frozen=True, slots=True)
class Any:
    items: tuple[Node, ...]

    def matches(self, words: list[str]) -> bool:
        return any(item.matches(words) for item in self.items)


Node = Term | Not | All | Any


def _lex(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise QueryError(f"keywords: cannot read {query[pos:]!r} (unbalanced quote?)")
        pos = match.end()
        lparen, rparen, phrase, minus, word = match.groups()
        if lparen:
            tokens.append(("(", "("))
        elif rparen:
            tokens.append((")", ")"))
        elif phrase is not None:
            tokens.append(("term", phrase))
        elif minus:
            tokens.append(("not", "-"))
        elif word.upper() in ("AND", "OR", "NOT"):
            tokens.append((word.lower(), word))
        else:
            tokens.append(("term", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek() == "or":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Any(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while self.peek() in ("and", "not", "term", "("):
            if self.peek() == "and":
                self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else All(tuple(items))

    def parse_unary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise QueryError("keywords: the query ends where a word or phrase was expected")
        if kind == "not":
            self.take()
            return Not(self.parse_unary())
        if kind == "(":
            self.take()
            node = self.parse_or()
            if self.peek() != ")":
                raise QueryError("keywords: '(' is not closed")
            self.take()
            return node
        if kind == "term":
            return _term(self.take()[1])
        raise QueryError(f"keywords: unexpected {self.take()[1]!r}")


def _term(text: str) -> Term:
    prefix = text.endswith("*")
    words = tuple(w for w, _, _ in tokenize(text.rstrip("*")))
    if not words:
        raise QueryError(f"keywords: {text!r} has no letters or digits")
    return Term(words, prefix)


def parse_query(query: str) -> Node | None:
    """The query as a tree, or None for an empty query; raises QueryError with a clear message."""
    tokens = _lex(query)
    if not tokens:
        return None
    parser = _Parser(tokens)
    node = parser.parse_or()
    if parser.pos != len(tokens):
        raise QueryError(f"keywords: unexpected {tokens[parser.pos][1]!r}")
    return node


def query_matches(query: str, text: str) -> bool:
    node = parse_query(query)
    return True if node is None else node.matches([fold(w) for w, _, _ in tokenize(text)])
