"""Text handling: folding per language, word splitting, entities. Sentences are team-written."""

from __future__ import annotations

import pytest

from pipeline.core.text import (
    fold,
    fold_words,
    matching_text,
    normalise_space,
    plain_text,
    split_words,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("MINATƏMİZLƏMƏ", "minatemizleme"),  # Azerbaijani dotted İ and schwa
        ("Minatəmizləmə", "minatemizleme"),
        ("IŞIQ", "isiq"),  # dotless ı and plain I both fold to i
        ("ışıq", "isiq"),
        ("Déminage", "deminage"),
        ("NIÑOS", "ninos"),
        ("Ёлка", "елка"),
        ("ДІТЕЙ", "дітеи"),  # the breve of й is an accent like any other: й and и fold alike
        ("ﬁnance", "finance"),  # NFKC compatibility ligature
        ("Straße", "strasse"),
        ("UNICEF", "unicef"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_of_combining_accent_equals_precomposed() -> None:
    assert fold("de\u0301minage") == fold("déminage") == "deminage"


def test_tokenize_gives_offsets_into_the_original_text() -> None:
    text = "UNICEF’s mine-clearance «work»"
    tokens = tokenize(text)
    assert [w for w, _, _ in tokens] == ["unicef", "s", "mine", "clearance", "work"]
    for word, start, end in tokens:
        assert fold(text[start:end]) == word


@pytest.mark.parametrize(
    "text",
    [
        "Plain ASCII text, with punctuation; and_underscores (even) 3.5°C!",
        "«Разминирование» — продолжается… дети’s № 5",
        "Ukrainian: м’ясо, ґанок, «діти»",
        "Français : l’enfant, des enfants—déplacés ?",
        "Azərbaycan: minatəmizləmə İşləri ² ³ ª µ",
        "mixed\u00a0no-break\u2009thin space\u3000ideographic",
        "emoji 🙂 and symbols © ® ™ • †",
        "",
    ],
)
def test_fast_word_split_agrees_with_tokenize(text: str) -> None:
    assert fold_words(split_words(text)) == [w for w, _, _ in tokenize(text)]
    assert len(split_words(text)) == len(tokenize(text))


def test_matching_text_resolves_entities_and_tags() -> None:
    assert matching_text("Mine&nbsp;clearance &amp; survey") == "Mine clearance & survey"
    assert matching_text("<p>UNICEF</p><p>children</p>") == "UNICEF\nchildren"
    assert matching_text("de\u0301minage") == "déminage"


def test_plain_text_and_normalise_space() -> None:
    assert plain_text("<script>x</script><b>Hi</b> &eacute;t&eacute;") == "Hi été"
    assert normalise_space("  a \n b\t c ") == "a b c"
