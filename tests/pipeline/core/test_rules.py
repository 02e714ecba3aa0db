"""The rule language: each construct compiles, each mistake gives a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config import ConfigError, load_topics
from pipeline.core.rules import (
    RuleError,
    TopicsFile,
    TopicSpec,
    compile_pattern,
    compile_phrase,
    compile_topic,
)

REPO = Path(__file__).resolve().parents[3]


def topic(**overrides: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "id": "demo",
        "label": "Demo",
        "threshold": 2,
        "terms": {"en": {"mine clearance": {"weight": 4, "strong": True}, "mine": 1}},
    }
    spec.update(overrides)
    return spec


def test_phrase_words_are_split_and_folded_like_text() -> None:
    phrase = compile_phrase("Anti-Personnel mine*")
    assert [[(t.text, t.prefix) for t in word] for word in phrase] == [
        [("anti", False)],
        [("personnel", False)],
        [("mine", True)],
    ]


def test_alternatives() -> None:
    (word,) = compile_phrase("Дети|детей|детск*")
    assert [(t.text, t.prefix) for t in word] == [
        ("дети", False),
        ("детеи", False),
        ("детск", True),
    ]
    with pytest.raises(RuleError, match="single word"):
        compile_phrase("mine|mine-clearance")
    with pytest.raises(RuleError, match="empty"):
        compile_phrase("mine||mines")


def test_near() -> None:
    pattern = compile_pattern("mine NEAR/4 clear*")
    assert pattern.near == 4
    assert pattern.second is not None


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("mi*ne", "may only end a word"),
        ("mi*", "too short"),
        ("***", "may only end a word"),
        ("mine NEAR/0 clear*", "between 1 and 50"),
        ("mine NEAR/99 clear*", "between 1 and 50"),
        ("mine NEAR clear*", "NEAR must be written"),
        ("mine NEAR/x clear*", "NEAR must be written"),
        ("a NEAR/2 b NEAR/3 c", "only one NEAR"),
        ("NEAR/3 clear*", "empty pattern"),
        ("   ", "empty pattern"),
        ("--", "no letters"),
    ],
)
def test_pattern_errors(source: str, problem: str) -> None:
    with pytest.raises(RuleError, match=problem):
        compile_pattern(source)


def test_lower_case_near_is_an_ordinary_word() -> None:
    assert compile_pattern("near miss").second is None


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"terms": {"en": {"mi*ne": 2}}}, "term 'mi\\*ne' \\(en\\): '\\*' may only end a word"),
        ({"terms": {"en": {"mine": "high"}}}, "term 'mine' \\(en\\): give a weight"),
        ({"terms": {"en": {"mine": 0}}}, "term 'mine' \\(en\\): the weight must be above 0"),
        ({"terms": {"en": {"mine": {"weight": 2, "strog": True}}}}, "unknown key 'strog'"),
        ({"terms": {"en": {"mine": {"strong": True}}}}, "'weight' is missing"),
        ({"terms": {"english": {"mine": 2}}}, "language 'english' is not an ISO 639"),
        ({"terms": {"en": {}}}, "at least one term"),
        ({"exclude": ["coal mi*ne"]}, "exclusion 'coal mi\\*ne'"),
        ({"exclude": [{"pattern": "coal", "within": 99}]}, "'within' must be a whole number"),
        ({"exclude": [{"pattern": "coal", "near": 3}]}, "unknown key 'near'"),
        ({"threshold": 50}, "threshold 50 can never be reached"),
    ],
)
def test_topic_errors_name_the_rule_and_the_problem(
    overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        TopicSpec.model_validate(topic(**overrides))


def test_duplicate_topic_ids() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        TopicsFile.model_validate({"topics": [topic(), topic()]})


def test_compile_topic() -> None:
    spec = TopicSpec.model_validate(
        topic(exclude=["coal mine*", {"pattern": "miners", "within": 5}], title_weight=2)
    )
    compiled = compile_topic(spec)
    assert compiled.has_strong_terms
    assert {t.pattern.source for t in compiled.terms} == {"mine clearance", "mine"}
    assert [(e.pattern.source, e.within) for e in compiled.exclusions] == [
        ("coal mine*", 0),
        ("miners", 5),
    ]
    assert compiled.title_weight == 2


def test_config_error_names_file_topic_rule_and_problem(tmp_path: Path) -> None:
    (tmp_path / "topics.yaml").write_text(
        "topics:\n"
        "  - id: demining\n"
        "    label: Demining\n"
        "    threshold: 4\n"
        "    terms:\n"
        "      en:\n"
        "        mine NEAR/0 clear*: 3\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_topics(tmp_path)
    message = str(info.value)
    assert "topics.yaml" in message
    assert "(id 'demining')" in message
    assert "mine NEAR/0 clear*" in message
    assert "between 1 and 50" in message


def test_shipped_topics_compile() -> None:
    topics = load_topics(REPO / "config")
    assert {t.id for t in topics} >= {"climate", "child_rights", "demining"}
    for t in topics:
        languages = {term.language for term in t.terms}
        assert {"en", "ru", "az", "uk", "fr", "es"} <= languages, t.id
