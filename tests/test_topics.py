"""Tests for content.topics: taxonomy scoring, tag handling, slugs and keyword matching."""

from __future__ import annotations

import time

import pytest

from content.models import Article
from content.parsing import parse_file
from content.topics import TOPICS, derive_topics, keyword_matches, normalise_topic, topic_scores
from tests.support.articles import FIXTURES, SGT, make_article


def fixture(name: str) -> Article:
    """A parsed fixture article."""
    return parse_file(FIXTURES / name, default_tz=SGT)


def article(
    title: str, body: str = "", *, standfirst: str | None = None, tags: tuple[str, ...] = ()
) -> Article:
    """A one-paragraph article."""
    return make_article("x", title=title, body=body, standfirst=standfirst, tags=tags)


# --- taxonomy --------------------------------------------------------------------------------


def test_taxonomy_shape() -> None:
    assert 15 <= len(TOPICS) <= 20
    for slug, keywords in TOPICS.items():
        assert slug == normalise_topic(slug)
        assert keywords
        assert all(keyword and keyword == keyword.strip().lower() for keyword in keywords)
    for expected in ("singapore", "world", "crime-courts", "transport", "food", "war-conflict"):
        assert expected in TOPICS


def test_sample_is_world_and_war() -> None:
    topics = derive_topics(fixture("ukraine-tells-russian-mothers-to-pick-up-captured-sons.txt"))
    assert set(topics) == {"world", "war-conflict"}


def test_s01_is_crime_courts_in_singapore() -> None:
    topics = derive_topics(fixture("s01.txt"))
    assert topics[0] == "crime-courts"
    assert "singapore" in topics
    assert len(topics) <= 3


def test_s02_is_food() -> None:
    topics = derive_topics(fixture("s02.txt"))
    assert topics[0] == "food"
    assert "singapore" in topics
    assert "housing" not in topics


def test_s03_is_transport() -> None:
    assert derive_topics(fixture("s03.txt")) == ("transport",)


def test_markdown_fixture_tags_come_first() -> None:
    topics = derive_topics(fixture("m01.md"))
    assert topics[:2] == ("wildlife", "bishan-park")
    assert "animals" in topics


def test_tags_first_normalised_and_deduplicated() -> None:
    story = article(
        "Hawker centre food fair",
        "Food stalls and hawker meals.",
        tags=("Hawker Centres", "food", "FOOD"),
    )
    topics = derive_topics(story)
    assert topics[:2] == ("hawker-centres", "food")
    assert topics.count("food") == 1


def test_limit_caps_derived_topics_only() -> None:
    story = article(
        "Court fines bus driver after MRT crash near hawker centre in Tampines",
        tags=("breaking",),
    )
    # transport has three title hits; the one-hit topics tie and keep taxonomy order.
    assert derive_topics(story, limit=3) == ("breaking", "transport", "singapore", "crime-courts")
    assert derive_topics(story, limit=1) == ("breaking", "transport")
    assert derive_topics(story, limit=0) == ("breaking",)


def test_single_body_mention_is_not_enough() -> None:
    story = article("Residents gather for annual event", "One person mentioned the weather.")
    assert "weather" not in derive_topics(story)
    assert topic_scores(story)["weather"] == 1.0


def test_title_mention_is_enough() -> None:
    assert "weather" in derive_topics(article("Weather turns wet", "Nothing else here."))


def test_title_weighs_more_than_body() -> None:
    in_title = topic_scores(article("Police arrest man", "He was taken away."))
    in_body = topic_scores(article("Man taken away", "Police arrest him."))
    assert in_title["crime-courts"] == 3 * in_body["crime-courts"]


def test_long_articles_need_more_evidence() -> None:
    filler = " ".join(["word"] * 4000)
    short = topic_scores(article("Story", "The police came. The police left. The police."))
    long = topic_scores(article("Story", f"The police came. The police left. {filler}"))
    assert short["crime-courts"] == 3.0
    assert long["crime-courts"] < 1.0


def test_repeated_keyword_is_capped() -> None:
    story = article("Story", "bus " * 50)
    assert topic_scores(story)["transport"] == 3.0


def test_no_topics_for_unrelated_text() -> None:
    assert derive_topics(article("Lorem ipsum", "Dolor sit amet.")) == ()


def test_deterministic_and_fast() -> None:
    story = fixture("ukraine-tells-russian-mothers-to-pick-up-captured-sons.txt")
    first = derive_topics(story)
    start = time.perf_counter()
    for _ in range(100):
        assert derive_topics(story) == first
    # Well under a millisecond or two each; the bound is loose for slow CI machines.
    assert time.perf_counter() - start < 1.0


# --- normalise_topic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("Hawker Centres", "hawker-centres"),
        ("  #Crime & Courts!  ", "crime-courts"),
        ("war-conflict", "war-conflict"),
        ("Café Culture", "cafe-culture"),
        ("COVID_19", "covid-19"),
        ("---", ""),
        ("", ""),
    ],
)
def test_normalise_topic(raw: str, slug: str) -> None:
    assert normalise_topic(raw) == slug


def test_normalise_topic_is_idempotent_and_bounded() -> None:
    slug = normalise_topic("A very long tag " * 20)
    assert slug == normalise_topic(slug)
    assert len(slug) <= 64
    assert not slug.endswith("-")


# --- keyword_matches -------------------------------------------------------------------------


def matches(keyword: str, body: str, *, title: str = "", standfirst: str | None = None) -> bool:
    """keyword_matches with the body as the main text."""
    return keyword_matches(keyword, title=title, standfirst=standfirst, body=body)


def test_whole_words_only() -> None:
    assert not matches("cat", "A new category of products.")
    assert not matches("cat", "Concatenate strings.")
    assert matches("cat", "The cat sat.")
    assert matches("cat", "cat")
    assert matches("cat", "(cat)")


def test_case_insensitive_and_unicode() -> None:
    assert matches("MRT", "the mrt was late")
    assert matches("café", "A new CAFÉ opened.")
    assert matches("Ünïcödé", "plain ünïcödé text")
    assert not matches("caf", "A new café opened.")
    assert matches("新加坡", "我爱 新加坡 !")


def test_phrases() -> None:
    assert matches("hawker centre", "The new Hawker  Centre opens.")
    assert matches("hawker centre", "The new hawker\ncentre opens.")
    assert not matches("hawker centre", "The hawker and the centre.")
    assert not matches("hawker centre", "hawker centres")


def test_smart_quotes_match_straight() -> None:
    assert matches("putin's", "In contrast to Putin’s fascists.")


def test_checks_title_and_standfirst() -> None:
    assert keyword_matches("otter", title="Otter seen", standfirst=None, body="")
    assert keyword_matches("otter", title="", standfirst="An otter.", body="")
    assert not keyword_matches("otter", title="Cat", standfirst=None, body="Dog")


@pytest.mark.parametrize("keyword", ["c++", "(", "*", "[a-z]+", "a|b", "\\", ".*", "?", ")("])
def test_regex_metacharacters_are_literal(keyword: str) -> None:
    assert not matches(keyword, "Nothing relevant here at all")
    # Must not raise, whatever the text.
    matches(keyword, f"text {keyword} text")


def test_metacharacter_keywords_match_literally() -> None:
    assert matches("c++", "I write C++ daily.")
    assert not matches("c++", "I write C daily.")
    assert matches("a.b", "see a.b now")
    assert not matches("a.b", "see axb now")


def test_blank_keyword_matches_nothing() -> None:
    assert not matches("", "anything")
    assert not matches("   ", "anything")
