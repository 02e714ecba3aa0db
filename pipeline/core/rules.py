"""The topic rule language: what an operator writes in ``topics.yaml``, and its compiled form.

A term is a pattern string:

* ``word`` or ``several words``: a word or an exact phrase (case, accents and ı/İ ignored);
* ``prefix*``: any word starting with ``prefix`` (for inflected languages: ``разминир*``);
* ``A NEAR/n B``: phrases A and B within n words of each other, in either order
  (``mine NEAR/4 clear*``).

Terms sit under a language code with a weight (``landmine*: 5``) or a mapping
(``{weight: 5, strong: true}``). A topic with strong terms matches only if at least one of them
matched. Exclusions (``exclude``) are negative contexts: a phrase such as ``coal mine*`` cancels
every term occurrence it overlaps, or that lies within ``within`` words of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.text import tokenize

_NEAR = re.compile(r"\s+NEAR/(\d+)\s+")
_TOPIC_ID = r"^[a-z][a-z0-9_]*$"


class RuleError(ValueError):
    """A pattern that cannot be compiled; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class TokenPattern:
    text: str
    prefix: bool


Phrase = tuple[TokenPattern, ...]


def compile_phrase(words: str) -> Phrase:
    """Words split as the text is (so "children's" and "anti-personnel" are two words each)."""
    tokens: list[TokenPattern] = []
    for raw in words.split():
        prefix = raw.endswith("*")
        core = raw.rstrip("*")
        if "*" in core:
            raise RuleError(f"'*' may only end a word, not sit inside {raw!r}")
        parts = [word for word, _, _ in tokenize(core)]
        if not parts:
            raise RuleError(f"{raw!r} has no letters or digits")
        if prefix and len(parts[-1]) < 3:
            raise RuleError(f"prefix {raw!r} is too short: give at least 3 letters before '*'")
        tokens.extend(TokenPattern(word, False) for word in parts[:-1])
        tokens.append(TokenPattern(parts[-1], prefix))
    if not tokens:
        raise RuleError("empty pattern")
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern: one phrase, or two phrases within ``near`` words."""

    source: str
    first: Phrase
    second: Phrase | None = None
    near: int = 0


def compile_pattern(source: str) -> Pattern:
    text = source.strip()
    parts = _NEAR.split(text)
    if len(parts) == 1:
        if "NEAR/" in text:
            raise RuleError("NEAR must be written 'A NEAR/n B' with spaces around it")
        return Pattern(source, compile_phrase(text))
    if len(parts) != 3:
        raise RuleError("only one NEAR/n per pattern is supported")
    near = int(parts[1])
    if not 1 <= near <= 50:
        raise RuleError(f"NEAR/{near}: the distance must be between 1 and 50 words")
    return Pattern(source, compile_phrase(parts[0]), compile_phrase(parts[2]), near)


class TermSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(gt=0, le=100)
    strong: bool = False


class ExclusionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    #: Words between the exclusion and a term occurrence that still cancel it (0: must overlap).
    within: int = Field(default=0, ge=0, le=50)


class TopicSpec(BaseModel):
    """One topic as written in topics.yaml."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=_TOPIC_ID)
    label: str = Field(min_length=1)
    description: str = ""
    threshold: float = Field(gt=0)
    #: Multiplier for terms found in the title.
    title_weight: float = Field(default=1.5, ge=1, le=10)
    #: language code -> {pattern: weight or {weight, strong}}
    terms: dict[str, dict[str, float | TermSpec]]
    exclude: list[str | ExclusionSpec] = Field(default_factory=list)

    @field_validator("terms")
    @classmethod
    def _check_terms(
        cls, terms: dict[str, dict[str, float | TermSpec]]
    ) -> dict[str, dict[str, float | TermSpec]]:
        if not any(terms.values()):
            raise ValueError("a topic needs at least one term")
        for lang, patterns in terms.items():
            if not re.fullmatch(r"[a-z]{2,3}|any", lang):
                raise ValueError(f"language {lang!r} is not an ISO 639 code (or 'any')")
            for pattern, spec in patterns.items():
                weight = spec.weight if isinstance(spec, TermSpec) else spec
                if weight <= 0:
                    raise ValueError(f"term {pattern!r} ({lang}): weight must be positive")
                try:
                    compile_pattern(pattern)
                except RuleError as exc:
                    raise ValueError(f"term {pattern!r} ({lang}): {exc}") from None
        return terms

    @field_validator("exclude")
    @classmethod
    def _check_exclusions(cls, exclude: list[str | ExclusionSpec]) -> list[str | ExclusionSpec]:
        for item in exclude:
            pattern = item.pattern if isinstance(item, ExclusionSpec) else item
            try:
                compiled = compile_pattern(pattern)
            except RuleError as exc:
                raise ValueError(f"exclusion {pattern!r}: {exc}") from None
            if compiled.second is not None:
                raise ValueError(f"exclusion {pattern!r}: NEAR is not allowed; use 'within'")
        return exclude


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topics: list[TopicSpec]

    @model_validator(mode="after")
    def _unique_ids(self) -> TopicsFile:
        seen: set[str] = set()
        for topic in self.topics:
            if topic.id in seen:
                raise ValueError(f"topic id {topic.id!r} appears twice")
            seen.add(topic.id)
        return self


@dataclass(frozen=True, slots=True)
class Term:
    pattern: Pattern
    weight: float
    strong: bool
    language: str


@dataclass(frozen=True, slots=True)
class Exclusion:
    pattern: Pattern
    within: int


@dataclass(frozen=True, slots=True)
class Topic:
    """A compiled topic, ready for the classifier."""

    id: str
    label: str
    threshold: float
    title_weight: float
    terms: tuple[Term, ...]
    exclusions: tuple[Exclusion, ...]

    @property
    def has_strong_terms(self) -> bool:
        return any(term.strong for term in self.terms)


def compile_topic(spec: TopicSpec) -> Topic:
    terms = []
    for lang, patterns in spec.terms.items():
        for source, value in patterns.items():
            term_spec = value if isinstance(value, TermSpec) else TermSpec(weight=value)
            terms.append(Term(compile_pattern(source), term_spec.weight, term_spec.strong, lang))
    exclusions = []
    for item in spec.exclude:
        ex = item if isinstance(item, ExclusionSpec) else ExclusionSpec(pattern=item)
        exclusions.append(Exclusion(compile_pattern(ex.pattern), ex.within))
    return Topic(
        spec.id, spec.label, spec.threshold, spec.title_weight, tuple(terms), tuple(exclusions)
    )
