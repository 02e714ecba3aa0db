"""The topic rule language: what an operator writes in ``topics.yaml``, and its compiled form.

The full grammar, with examples, is in ``docs/topics.md``. In short, a term is a pattern string:

* ``word`` or ``several words``: a word or an exact phrase (case, accents, ı/İ and ə/e ignored;
  punctuation between words ignored, so "anti-personnel" is the phrase ``anti personnel``);
* ``prefix*``: any word starting with ``prefix`` (for inflected languages: ``разминир*``); any
  word of a phrase may be a prefix;
* ``A NEAR/n B``: phrases A and B within n words of each other, in either order
  (``mine NEAR/4 clear*``; NEAR/1 means adjacent).

Terms sit under a language code (or ``any``) with a weight (``landmine*: 5``) or a mapping
(``{weight: 5, strong: true}``). A topic with strong terms matches only if at least one of them
matched. Exclusions (``exclude``) are negative contexts: a pattern such as ``coal mine*`` cancels
every term occurrence it overlaps, or that lies within ``within`` words of it.

Every problem in a rule is a ``ValueError`` whose message names the rule and says what is wrong;
``pipeline.config`` adds the file and the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.text import tokenize

_NEAR = re.compile(r"\s+NEAR/(\d+)\s+")
_BAD_NEAR = re.compile(r"\bNEAR\b")  # upper-case NEAR not in the 'A NEAR/n B' form
_TOPIC_ID = r"^[a-z][a-z0-9_]*$"
_LANGUAGE = re.compile(r"[a-z]{2,3}|any")


class RuleError(ValueError):
    """A pattern that cannot be compiled; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class TokenPattern:
    """One folded word, or a prefix of words when ``prefix``."""

    text: str
    prefix: bool

    def matches(self, word: str) -> bool:
        return word.startswith(self.text) if self.prefix else word == self.text


#: One position of a phrase: its alternatives ("дети|детей" has two, most words one).
Word = tuple[TokenPattern, ...]
Phrase = tuple[Word, ...]


def _compile_word(raw: str) -> list[TokenPattern]:
    prefix = raw.endswith("*")
    core = raw[:-1] if prefix else raw
    if "*" in core:
        raise RuleError(f"'*' may only end a word, not sit inside {raw!r}")
    parts = [word for word, _, _ in tokenize(core)]
    if not parts:
        raise RuleError(f"{raw!r} has no letters or digits")
    if prefix and len(parts[-1]) < 3:
        raise RuleError(f"prefix {raw!r} is too short: give at least 3 letters before '*'")
    return [TokenPattern(word, False) for word in parts[:-1]] + [TokenPattern(parts[-1], prefix)]


def compile_phrase(words: str) -> Phrase:
    """Words split as the text is (so "children's" and "anti-personnel" are two words each);
    ``a|b|c`` is one word with alternatives."""
    if not words.strip():
        raise RuleError("empty pattern (a NEAR side or the whole pattern has no words)")
    phrase: list[Word] = []
    for raw in words.split():
        if "|" in raw:
            options: list[TokenPattern] = []
            for alternative in raw.split("|"):
                if not alternative:
                    raise RuleError(f"{raw!r}: an alternative between '|' is empty")
                compiled = _compile_word(alternative)
                if len(compiled) != 1:
                    raise RuleError(f"{raw!r}: each alternative must be a single word")
                options.extend(compiled)
            phrase.append(tuple(options))
        else:
            phrase.extend((token,) for token in _compile_word(raw))
    return tuple(phrase)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern: one phrase, or two phrases within ``near`` words."""

    source: str
    first: Phrase
    second: Phrase | None = None
    near: int = 0


def compile_pattern(source: str) -> Pattern:
    if not isinstance(source, str):
        raise RuleError(f"a pattern must be text, not {type(source).__name__}")
    text = source.strip()
    if not text:
        raise RuleError("empty pattern")
    parts = _NEAR.split(f" {text} ")
    if len(parts) == 1:
        if _BAD_NEAR.search(text):
            raise RuleError("NEAR must be written 'A NEAR/n B': a whole number n, spaces around")
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
    #: How far (in words) the exclusion reaches: 0 cancels only term occurrences it overlaps,
    #: 1 also those right next to it, n those with up to n - 1 words between.
    within: int = Field(default=0, ge=0, le=50)


def _term_spec(value: Any, where: str) -> TermSpec:
    if isinstance(value, bool) or not isinstance(value, int | float | dict | TermSpec):
        raise ValueError(f"{where}: give a weight (a number) or {{weight: W, strong: true}}")
    if isinstance(value, TermSpec):
        return value
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"weight", "strong"})
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (allowed: weight, strong)")
        if "weight" not in value:
            raise ValueError(f"{where}: 'weight' is missing")
        weight, strong = value["weight"], value.get("strong", False)
        if not isinstance(strong, bool):
            raise ValueError(f"{where}: 'strong' must be true or false")
    else:
        weight, strong = value, False
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ValueError(f"{where}: the weight must be a number, not {weight!r}")
    if not 0 < weight <= 100:
        raise ValueError(f"{where}: the weight must be above 0 and at most 100, not {weight}")
    return TermSpec(weight=weight, strong=strong)


class TopicSpec(BaseModel):
    """One topic as written in topics.yaml."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=_TOPIC_ID)
    label: str = Field(min_length=1)
    description: str = ""
    threshold: float = Field(gt=0)
    #: Multiplier for terms found in the title.
    title_weight: float = Field(default=1.5, ge=1, le=10)
    #: language code (or "any") -> {pattern: TermSpec}; a bare number in YAML is the weight.
    terms: dict[str, dict[str, TermSpec]]
    exclude: list[ExclusionSpec] = Field(default_factory=list)

    @field_validator("terms", mode="before")
    @classmethod
    def _parse_terms(cls, terms: Any) -> dict[str, dict[str, TermSpec]]:
        if not isinstance(terms, dict):
            raise ValueError("expected a mapping: language code -> {pattern: weight}")
        parsed: dict[str, dict[str, TermSpec]] = {}
        for lang, patterns in terms.items():
            if not isinstance(lang, str) or not _LANGUAGE.fullmatch(lang):
                raise ValueError(f"language {lang!r} is not an ISO 639 code (or 'any')")
            if patterns is None:
                patterns = {}
            if not isinstance(patterns, dict):
                raise ValueError(f"terms of {lang!r}: expected a mapping pattern -> weight")
            parsed[lang] = {}
            for pattern, value in patterns.items():
                where = f"term {pattern!r} ({lang})"
                if not isinstance(pattern, str):
                    raise ValueError(f"{where}: a pattern must be text; quote it")
                try:
                    compile_pattern(pattern)
                except RuleError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                parsed[lang][pattern] = _term_spec(value, where)
        if not any(parsed.values()):
            raise ValueError("a topic needs at least one term")
        return parsed

    @field_validator("exclude", mode="before")
    @classmethod
    def _parse_exclusions(cls, exclude: Any) -> list[ExclusionSpec]:
        if exclude is None:
            return []
        if not isinstance(exclude, list):
            raise ValueError("expected a list of patterns or {pattern: P, within: N}")
        parsed = []
        for number, item in enumerate(exclude):
            if isinstance(item, str):
                item = {"pattern": item}
            if not isinstance(item, dict):
                raise ValueError(f"exclusion #{number + 1}: give a pattern or {{pattern, within}}")
            pattern = item.get("pattern")
            where = f"exclusion {pattern!r}" if pattern else f"exclusion #{number + 1}"
            unknown = sorted(set(item) - {"pattern", "within"})
            if unknown:
                raise ValueError(f"{where}: unknown key {unknown[0]!r} (allowed: pattern, within)")
            try:
                compile_pattern(pattern)
            except RuleError as exc:
                raise ValueError(f"{where}: {exc}") from None
            within = item.get("within", 0)
            if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= 50:
                raise ValueError(f"{where}: 'within' must be a whole number from 0 to 50")
            parsed.append(ExclusionSpec(pattern=pattern, within=within))
        return parsed

    @model_validator(mode="after")
    def _reachable(self) -> TopicSpec:
        """A threshold that no text could reach is a mistake worth reporting."""
        best = sum(
            spec.weight * self.title_weight
            for specs in self.terms.values()
            for spec in specs.values()
        )
        if best < self.threshold:
            raise ValueError(
                f"threshold {self.threshold:g} can never be reached: all terms together score "
                f"at most {best:g}"
            )
        return self


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
    #: Whether one of the terms is strong (then one strong term must occur for a match); worked
    #: out once here, as the classifier asks for every topic it scores.
    has_strong_terms: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_strong_terms", any(term.strong for term in self.terms))


def compile_topic(spec: TopicSpec) -> Topic:
    terms = []
    for lang, patterns in spec.terms.items():
        for source, term_spec in patterns.items():
            terms.append(Term(compile_pattern(source), term_spec.weight, term_spec.strong, lang))
    exclusions = tuple(Exclusion(compile_pattern(ex.pattern), ex.within) for ex in spec.exclude)
    return Topic(spec.id, spec.label, spec.threshold, spec.title_weight, tuple(terms), exclusions)
