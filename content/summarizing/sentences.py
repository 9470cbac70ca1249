"""A fast rule-based sentence splitter for news text, and quote bookkeeping."""

from __future__ import annotations

import re


def _words(text: str) -> list[str]:
    """The whitespace-separated words of a word list written as text."""
    return text.split()


# Abbreviations that are followed by a period but rarely end a sentence in news copy. Lower-cased,
# without the period. Month abbreviations are here because "Jul. 2" is how many outlets date.
_ABBREVIATIONS = frozenset(
    _words(
        """
    mr mrs ms mx dr prof st jr sr gen col lt sgt capt cmdr adm maj cpl pte rep sen gov pres rev hon
    supt insp det dept fr sr messrs mme mlle
    jan feb mar apr jun jul aug sep sept oct nov dec
    no nos vol vols pp fig figs approx est vs cf al
    mt ft ave blvd rd
    inc corp co ltd bros
    """
    )
)
# After these an upper-case word still usually continues the sentence ("Inc. Chief", "No. 10").
_NEVER_FINAL = frozenset(
    _words(
        "mr mrs ms mx dr prof st gen col lt sgt capt cmdr adm maj cpl pte rep sen gov rev hon"
        " supt insp det fr messrs"
    )
)
# Words that start a new sentence after an ambiguous ending like "U.S." or "Inc.".
_STARTERS = frozenset(
    _words(
        """
    the a an he she it they we i you his her its their our this that these those there here
    but and so yet or if when while after before since as in on at for with by from to of
    however meanwhile still now then also earlier later last next both some many most all
    no not one two three four five police officials authorities
    """
    )
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace, and
# something that can open a sentence (quote, bracket, capital or digit).
_BOUNDARY = re.compile(r"""([.!?…]+["'”’)\]]*)(\s+)(?=["'“‘(\[]*[A-Z0-9])""")
# Sentences glued together by sloppy extraction ("in 2015.In a televised address").
_GLUED = re.compile(r"(?<=(?:[a-z0-9]{2}|[A-Z]{2})[.!?])(?=[A-Z][a-z]{1,}\b)")
_GLUED_HINT = re.compile(r"[.!?](?=[A-Z][a-z])")  # a lookbehind-free scan is ~5x faster
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_NEXT_WORD = re.compile(r"""["'“‘(\[]*([A-Za-z0-9]+)""")
_WS = re.compile(r"\s+")


def _is_boundary(before: str, after: str) -> bool:
    """Decide whether a period-like mark at the end of `before` ends the sentence."""
    if not before.endswith("."):
        return True  # "!" and "?" followed by a capital are reliable
    m = _WORD_BEFORE.search(before[:-1])
    if m is None:
        return True
    word = m.group(1)
    low = word.lower()
    nxt_m = _NEXT_WORD.match(after)
    nxt = nxt_m.group(1) if nxt_m else ""
    if "." in word:
        # Dotted acronyms ("U.S.", "a.m.") and initials: split only before a clear sentence start.
        return nxt.lower() in _STARTERS and not nxt[:1].isdigit()
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    if low in _NEVER_FINAL:
        return False
    if low in _ABBREVIATIONS:
        if nxt[:1].isdigit():
            return False  # "Jul. 2", "No. 10"
        return nxt.lower() in _STARTERS
    return True


def split_sentences(text: str) -> list[str]:
    """Split news text into sentences; whitespace is normalised, newlines always break."""
    out: list[str] = []
    for line in text.splitlines():
        line = _WS.sub(" ", line).strip()
        if not line:
            continue
        if _GLUED_HINT.search(line):
            line = _GLUED.sub(" ", line)
        start = 0
        for m in _BOUNDARY.finditer(line):
            end = m.end(1)
            if _is_boundary(line[start:end], line[m.end() :]):
                piece = line[start:end].strip()
                if piece:
                    out.append(piece)
                start = m.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return out


# Single quotes double as apostrophes, so they are read left to right: an opening mark precedes a
# word; a closing mark after punctuation or before punctuation/end is "strong" (a real close even
# with nothing open, so the sentence ends a quote begun earlier); one between a word and a space
# is "weak" (closes an open quote, otherwise a plural possessive like "the students' rent").
_SINGLE = re.compile(
    r"(?P<open>(?:^|(?<=[\s(\[—–-]))[‘'](?=[^\W\d_]|[“\"]))"
    r"|(?P<strong>(?<=[.,!?;:…”\"])[’']|(?<=\w)[’'](?=[,.;:!?)\]—–-]|$))"
    r"|(?P<weak>(?<=\w)[’'](?=\s))"
)
_OPENERS = frozenset("'‘\"“")


def quote_balance(sentence: str) -> int:
    """Opened minus closed quotation marks: > 0 opens a quote, < 0 closes one opened earlier."""
    s = sentence
    balance = s.count("“") - s.count("”")
    straight = s.count('"')
    if straight % 2:
        # An odd straight quote opens when it precedes a word, closes when it follows one.
        idx = s.rfind('"')
        opens = idx + 1 < len(s) and not s[idx + 1].isspace()
        opens = opens and (idx == 0 or s[idx - 1].isspace() or s[idx - 1] in "([—–-")
        balance += 1 if opens else -1
    if "'" not in s and "‘" not in s and "’" not in s:
        return balance
    depth = 0
    for m in _SINGLE.finditer(s):
        if m.lastgroup == "open":
            depth += 1
        elif depth > 0:
            depth -= 1
        elif m.lastgroup == "strong":
            balance -= 1
    return balance + depth


def quote_fragments(
    sentences: list[str], balances: list[int] | None = None, *, max_span: int = 6
) -> list[bool]:
    """Flag sentences that are part of a quotation spanning several sentences."""
    if balances is None:
        balances = [quote_balance(s) for s in sentences]
    flags = [False] * len(sentences)
    open_at = -1
    for i, (sentence, bal) in enumerate(zip(sentences, balances, strict=True)):
        if open_at >= 0 and sentence[:1] in _OPENERS:
            # News style reopens a quote at each new paragraph without closing the previous one.
            open_at = -1
        if open_at < 0:
            if bal > 0:
                open_at = i
                flags[i] = True
            elif bal < 0:
                flags[i] = True  # closes a quote we never saw open
            continue
        flags[i] = True
        if bal < 0 or i - open_at >= max_span:
            # Closed (or an apostrophe fooled us and the quote never closes): stop flagging.
            open_at = -1
    return flags
