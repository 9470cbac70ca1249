"""Remove what is not article prose: bylines, credits, datelines, calls to action, captions."""

from __future__ import annotations

import re

# Phrases that extraction glues into the prose (no punctuation around them), cut wherever found.
_GLUED_CRUFT = re.compile(
    r"Share this with\s*(?:Email|Facebook|Messenger|Twitter|Pinterest|WhatsApp|LinkedIn|\s)*"
    r"(?:Copy this link)?"
    r"|Media playback is (?:not supported|unsupported) on (?:this|your) device"
    r"|Updates on this story and more from (?:[A-Z][a-z]+ )*[A-Z][a-z]+?(?=[A-Z][a-z]|\s|$)"
    r"|Scroll down for (?:video|more)\b"
    r"|(?:Follow us on|Join us on|Subscribe to our) (?:Telegram|Twitter|Facebook|Instagram)"
    r"[^.!?\n]*?(?:https?://\S+|(?=[.!?\n])|$)"
    r"|By \. [A-Z][^.]{0,80}\. (?:and [A-Z][^.]{0,80}\. )?"
    r"|(?:PUBLISHED|UPDATED|Last updated at): [^.|]{0,60}(?:\. \| \.|\.)\s*"
    r"|\(\s*(?:Photo|Image|Picture)s? (?:by|via|courtesy of|credit)[^)]{0,80}\)"
    r"|\bREAD MORE:[^.!?]*[.!?]?",
)
_WHITESPACE = re.compile(r"[ \t\u00a0]+")
# A dateline opening the first sentence: "(CNN)", "LONDON, England (CNN) --", "PARIS (Reuters) -".
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Za-z.' ]{0,40}(?:, [A-Z][A-Za-z.' ]{0,30})?\s*)?"
    r"\((?:CNN|Reuters|AP|AFP|EW\.com|CNN Student News|Mashable|The Hollywood Reporter)\)\s*"
    r"(?:--|—|–|-)?\s*"
    r"|^[A-Z][A-Z .'-]{2,30}(?:, [A-Z][A-Za-z .'-]{2,30})?\s+(?:--|—)\s+"
)
# A whole sentence or paragraph that is boilerplate, not reporting.
_BOILERPLATE = re.compile(
    r"^(?:follow (?:and listen to )?(?:us|our)\b|join (?:us|our)\b|subscribe\b|sign up\b"
    r"|like us on\b|click here\b|read more\b|related:|advertisement$|top image\b|image via\b"
    r"|images? (?:via|from|courtesy)\b|photo(?:graph)?s? (?:by|via|from|courtesy|credit)\b"
    r"|(?:photo|image|picture|video|source)s?:|all rights reserved|copyright\b|©"
    r"|(?:additional )?reporting by\b|editing by\b|written by\b|download our app\b"
    r"|this (?:article|story) (?:was|first|originally)\b|(?:you may|we) also (?:like|recommend)\b"
    r"|continue reading\b|watch the video\b|share this\b|email us\b|have a story\b"
    r"|got a (?:story|news tip)\b|don'?t miss\b|listen to\b|the views expressed\b)",
    re.IGNORECASE,
)
_BOILERPLATE_ANYWHERE = re.compile(
    r"https?://|www\.[a-z]|t\.me/|@[A-Za-z0-9_]{3,}\b|\bclick here\b|\bsubscribe\b"
    r"|\bnewsletter\b|\bfollow us\b|\bpodcast here\b|\bGetty Images\b|\bPA Wire\b"
    r"|\bAFP/Getty\b|\bREUTERS/\b|\(Photo\b",
    re.IGNORECASE,
)
# "Belmont Lay | March 04, 2022, 02:03 AM", "By Jane Doe", "By . Jane Doe ."
_BYLINE = re.compile(
    r"^(?:by\s+\.?\s*)?[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){0,3}\s*[|•·]\s*.*\d"
    r"|^by\s+\.?\s*[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,3}\s*\.?$"
    r"|^(?:published|updated|posted|last updated)\b.*\d",
    re.IGNORECASE,
)
# Daily Mail style picture captions: "Controversy: Lord Janner ...", "Pictured: ...".
_CAPTION = re.compile(r"^(?:[A-Z][\w'’-]*)(?: [A-Z][\w'’-]*){0,2}: (?!['‘\"“])")


# Cheap substring tests that gate the big regular expressions (which cost ~0.5 ms an article).
_CRUFT_HINTS = (
    "Share this", "Media playback", "Updates on this", "Scroll down", "Follow us", "Join us",
    "Subscribe to", "By .", "PUBLISHED", "UPDATED", "Last updated", "(Photo", "(Image",
    "(Picture", "READ MORE",
)  # fmt: skip
_ANYWHERE_HINTS = (
    "http", "www.", "t.me/", "@", "click here", "subscribe", "newsletter", "follow us",
    "podcast", "getty", "pa wire", "reuters/", "(photo",
)  # fmt: skip


def clean_text(text: str) -> str:
    """Cut boilerplate phrases glued into prose and normalise spaces (newlines are kept)."""
    if any(h in text for h in _CRUFT_HINTS):
        text = _GLUED_CRUFT.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def has_boilerplate_marker(text: str) -> bool:
    """Quick test: could any sentence of `text` contain a link, handle or credit?"""
    low = text.lower()
    return any(h in low for h in _ANYWHERE_HINTS)


# A kicker label in capitals opening the text: "COMMENTARY: ...", "UPDATE: ...".
_KICKER = re.compile(r"^[A-Z]{3,}(?: [A-Z]{2,}){0,2}:\s+")


def strip_dateline(sentence: str) -> str:
    """Drop a leading dateline ("(CNN) --", "LONDON (Reuters) -") or kicker ("COMMENTARY:")."""
    stripped = _KICKER.sub("", _DATELINE.sub("", sentence, count=1), count=1)
    return stripped if len(stripped) >= 20 else sentence


def is_boilerplate(text: str, *, anywhere: bool = True) -> bool:
    """True for calls to action, credits, bylines and other text that is not reporting.

    `anywhere=False` skips the search for links and credits inside the text (the caller knows,
    from `has_boilerplate_marker` on the paragraph, that there are none).
    """
    text = text.strip()
    if _BOILERPLATE.match(text) or _BYLINE.match(text):
        return True
    return anywhere and bool(_BOILERPLATE_ANYWHERE.search(text))


def is_caption(sentence: str) -> bool:
    """True for picture captions in the "Label: description" style."""
    return bool(_CAPTION.match(sentence)) and not sentence.startswith(("Update:", "UPDATE:"))


def is_heading(paragraph: str) -> bool:
    """True for a short paragraph without sentence-final punctuation (a section heading)."""
    text = paragraph.strip()
    return not has_terminal(text) and len(text.split()) <= 15


# A caption glued to the next sentence with no punctuation: "... denied four counts A senior
# doctor ...". A lower-case word followed by a capitalised article or pronoun and another
# lower-case word does not happen inside a well-formed sentence.
_GLUE_POINT = re.compile(
    r"(?<=[a-z0-9%)]) (?=(?:A|An|The|He|She|They|It|His|Her|Their|But|Police) [a-z])"
)


def split_glued(sentence: str) -> list[str]:
    """Split a caption glued to a sentence into its pieces (the caption lacks a full stop)."""
    parts: list[str] = []
    for part in _GLUE_POINT.split(sentence):
        if not part:
            continue
        # "... dropped by Wiltshire Police when ...": after a capitalised word, "Police" ends a
        # force's name rather than opening a new sentence.
        if parts and part.startswith("Police ") and parts[-1].rsplit(" ", 1)[-1][:1].isupper():
            parts[-1] += " " + part
        else:
            parts.append(part)
    return parts


def has_terminal(sentence: str) -> bool:
    """True when the sentence ends with sentence-final punctuation (captions usually do not)."""
    return sentence.rstrip("\"'”’)]").endswith((".", "!", "?", "…"))
