"""The keyword index answers exactly what the per-keyword matcher answers, in one pass."""

from __future__ import annotations

import random

from content.matching import KeywordIndex
from content.topics import keyword_matches
from tests.support.articles import make_article

_WORDS = (
    "bus", "buses", "Bus", "captain", "kyiv", "Kyiv", "hawker", "centre", "centres", "covid",
    "19", "c", "new", "york", "straße", "STRASSE", "café", "cafe\u0301", "o", "level", "a",
    "workers", "party", "s$100", "$100", "100", "#sg", "sg", "_", "x_y", "über", "東京", "2026",
    "it's", "it’s",
)  # fmt: skip
_PUNCTUATED = (
    "covid-19", "c++", "o-level", "workers' party", "s$100", "$100", "++", "#sg", "-19", "it's",
    "#sg party", "++ new",
)  # fmt: skip
_GAPS = (" ", "  ", "\n", "\t", "\u00a0", "-", ", ", ". ", "'", "’", "/", "", "++ ", " (")


def _text(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        parts.append(rng.choice(_WORDS))
        parts.append(rng.choice(_GAPS))
    return "".join(parts)


def _keyword(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(_PUNCTUATED)
    if roll < 0.2:
        return rng.choice(("", "  ", "Bus  Captain", " kyiv ", "NEW\tYORK"))
    count = rng.choice((1, 1, 1, 2, 2, 3))
    return " ".join(rng.choice(_WORDS) for _ in range(count))


def test_same_answers_as_the_per_keyword_matcher_on_random_stories() -> None:
    rng = random.Random(20260701)
    for _ in range(300):
        keywords = [_keyword(rng) for _ in range(rng.randint(1, 40))]
        title = _text(rng, rng.randint(0, 6))
        standfirst = _text(rng, rng.randint(0, 8)) if rng.random() < 0.7 else None
        body = _text(rng, rng.randint(0, 60))
        expected = {
            k for k in keywords if keyword_matches(k, title=title, standfirst=standfirst, body=body)
        }
        got = KeywordIndex(keywords).matches_text(title=title, standfirst=standfirst, body=body)
        assert set(got) == expected, (keywords, title, standfirst, body)
        assert len(got) == len(set(got))


def test_phrases_match_within_one_field_and_across_any_whitespace() -> None:
    index = KeywordIndex(["hawker centre", "Bus Captain", "captain hawker", "covid-19", "c++"])
    found = index.matches_text(
        title="Bus\u00a0captain praised",
        standfirst="A new hawker\n centre",
        body="Captain of COVID-19 tests, c++ fans",
    )
    assert found == ["hawker centre", "Bus Captain", "covid-19", "c++"]
    assert index.matches_text(title="hawker-centre", standfirst=None, body="centres") == []


def test_an_article_also_matches_a_keyword_naming_its_topic() -> None:
    article = make_article(
        "a1",
        title="Otters seen at the bay",
        body="A family of otters.",
        topics=("wildlife", "animals"),
    )
    index = KeywordIndex(["Wildlife", "otters", "dog", "wild life"])
    assert index.matches(article) == ["Wildlife", "otters"]
