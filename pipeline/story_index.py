"""Which story an article belongs to: exact identity first, then near-duplicate fingerprints.

The index lives in day-bucketed, sharded Redis hashes (``pipeline.keys``: ``ids``, ``fp``,
``bands``) that stay small enough for Redis's compact encoding and expire a day after they leave
the dedupe window. One batch costs three pipelined round trips (identities, band candidates,
candidate fingerprints) plus one for the writes, whatever its size.

An article claims one identity, the strongest it has (canonical URL, else feed GUID, else content
hash; see ``pipeline.core.identity``), holding "{article id}{story id}". A claim already held by
the same article means the batch was redelivered: the article keeps its story and nothing is
counted twice. Articles that start a story also store their fingerprint and their band keys;
copies only claim their identity, so a burst of copies costs little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from pipeline import keys
from pipeline.core.identity import exact_keys, short_hash
from pipeline.core.models import Article
from pipeline.core.neardup import (
    Fingerprint,
    fingerprint,
    fingerprint_from_json,
    fingerprint_to_json,
    same_story,
)

# Look fields up in the buckets of every day of the window, newest day first, in one call: the
# Python side of a pipeline costs more per command than Redis does, and a batch asks for
# thousands of fields (bands x days). Returns, per field, the newest value found or false.
_LOOKUP_SCRIPT = """
local prefix, newest, oldest, shards = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV do
  local field = ARGV[i]
  local shard = (tonumber(string.sub(field, 1, 8), 16) or 0) % shards
  local found = false
  for day = newest, oldest, -1 do
    local value = redis.call('HGET', prefix .. day .. ':' .. shard, field)
    if value then found = value; break end
  end
  out[#out + 1] = found
end
return out
"""

# Append a source to each story's lineage unless it is there: the story's entry lives in the
# bucket of the day the story began (found newest day first), or starts in today's bucket.
_LINEAGE_SCRIPT = """
local prefix, newest, oldest, shards, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for i = 6, #ARGV, 3 do
  local story, source, at = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local shard = (tonumber(string.sub(story, 1, 8), 16) or 0) % shards
  local key, value = nil, nil
  for day = newest, oldest, -1 do
    local candidate = prefix .. day .. ':' .. shard
    value = redis.call('HGET', candidate, story)
    if value then key = candidate; break end
  end
  if not value then
    key = prefix .. newest .. ':' .. shard
    value = source .. '@' .. at
    redis.call('HSET', key, story, value)
    redis.call('EXPIRE', key, ttl)
  elseif not string.find(',' .. value, ',' .. source .. '@', 1, true) then
    value = value .. ',' .. source .. '@' .. at
    redis.call('HSET', key, story, value)
  end
  out[#out + 1] = value
end
return out
"""

ID_CHARS = 16
#: Stories kept per band key when matching within one batch (Redis keeps the latest one).
BATCH_CANDIDATES_PER_BAND = 4
DAY = 86400


@dataclass(slots=True)
class Assignment:
    story_id: str
    #: new (starts a story) · exact (same identity as an earlier article) · near (a copy found by
    #: its fingerprint) · same_article (this very article again: same
    #: canonical URL, or a batch that was redelivered)
    how: str

    @property
    def duplicate(self) -> bool:
        return self.how != "new"


def short_id(article_id: str) -> str:
    return article_id[:ID_CHARS]


def _shard(digest: str, shards: int) -> int:
    return int(digest[:8], 16) % shards


def _sources(lineage: str | None) -> list[str]:
    return [item.rsplit("@", 1)[0] for item in lineage.split(",")] if lineage else []


def _window_days(now: float, window: int) -> list[int]:
    today = int(now // DAY)
    return list(range(today - math.ceil(window / DAY), today + 1))


class StoryIndex:
    def __init__(self, client: redis.Redis, window: int, shards: int) -> None:
        self.r = client
        #: The dedupe window in seconds and the shards per day: the index's layout parameters.
        self.window = window
        self.shards = shards
        self._lookup = client.register_script(_LOOKUP_SCRIPT)
        self._lineage = client.register_script(_LINEAGE_SCRIPT)
        self._prefixes = keys.bucket_prefixes()

    def add_sources(
        self, entries: Sequence[tuple[str, str, float]], now: float
    ) -> dict[str, list[str]]:
        """Record (story id, feed id, time) in each story's lineage; returns every story's
        sources, first carrier first."""
        if not entries:
            return {}
        days = _window_days(now, self.window)
        args: list[object] = [
            self._prefixes["lineage"],
            max(days),
            min(days),
            self.shards,
            self.window + DAY,
        ]
        for story_id, source, at in entries:
            args += [story_id, source, int(at)]
        values = self._lineage(args=args)
        return {
            story_id: _sources(value)
            for (story_id, _, _), value in zip(entries, values, strict=True)
        }

    def lineage(self, story_id: str, now: float) -> list[dict[str, object]]:
        """Every source that carried the story, in order, with the time it did (unix seconds)."""
        days = _window_days(now, self.window)
        [value] = self.lookup("lineage", [story_id], days, self.shards)
        if not value:
            return []
        out: list[dict[str, object]] = []
        for item in value.split(","):
            source, _, at = item.rpartition("@")
            out.append({"source": source, "at": int(at)})
        return out

    def sources(self, story_ids: Sequence[str], now: float) -> dict[str, list[str]]:
        days = _window_days(now, self.window)
        values = self.lookup("lineage", list(story_ids), days, self.shards)
        return {
            story_id: _sources(value) for story_id, value in zip(story_ids, values, strict=True)
        }

    def lookup(
        self, kind: str, fields: Sequence[str], days: Sequence[int], shards: int
    ) -> list[str | None]:
        """Newest value of each field across the window's buckets of one kind."""
        if not fields:
            return []
        args = [self._prefixes[kind], max(days), min(days), shards, *fields]
        return [value or None for value in self._lookup(args=args)]

    def assign(
        self,
        articles: Sequence[Article],
        now: float,
        window: int | None = None,
        shards: int | None = None,
    ) -> list[Assignment]:
        window = self.window if window is None else window
        shards = self.shards if shards is None else shards
        today = int(now // DAY)
        days = _window_days(now, window)
        digests = [
            short_hash(exact_keys(a.source, a.canonical_url, a.guid, a.content_hash)[0], size=8)
            for a in articles
        ]
        result: list[Assignment | None] = [None] * len(articles)

        # 1. exact identities
        for i, (article, held) in enumerate(
            zip(articles, self.lookup("ids", digests, days, shards), strict=True)
        ):
            if held:
                own = held[:ID_CHARS] == short_id(article.id)
                result[i] = Assignment(held[ID_CHARS:], "same_article" if own else "exact")

        # 2. near duplicates among the rest: band candidates, then their fingerprints
        pending = [i for i, r in enumerate(result) if r is None]
        prints = {i: fingerprint(articles[i].title, articles[i].summary) for i in pending}
        band_fields = [band for i in pending for band in prints[i].bands]
        band_hits = iter(self.lookup("bands", band_fields, days, shards))
        candidates: dict[int, list[str]] = {}
        for i in pending:
            hits = [next(band_hits) for _ in prints[i].bands]
            candidates[i] = list(dict.fromkeys(h for h in hits if h))
        stored = self._fingerprints({s for c in candidates.values() for s in c}, days, shards)

        # Stories started earlier in this batch, by band: the latest few per band, like Redis.
        batch_bands: dict[str, list[tuple[str, Fingerprint]]] = {}
        for i in pending:
            fp = prints[i]
            story = next(
                (s for s in candidates[i] if s in stored and same_story(fp, stored[s])), None
            )
            if story is None:
                seen: set[str] = set()
                for band in fp.bands:
                    for other_id, other in batch_bands.get(band, ()):
                        if other_id not in seen:
                            seen.add(other_id)
                            if same_story(fp, other):
                                story = other_id
                                break
                    if story is not None:
                        break
            if story is not None:
                result[i] = Assignment(story, "near")
                continue
            story = short_id(articles[i].id)
            result[i] = Assignment(story, "new")
            for band in fp.bands:
                recent = batch_bands.setdefault(band, [])
                recent.insert(0, (story, fp))
                del recent[BATCH_CANDIDATES_PER_BAND:]

        # 3. writes: every first-seen article claims its identity; new stories are indexed
        ttl = window + DAY
        pipe = self.r.pipeline(transaction=False)
        touched: set[str] = set()
        for i, (article, assignment) in enumerate(zip(articles, result, strict=True)):
            assert assignment is not None
            if assignment.how == "same_article":
                continue
            bucket = keys.identity_bucket(today, _shard(digests[i], shards))
            pipe.hsetnx(bucket, digests[i], short_id(article.id) + assignment.story_id)
            touched.add(bucket)
            if assignment.how == "new":
                fp = prints[i]
                fp_bucket = keys.fingerprint_bucket(today, _shard(assignment.story_id, shards))
                pipe.hset(fp_bucket, assignment.story_id, fingerprint_to_json(fp))
                touched.add(fp_bucket)
                for band in fp.bands:
                    band_bucket = keys.band_bucket(today, _shard(band, shards))
                    pipe.hset(band_bucket, band, assignment.story_id)
                    touched.add(band_bucket)
        for key in touched:
            pipe.expire(key, ttl)
        pipe.execute()
        return [a for a in result if a is not None]

    def _fingerprints(
        self, story_ids: set[str], days: list[int], shards: int
    ) -> dict[str, Fingerprint]:
        ordered = sorted(story_ids)
        out = {}
        for story_id, raw in zip(ordered, self.lookup("fp", ordered, days, shards), strict=True):
            if raw:
                try:
                    out[story_id] = fingerprint_from_json(raw)
                except ValueError:
                    continue  # an entry from an older format: it simply matches nothing
        return out
