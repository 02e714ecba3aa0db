"""Near-duplicate fingerprints. All example sentences here are team-written, not corpus text."""

from __future__ import annotations

import json

from pipeline.core.neardup import (
    BAND_COUNT,
    clean_summary,
    clean_title,
    compare,
    fingerprint,
    fingerprint_from_json,
    fingerprint_to_json,
    same_story,
    specifics,
)

# Team-written story used across the tests.
STORY = (
    "The regional water board opened a new treatment plant in the northern district of Lankaran "
    "on Tuesday, officials said, adding that it will serve forty thousand residents. The plant "
    "replaces a pumping station built in 1974 and was paid for by a loan from the Asian "
    "Development Bank, the board's director Farid Aliyev told reporters at the ceremony."
)
TITLE = "Lankaran opens new water treatment plant"


def _fp(title: str, summary: str):
    return fingerprint(title, summary, "en")


def test_agency_prefix_dateline_and_byline_are_not_part_of_the_text():
    assert clean_summary("(MENAFN- Example News Agency) BAKU, Azerbaijan, March 3. " + STORY) == (
        STORY
    )
    assert clean_summary("By Examplenews By Jane Doe " + STORY) == STORY
    assert clean_summary("TBILISI/BAKU — " + STORY) == STORY
    assert clean_summary("LONDON (Reuters) - " + STORY) == STORY
    assert clean_summary("CNN — " + STORY) == STORY


def test_boilerplate_and_truncation_marks_are_dropped():
    assert clean_summary(STORY + " Follow us on Telegram for more news.") == STORY
    assert clean_summary(STORY + " The post Water plant appeared first on Example Daily.") == STORY
    # The word before a truncation mark may be cut short, so it goes too.
    assert clean_summary("The regional water board opened a new […]") == (
        "The regional water board opened a"
    )
    assert clean_title("Lankaran opens new water treatment plant | News") == TITLE


def test_republication_with_prefix_and_dateline_is_the_same_story():
    original = _fp(TITLE, STORY)
    copy = _fp("", "(MENAFN- Example News Agency) LANKARAN, Azerbaijan, May 6. " + STORY)
    assert same_story(original, copy)
    assert set(original.bands) & set(copy.bands)


def test_truncated_teaser_is_contained_in_the_full_text():
    teaser = STORY.split(". ")[0] + " …"
    full, short = _fp(TITLE, STORY), _fp("", teaser)
    comparison = compare(full, short)
    assert comparison.containment > 0.9
    assert comparison.same_story
    assert same_story(short, full)


def test_weekly_template_with_other_figures_is_a_different_story():
    week1 = (
        "Deminers found 69 anti-personnel mines and 120 unexploded shells in the liberated "
        "districts last week, the mine action agency said in its weekly report."
    )
    week2 = week1.replace("69", "68").replace("120", "131")
    assert not same_story(_fp("", week1), _fp("", week2))
    assert compare(_fp("", week1), _fp("", week2)).reason == "different figures"


def test_same_template_on_another_date_is_a_different_story():
    day1 = (
        "LISBON, May 4. The city council has published its weekly air quality bulletin for "
        "the riverside districts, the environment office reports citing the council."
    )
    day2 = day1.replace("May 4", "May 11")
    comparison = compare(_fp("", day1), _fp("", day2))
    assert not comparison.same_story
    assert comparison.date_conflict


def test_identical_titles_with_another_alert_level_are_different():
    title = "Flood warning for the lower valley"
    orange = _fp(title, "The flood alert level is Orange.")
    green = _fp(title, "The flood alert level is Green.")
    assert not same_story(orange, green)
    assert same_story(orange, _fp(title, "The flood alert level is Orange."))


def test_added_detail_is_not_a_conflict():
    found = specifics("", "Officials said 12 people were hurt on Monday.")
    richer = specifics("", "Officials said 12 people were hurt on Monday, 3 of them badly.")
    assert found.numbers < richer.numbers
    assert found.dates == richer.dates == frozenset({"monday"})


def test_specifics_read_dates_times_and_names():
    found = specifics("", "The mayor, Ana Costa, spoke at 6 p.m. on March 13 about 250 homes.")
    assert "3-13" in found.dates
    assert found.numbers == frozenset({"250"})
    assert {"ana", "costa"} <= found.names
    # Title Case headlines say nothing about names.
    assert specifics("Mayor Opens New Bridge", "").names == frozenset()


def test_unrelated_stories_are_apart():
    other = (
        "A local football club signed two young defenders from the national academy on "
        "Friday, the coach said after the morning training session."
    )
    assert not same_story(_fp(TITLE, STORY), _fp("", other))


def test_stored_form_is_compact_and_round_trips():
    fp = _fp(TITLE, STORY * 3)
    stored = fingerprint_to_json(fp)
    assert len(stored.encode()) <= 250
    assert len(fp.bands) <= BAND_COUNT
    assert all(len(band) <= 12 for band in fp.bands)
    back = fingerprint_from_json(stored, fp.bands)
    assert back == fp
    assert json.loads(stored)["v"] == 1


def test_stored_form_rejects_garbage():
    import pytest

    for bad in ("", "[]", '{"v": 99}', '{"v": 1}', '{"v": 1, "n": 3, "s": "***"}'):
        with pytest.raises(ValueError):
            fingerprint_from_json(bad)


def test_empty_text_matches_nothing():
    empty = _fp("", "")
    assert empty.bands == ()
    assert not same_story(empty, _fp(TITLE, STORY))
    assert not same_story(empty, empty)


def test_fingerprint_is_deterministic():
    assert _fp(TITLE, STORY) == _fp(TITLE, STORY)
