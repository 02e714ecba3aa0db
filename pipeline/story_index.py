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


class StoryIndex:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def assign(
        self, articles: Sequence[Article], now: float, window: int, shards: int
    ) -> list[Assignment]:
        today = int(now // DAY)
        days = list(range(today - math.ceil(window / DAY), today + 1))
        digests = [
            short_hash(exact_keys(a.source, a.canonical_url, a.guid, a.content_hash)[0], size=8)
            for a in articles
        ]
        result: list[Assignment | None] = [None] * len(articles)

        # 1. exact identities
        pipe = self.r.pipeline(transaction=False)
        for digest in digests:
            for day in days:
                pipe.hget(keys.identity_bucket(day, _shard(digest, shards)), digest)
        found = pipe.execute()
        for i, article in enumerate(articles):
            held = next((v for v in found[i * len(days) : (i + 1) * len(days)] if v), None)
            if held:
                own = held[:ID_CHARS] == short_id(article.id)
                result[i] = Assignment(held[ID_CHARS:], "same_article" if own else "exact")

        # 2. near duplicates among the rest: band candidates, then their fingerprints
        pending = [i for i, r in enumerate(result) if r is None]
        prints = {i: fingerprint(articles[i].title, articles[i].summary) for i in pending}
        pipe = self.r.pipeline(transaction=False)
        for i in pending:
            for band in prints[i].bands:
                for day in days:
                    pipe.hget(keys.band_bucket(day, _shard(band, shards)), band)
        band_hits = iter(pipe.execute())
        candidates: dict[int, list[str]] = {}
        for i in pending:
            hits = [next(band_hits) for _ in range(len(prints[i].bands) * len(days))]
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
        if not story_ids:
            return {}
        ordered = sorted(story_ids)
        pipe = self.r.pipeline(transaction=False)
        for story_id in ordered:
            for day in days:
                pipe.hget(keys.fingerprint_bucket(day, _shard(story_id, shards)), story_id)
        values = pipe.execute()
        out = {}
        for n, story_id in enumerate(ordered):
            raw = next((v for v in values[n * len(days) : (n + 1) * len(days)] if v), None)
            if raw:
                try:
                    out[story_id] = fingerprint_from_json(raw)
                except ValueError:
                    continue  # an entry from an older format: it simply matches nothing
        return out
