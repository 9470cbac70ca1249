"""Which topics an article belongs to: its own tags first, then topics derived from its words.

Method: a small hand-written taxonomy (`TOPICS`, slug -> keywords and phrases) covers the beats of
a general news site. Each keyword is matched as a whole word or phrase, case-insensitively and
Unicode-aware, with an optional plural "s"/"es" on the taxonomy's own keywords. A topic's score is
the weighted number of matches: title x3, standfirst x2, body x1, each keyword counted at most
three times per field so one repeated word cannot carry a topic. The score is divided by
max(1, sqrt(body words / 250)) so long articles need more evidence than short ones. Topics that
score at least `THRESHOLD` (one title match, or a few body matches in a short piece) are kept,
best first, ties in taxonomy order. Deterministic, offline and fast: one compiled regex per topic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from content.models import Article

THRESHOLD = 3.0
_TITLE_WEIGHT = 3
_STANDFIRST_WEIGHT = 2
_BODY_WEIGHT = 1
_MAX_HITS_PER_KEYWORD = 3
_REFERENCE_BODY_WORDS = 250
_MAX_SLUG_CHARS = 64

# Keyword lists are comma-separated text so the taxonomy reads (and diffs) like a glossary.
_TAXONOMY: dict[str, str] = {
    "singapore": (
        "singapore, singaporean, hdb, void deck, town council, nea, lta, cpf, ang mo kio, "
        "bedok, bishan, bukit batok, bukit merah, bukit panjang, bukit timah, changi, choa chu "
        "kang, clementi, geylang, hougang, jurong, kallang, marine parade, pasir ris, punggol, "
        "queenstown, sembawang, sengkang, serangoon, tampines, toa payoh, woodlands, yishun, "
        "orchard road, sentosa, little india"
    ),
    "world": (
        "world, international, united nations, ukraine, ukrainian, russia, russian, kyiv, "
        "moscow, putin, beijing, united states, washington, white house, europe, european "
        "union, britain, london, japan, tokyo, india, malaysia, indonesia, thailand, australia, "
        "middle east, israel, gaza, iran, nato, geneva, poland, foreign minister"
    ),
    "politics": (
        "politics, political, election, parliament, minister, mp, prime minister, president, "
        "government, opposition, voter, cabinet, pap, workers' party, ballot, referendum, "
        "lawmaker, senate, congress"
    ),
    "crime-courts": (
        "court, judge, jail, jailed, prison, fined, charged, pleaded guilty, convicted, "
        "sentenced, police, arrested, crime, criminal, mischief, theft, scam, scammer, fraud, "
        "murder, assault, prosecutor, gag order, restitution, offender, offence, trial, "
        "magistrate"
    ),
    "transport": (
        "transport, bus, mrt, lrt, train, commute, commuter, taxi, smrt, sbs transit, traffic, "
        "expressway, driver, cyclist, bicycle, e-scooter, pmd, airport, flight, airline"
    ),
    "food": (
        "food, hawker, hawker centre, stall, restaurant, cafe, eatery, dish, meal, supper, "
        "cuisine, chef, menu, dining, bubble tea, kopitiam, coffee shop, bakery, michelin, "
        "cooked food, chicken rice, laksa"
    ),
    "housing": (
        "housing, bto, resale flat, rent, landlord, tenant, condo, condominium, property, home "
        "buyer, mortgage, flat owner"
    ),
    "health": (
        "health, healthcare, hospital, doctor, patient, disease, virus, covid, covid-19, "
        "vaccine, vaccination, moh, clinic, medical, cancer, dengue, mental health, nurse, "
        "infection, outbreak"
    ),
    "business": (
        "business, economy, economic, company, companies, firm, stock market, investor, profit, "
        "revenue, startup, bank, inflation, gdp, layoff, retrenchment, ceo, tariff, trade war"
    ),
    "tech": (
        "technology, tech, ai, artificial intelligence, app, smartphone, iphone, google, "
        "microsoft, software, internet, cybersecurity, hacker, data breach, social media, "
        "tiktok, chatgpt, robot, semiconductor"
    ),
    "environment": (
        "environment, environmental, climate, climate change, carbon, emissions, pollution, "
        "haze, recycling, sustainability, biodiversity, nature reserve, solar, plastic waste"
    ),
    "education": (
        "education, school, student, teacher, university, universities, moe, exam, psle, "
        "o-level, a-level, kindergarten, preschool, campus, tuition, polytechnic"
    ),
    "sports": (
        "sport, football, soccer, olympics, olympic, athlete, tournament, championship, medal, "
        "swimming, badminton, tennis, marathon, fifa, world cup, formula one, f1"
    ),
    "entertainment": (
        "entertainment, movie, film, actor, actress, celebrity, concert, music, singer, album, "
        "drama, netflix, k-pop, television, comedian"
    ),
    "war-conflict": (
        "war, warfare, invasion, troops, soldier, military, army, armed forces, combat, battle, "
        "missile, airstrike, shelling, bombing, ceasefire, prisoners of war, pow, casualties, "
        "defence ministry, defense ministry, conflict, geneva conventions"
    ),
    "weather": (
        "weather, rain, rainfall, thunderstorm, storm, flood, flooding, heatwave, temperature, "
        "monsoon, typhoon, hurricane, meteorological, forecast"
    ),
    "science": (
        "science, scientist, research, researcher, space, nasa, astronomy, astronaut, fossil, "
        "species"
    ),
    "animals": ("animal, otter, dog, cat, pet, wildlife, monkey, snake, bird, zoo, acres, spca"),
}

TOPICS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        slug: tuple(keyword.strip() for keyword in keywords.split(","))
        for slug, keywords in _TAXONOMY.items()
    }
)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})


def fold(text: str) -> str:
    """Text in one comparable form: NFC, straight quotes, case-folded."""
    return unicodedata.normalize("NFC", text).translate(_QUOTES).casefold()


def _phrase_body(keyword: str, *, plural: bool) -> str | None:
    """Regex source for a phrase without its word-boundary guards, None for a blank keyword."""
    words = fold(keyword).split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    if plural and words[-1][-1:].isalpha():
        body += "(?:s|es)?"
    return body


def _whole_words(body: str) -> str:
    """Guard a pattern with word boundaries that also work next to punctuation ("c++")."""
    return rf"(?<!\w)(?:{body})(?!\w)"


def compile_keyword(keyword: str) -> re.Pattern[str] | None:
    """Matcher for one user keyword (whole words, any whitespace between them), None if blank."""
    body = _phrase_body(keyword, plural=False)
    return re.compile(_whole_words(body)) if body else None


keyword_pattern = lru_cache(maxsize=2048)(compile_keyword)


def _topic_re(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation for a topic's keywords, longest first so phrases win over their words."""
    bodies = {body for keyword in keywords if (body := _phrase_body(keyword, plural=True))}
    ordered = sorted(bodies, key=lambda body: (-len(body), body))
    # One guard around the whole alternation keeps scanning fast: mid-word positions fail at once.
    return re.compile(_whole_words("|".join(ordered)))


_TOPIC_RES: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {slug: _topic_re(keywords) for slug, keywords in TOPICS.items()}
)


def normalise_topic(text: str) -> str:
    """A lowercase slug of [a-z0-9-]: "Hawker Centres" -> "hawker-centres"."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:_MAX_SLUG_CHARS].rstrip("-")


def keyword_matches(keyword: str, *, title: str, standfirst: str | None, body: str) -> bool:
    """Whether the keyword occurs as a whole word or phrase in the title, standfirst or body."""
    matcher = keyword_pattern(keyword)
    if matcher is None:
        return False
    return any(matcher.search(fold(part)) for part in (title, standfirst or "", body) if part)


def _hits(matcher: re.Pattern[str], text: str) -> int:
    """Matches of a topic's keywords in folded text, each keyword capped."""
    counts = Counter(match.group(0) for match in matcher.finditer(text))
    return sum(min(count, _MAX_HITS_PER_KEYWORD) for count in counts.values())


def topic_scores(article: Article) -> dict[str, float]:
    """Length-normalised weighted keyword score for every taxonomy topic with any match."""
    title = fold(article.title)
    standfirst = fold(article.standfirst or "")
    body = fold(article.body_text)
    length_factor = max(1.0, math.sqrt(len(body.split()) / _REFERENCE_BODY_WORDS))
    scores: dict[str, float] = {}
    for slug, matcher in _TOPIC_RES.items():
        raw = (
            _TITLE_WEIGHT * _hits(matcher, title)
            + _STANDFIRST_WEIGHT * _hits(matcher, standfirst)
            + _BODY_WEIGHT * _hits(matcher, body)
        )
        if raw:
            scores[slug] = raw / length_factor
    return scores


def derive_topics(article: Article, *, limit: int = 3) -> tuple[str, ...]:
    """The article's tags (normalised) then up to `limit` derived topics, without repeats."""
    tags = [slug for slug in (normalise_topic(tag) for tag in article.tags) if slug]
    scores = topic_scores(article)
    order = {slug: index for index, slug in enumerate(TOPICS)}
    ranked = sorted(
        (slug for slug, score in scores.items() if score >= THRESHOLD),
        key=lambda slug: (-scores[slug], order[slug]),
    )
    derived = [slug for slug in ranked if slug not in tags][: max(limit, 0)]
    return tuple(dict.fromkeys([*tags, *derived]))
