"""Readers' keywords against a story in one pass: a token index instead of one regex per keyword.

Same meaning as `content.topics.keyword_matches` (whole words or phrases, case-insensitive,
Unicode-aware, spaces in a phrase match any whitespace, one field at a time), at a cost of about
the story's words plus the matches, however many keywords readers have.

How: a keyword can only match where its first run of word characters (`\\w+`) is a whole run of
word characters in the story (its edges are guarded by `(?<!\\w)`/`(?!\\w)` or by the non-word
characters around it). So the story is cut into runs once, and
- a keyword that is one run ("kyiv") matches when the run is in the story's set of runs;
- a phrase of runs ("hawker centre") is checked at each place its first run occurs: the next
  runs must follow, separated by whitespace only;
- a keyword with punctuation ("covid-19", "c++") is tried with its own regex, anchored at each
  place its first run occurs (so a try costs the keyword's length, not the story's); a keyword
  with no word character at all is searched for in the whole story (rare).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from content.models import Article
from content.topics import compile_keyword, fold, normalise_topic

_RUN_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of a story cut into runs of word characters."""

    text: str  # folded
    runs: tuple[str, ...]
    starts: tuple[int, ...]  # where each run starts in `text`
    spaced: tuple[bool, ...]  # spaced[i]: only whitespace between runs i and i+1
    where: dict[str, list[int]]  # run -> its positions


def _cut(folded: str) -> _Field:
    runs: list[str] = []
    starts: list[int] = []
    spaced: list[bool] = []
    where: dict[str, list[int]] = defaultdict(list)
    end = -1
    for match in _RUN_RE.finditer(folded):
        if runs:
            spaced.append(folded[end : match.start()].isspace())
        where[match.group()].append(len(runs))
        runs.append(match.group())
        starts.append(match.start())
        end = match.end()
    return _Field(folded, tuple(runs), tuple(starts), tuple(spaced), where)


def _phrase_at(field: _Field, start: int, words: tuple[str, ...]) -> bool:
    if start + len(words) > len(field.runs):
        return False
    return all(
        field.runs[start + offset] == word and field.spaced[start + offset - 1]
        for offset, word in enumerate(words[1:], start=1)
    )


class KeywordIndex:
    """Keywords indexed by their first word; `matches` finds those a story contains."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self._keywords: list[str] = list(dict.fromkeys(keywords))
        self._order = {keyword: index for index, keyword in enumerate(self._keywords)}
        self._words: dict[str, list[str]] = defaultdict(list)  # one run -> keywords
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        # first run -> (punctuated keyword, characters before that run in it)
        self._others: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self._patterns: dict[str, re.Pattern[str] | None] = {}  # compiled when first tried
        self._always: list[str] = []  # first word all punctuation: searched in every story
        self._topics: dict[str, list[str]] = defaultdict(list)  # topic slug -> keywords
        for keyword in self._keywords:
            self._add(keyword)

    def _add(self, keyword: str) -> None:
        slug = normalise_topic(keyword)
        if slug:
            self._topics[slug].append(keyword)
        words = tuple(fold(keyword).split())
        if not words:
            return
        if all(_RUN_RE.fullmatch(word) for word in words):
            if len(words) == 1:
                self._words[words[0]].append(keyword)
            else:
                self._phrases[words[0]].append((words, keyword))
            return
        first = _RUN_RE.search(words[0])
        if first is None:  # the first word is all punctuation ("++", "++ rocks"): rare
            self._always.append(keyword)
        else:
            self._others[first.group()].append((keyword, first.start()))

    def __len__(self) -> int:
        return len(self._keywords)

    def matches_text(self, *, title: str, standfirst: str | None, body: str) -> list[str]:
        """Keywords that occur as whole words or phrases in the fields, in the given order."""
        fields = [_cut(fold(part)) for part in (title, standfirst or "", body) if part]
        found: set[str] = set()
        for field in fields:
            for run, positions in field.where.items():
                found.update(self._words.get(run, ()))
                for words, keyword in self._phrases.get(run, ()):
                    if keyword not in found and any(
                        _phrase_at(field, start, words) for start in positions
                    ):
                        found.add(keyword)
                for keyword, before in self._others.get(run, ()):
                    if keyword not in found and self._anchored(keyword, field, positions, before):
                        found.add(keyword)
        for keyword in self._always:
            pattern = self._pattern(keyword)
            if pattern is not None and any(pattern.search(field.text) for field in fields):
                found.add(keyword)
        return self._ordered(found)

    def _anchored(self, keyword: str, field: _Field, positions: list[int], before: int) -> bool:
        """Whether the keyword matches where it would start, given its first run's positions."""
        pattern = self._pattern(keyword)
        if pattern is None:
            return False
        starts = (field.starts[position] - before for position in positions)
        # match() at a position still sees the text before it, so the (?<!\w) guard holds.
        return any(start >= 0 and pattern.match(field.text, start) for start in starts)

    def _pattern(self, keyword: str) -> re.Pattern[str] | None:
        if keyword not in self._patterns:
            self._patterns[keyword] = compile_keyword(keyword)
        return self._patterns[keyword]

    def matches(self, article: Article) -> list[str]:
        """Keywords the article contains, or that name one of its topics (a topic of that name)."""
        found = set(
            self.matches_text(
                title=article.title, standfirst=article.standfirst, body=article.body_text
            )
        )
        # "/subscribe wildlife" before any wildlife story exists is a keyword, and should
        # still catch the first story tagged wildlife.
        for topic in article.topics:
            found.update(self._topics.get(topic, ()))
        return self._ordered(found)

    def _ordered(self, found: set[str]) -> list[str]:
        return sorted(found, key=self._order.__getitem__)


def match_all(index: KeywordIndex, articles: Sequence[Article]) -> list[list[str]]:
    """The matched keywords of each article (blocking: run it in a thread)."""
    return [index.matches(article) for article in articles]
