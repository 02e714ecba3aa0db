"""The classifier's word scanner: the compiled one and the pure-Python one give the same answers,
and both give the words ``tokenize`` gives. Sentences here are team-written; corpus texts are read
from ../shared at test time."""

from __future__ import annotations

import os
import random
from array import array

import pytest

from pipeline.core import wordscan
from pipeline.core.parse import parse_feed
from pipeline.core.text import fold, matching_text, tokenize
from tests.conftest import corpus_files

ANCHORS = {"mine", "clearance", "дети", "minatemizleme", "enfants", "1⁄2", "unicef"}


def _lookup(word: str) -> tuple[str, int] | None:
    return (word, len(word)) if word in ANCHORS else None


def _scanners() -> list[wordscan.Scanner]:
    scanners: list[wordscan.Scanner] = [wordscan.PythonScanner(_lookup)]
    if wordscan.compiled_available():
        scanners.append(wordscan.scanner(_lookup, compiled=True))
    return scanners


def _spans(scanned: wordscan.Scan, text: str) -> list[tuple[int, int]]:
    spans = scanned[3]
    if isinstance(spans, list):  # the Python scanner: the words as written
        tokens = tokenize(text)
        assert spans == [text[start:end] for _, start, end in tokens]
        return [(start, end) for _, start, end in tokens]
    offsets = array("i")
    offsets.frombytes(spans)
    return list(zip(offsets[::2], offsets[1::2], strict=True))


def _expected(text: str, base: int = 0) -> tuple[list[str], list[int], list[object]]:
    words = [w for w, _, _ in tokenize(text)]
    positions = [base + i for i, w in enumerate(words) if _lookup(w) is not None]
    return words, positions, [_lookup(words[p - base]) for p in positions]


TEXTS = [
    "Mine-clearance: the MINE’s déminage goes on; UNICEF said ½ of them were ﬁt.",
    "«Разминирование» — продолжается… ДЕТИ’s № 5, дети_и_взрослые",
    "Azərbaycan: MİNATƏMİZLƏMƏ İşləri ² ³ ª µ minatemizleme",
    "Les enfants—déplacés ? l’enfant, des ENFANTS",
    "mixed\u00a0no-break\u2009thin space\u3000ideographic, emoji 🙂 mine 🙂mine🙂",
    "combining: de\u0301minage e\u0301 and CJK 地雷 清除 and Hangul 지뢰",
    "a_b mine_clearance __mine__ 3.5°C 1,000 mines",
    "",
    "   ",
    "mine",
]


@pytest.mark.parametrize("text", TEXTS)
def test_scanners_give_tokenize_words_and_anchor_positions(text: str) -> None:
    for scanner in _scanners():
        for base in (0, 7):
            folded, positions, entries, _ = scanned = scanner.scan(text, base)
            assert (folded, positions, entries) == _expected(text, base), type(scanner)
            assert _spans(scanned, text) == [(s, e) for _, s, e in tokenize(text)]


def test_compiled_modules_are_built() -> None:
    """``make install`` builds the C scanner and scoring; the pure-Python ones are fallbacks."""
    if os.environ.get("NEWSMON_ALLOW_PURE_PYTHON_CLASSIFIER"):
        pytest.skip("NEWSMON_ALLOW_PURE_PYTHON_CLASSIFIER is set")
    assert wordscan.compiled_available(), "pipeline/core/_wordscan.c was not built"
    assert type(wordscan.scanner(_lookup)).__name__ == "Scanner"
    from pipeline.core import _scoring  # noqa: F401  (pipeline/core/_scoring.c, built alike)


def test_pure_python_scan_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSMON_PURE_PYTHON_CLASSIFIER", "1")
    assert isinstance(wordscan.scanner(_lookup), wordscan.PythonScanner)


def test_each_distinct_word_is_worked_out_once() -> None:
    """Repeated texts cost no more calls: the compiled scanner folds and looks up each word as
    written once, the Python one looks up each folded word once."""
    calls: list[str] = []

    def lookup(word: str) -> object:
        calls.append(word)
        return None

    python = wordscan.PythonScanner(lookup)
    for _ in range(3):
        python.scan("Mine mine MINE clearance")
    assert calls == ["mine", "clearance"] and len(python) == 2
    if not wordscan.compiled_available():
        return
    calls.clear()
    folds: list[str] = []
    compiled = wordscan._CompiledScanner(lambda w: folds.append(w) or fold(w), lookup, 10)
    for _ in range(3):
        compiled.scan("Mine mine MINE clearance")
    assert folds == ["Mine", "mine", "MINE", "clearance"]
    assert calls == ["mine", "mine", "mine", "clearance"] and len(compiled) == 4
    compiled.clear()
    assert len(compiled) == 0
    compiled.scan("mine")
    assert folds[-1] == "mine"


def test_the_table_starts_afresh_at_its_limit_and_answers_stay_right() -> None:
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    scanner = wordscan._CompiledScanner(fold, _lookup, 50)
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(400)] + sorted(ANCHORS)
    for _ in range(30):
        text = " ".join(rng.choice(vocabulary) for _ in range(200))
        assert scanner.scan(text)[:3] == _expected(text)
        assert len(scanner) <= 50


def test_errors_in_callbacks_reach_the_caller() -> None:
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")

    def broken(word: str) -> object:
        raise RuntimeError(f"no entry for {word}")

    scanner = wordscan._CompiledScanner(fold, broken, 10)
    with pytest.raises(RuntimeError, match="no entry for mine"):
        scanner.scan("mine")
    with pytest.raises(TypeError):
        wordscan._CompiledScanner(lambda w: 3, _lookup, 10).scan("mine")
    with pytest.raises(TypeError):
        scanner.scan(b"mine")  # type: ignore[arg-type]


def test_scanners_agree_on_every_corpus_entry() -> None:
    """Titles and summaries of every feed in both corpora (thousands of texts, many scripts)."""
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    python, compiled = wordscan.PythonScanner(_lookup), wordscan.scanner(_lookup, compiled=True)
    texts = 0
    for path in corpus_files():
        try:
            feed = parse_feed(path.read_bytes(), source=path.name)
        except Exception:  # ill-formed on purpose: the parser tests cover those
            continue
        for article in feed.articles:
            for raw in (article.title, article.summary):
                text = matching_text(raw or "")
                a, b = python.scan(text, 3), compiled.scan(text, 3)
                assert a[:3] == b[:3], text[:80]
                assert _spans(a, text) == _spans(b, text), text[:80]
                texts += 1
    assert texts > 2000


def test_scanners_agree_on_random_unicode() -> None:
    """Random strings over letters, digits, marks, punctuation and spaces of many scripts."""
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    rng = random.Random(11)
    alphabet = (
        "aZ09_-'’ \t\n.,;«»—…"
        "éèñçİıƏəŞşĞğ"
        "абвгдеёжийЇїЄєҐґ"
        "\u0301\u0308\u0306"  # combining marks
        "\u00a0\u2009\u3000"
        "地雷지뢰½²ﬁ🙂\U00010400"
    )
    python, compiled = wordscan.PythonScanner(_lookup), wordscan.scanner(_lookup, compiled=True)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        a, b = python.scan(text), compiled.scan(text)
        assert a[:3] == b[:3], repr(text)
        assert _spans(a, text) == _spans(b, text), repr(text)


def test_find_phrases_compiled_and_python_agree_on_random_phrase_sets() -> None:
    """Random phrase tables (exact words, prefixes, alternatives, anchors anywhere) over random
    texts from a small vocabulary, title boundary included: the same spans, in the same order."""
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    from pipeline.core.classify import _Phrases
    from pipeline.core.rules import compile_phrase

    rng = random.Random(17)
    vocabulary = ["mine", "mines", "clear", "clearance", "child", "children", "the", "of", "a"]
    for _ in range(40):
        phrases = _Phrases()
        for _ in range(rng.randint(1, 25)):
            words = []
            for _ in range(rng.randint(1, 4)):
                word = rng.choice(vocabulary)
                if rng.random() < 0.2 and len(word) >= 4:
                    word = word[:3] + "*"
                elif rng.random() < 0.2:
                    word = f"{word}|{rng.choice(vocabulary)}"
                words.append(word)
            phrases.add(compile_phrase(" ".join(words)))
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 60)))
        words, positions, entries, _ = phrases.scanner.scan(text)
        title_words = rng.randint(0, len(words))
        compiled = wordscan.find_phrases_for(phrases.scanner)(
            words, positions, entries, title_words
        )
        python = wordscan.python_find_phrases(words, positions, entries, title_words)
        assert compiled == python
        assert list(compiled) == list(python)


def test_find_phrases_refuses_malformed_input() -> None:
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    find = wordscan._compiled_find_phrases
    with pytest.raises(TypeError):
        find(("mine",), [], [], 0)
    with pytest.raises(ValueError):
        find(["mine"], [0], [], 0)
    with pytest.raises(ValueError):
        find(["mine"], [5], [((), (), ())], 0)
    with pytest.raises(TypeError):
        find(["mine"], [0], [("not", "an", "entry", "at all")], 0)
    with pytest.raises(TypeError):
        find([b"mine"], [0], [((), (), ())], 0)
    with pytest.raises(TypeError):
        find(["mine"], [0], [((), "not a tuple", ())], 0)
    with pytest.raises(TypeError):
        find(["mine"], [0], [((), ((0,),), ())], 0)  # a group without its table
    with pytest.raises(TypeError):
        find(["mine", "field"], [0], [((), (), ((1, {}, "not lengths"),))], 0)
    assert find(["mine", "field"], [0], [((), ((5, {}),), ())], 0) == {}  # offset past the end
    assert find(["mine"], [0], [(((7, 0, 1, ()),), (), ())], 0) == {7: [(0, 0)]}


def test_long_words_and_one_word_in_texts_of_every_width() -> None:
    """A word is remembered as written: the same word met in an ASCII text, a text with Cyrillic
    (two bytes a character) and one with an emoji (four) is the same word, and words too long
    to keep inside the table (over 24 bytes) are compared in full."""
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    python, compiled = wordscan.PythonScanner(_lookup), wordscan.scanner(_lookup, compiled=True)
    long_words = [
        "mine" * 8,
        "mine" * 8 + "s",
        "Разминирование" * 3,
        "Разминирование" * 3 + "х",
        "𐐀" * 9,
    ]
    rng = random.Random(5)
    for _ in range(300):
        words = [rng.choice(long_words + sorted(ANCHORS) + ["mine", "x" * 25, "x" * 26])]
        words += rng.choices(long_words + ["plain", "дети", "🙂", "clearance"], k=6)
        text = " ".join(words)
        a, b = python.scan(text), compiled.scan(text)
        assert a[:3] == b[:3], text
        assert _spans(a, text) == _spans(b, text)


def test_one_scanner_shared_by_threads_stays_right() -> None:
    """Threads scanning with one compiled scanner, whose fold lets other threads run mid-scan and
    whose small table is emptied again and again, still get every answer right."""
    if not wordscan.compiled_available():
        pytest.skip("compiled scanner not built")
    import threading
    import time

    def slow_fold(word: str) -> str:
        time.sleep(0)  # hand the interpreter to another thread
        return fold(word)

    scanner = wordscan._CompiledScanner(slow_fold, _lookup, 40)
    vocabulary = [f"Word{i}" for i in range(300)] + sorted(ANCHORS) + ["MINE", "Дети"]
    errors: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(150):
            text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 40)))
            if scanner.scan(text)[:3] != _expected(text):
                errors.append(text)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(scanner) <= 40
