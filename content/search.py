"""Ranking of search results: pure functions over the query's words and an article's text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from content.models import Article, SearchHit

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_EPOCH = datetime.fromtimestamp(0).astimezone()


def search_terms(query: str, *, max_terms: int = 8) -> list[str]:
    """Lower-cased words of a free-text query; punctuation and operators are just separators."""
    seen: list[str] = []
    for word in _WORD_RE.findall(query.lower()):
        if word not in seen:
            seen.append(word)
    return seen[:max_terms]


def search_text(article: Article) -> str:
    """The lower-cased text a query's words are looked for in (stored beside the article)."""
    return "\n".join([article.title, article.standfirst or "", article.body_text]).lower()


def score(article: Article, terms: Sequence[str]) -> float:
    """Rank: each matched word counts most, then where it stands (title, standfirst, body)."""
    fields = (
        (article.title.lower(), 5.0),
        ((article.standfirst or "").lower(), 2.0),
        (article.body_text.lower(), 1.0),
    )
    matched = 0
    weight_sum = 0.0
    for term in terms:
        pattern = re.compile(rf"\b{re.escape(term)}\b")
        term_score = sum(weight * min(len(pattern.findall(text)), 5) for text, weight in fields)
        if term_score:
            matched += 1
            weight_sum += term_score
    # Matching more of the query's words always beats repeating one of them.
    return matched * 1000.0 + weight_sum if matched else 0.0


def rank(candidates: Sequence[Article], terms: Sequence[str], *, limit: int) -> list[SearchHit]:
    """The candidates that match, best first (ties: newest first)."""
    hits = [SearchHit(a, score(a, terms)) for a in candidates]
    hits = [h for h in hits if h.score > 0]
    hits.sort(key=lambda h: (-h.score, -(h.article.published or _EPOCH).timestamp()))
    return hits[:limit]
