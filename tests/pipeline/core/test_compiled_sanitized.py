"""The classifier's compiled modules under AddressSanitizer and UndefinedBehaviorSanitizer.

Both C modules (word scanner, scoring) are built again with ``-fsanitize=address,undefined``
into a temporary directory and a child Python, with the sanitizer runtimes preloaded and the
system allocator (so overruns are seen), runs them against their pure-Python twins: random text
in many scripts, long words, a small table emptied again and again, malformed ``find_phrases``
input, then the whole classifier, compiled against pure Python, on every real-feed entry and
labelled item. Any out-of-bounds read or write, use after free or undefined behaviour aborts
the child with the sanitizer's report, which fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CORE = REPO / "pipeline" / "core"

pytestmark = pytest.mark.slow

CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, random, sys
    from pathlib import Path

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module  # what the classifier imports: the sanitized build
        return module

    compiled = load("pipeline.core._wordscan", sys.argv[1])
    load("pipeline.core._scoring", sys.argv[3])
    from pipeline.config import load_topics
    from pipeline.core import wordscan
    from pipeline.core.classify import Classifier
    from pipeline.core.classify import _Phrases
    from pipeline.core.parse import parse_feed
    from pipeline.core.rules import compile_phrase
    from pipeline.core.text import fold, matching_text

    def lookup(word):
        return (word,) if word in {"mine", "дети", "minatemizleme", "unicef"} else None

    python = wordscan.PythonScanner(lookup)
    small = compiled.Scanner(fold, lookup, 30)
    rng = random.Random(1)
    alphabet = "aZ09_ -’.«»éİıƏəабвгдЇї\\u0301\\u00a0地雷🙂\\U00010400"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    texts += ["mine" * rng.randint(1, 40) + " дети" * rng.randint(0, 9) for _ in range(300)]
    for path in sorted(Path(sys.argv[2]).glob("*.xml")):
        for article in parse_feed(path.read_bytes(), source=path.name).articles:
            texts += [matching_text(article.title or ""), matching_text(article.summary or "")]
    for text in texts:
        assert small.scan(text, 2)[:3] == python.scan(text, 2)[:3], text

    phrases = _Phrases()
    for source in ["mine clear*", "the mine", "mine|mines NEAR", "of the mine*", "дети войны"]:
        phrases.add(compile_phrase(source))
    scan = compiled.Scanner(fold, phrases._anchored, 50)
    for text in texts[:2000]:
        words, positions, entries, _ = scan.scan(text)
        for title_words in (0, len(words) // 2, len(words)):
            a = compiled.find_phrases(words, positions, entries, title_words)
            assert a == wordscan.python_find_phrases(words, positions, entries, title_words)
    for bad in ([((), "x", ())], [((), ((0,),), ())], [("a", "b", "c", "d")], [5]):
        try:
            compiled.find_phrases(["mine"], [0], bad, 0)
        except (TypeError, ValueError, SystemError):
            pass
        else:
            raise AssertionError(bad)

    topics = load_topics(Path(sys.argv[4]))
    fast = Classifier(topics)
    assert fast._score_topic == fast._compiled_score
    os.environ["NEWSMON_PURE_PYTHON_CLASSIFIER"] = "1"
    slow = Classifier(topics)
    items = [(a.title, a.summary) for path in sorted(Path(sys.argv[2]).glob("*.xml"))
             for a in parse_feed(path.read_bytes(), source=path.name).articles]
    for line in Path(sys.argv[5]).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        items.append((item.get("title", ""), item.get("summary", "")))
    dense = "climate change adaptation, UNICEF children, landmines, mine clearance, coal mine"
    items += [("Mine clearance and climate", " ".join([dense] * n)) for n in (5, 40, 200)]
    for title, summary in items:
        a = [r.to_dict() for r in fast.explain(title, summary)]
        assert a == [r.to_dict() for r in slow.explain(title, summary)], title
        assert fast.classify(title, summary) == slow.classify(title, summary), title
    print("clean", len(texts), len(items))
    """
)


def _runtime(name: str) -> str | None:
    found = subprocess.run(
        ["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return found if found and os.path.isabs(found) and os.path.exists(found) else None


def test_compiled_scanner_is_clean_under_sanitizers(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("no gcc: the sanitized build needs the C compiler")
    asan, ubsan = _runtime("libasan.so"), _runtime("libubsan.so")
    if asan is None or ubsan is None:
        pytest.skip("gcc's sanitizer runtimes (libasan, libubsan) are not installed")
    feeds = REPO.parent / "shared" / "corpora" / "real-feeds"
    if not feeds.is_dir():
        pytest.skip(f"{feeds} is absent: the shared corpora are read at test time")
    labelled = REPO.parent / "shared" / "corpora" / "labelled-dev" / "articles.jsonl"
    if not labelled.is_file():
        pytest.skip(f"{labelled} is absent: the shared corpora are read at test time")
    modules = {}
    for name in ("_wordscan", "_scoring"):
        modules[name] = tmp_path / f"{name}{sysconfig.get_config_var('EXT_SUFFIX')}"
        subprocess.run(
            [
                "gcc",
                "-shared",
                "-fPIC",
                "-g",
                "-O1",
                "-fno-omit-frame-pointer",
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=undefined",
                f"-I{sysconfig.get_paths()['include']}",
                str(CORE / f"{name}.c"),
                "-o",
                str(modules[name]),
            ],
            check=True,
            capture_output=True,
        )
    env = dict(
        os.environ,
        LD_PRELOAD=f"{asan}:{ubsan}",
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
        PYTHONMALLOC="malloc",  # Python's own allocator would hide overruns from ASan
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
        PYTHONPATH=str(REPO),
    )
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(modules["_wordscan"]),
            str(feeds),
            str(modules["_scoring"]),
            str(REPO / "config"),
            str(labelled),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-4000:]
    assert child.stdout.startswith("clean")
