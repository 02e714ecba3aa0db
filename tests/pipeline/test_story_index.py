"""The story index on a real Redis: exact and near copies join a story, look-alikes do not."""

from __future__ import annotations

import time

from pipeline.core.identity import new_article
from pipeline.core.models import Article
from pipeline.store import Store

# Team-written texts.
LEAD = (
    "Deminers of the national mine action agency cleared 120 hectares of farmland near "
    "Aghdam this week and destroyed 48 anti-tank mines, the agency said on Tuesday, adding "
    "that families will be able to return to the villages before the spring sowing."
)
WEEK = 86400 * 7


def article(source: str, url: str, title: str, summary: str) -> Article:
    return new_article(source, url, title, summary, guid=url, language="en", fetched_at=time.time())


def assign(store: Store, *articles: Article) -> list:
    return store.stories.assign(list(articles), time.time(), WEEK, 16)


def test_exact_and_near_copies_join_the_first_story(store: Store) -> None:
    original = article("trend-en", "https://trend.test/a/1", "Farmland cleared near Aghdam", LEAD)
    [first] = assign(store, original)
    assert first.how == "new"

    same_url = article(
        "trend-en", "https://trend.test/a/1?utm_source=rss", "Farmland cleared", LEAD
    )
    menafn = article(
        "menafn-az",
        "https://menafn.test/1101",
        "Farmland cleared near Aghdam",
        "(MENAFN- Trend News Agency) BAKU, Azerbaijan, March 4. " + LEAD + " Follow us on Twitter.",
    )
    teaser = article("news-az", "https://news.test/9", "", LEAD[:120] + " …")
    results = assign(store, same_url, menafn, teaser)
    assert [r.how for r in results] == ["same_article", "near", "near"]
    assert {r.story_id for r in results} == {first.story_id}


def test_look_alike_template_report_is_a_new_story(store: Store) -> None:
    [first] = assign(store, article("a", "https://a.test/1", "Weekly clearance", LEAD))
    other_week = LEAD.replace("120", "95").replace("48", "31").replace("Tuesday", "Friday")
    [second] = assign(store, article("a", "https://a.test/2", "Weekly clearance", other_week))
    assert second.how == "new" and second.story_id != first.story_id


def test_redelivered_batch_keeps_its_stories(store: Store) -> None:
    batch = [
        article("a", "https://a.test/1", "Farmland cleared", LEAD),
        article("b", "https://b.test/7", "Farmland cleared near Aghdam", "By Azernews " + LEAD),
    ]
    first = assign(store, *batch)
    assert [r.how for r in first] == ["new", "near"]
    again = assign(store, *batch)
    assert [r.how for r in again] == ["same_article", "same_article"]
    assert [r.story_id for r in again] == [r.story_id for r in first]


def test_copies_within_one_batch(store: Store) -> None:
    results = assign(
        store,
        *[
            article(
                f"feed{i}",
                f"https://site{i}.test/story",
                "Farmland cleared near Aghdam",
                f"(MENAFN- Feed {i}) " + LEAD,
            )
            for i in range(20)
        ],
    )
    assert results[0].how == "new"
    assert {r.how for r in results[1:]} == {"near"}
    assert {r.story_id for r in results} == {results[0].story_id}
