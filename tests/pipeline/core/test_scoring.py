"""The compiled scoring (``_scoring.c``) refuses malformed input with an exception, never a crash.
Its answers are held to the Python scoring's in test_classify (explanations on the corpora and
on random rule sets) and under sanitizers in test_compiled_sanitized."""

from __future__ import annotations

import pytest

_scoring = pytest.importorskip("pipeline.core._scoring", reason="compiled scoring not built")

TERM = (7, -1, 0, 2.0, True, 0, "mine")  # first, second, near, weight, strong, index, source


def test_score_topic_scores_and_refuses_malformed_input() -> None:
    occurrences, contributions, strong = _scoring.score_topic([TERM], {7: [(0, 0)]}, 1, 1.5, [])
    assert occurrences == [(TERM, ((0, 0),), "", "")] and contributions == {0: 3.0} and strong
    assert _scoring.score_topic([], {}, 0, 1.5, []) is None
    with pytest.raises(TypeError):
        _scoring.score_topic((TERM,), {7: [(0, 0)]}, 0, 1.5, [])
    with pytest.raises(TypeError):
        _scoring.score_topic([TERM[:3]], {7: [(0, 0)]}, 0, 1.5, [])
    with pytest.raises(KeyError):
        _scoring.score_topic([TERM], {}, 0, 1.5, [])
    with pytest.raises(TypeError):
        _scoring.score_topic([TERM], {7: [(0,)]}, 0, 1.5, [])
    with pytest.raises(TypeError):
        _scoring.score_topic([TERM], {7: (0, 0)}, 0, 1.5, [])
    with pytest.raises(TypeError):
        _scoring.score_topic([TERM], {7: [(0, 0)]}, 0, 1.5, [("coal",)])


def test_an_exclusion_cancels_what_lies_within_its_reach() -> None:
    found = {7: [(0, 0), (5, 5)], 9: [(2, 2)]}  # "mine" at words 0 and 5, "coal" at word 2
    for within, fates in ((1, ["", ""]), (2, ["coal", ""]), (3, ["coal", "coal"])):
        coal = ("coal", 9, -1, 0, within)  # source, first, second, near, within
        scored = _scoring.score_topic([TERM], found, 0, 1.5, [coal])
        assert [fate for _, _, fate, _ in scored[0]] == fates
        assert scored[1] == ({} if all(fates) else {0: 2.0})


def test_matched_texts_refuses_malformed_input() -> None:
    from array import array

    spans = array("i", [0, 4, 5, 10]).tobytes()
    occurrence = (TERM, ((0, 1),), "", "")
    assert _scoring.matched_texts([occurrence], "", "Mine-clear", 0, b"", spans) == ["Mine clear"]
    with pytest.raises(ValueError):
        _scoring.matched_texts([(TERM, ((0, 5),), "", "")], "", "Mine-clear", 0, b"", spans)
    with pytest.raises(TypeError):
        _scoring.matched_texts([(TERM, ((0, 1),), None, "")], "", "Mine-clear", 0, b"", spans)
    with pytest.raises(TypeError):
        _scoring.matched_texts([occurrence], "", "Mine-clear", 0, b"", "not a buffer")
