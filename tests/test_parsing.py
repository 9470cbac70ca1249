"""Tests for content.parsing: plain text, Markdown with front matter, boilerplate rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from content.models import ARTICLE_ID_RE, ArticleParseError, BlockKind, make_article_id
from content.parsing import SUPPORTED_SUFFIXES, parse_file, parse_markdown, parse_text
from content.parsing.boilerplate import find_channel_hint, is_boilerplate
from content.parsing.markdown import strip_inline
from tests.support.articles import FIXTURES, SAMPLE, SGT

NEW_YORK = ZoneInfo("America/New_York")

SIMPLE = """Headline about a thing

A standfirst that sets the scene.

Jane Tan | March 04, 2022, 02:03 PM

First paragraph of the body.

Second paragraph of the body.
"""


def reason_of(text: str, *, markdown: bool = False) -> str:
    """The reason parse_text/parse_markdown gives for rejecting `text`."""
    parse = parse_markdown if markdown else parse_text
    with pytest.raises(ArticleParseError) as caught:
        parse(text, default_tz=SGT)
    return caught.value.reason


# --- the real sample -------------------------------------------------------------------------


def test_sample_metadata() -> None:
    article = parse_file(SAMPLE, default_tz=SGT)
    assert article.title == "Ukraine tells Russian mothers to come pick up their captured sons"
    assert article.standfirst == "Ukraine using Russian mothers to turn against the war."
    assert article.author == "Belmont Lay"
    assert article.published == datetime(2022, 3, 4, 2, 3, tzinfo=SGT)
    assert article.published is not None
    assert article.published.isoformat() == "2022-03-04T02:03:00+08:00"
    assert article.channel_hint == "https://t.me/mothershipsg"
    assert article.source == str(SAMPLE)
    assert article.tags == ()
    assert article.topics == ()


def test_sample_headings_and_paragraphs() -> None:
    article = parse_file(SAMPLE, default_tz=SGT)
    assert article.headings == (
        "What online flyer said",
        "Info on retrieving sons put up",
        "Number of captured and dead Russian soldiers unknown",
    )
    paragraphs = article.paragraphs
    assert len(paragraphs) == 17
    assert paragraphs[0].startswith("Ukraine's defence ministry is asking the mothers")
    assert paragraphs[-1] == (
        "Ukraine defended its decision by claiming it is providing a public service for Russians."
    )
    assert '"We are waiting for you in Kyiv!"' in paragraphs
    assert not any("Follow us" in p or "podcast" in p for p in paragraphs)
    assert article.blocks[0].kind is BlockKind.PARAGRAPH
    assert article.blocks[-1].kind is BlockKind.PARAGRAPH


def test_sample_block_order() -> None:
    article = parse_file(SAMPLE, default_tz=SGT)
    kinds = [block.kind for block in article.blocks]
    heading_positions = [i for i, kind in enumerate(kinds) if kind is BlockKind.HEADING]
    assert heading_positions == [3, 8, 13]
    assert article.blocks[4].text.startswith("A flyer posted to Facebook")


def test_sample_id_is_title_and_time() -> None:
    article = parse_file(SAMPLE, default_tz=SGT)
    expected = make_article_id(
        "Ukraine tells Russian mothers to come pick up their captured sons"
        "|2022-03-04T02:03:00+08:00"
    )
    assert article.id == expected
    assert ARTICLE_ID_RE.match(article.id)


# --- synthetic fixtures ----------------------------------------------------------------------


def test_s01_crime_story() -> None:
    article = parse_file(FIXTURES / "s01.txt", default_tz=SGT)
    assert article.title.startswith("Man, 34, fined S$3,000")
    assert article.standfirst == 'He told the court he was "frustrated" by repeated obstructions.'
    assert article.author == "Alex Lim"
    assert article.published == datetime(2026, 7, 2, 15, 15, tzinfo=SGT)
    assert article.headings == ("What happened", '"Repeated obstructions"')
    assert article.channel_hint == "https://t.me/mothershipsg"
    assert len(article.paragraphs) == 8
    body = article.body_text
    for furniture in ("Image via Google Maps", "Top image via", "Follow", "podcast"):
        assert furniture not in body
    assert article.paragraphs[-1].startswith("For mischief, an offender can be jailed")


def test_s02_hawker_story() -> None:
    article = parse_file(FIXTURES / "s02.txt", default_tz=SGT)
    assert article.headings == ("Stall rentals from S$1,200", "Part of a wider plan")
    assert article.author == "Jamie Ong"
    assert article.published == datetime(2026, 6, 28, 11, 2, tzinfo=SGT)
    assert "Related stories" not in article.body_text
    assert "Photo courtesy of NEA" not in article.body_text
    assert article.paragraphs[-1] == (
        "NEA said the centre is one of five new hawker centres to be completed by 2027."
    )
    assert article.blocks[-1].kind is BlockKind.PARAGRAPH


def test_s03_commentary_has_no_headings() -> None:
    article = parse_file(FIXTURES / "s03.txt", default_tz=SGT)
    assert article.headings == ()
    assert article.standfirst == "The slower ride is the point."
    assert article.paragraphs[0].startswith('COMMENTARY: "On the bus')
    assert len(article.paragraphs) == 4
    assert "Top image by" not in article.body_text


# --- plain-text variants ---------------------------------------------------------------------


def test_simple_article() -> None:
    article = parse_text(SIMPLE, default_tz=SGT)
    assert article.title == "Headline about a thing"
    assert article.standfirst == "A standfirst that sets the scene."
    assert article.author == "Jane Tan"
    assert article.published == datetime(2022, 3, 4, 14, 3, tzinfo=SGT)
    assert article.paragraphs == ("First paragraph of the body.", "Second paragraph of the body.")
    assert article.source == "<text>"
    assert article.channel_hint is None


def test_crlf_bom_tabs_nbsp_and_emoji() -> None:
    messy = (
        "\ufeff  Headline\twith   tabs 🎉  \r\n\r\n\r\n"
        "Stand\u00a0first\u00a0line.\r\n"
        "Jane Tan | March 04, 2022, 02:03 PM   \r\n\r\n\r\n\r\n"
        "Body “smart quotes” and emoji 🚀 stay.   \r\n"
        "\r\n"
        "Ünïcödé paragraph.\r\n"
    )
    article = parse_text(messy, default_tz=SGT)
    assert article.title == "Headline with tabs 🎉"
    assert article.standfirst == "Stand first line."
    assert article.paragraphs == ("Body “smart quotes” and emoji 🚀 stay.", "Ünïcödé paragraph.")
    assert article.published == datetime(2022, 3, 4, 14, 3, tzinfo=SGT)


def test_parse_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + SIMPLE.replace("\n", "\r\n").encode("utf-8"))
    article = parse_file(path, default_tz=SGT)
    assert article.title == "Headline about a thing"
    assert article.author == "Jane Tan"


def test_parse_file_cp1252_fallback(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Caf\u00e9 opens \u201ctoday\u201d\n\nBody text here.\n".encode("cp1252"))
    article = parse_file(path, default_tz=SGT)
    assert article.title == "Café opens “today”"
    assert article.paragraphs == ("Body text here.",)


def test_missing_standfirst() -> None:
    article = parse_text("Headline\nJane Tan | 4 March 2022\nBody paragraph.\n", default_tz=SGT)
    assert article.standfirst is None
    assert article.author == "Jane Tan"
    assert article.published == datetime(2022, 3, 4, 0, 0, tzinfo=SGT)
    assert article.paragraphs == ("Body paragraph.",)


def test_missing_byline() -> None:
    article = parse_text("Headline\n\nFirst paragraph.\n\nSecond paragraph.\n", default_tz=SGT)
    assert article.author is None
    assert article.published is None
    assert article.standfirst is None
    assert article.paragraphs == ("First paragraph.", "Second paragraph.")
    assert article.id == make_article_id("Headline|")


def test_several_authors() -> None:
    article = parse_text(
        "Headline\nAlex Lim and Jamie Ong | Mar 4, 2022, 9:05 AM\nBody.\n", default_tz=SGT
    )
    assert article.author == "Alex Lim and Jamie Ong"
    article = parse_text("Headline\nAlex Lim, Jamie Ong | Mar. 4, 2022\nBody.\n", default_tz=SGT)
    assert article.author == "Alex Lim, Jamie Ong"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("March 04, 2022, 02:03 AM", datetime(2022, 3, 4, 2, 3, tzinfo=SGT)),
        ("Mar 4, 2022, 12:30 PM", datetime(2022, 3, 4, 12, 30, tzinfo=SGT)),
        ("Mar 4, 2022, 12:30 AM", datetime(2022, 3, 4, 0, 30, tzinfo=SGT)),
        ("Sept 4, 2022", datetime(2022, 9, 4, tzinfo=SGT)),
        ("4 March 2022", datetime(2022, 3, 4, tzinfo=SGT)),
        ("04 Mar 2022, 18:45", datetime(2022, 3, 4, 18, 45, tzinfo=SGT)),
        ("March 4, 2022 18:45", datetime(2022, 3, 4, 18, 45, tzinfo=SGT)),
        ("2022-03-04 18:45", datetime(2022, 3, 4, 18, 45, tzinfo=SGT)),
        ("Friday, March 4, 2022, 2:03 pm", datetime(2022, 3, 4, 14, 3, tzinfo=SGT)),
        (
            "March 04, 2022, 02:03 AM +08:00",
            datetime(2022, 3, 4, 2, 3, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("March 04, 2022, 02:03 AM UTC", datetime(2022, 3, 4, 2, 3, tzinfo=UTC)),
        (
            "4 March 2022 10:00 -0530",
            datetime(2022, 3, 4, 10, tzinfo=timezone(-timedelta(hours=5.5))),
        ),
        (
            "March 04, 2022, 02:03 AM SGT",
            datetime(2022, 3, 4, 2, 3, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("March 04, 2022, 02:03 AM | Updated March 05", datetime(2022, 3, 4, 2, 3, tzinfo=SGT)),
    ],
)
def test_byline_formats(when: str, expected: datetime) -> None:
    article = parse_text(f"Headline\nStandfirst.\nJane Tan | {when}\nBody.\n", default_tz=SGT)
    assert article.published == expected
    assert article.published is not None
    assert article.published.utcoffset() == expected.utcoffset()
    assert article.author == "Jane Tan"


def test_explicit_offset_wins_over_default_zone() -> None:
    article = parse_text(
        "Headline\nJane Tan | March 04, 2022, 02:03 AM +00:00\nBody.\n", default_tz=NEW_YORK
    )
    assert article.published is not None
    assert article.published.utcoffset() == timedelta(0)
    assert article.published.isoformat() == "2022-03-04T02:03:00+00:00"


@pytest.mark.parametrize(
    ("when", "offset"),
    [
        ("January 15, 2022, 09:00 AM", timedelta(hours=-5)),  # EST
        ("July 15, 2022, 09:00 AM", timedelta(hours=-4)),  # EDT
    ],
)
def test_dst_zone_uses_wall_clock_offset(when: str, offset: timedelta) -> None:
    article = parse_text(f"Headline\nJane Tan | {when}\nBody.\n", default_tz=NEW_YORK)
    assert article.published is not None
    assert article.published.utcoffset() == offset
    assert article.published.hour == 9


@pytest.mark.parametrize(
    "when",
    [
        "February 30, 2022, 02:03 AM",
        "2022-13-01 10:00",
        "March 04, 2022, 25:00",
        "March 04, 2022, 13:30 PM",
        "March 04, 2022, 10:61",
        "March 04, 2022, 10:00 +25:00",
    ],
)
def test_impossible_date_is_an_error(when: str) -> None:
    reason = reason_of(f"Headline\nStandfirst.\nJane Tan | {when}\nBody.\n")
    assert reason.startswith("impossible date in byline: ")
    assert when.split(",")[0] in reason


def test_empty_and_whitespace_only() -> None:
    assert reason_of("") == "file is empty"
    assert reason_of(" \n\t\r\n\ufeff \n") == "file is empty"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ArticleParseError) as caught:
        parse_file(path, default_tz=SGT)
    assert caught.value.reason == "file is empty"
    assert caught.value.source == str(path)


def test_binary_content_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(ArticleParseError) as caught:
        parse_file(path, default_tz=SGT)
    assert caught.value.reason == "not a text file"


def test_binary_without_nul_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(1, 256)) * 8)
    with pytest.raises(ArticleParseError) as caught:
        parse_file(path, default_tz=SGT)
    assert caught.value.reason == "not a text file"


def test_control_characters_in_text_are_rejected() -> None:
    assert reason_of("Headline\n\x00\x01\x02 body\n") == "not a text file"
    assert reason_of("Headline\n" + "\x01\x02\x03\x04" * 50) == "not a text file"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArticleParseError) as caught:
        parse_file(tmp_path / "nope.txt", default_tz=SGT)
    assert caught.value.reason.startswith("cannot read file")


def test_huge_first_line() -> None:
    reason = reason_of("x" * 5000 + "\n\nBody.\n")
    assert reason == "no headline (first line is 5000 characters)"


def test_headline_only_has_no_body() -> None:
    assert reason_of("Just a headline\n") == "no body text"
    assert reason_of("Headline\nStandfirst.\nJane Tan | March 4, 2022\n") == "no body text"
    assert reason_of("Headline\n\nFollow and listen to our podcast here\n") == "no body text"


def test_byline_first_is_no_headline() -> None:
    assert reason_of("Jane Tan | March 4, 2022\nBody.\n").startswith("no headline")


def test_boilerplate_only_file_has_no_headline() -> None:
    assert reason_of("Follow and listen to our podcast here\n") == "no headline"


def test_leading_boilerplate_is_not_the_headline() -> None:
    article = parse_text(
        "Follow us on Telegram for the latest updates: https://t.me/example\n" + SIMPLE,
        default_tz=SGT,
    )
    assert article.title == "Headline about a thing"
    assert article.channel_hint == "https://t.me/example"


def test_non_byline_pipe_line_is_body() -> None:
    article = parse_text("Headline\n\nRed | Blue is a board game.\n", default_tz=SGT)
    assert article.author is None
    assert article.paragraphs == ("Red | Blue is a board game.",)


def test_hard_wrapped_paragraph_is_joined() -> None:
    article = parse_text(
        "Headline\nJane Tan | March 4, 2022\n"
        "This paragraph was wrapped by an editor\nthat likes short lines.\n\nNext one.\n",
        default_tz=SGT,
    )
    assert article.paragraphs == (
        "This paragraph was wrapped by an editor that likes short lines.",
        "Next one.",
    )


# --- heading rule ----------------------------------------------------------------------------

BYLINE = "Headline\nStandfirst.\nJane Tan | March 4, 2022\n"


def blocks_of(body: str) -> list[tuple[str, str]]:
    """(kind, text) pairs of a body under a fixed header."""
    article = parse_text(BYLINE + body, default_tz=SGT)
    return [(block.kind.value, block.text) for block in article.blocks]


def test_heading_between_paragraphs() -> None:
    assert blocks_of("Intro.\nA heading here\nMore text.\n") == [
        ("paragraph", "Intro."),
        ("heading", "A heading here"),
        ("paragraph", "More text."),
    ]


def test_short_last_line_is_a_paragraph() -> None:
    assert blocks_of("Intro.\nThe end without a full stop\n") == [
        ("paragraph", "Intro."),
        ("paragraph", "The end without a full stop"),
    ]


def test_first_body_line_is_not_a_heading() -> None:
    assert blocks_of("SINGAPORE\nThe story starts.\n")[0] == ("paragraph", "SINGAPORE")


@pytest.mark.parametrize(
    "line",
    [
        "It rained.",
        '"We are waiting for you in Kyiv!"',
        "Why does this matter?",
        "He said:",
        "COMMENTARY: hello there",
        "Was it “worth it?”",
        "See https://example.com for more",
        "one two three four five six seven eight nine ten eleven twelve thirteen",
        "A" * 81,
    ],
)
def test_not_headings(line: str) -> None:
    kinds = blocks_of(f"Intro.\n{line}\nMore text.\n")
    assert kinds[1] == ("paragraph", line)


@pytest.mark.parametrize(
    "line",
    ['"Repeated obstructions"', "Stall rentals from S$1,200", "What’s next (and why)"],
)
def test_headings(line: str) -> None:
    assert blocks_of(f"Intro.\n{line}\nMore text.\n")[1] == ("heading", line)


def test_two_heading_like_lines_in_a_row_are_not_both_headings() -> None:
    kinds = [kind for kind, _ in blocks_of("Intro.\nFirst short line\nSecond short\nText.\n")]
    assert kinds == ["paragraph", "paragraph", "heading", "paragraph"]


# --- id stability ----------------------------------------------------------------------------


def test_body_edit_keeps_id() -> None:
    first = parse_text(SIMPLE, default_tz=SGT)
    edited = parse_text(SIMPLE.replace("Second paragraph", "A corrected paragraph"), default_tz=SGT)
    assert edited.paragraphs != first.paragraphs
    assert edited.id == first.id


def test_title_or_time_change_changes_id() -> None:
    first = parse_text(SIMPLE, default_tz=SGT)
    retitled = parse_text(SIMPLE.replace("Headline about", "Headline on"), default_tz=SGT)
    retimed = parse_text(SIMPLE.replace("02:03 PM", "02:04 PM"), default_tz=SGT)
    assert len({first.id, retitled.id, retimed.id}) == 3


# --- boilerplate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Follow us on Telegram for the latest updates: https://t.me/mothershipsg",
        "Follow and listen to our podcast here",
        "Top image via Google Maps",
        "Image via Google Maps",
        "Images via Facebook",
        "Photo courtesy of NEA",
        "Top image courtesy of NEA",
        "Top image by Sam Teo",
        "Photo by Jane Tan",
        "Photo: Reuters",
        "Related stories",
        "Related story: Otters at Marina Bay",
        "Click here to read more",
        "Subscribe to our daily newsletter",
        "Share this article",
        "  top IMAGE via   someone  ",
    ],
)
def test_is_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "The photo showed a man by the road.",
        "Related to this, the ministry said it would act.",
        "Follow the money, investigators said.",
        "Images via drone footage showed the damage, which was "
        + "extensive and widespread across the estate, " * 4,
    ],
)
def test_is_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


def test_find_channel_hint() -> None:
    assert (
        find_channel_hint("Follow us on Telegram for the latest updates: https://t.me/mothershipsg")
        == "https://t.me/mothershipsg"
    )
    assert find_channel_hint("Follow us on Telegram: t.me/example_news.") == (
        "https://t.me/example_news"
    )
    assert find_channel_hint("Follow us on Telegram for updates") is None
    assert find_channel_hint("Join at https://t.me/other") is None
    assert find_channel_hint("Body text mentioning a Telegram group.") is None


# --- Markdown --------------------------------------------------------------------------------

FULL_MD = """---
title: "Otters: a guide"
standfirst: Keep your distance.
author: Alex Lim
published: 2026-07-03T09:30:00+08:00
publish_at: 2026-07-03 12:00
tags: [Wildlife, "Bishan Park", wildlife]
url: https://example.com/otters
image: https://example.com/otters.jpg
---

# Otters: a guide

A **bold** claim with a [link](https://example.com/a "title") and `code`
wrapped onto a _second_ line with *emphasis*.

![alt text](https://example.com/pic.jpg)

## What to do

- Keep 5m away
- Do not feed them
1. Ordered item

> Quoted words
> continue here.

### Smaller heading

snake_case_words and 2 * 3 * 4 stay, as does an escaped \\*star\\*.

Top image via NParks
"""


def test_markdown_full_front_matter() -> None:
    article = parse_markdown(FULL_MD, default_tz=SGT)
    assert article.title == "Otters: a guide"
    assert article.standfirst == "Keep your distance."
    assert article.author == "Alex Lim"
    assert article.published == datetime(2026, 7, 3, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert article.publish_at == datetime(2026, 7, 3, 12, 0, tzinfo=SGT)
    assert article.tags == ("wildlife", "bishan-park")
    assert article.topics == ()
    assert article.url == "https://example.com/otters"
    assert article.image == "https://example.com/otters.jpg"
    assert article.id == make_article_id("https://example.com/otters")
    assert article.source == "<markdown>"
    assert [(b.kind.value, b.text) for b in article.blocks] == [
        (
            "paragraph",
            "A bold claim with a link and code wrapped onto a second line with emphasis.",
        ),
        ("heading", "What to do"),
        ("paragraph", "• Keep 5m away"),
        ("paragraph", "• Do not feed them"),
        ("paragraph", "1. Ordered item"),
        ("paragraph", "Quoted words continue here."),
        ("heading", "Smaller heading"),
        ("paragraph", "snake_case_words and 2 * 3 * 4 stay, as does an escaped *star*."),
    ]


def test_markdown_without_front_matter_uses_h1() -> None:
    article = parse_markdown("# The Title\n\nBody *text*.\n\n## Section\n\nMore.\n", default_tz=SGT)
    assert article.title == "The Title"
    assert article.headings == ("Section",)
    assert article.paragraphs == ("Body text.", "More.")
    assert article.published is None
    assert article.id == make_article_id("The Title|")


def test_markdown_without_any_title() -> None:
    assert reason_of("Just a paragraph.\n", markdown=True).startswith("no title")


def test_markdown_front_matter_without_title() -> None:
    reason = reason_of("---\nauthor: Someone\n---\nBody.\n", markdown=True)
    assert reason.startswith("front matter has no title")


def test_markdown_bad_yaml() -> None:
    reason = reason_of("---\ntitle: [unclosed\n---\nBody.\n", markdown=True)
    assert reason.startswith("front matter is not valid YAML: ")
    reason = reason_of("---\ntitle: a: b\n---\nBody.\n", markdown=True)
    assert reason.startswith("front matter is not valid YAML: ")


def test_markdown_front_matter_not_a_mapping() -> None:
    reason = reason_of("---\n- a\n- b\n---\nBody.\n", markdown=True)
    assert reason == "front matter is not a mapping of keys to values"


def test_markdown_unclosed_front_matter() -> None:
    assert reason_of("---\ntitle: x\nBody.\n", markdown=True).startswith(
        "front matter is not closed"
    )


def test_markdown_naive_published_uses_default_zone() -> None:
    text = "---\ntitle: T\npublished: 2022-07-15 09:00\n---\nBody.\n"
    article = parse_markdown(text, default_tz=NEW_YORK)
    assert article.published == datetime(2022, 7, 15, 9, 0, tzinfo=NEW_YORK)
    assert article.published is not None
    assert article.published.utcoffset() == timedelta(hours=-4)
    winter = parse_markdown(text.replace("07-15", "01-15"), default_tz=NEW_YORK)
    assert winter.published is not None
    assert winter.published.utcoffset() == timedelta(hours=-5)


def test_markdown_date_only_and_byline_style_dates() -> None:
    article = parse_markdown("---\ntitle: T\npublished: 2022-03-04\n---\nB.\n", default_tz=SGT)
    assert article.published == datetime(2022, 3, 4, tzinfo=SGT)
    article = parse_markdown(
        "---\ntitle: T\npublished: March 4, 2022, 2:03 PM\n---\nB.\n", default_tz=SGT
    )
    assert article.published == datetime(2022, 3, 4, 14, 3, tzinfo=SGT)
    article = parse_markdown(
        "---\ntitle: T\npublished: 2022-03-04T02:03:00Z\n---\nB.\n", default_tz=SGT
    )
    assert article.published == datetime(2022, 3, 4, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value"),
    [("published", "not a date"), ("published", "2022-02-30"), ("publish_at", "[1]")],
)
def test_markdown_bad_date_names_the_key(key: str, value: str) -> None:
    reason = reason_of(f"---\ntitle: T\n{key}: {value}\n---\nBody.\n", markdown=True)
    assert reason.startswith(f"front matter '{key}' is not a date")


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("id: my-story_1", "my-story_1"),
        ("id: 'has spaces and / slashes'", make_article_id("has spaces and / slashes")),
        ("id: 12345", "12345"),
        ("url: https://example.com/x", make_article_id("https://example.com/x")),
        ("published: 2022-03-04 10:00", make_article_id("T|2022-03-04T10:00:00+08:00")),
    ],
)
def test_markdown_ids(front: str, expected: str) -> None:
    article = parse_markdown(f"---\ntitle: T\n{front}\n---\nBody.\n", default_tz=SGT)
    assert article.id == expected


def test_markdown_tags_as_comma_string() -> None:
    article = parse_markdown(
        "---\ntitle: T\ntags: Hawker Centres, Food ,\n---\nB.\n", default_tz=SGT
    )
    assert article.tags == ("hawker-centres", "food")


def test_markdown_boilerplate_and_related_links_removed() -> None:
    article = parse_file(FIXTURES / "m01.md", default_tz=SGT)
    assert article.title == "Otters spotted at Bishan park: what to do if you meet them"
    assert article.author == "Alex Lim, Jamie Ong"
    assert article.tags == ("wildlife", "bishan-park")
    assert article.channel_hint == "https://t.me/mothershipsg"
    assert article.headings == ("What the experts say",)
    body = article.body_text
    for gone in ("Follow us", "Top image", "Related", "Marina Bay", "Otter family grows"):
        assert gone not in body
    assert article.paragraphs[0] == (
        "A family of otters was seen at Bishan-Ang Mo Kio Park on Jul. 2, "
        "delighting early-morning joggers."
    )


def test_markdown_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "post.markdown"
    path.write_bytes(b"\xef\xbb\xbf" + b"---\r\ntitle: T\r\n---\r\n\r\nBody line.\r\n")
    article = parse_file(path, default_tz=SGT)
    assert article.title == "T"
    assert article.paragraphs == ("Body line.",)


def test_markdown_empty_and_bodyless() -> None:
    assert reason_of("  \n", markdown=True) == "file is empty"
    assert reason_of("---\ntitle: T\n---\n\n# T\n", markdown=True) == "no body text"


def test_parse_file_dispatches_by_suffix(tmp_path: Path) -> None:
    assert {".txt", ".md", ".markdown"} == SUPPORTED_SUFFIXES
    markdown_text = "# Title\n\nBody.\n"
    md = tmp_path / "a.MD"
    md.write_text(markdown_text, encoding="utf-8")
    txt = tmp_path / "a.txt"
    txt.write_text(markdown_text, encoding="utf-8")
    assert parse_file(md, default_tz=SGT).title == "Title"
    assert parse_file(txt, default_tz=SGT).title == "# Title"


# --- defensive front matter ------------------------------------------------------------------

# The 424-byte shape from the report: nine levels of nine aliases (387 million strings expanded).
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)

LIST_OF_TEXTS = "front matter '{}' must be text or a list of texts"


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        (BILLION_LAUGHS + "title: *i", "front matter refused: anchors (&name) are not allowed"),
        ("title: *nowhere", "front matter refused: aliases (*name) are not allowed"),
        ("title: &t T", "front matter refused: anchors (&name) are not allowed"),
        ("tags: " + "[" * 1000 + "]" * 1000, "front matter refused: nested deeper than 8 levels"),
        ("title: {a: 1}", "front matter 'title' must be text, not a mapping"),
        ("title: yes", "front matter 'title' must be text, not true/false (put it in quotes)"),
        ("tags: [a, [b]]", f"{LIST_OF_TEXTS.format('tags')}, not a list in a list"),
        ("author: [{name: A}]", f"{LIST_OF_TEXTS.format('author')}, not a mapping in a list"),
        ("title: !!binary aGVsbG8=", "front matter 'title' must be text, not bytes"),
        (
            "published: 0001-01-01T00:00:00",
            "front matter 'published' is out of range: '0001-01-01T00:00:00' (years 1990 to 2100)",
        ),
        (
            "publish_at: 9999-12-31T23:59:59-10:00",
            "front matter 'publish_at' is out of range: "
            "'9999-12-31T23:59:59-10:00' (years 1990 to 2100)",
        ),
        (
            "date: 1989-12-31",
            "front matter 'date' is out of range: '1989-12-31' (years 1990 to 2100)",
        ),
    ],
)  # fmt: skip
def test_front_matter_refuses_what_an_article_has_no_need_of(front: str, reason: str) -> None:
    title = "" if "title:" in front else "title: T\n"
    text = f"---\n{title}{front}\n---\nBody.\n"
    assert reason_of(text, markdown=True) == reason


def test_front_matter_longer_than_the_limit_is_refused_before_yaml() -> None:
    text = "---\ntitle: T\nnote: " + "x" * 70_000 + "\n---\nBody.\n"
    assert reason_of(text, markdown=True) == "front matter is longer than 64 KB"


def test_front_matter_in_range_dates_lists_and_unknown_fields_still_work() -> None:
    text = (
        "---\ntitle: T\npublished: 1990-01-01 00:00\npublish_at: 2100-12-31T23:59:59-10:00\n"
        "author: [Ann, Bo]\ntags: [a, 2026]\nseo: {keywords: [x, y]}\n---\nBody.\n"
    )
    article = parse_markdown(text, default_tz=SGT)
    assert article.published == datetime(1990, 1, 1, tzinfo=SGT)
    assert article.publish_at is not None and article.publish_at.year == 2100
    assert (article.author, article.tags) == ("Ann, Bo", ("a", "2026"))


def test_byline_date_out_of_range_is_refused() -> None:
    reason = reason_of("Old news\n\nJo Lim | January 01, 0001, 10:00 AM\n\nBody text here.\n")
    assert reason == (
        "the date in the byline is out of range: 'Jo Lim | January 01, 0001, 10:00 AM' "
        "(years 1990 to 2100)"
    )


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("**bold *and italic*** and _snake_case_ words", "bold and italic and snake_case words"),
        ("a [link](https://x.y/z \"title\") and ![img](i.png) and [ref][1]", "a link and and ref"),
        ("kept <!-- gone --> kept <!-- never closed", "kept kept <!-- never closed"),
        ("~~struck~~ `code` <https://x.y> <b>tag</b>", "struck code https://x.y tag"),
        ("*a " * 4000, ("*a " * 4000).strip()),  # unclosed marks stay, read in one pass
        ("[a" * 4000, "[a" * 4000),
    ],
)  # fmt: skip
def test_inline_markup_is_removed_and_unclosed_marks_stay(text: str, plain: str) -> None:
    assert strip_inline(text) == plain
