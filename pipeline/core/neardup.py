"""Near-duplicate fingerprints: one story carried by several feeds, look-alikes kept apart.

A wire story reaches many outlets with small edits: an agency prefix ("(MENAFN- Trend News
Agency)", "By Azernews"), a new or dropped dateline ("BAKU, Azerbaijan, January 11.",
"TBILISI/BAKU —", "LONDON (Reuters) -", "CNN —"), appended boilerplate ("Follow us on …",
"The post … appeared first on …"), a truncated teaser ("…", "[...]"), a changed headline, or
machine rewording. Template reports (weekly mine-clearance figures, daily forecasts, GDACS alerts)
look alike but are different news. So the decision has two parts:

1. **Text overlap.** Word 3-shingles of the cleaned title and lede (numbers masked, so a template
   matches its own text) are compared by *containment*: the share of the smaller text found in the
   larger one, so a teaser counts as a copy of the full text. Each article keeps a bottom-k
   sketch of its shingle hashes (``SKETCH_SIZE`` 16-bit values, coordinated sampling), which
   estimates containment and the number of shared shingles between two stored fingerprints.
2. **Look-alike guard.** The specifics of each text (dates and weekdays, figures, capitalised
   names) are compared class by class. A *conflict* is when each side has a specific of a class
   the other lacks: "69 mines" vs "68 mines", "March 13" vs "March 27", "Orange" vs "Green".
   Adding detail is not a conflict (a teaser lacks the later figures); replacing it is.
   Conflicting dates always mean different stories; conflicting figures or names are overruled
   only by a long shared passage (a write-through that updates a toll, a reworded wire copy),
   and figures never when the wording is otherwise identical (a template filled in again).

Candidates come from locality-sensitive hashing: ``Fingerprint.bands`` are the keys of the
``BAND_COUNT`` content words with the smallest hashes (a bottom-k MinHash over words, one row per
band), so two texts sharing most of their vocabulary almost surely share a key even when reworded.
The shell indexes an article under each band key and verifies every candidate with
``same_story``; band keys are candidates only, never a decision.

Everything here is pure and deterministic (blake2b, no Python ``hash``), so fingerprints computed
by different processes agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.core.text import fold

#: Bands (index keys) per article: bottom-k content words.
BAND_COUNT = 8
#: Shingle hashes kept per article (16 bits each) to verify candidates.
SKETCH_SIZE = 40
#: Specifics kept per class (16-bit hashes); long texts keep the first ones.
MAX_SPECIFICS = 12
#: Words of the summary considered (the lede; full-text feeds are cut here).
MAX_SUMMARY_WORDS = 160
SHINGLE = 3

#: Text overlap needed for one story: share of the smaller text's shingles found in the larger.
MIN_CONTAINMENT = 0.18
#: Fewest shared shingles for one story (below, only identical short texts match).
MIN_SHARED = 4
#: Shared shingles that overrule a conflicting name (a reworded copy renames things).
NAME_CONFLICT_SHARED = 12
#: Shared shingles that overrule a conflicting figure (a write-through updating a toll).
NUMBER_CONFLICT_SHARED = 20
#: Containment at which texts differing in figures are one template filled in twice (weekly
#: figures, daily bulletins): a copy carries its source's figures, so word-for-word sameness
#: with other figures means another report, however long the text.
TEMPLATE_CONTAINMENT = 0.95

_HASH_SPACE = 1 << 16
_FORMAT = 1

# --- cleaning -------------------------------------------------------------------------------------

# "(MENAFN- Trend News Agency)", "(Reuters)", "(AP)", "(CNN)", "(VOVWORLD)", "/Trend/".
_CREDIT = re.compile(
    r"\((?:MENAFN\s*-[^)]*|[A-Z][A-Za-z]{1,9}|[A-Z]{2,10}/[A-Z]{2,10})\)"
    r"|(?<=\s)/[A-Z][\w.]{1,12}/"
)
# "By Azernews By Laman Ismayilova ...": one or two capitalised words after "By".
_BYLINE = re.compile(r"^By(?:\s+(?!By\b)[A-Z][\w.\-]*){1,2}\s+")
# "BAKU, Azerbaijan, January 11." / "KALBAJAR, Azerbaijan, December 15."
_DATELINE_DATE = re.compile(
    r"^[A-Z][\w/.\- ]{1,40}(?:,\s*[A-Z][\w ]{1,30})?,\s*[A-Z][a-z]+\.?\s+\d{1,2}\.\s+"
)
# "TBILISI/BAKU —", "AMASRA, Turkey —", "UNITED NATIONS:", "NEW YORK, 26 July 2010 -",
# "CNN —", "Kyiv, Ukraine CNN —", "23-4-2024 (GENEVA)", "PanARMENIAN.Net -" (checked by
# ``_looks_like_dateline``: every word capitalised, a number or a month).
_DATELINE = re.compile(r"^([^\n.!?;\"“”]{1,60}?)\s*(?:—|–|-|:)\s+")
_DATED_PLACE = re.compile(r"^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\s*\(([A-Z][\w ]{1,30})\)\s*")
_TAIL = re.compile(
    r"\s*(?:Follow us on|Read more|Read the full|Continue reading|Source link|Click here to|"
    r"The post .{0,300}? appeared first on|Leia mais|Lire la suite|Leer más|Читайте также|"
    r"Подробнее|Hence then, the article).*$",
    re.S | re.I,
)
_TRUNCATION = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|…|\.\.\.)\s*$")
# A site name after the headline: "… — Вікіпедія", "… | News".
_TITLE_SITE = re.compile(r"\s+(?:\||—|–)\s+[^|—–]{1,40}$")
_WORD = re.compile(r"[^\W_]+")


def _looks_like_dateline(segment: str) -> bool:
    words = _WORD.findall(segment)
    if not words or len(words) > 7:
        return False
    return all(w[0].isupper() or w.isdigit() or _month(fold(w)) for w in words)


def clean_summary(text: str) -> str:
    """The lede without agency credits, bylines, datelines, trailing boilerplate or ellipsis."""
    text = _CREDIT.sub(" ", text).lstrip(" :-–—")
    for _ in range(4):
        match = (
            _BYLINE.match(text)
            or _DATELINE_DATE.match(text)
            or _DATED_PLACE.match(text)
            or _dateline_match(text)
        )
        if not match:
            break
        text = text[match.end() :]
    text = _TAIL.sub("", text)
    return _drop_truncation(text).strip()


def _drop_truncation(text: str) -> str:
    """Remove a truncation mark and the word before it, which may be cut short ("31 …" of
    "310"): a cut word would otherwise look like a conflicting figure or name."""
    match = _TRUNCATION.search(text)
    if not match:
        return text
    return re.sub(r"\S+$", "", text[: match.start()]).rstrip()


def _dateline_match(text: str) -> re.Match[str] | None:
    match = _DATELINE.match(text)
    if match and _looks_like_dateline(match.group(1)):
        return match
    return None


def clean_title(text: str) -> str:
    text = _CREDIT.sub(" ", text).strip()
    return _TRUNCATION.sub("", _TITLE_SITE.sub("", text)).strip()


# --- specifics: dates, figures, names ------------------------------------------------------------

_MONTH_STEMS = {
    1: "jan janv enero janeiro январ січ січн yanvar ocak",
    2: "feb fev fevr febrero fevereiro феврал лют fevral subat",
    3: "mar mars marzo marco март берез mart",
    4: "apr avr avril abril апрел квіт aprel nisan",
    5: "may mai mayo maio мая май трав",
    6: "jun juin junio junho июн черв iyun haziran",
    7: "jul juil julio julho июл лип iyul temmuz",
    8: "aug aout agosto август серп avqust agustos",
    9: "sep sept septembre septiembre setembro сентябр верес sentyabr eylul",
    10: "oct octobre octubre outubro октябр жовт oktyabr ekim",
    11: "nov novembre noviembre novembro ноябр листопад noyabr kasim",
    12: "dec decembre diciembre dezembro декабр груд dekabr aralik",
}
_STEMS_BY_PREFIX: dict[str, list[tuple[str, int]]] = {}
for _month_number, _stems in _MONTH_STEMS.items():
    for _stem in _stems.split():
        _STEMS_BY_PREFIX.setdefault(_stem[:3], []).append((_stem, _month_number))
for _candidates in _STEMS_BY_PREFIX.values():
    _candidates.sort(key=lambda item: -len(item[0]))
_EXACT_MONTHS = {"may", "mai", "mar", "jun", "jul"}
_WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday lundi mardi mercredi jeudi "
    "vendredi samedi dimanche lunes martes miercoles jueves viernes sabado domingo "
    "понедельник вторник среду среда четверг пятницу пятница субботу суббота воскресенье "
    "понеділок вівторок середу четвер пятницю суботу неділю".split()
)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
# Clock times are not figures of the story ("6 p.m.", "12:24", "19h22").
_TIME = re.compile(r"\b\d{1,2}(?:[:h]\d{2})\b|\b\d{1,2}\s*[ap]\.?m\b\.?", re.I)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{2,4})\b")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_SENTENCE_BREAK = re.compile(r"(?:[.!?:;\"“”‘«»(\[]|\s[-–—]|^)\s*$")


@lru_cache(maxsize=16384)
def _month(word: str) -> int:
    """The month a folded word names (1-12), or 0: "march", "dec", "декабря", "sentyabrın"."""
    candidates = _STEMS_BY_PREFIX.get(word[:3]) if len(word) >= 3 else None
    if not candidates:
        return 0
    if len(word) == 3 and word not in _EXACT_MONTHS and word not in _ABBREVIATIONS:
        return 0
    for stem, month in candidates:
        if word.startswith(stem) and len(word) <= len(stem) + 5:
            # A three-letter stem names a month only as itself or its English long form
            # ("mar", "march"), not inside "marathon" or "market".
            if len(stem) == 3 and len(word) > 4 and word not in _LONG_FORMS:
                continue
            return month
    return 0


_ABBREVIATIONS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())
_LONG_FORMS = frozenset(
    "january february march april june july august september october november december sept".split()
)


@dataclass(frozen=True, slots=True)
class Specifics:
    """What makes a report this report: its dates, figures and names (folded strings)."""

    dates: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]


def specifics(title: str, summary: str, raw_summary: str = "") -> Specifics:
    """Dates (with weekdays), figures and capitalised names of a cleaned title and summary.

    Dates are read from ``raw_summary`` too (the dateline is where a wire report's date lives).
    Names from a Title Case or upper-case headline are skipped: there capitals mean nothing.
    """
    dates: set[str] = set()
    numbers: set[str] = set()
    names: set[str] = set()
    for text in (title, raw_summary or summary):
        dates |= _dates(text)
    for text, with_names in ((title, not _title_case(title)), (summary, True)):
        _figures_and_names(text, with_names, numbers, names)
    return Specifics(frozenset(dates), frozenset(numbers), frozenset(names))


def _dates(text: str) -> set[str]:
    found: set[str] = set()
    for match in _NUMERIC_DATE.finditer(text):
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.add(f"{month}-{day}")
    tokens = _TOKEN.findall(_NUMERIC_DATE.sub(" ", text))
    for i, token in enumerate(tokens):
        word = fold(token)
        if word in _WEEKDAYS:
            found.add(word)
            continue
        month = _month(word) if not token[0].isdigit() else 0
        if not month:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(tokens) and tokens[j].isdigit() and 1 <= int(tokens[j]) <= 31:
                found.add(f"{month}-{int(tokens[j])}")
                break
    return found


def _title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3 and not w.isdigit()]
    if not words:
        return False
    capitals = sum(1 for w in words if w[0].isupper())
    return capitals * 2 > len(words) or any(w.isupper() and len(w) > 5 for w in words)


def _figures_and_names(text: str, with_names: bool, numbers: set[str], names: set[str]) -> None:
    text = _TIME.sub(" ", _NUMERIC_DATE.sub(" ", text))
    tokens = list(_TOKEN.finditer(text))
    for i, match in enumerate(tokens):
        token = match.group()
        if token[0].isdigit():
            neighbours = (tokens[i - 1].group() if i else "", _next(tokens, i))
            if any(_month(fold(n)) for n in neighbours if n and not n[0].isdigit()):
                continue  # the day of a date: counted with the dates
            numbers.add(token.replace(",", "").replace(".", ""))
            continue
        word = fold(token)
        if word in _NUMBER_WORDS:
            numbers.add(_NUMBER_WORDS[word])
        elif (
            with_names
            and len(token) > 1
            and token[0].isupper()
            and not _month(word)
            and word not in _WEEKDAYS
            and not _SENTENCE_BREAK.search(text[max(0, match.start() - 3) : match.start()])
        ):
            names.add(word)


def _next(tokens: list[re.Match[str]], i: int) -> str:
    return tokens[i + 1].group() if i + 1 < len(tokens) else ""


# --- shingles and hashes -------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but as is are was were be been being has
    have had it its this that these those which who whom whose what when where while than then
    there their they them he she his her we our you your not no so if into about over after
    before also more most such can could would should will may might do does did said says say
    le la les un une des du de et ou en au aux est sont pour par sur dans que qui il elle
    el los las del y o por para con se que su sus es al lo
    o os as um uma do da dos das e em no na nos nas para com que
    и в во на с со по к о об от до из за для что как это не а но его ее их же
    і в у на з із до від що як це не та але та й
    və ki bu da də ilə üçün olan""".split()
)


def _words(text: str, limit: int) -> list[str]:
    out = []
    for match in _TOKEN.finditer(text):
        token = fold(match.group())
        out.append("0" if token[0].isdigit() else token)
        if len(out) >= limit:
            break
    return out


def _shingles(words: list[str]) -> set[str]:
    if not words:
        return set()
    if len(words) < SHINGLE:
        return {" ".join(words)}
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


# --- fingerprints --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the dedupe window keeps per article (see ``fingerprint_to_json``)."""

    #: LSH keys to index the article under and to look candidates up by (short hex strings).
    bands: tuple[str, ...]
    #: Bottom-k shingle hashes (16-bit, ascending): estimates containment between two texts.
    sketch: tuple[int, ...]
    #: Distinct shingles in the text (the sketch holds all of them when size <= SKETCH_SIZE).
    size: int
    #: 16-bit hashes of the specifics, per class.
    dates: frozenset[int]
    numbers: frozenset[int]
    names: frozenset[int]


def fingerprint(title: str, summary: str, language: str = "") -> Fingerprint:
    """Fingerprint of an article's title and summary (plain text). ``language`` is advisory."""
    del language  # the cleaning rules and stopwords cover the languages together
    raw_summary = _CREDIT.sub(" ", summary or "")
    title = clean_title(title or "")
    summary = clean_summary(summary or "")
    title_words = _words(title, 40)
    summary_words = _words(summary, MAX_SUMMARY_WORDS)
    shingle_hashes = {_hash64(s) >> 48 for s in _shingles(title_words) | _shingles(summary_words)}
    sketch = tuple(sorted(shingle_hashes)[:SKETCH_SIZE])

    content = {w for w in title_words + summary_words if w not in _STOPWORDS and len(w) > 2}
    content.discard("0")
    ranked = sorted((_hash64("w:" + w), w) for w in content)[:BAND_COUNT]
    bands = tuple(f"{h >> 24:010x}" for h, _ in ranked)

    found = specifics(title, summary, raw_summary)
    return Fingerprint(
        bands=bands,
        sketch=sketch,
        size=len(shingle_hashes),
        dates=_hashed(found.dates),
        numbers=_hashed(found.numbers),
        names=_hashed(found.names),
    )


def _hashed(values: frozenset[str]) -> frozenset[int]:
    return frozenset(sorted(_hash64(v) >> 48 for v in values)[:MAX_SPECIFICS])


@dataclass(frozen=True, slots=True)
class Comparison:
    """Why two fingerprints are or are not one story (for explanations and evaluation)."""

    containment: float
    shared: float
    date_conflict: bool
    number_conflict: bool
    name_conflict: bool
    same_story: bool
    reason: str


def compare(a: Fingerprint, b: Fingerprint) -> Comparison:
    containment, shared = _overlap(a, b)
    dates = _conflict(a.dates, b.dates)
    numbers = _conflict(a.numbers, b.numbers)
    names = _conflict(a.names, b.names)
    if shared < MIN_SHARED or containment < MIN_CONTAINMENT:
        verdict, reason = False, "little shared text"
    elif dates:
        verdict, reason = False, "different dates"
    elif numbers and (shared < NUMBER_CONFLICT_SHARED or containment >= TEMPLATE_CONTAINMENT):
        verdict, reason = False, "different figures"
    elif names and shared < NAME_CONFLICT_SHARED:
        verdict, reason = False, "different names"
    else:
        verdict, reason = True, "shared text"
    return Comparison(containment, shared, dates, numbers, names, verdict, reason)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether b is a copy of a's story (verification after an LSH candidate hit)."""
    return compare(a, b).same_story


def _conflict(a: frozenset[int], b: frozenset[int]) -> bool:
    """Each side has a specific of this class that the other lacks: one replaced the other."""
    return bool(a - b) and bool(b - a)


def _overlap(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """Containment of the smaller text in the larger, and the estimated shared shingle count.

    Coordinated sampling: below the smaller of the two sketches' cut-offs, each sketch holds
    every shingle hash of its text, so the two samples are comparable.
    """
    if not a.sketch or not b.sketch:
        return 0.0, 0.0
    cut = min(_cutoff(a), _cutoff(b))
    sample_a = {h for h in a.sketch if h <= cut}
    sample_b = {h for h in b.sketch if h <= cut}
    small, small_size = (sample_a, a.size) if a.size <= b.size else (sample_b, b.size)
    if not small:
        return 0.0, 0.0
    containment = len(sample_a & sample_b) / len(small)
    return containment, containment * small_size


def _cutoff(fp: Fingerprint) -> int:
    return fp.sketch[-1] if fp.size > len(fp.sketch) else _HASH_SPACE - 1


# --- compact stored form -------------------------------------------------------------------------


def _pack(values: tuple[int, ...] | frozenset[int]) -> str:
    raw = b"".join(v.to_bytes(2, "big") for v in sorted(values))
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unpack(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if len(raw) % 2:
        raise ValueError("packed values have an odd length")
    return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


def fingerprint_to_json(fp: Fingerprint) -> str:
    """Compact JSON (about 100-200 bytes): 16-bit values packed big-endian in base64.

    The band keys are not stored: they are the index, not the verification data.
    """
    data: dict[str, object] = {"v": _FORMAT, "n": fp.size, "s": _pack(fp.sketch)}
    for key, values in (("d", fp.dates), ("f", fp.numbers), ("c", fp.names)):
        if values:
            data[key] = _pack(values)
    return json.dumps(data, separators=(",", ":"))


def fingerprint_from_json(text: str, bands: tuple[str, ...] = ()) -> Fingerprint:
    """Read ``fingerprint_to_json`` output; raises ValueError on anything else."""
    try:
        data = json.loads(text)
        if data.get("v") != _FORMAT:
            raise ValueError(f"unknown fingerprint format {data.get('v')!r}")
        return Fingerprint(
            bands=tuple(bands),
            sketch=_unpack(data.get("s", "")),
            size=int(data["n"]),
            dates=frozenset(_unpack(data.get("d", ""))),
            numbers=frozenset(_unpack(data.get("f", ""))),
            names=frozenset(_unpack(data.get("c", ""))),
        )
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a stored fingerprint: {exc}") from exc
