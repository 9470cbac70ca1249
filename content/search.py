"""Search words: what a reader's query and a story's text are reduced to before matching."""

from __future__ import annotations

import unicodedata

from content.models import Article

# The characters of a word, as the SQLite index's tokenizer sees them (unicode61 with
# categories L* N* Co M*): everything else, underscore and quotes included, separates words.
_WORD_CATEGORIES = ("L", "N", "M")


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in _WORD_CATEGORIES or category == "Co"


def words(text: str) -> list[str]:
    """The lower-cased words of a text, in order (repeats kept)."""
    found: list[str] = []
    current: list[str] = []
    for char in text.lower():
        if _is_word_char(char):
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def search_terms(query: str, *, max_terms: int = 8) -> list[str]:
    """Distinct words of a free-text query; punctuation and operators are just separators."""
    return list(dict.fromkeys(words(query)))[:max_terms]


def search_text(article: Article) -> str:
    """The lower-cased text a query's words are looked for in (stored beside the article)."""
    return "\n".join([article.title, article.standfirst or "", article.body_text]).lower()
