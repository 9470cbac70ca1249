"""Feed parsing on hand-made fixtures of real feeds' hard cases, autodiscovery, and HTML text."""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from content.fetching import Fetcher
from content.models import Block, BlockKind
from content.sources.base import fallback_key
from content.sources.feeds import (
    FEED_ACCEPT,
    FeedError,
    ParsedFeed,
    decode_feed,
    discover_feeds,
    parse_date,
    parse_feed,
)
from content.sources.html_text import first_image, html_blocks, html_paragraphs, plain_text
from tests.support.cli import cli_env, run_cli
from tests.support.http import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
SGT = ZoneInfo("Asia/Singapore")
BRT = timezone(timedelta(hours=-3))


def parse(name: str, content_type: str | None = None, url: str | None = None) -> ParsedFeed:
    return parse_feed(
        (FIXTURES / name).read_bytes(),
        url=url or "https://feeds.example/feed",
        content_type=content_type,
        default_tz=SGT,
        source="feed:test",
    )


def test_mothership_shaped_feed_reads_naive_times_as_the_source_zone() -> None:
    feed = parse("mothership_naive_sgt.xml")
    assert feed.title == "Example.SG - News from Singapore, Asia and around the world"
    assert feed.link == "https://example.sg"
    [entry] = feed.entries
    # pubDate 2026-07-02T15:15:00 without an offset is Singapore time, not UTC.
    assert entry.published == datetime(2026, 7, 2, 15, 15, tzinfo=SGT)
    assert entry.published.utcoffset() == timedelta(hours=8)
    assert entry.title.startswith("Man, 34, fined S$3,000")
    assert entry.key == "https://example.sg/2026/07/e-scooter-kick-fine/"
    assert entry.url == "https://example.sg/2026/07/e-scooter-kick-fine/"
    assert entry.author == "Alex Lim"
    assert entry.image == "https://static.example.sg/1/2026/07/cover.png"
    assert entry.body_html is not None and "<h3>What happened</h3>" in entry.body_html
    assert entry.summary_html is not None and "frustrated" in entry.summary_html
    assert entry.source == "feed:test"
    assert entry.has_full_text


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("undeclared_koi8r.xml", "Новости дня: правительство объявило о новых мерах поддержки"),
        ("undeclared_gb2312.xml", "新加坡政府宣布新的住房政策"),
        ("undeclared_shift_jis.xml", "東京都が新しい交通政策を発表しました"),
        ("undeclared_euc_kr.xml", "서울시, 새로운 대중교통 정책 발표"),
        (
            "undeclared_latin1.xml",
            "Presidente anuncia reforma da previdência e mudanças no ensino",
        ),
    ],
)
def test_undeclared_encodings_are_detected(name: str, title: str) -> None:
    # Neither an HTTP charset nor an XML declaration names the encoding.
    assert [e.title for e in parse(name).entries] == [title]
    assert [e.title for e in parse(name, content_type="text/xml").entries] == [title]


def test_undeclared_encodings_are_detected_without_feedparser() -> None:
    # feedparser alone guesses only when chardet happens to be installed; decode_feed does not.
    body = (FIXTURES / "undeclared_koi8r.xml").read_bytes()
    assert "правительство" in decode_feed(body, None)


def test_http_charset_is_used_when_given() -> None:
    body = "<rss version='2.0'><channel><title>Т</title><item><title>Привет мир</title>"
    data = (body + "<guid>1</guid></item></channel></rss>").encode("cp1251")
    feed = parse_feed(
        data,
        url="https://x.example/",
        content_type="application/rss+xml; charset=windows-1251",
        default_tz=UTC,
        source="s",
    )
    assert feed.entries[0].title == "Привет мир"


def test_utf8_served_with_a_wrong_latin1_charset_header_is_read_as_utf8() -> None:
    body = (FIXTURES / "declares_utf16_is_utf8.xml").read_bytes()
    body = body.replace(b' encoding="UTF-16"', b"")
    feed = parse_feed(
        body,
        url="https://x.example/",
        content_type="application/rss+xml; charset=ISO-8859-1",
        default_tz=UTC,
        source="s",
    )
    # feedparser alone trusts the header and gives "CafÃ© reopens after â‚¬2m ...".
    assert feed.entries[0].title == "Café reopens after €2m renovation — “a new start”"


def test_latin1_served_with_a_wrong_utf8_charset_header_is_detected() -> None:
    feed = parse("undeclared_latin1.xml", content_type="application/rss+xml; charset=utf-8")
    assert feed.entries[0].title.startswith("Presidente anuncia reforma da previdência")


def test_json_feed_with_a_bom_and_no_content_type() -> None:
    body = codecs.BOM_UTF8 + (FIXTURES / "jsonfeed_10.json").read_bytes()
    feed = parse_feed(body, url="https://x.example/", default_tz=UTC, source="s")
    assert [e.title for e in feed.entries] == ["One-oh"]


def test_a_file_declaring_utf16_that_is_utf8() -> None:
    [entry] = parse("declares_utf16_is_utf8.xml").entries
    assert entry.title == "Café reopens after €2m renovation — “a new start”"
    assert entry.key == "cafe-1"
    assert entry.url == "https://news.example/cafe"


def test_real_utf16_with_a_bom_still_reads() -> None:
    text = "<?xml version='1.0' encoding='utf-16'?><rss version='2.0'><channel><title>T</title>"
    text += "<item><title>Über</title><guid>u</guid></item></channel></rss>"
    feed = parse_feed(text.encode("utf-16"), url="https://x.example/", default_tz=UTC, source="s")
    assert [e.title for e in feed.entries] == ["Über"]


def test_portuguese_dates_markup_in_pubdate_and_naive_iso() -> None:
    feed = parse("portuguese_dates.xml")
    assert feed.ttl == 15 * 60
    published = {e.key: e.published for e in feed.entries}
    assert published == {
        "jornal-1001": datetime(2026, 1, 2, 10, 30, tzinfo=BRT),
        "jornal-1002": datetime(2026, 3, 15, 8, 5, tzinfo=BRT),
        "jornal-1003": datetime(2026, 2, 4, 14, 0, tzinfo=UTC),  # inside a <span>
        "jornal-1004": datetime(2026, 2, 5, 9, 15, tzinfo=SGT),  # naive: the source's zone
    }
    assert feed.entries[0].tags == ("Política", "Economia")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 10 Jun 2026 04:00:00 GMT", datetime(2026, 6, 10, 4, tzinfo=UTC)),
        ("Tue, 10 Jun 2026 04:00:00", datetime(2026, 6, 10, 4, tzinfo=SGT)),
        ("2026-06-10T04:00:00Z", datetime(2026, 6, 10, 4, tzinfo=UTC)),
        ("2026-06-10T04:00:00.123+02:00", datetime(2026, 6, 10, 2, 0, 0, 123000, tzinfo=UTC)),
        ("2026-06-10 04:00", datetime(2026, 6, 10, 4, tzinfo=SGT)),
        ("ter, 10 jun 2026 04:00:00 -0300", datetime(2026, 6, 10, 4, tzinfo=BRT)),
        ("10 de dezembro de 2026 04:00:00 -0300", datetime(2026, 12, 10, 4, tzinfo=BRT)),
        ("<b>Tue, 10 Jun 2026 04:00:00 +0000</b>", datetime(2026, 6, 10, 4, tzinfo=UTC)),
        ("yesterday", None),
        ("Tue, 10 Jun 1066 04:00:00 GMT", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text, SGT) == expected


def test_titles_are_plain_text_links_absolute_and_untracked() -> None:
    feed = parse("titles_links_guids.xml")
    assert feed.title == "News & Views"
    linked, guid_only, permalink_guid, bare = feed.entries
    # Markup dropped, entities decoded, twice-escaped ones too.
    assert linked.title == 'Breaking: Minister’s "plan" & what it means'
    assert linked.url == "https://news.example/politics/plan?page=2"  # utm_*, fbclid gone
    assert linked.key == "https://news.example/politics/plan?page=2"  # no guid: the link
    assert linked.image == "https://img.example/plan.jpg"  # media:content
    assert guid_only.title == "Café owners say “yes”"
    assert guid_only.key == "tag:news.example,2026:item-42"
    assert guid_only.url is None  # a guid that is not a link makes no link up
    assert guid_only.image == "https://img.example/cafe.png"  # an image enclosure
    assert permalink_guid.url == "https://news.example/world/guid-link"
    assert permalink_guid.image == "https://img.example/thumb.jpg"  # media:thumbnail
    assert bare.key == fallback_key("No guid, no link, no date", None)
    assert bare.url is None and bare.published is None


def test_atom_xml_base_makes_links_and_images_absolute() -> None:
    feed = parse("atom10_xml_base.xml")
    assert feed.title == "Blog & more"
    assert feed.link == "https://blog.example/"
    first, naive = feed.entries
    assert first.title == "Relative links & bases"
    assert first.url == "https://blog.example/news/2026/03/relative-links.html"
    assert first.image == "https://blog.example/news/2026/03/images/lead.jpg"
    assert first.author == "Ana Souza"
    assert first.tags == ("Technology",)
    assert first.published == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert first.updated == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert first.summary_html == "Short."
    assert first.body_html is not None
    assert html_blocks(first.body_html) == (
        Block(BlockKind.PARAGRAPH, "First paragraph."),
        Block(BlockKind.HEADING, "Section"),
        Block(BlockKind.PARAGRAPH, "Second & last."),
    )
    assert naive.url == "https://blog.example/elsewhere/naive"
    assert naive.published == datetime(2026, 3, 3, 8, tzinfo=SGT)


def test_relative_links_without_xml_base_resolve_against_the_feed_url() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title><link>/</link>
    <item><title>Rel</title><link>/2026/rel?utm_source=x</link></item></channel></rss>"""
    feed = parse_feed(body, url="https://site.example/feed/", default_tz=UTC, source="s")
    assert feed.link == "https://site.example/"
    assert feed.entries[0].url == "https://site.example/2026/rel"


@pytest.mark.parametrize(
    ("name", "title", "key", "url"),
    [
        (
            "atom03.xml",
            "Atom 0.3 entry",
            "tag:old.example,2026:1",
            "https://old.example/2026/01/entry",
        ),
        ("rss10_rdf.xml", "RSS 1.0 item", "https://rdf.example/a", "https://rdf.example/a"),
        ("rss091.xml", "RSS 0.91 item", "https://old91.example/item", "https://old91.example/item"),
    ],
)
def test_older_formats(name: str, title: str, key: str, url: str) -> None:
    [entry] = parse(name).entries
    assert (entry.title, entry.key, entry.url) == (title, key, url)


def test_atom03_and_rss10_details() -> None:
    [atom] = parse("atom03.xml").entries
    assert atom.published == datetime(2026, 1, 10, 9, tzinfo=UTC)
    assert atom.body_html == "<p>Escaped body.</p>"
    [rdf] = parse("rss10_rdf.xml").entries
    assert rdf.author == "Kenji Sato"
    assert rdf.tags == ("Science",)
    assert rdf.published == datetime(2026, 1, 4, 22, tzinfo=UTC)


def test_ill_formed_xml_is_read_by_the_tolerant_parser() -> None:
    feed = parse("ill_formed.xml")
    assert feed.title == "Broken & proud"
    assert [(e.key, e.title) for e in feed.entries] == [
        ("broken-1", "Fish & chips shop reopens"),
        ("broken-2", "Second item survives"),
    ]
    assert feed.entries[0].url == "https://broken.example/fish?a=1&b=2"


def test_truncated_cdata_keeps_the_item_and_its_text() -> None:
    feed = parse("truncated_cdata.xml")
    assert [e.key for e in feed.entries] == ["cut-1", "cut-2"]
    cut = feed.entries[1]
    assert cut.body_html is not None
    assert html_paragraphs(cut.body_html) == (
        "The first paragraph arrived.",
        "The second was cut off in the mid",
    )


def test_json_feed_11() -> None:
    feed = parse("jsonfeed_11.json", content_type="application/feed+json")
    assert (feed.title, feed.link) == ("JSON & News", "https://json.example/")
    story, text_only, untitled = feed.entries
    assert story.key == "2347259"
    assert story.title == "A story in JSON"
    assert story.url == "https://json.example/2026/02/story"
    assert story.published == datetime(2026, 2, 10, 15, tzinfo=UTC)
    assert story.updated == datetime(2026, 2, 11, 15, tzinfo=UTC)
    assert story.author == "Lee Wong, Sam Tan"
    assert story.tags == ("World", "Asia")
    assert story.image == "https://json.example/img/cover.jpg"
    assert story.summary_html == "Summary here."
    assert text_only.key == "42"
    assert text_only.paragraphs == ("First paragraph.", "Second paragraph.")
    assert text_only.published == datetime(2026, 2, 12, 8, tzinfo=SGT)
    assert untitled.title == "An untitled item whose text becomes its title."
    assert untitled.key == "https://elsewhere.example/linked"


def test_json_feed_10_author_and_detection_without_content_type() -> None:
    [entry] = parse("jsonfeed_10.json").entries
    assert (entry.author, entry.title) == ("Old Author", "One-oh")


@pytest.mark.parametrize("body", [b"", b"<html><body>not a feed", b'{"items": 3}', b"{nope"])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedError, match="not a"):
        parse_feed(body, url="https://x.example/", default_tz=UTC, source="s")


def test_discover_feeds() -> None:
    page = (FIXTURES / "page_with_feeds.html").read_bytes()
    assert discover_feeds(page, "https://news.example/section/story") == [
        "https://news.example/feed/",
        "https://news.example/section/atom.xml",
        "https://news.example/feed.json",
    ]
    assert discover_feeds("<p>no feeds</p>", "https://x.example/") == []


# Fetched over HTTP, as the poller will.


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


async def test_fetched_feed_with_wrong_charset_header_and_etag(server: LocalServer) -> None:
    body = (FIXTURES / "declares_utf16_is_utf8.xml").read_bytes()
    url = server.serve(
        "/feed", body, content_type="text/xml; charset=iso-8859-1", etag='"1"', encoding="gzip"
    )
    fetcher = Fetcher(allow_private=True, user_agent="Newswire/test")
    try:
        got = await fetcher.fetch(url, accept=FEED_ACCEPT)
        feed = parse_feed(
            got.body,
            url=got.url,
            content_type="text/xml; charset=iso-8859-1",
            default_tz=UTC,
            source=f"feed:{url}",
        )
        assert feed.entries[0].title.startswith("Café reopens")
        assert (await fetcher.fetch(url, etag=got.etag)).not_modified
    finally:
        await fetcher.close()
    assert server.hits("/feed")[0].headers["Accept"] == FEED_ACCEPT


# HTML to text.


def test_html_blocks_split_blocks_keep_headings_and_drop_noise() -> None:
    html = """<div><p>One &amp; <b>two</b></p>
    <script>var x = "<p>no</p>";</script><style>p{}</style>
    <figure><img src="a.jpg"><figcaption>Photo: agency</figcaption></figure>
    <h2>A  heading</h2>Loose text<br>same paragraph<br><br>new paragraph
    <ul><li>item one</li><li>item two</li></ul><blockquote>Quote</blockquote></div>"""
    assert html_blocks(html) == (
        Block(BlockKind.PARAGRAPH, "One & two"),
        Block(BlockKind.HEADING, "A heading"),
        Block(BlockKind.PARAGRAPH, "Loose text same paragraph"),
        Block(BlockKind.PARAGRAPH, "new paragraph"),
        Block(BlockKind.PARAGRAPH, "item one"),
        Block(BlockKind.PARAGRAPH, "item two"),
        Block(BlockKind.PARAGRAPH, "Quote"),
    )
    assert first_image(html) == "a.jpg"
    # Newlines in the HTML source are spaces; only <br><br> or blocks split paragraphs.
    assert html_paragraphs("<p>one\n\ntwo</p>") == ("one two",)
    assert first_image('<img src="data:image/png;base64,xx"><img src="b.png">') == "b.png"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Minister&amp;#8217;s plan", "Minister’s plan"),
        ("<em>Big</em> news &mdash; today", "Big news — today"),
        ("A &lt;em&gt;JSON&lt;/em&gt; title", "A JSON title"),
        ("x < y and AT&T", "x < y and AT&T"),
        ("  spaced\n out  ", "spaced out"),
    ],
)
def test_plain_text(value: str, expected: str) -> None:
    assert plain_text(value) == expected


# `newswire feed`.


async def test_cli_feed_file_as_json(tmp_path: Path) -> None:
    done = await run_cli(
        "feed",
        str(FIXTURES / "mothership_naive_sgt.xml"),
        "--json",
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["title"] == "Example.SG - News from Singapore, Asia and around the world"
    assert data["entries"] == [
        {
            "id": "https://example.sg/2026/07/e-scooter-kick-fine/",
            "title": "Man, 34, fined S$3,000 for kicking e-scooter parked at Tampines void deck",
            "url": "https://example.sg/2026/07/e-scooter-kick-fine/",
            "published": "2026-07-02T15:15:00+08:00",
            "summary": 'He told the court he was "frustrated" by repeated obstructions.',
            "image": "https://static.example.sg/1/2026/07/cover.png",
        }
    ]


async def test_cli_feed_url_and_its_failures(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve(
        "/feed",
        (FIXTURES / "atom10_xml_base.xml").read_bytes(),
        content_type="application/atom+xml",
    )
    gone = server.serve("/gone", "", status=410)
    allowed = cli_env(tmp_path, ALLOW_PRIVATE_URLS="true")
    done = await run_cli("feed", url, env=allowed, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["Blog & more", "2 entries"]
    assert "https://blog.example/news/2026/03/relative-links.html" in done.stdout

    refused = await run_cli(
        "feed", url, env=cli_env(tmp_path, ALLOW_PRIVATE_URLS="false"), cwd=tmp_path
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"newswire: {url}: 127.0.0.1 is a private or local address: not fetched"
    ]
    assert len(server.hits("/feed")) == 1  # the refused run sent nothing

    failed = await run_cli("feed", gone, env=allowed, cwd=tmp_path)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr.strip() == f"newswire: {gone}: HTTP 410 Gone from 127.0.0.1"

    not_feed = tmp_path / "page.html"
    not_feed.write_text("<html><body>Hello</body></html>")
    for path, reason in ((not_feed, "not a feed"), (tmp_path / "missing.xml", "No such file")):
        bad = await run_cli("feed", str(path), env=allowed, cwd=tmp_path)
        assert bad.returncode == 1
        assert len(bad.stderr.strip().splitlines()) == 1 and reason in bad.stderr
