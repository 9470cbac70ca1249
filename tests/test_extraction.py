"""Article page extraction (content/extraction.py) and `newswire extract` on files and URLs."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import extract_cli
from content.extraction import MAX_ELEMENTS, MAX_HTML_BYTES, Extracted, extract
from tests.support.articles import FIXTURES
from tests.support.cli import parse_command

PAGES = FIXTURES / "pages"
WORDPRESS = PAGES / "wordpress-article.html"
META_ONLY = PAGES / "meta-only-article.html"
SGT = timezone(timedelta(hours=8))


def test_wordpress_page_metadata_comes_from_json_ld_and_open_graph() -> None:
    page = extract(WORDPRESS.read_bytes(), url="https://harbourtimes.example/tampines-hawker")
    assert page.title == "Hawker centre in Tampines to reopen after six-month renovation"
    # JSON-LD's people win over the <meta name="author"> tag.
    assert page.author == "Nur Aisyah, Daniel Tan"
    assert page.published == datetime(2024, 3, 14, 9, 30, tzinfo=SGT)
    assert page.image == "https://cdn.harbourtimes.example/uploads/2024/03/tampines-hawker.jpg"


def test_wordpress_page_body_is_the_article_without_furniture() -> None:
    page = extract(WORDPRESS.read_bytes())
    # The headline is the title, not the first paragraph of the body.
    assert page.paragraphs[0].startswith("The hawker centre at Tampines Street 11 will reopen")
    assert page.paragraphs[-1].startswith("Residents can find the full list of returning stalls")
    assert len(page.paragraphs) == 6
    for furniture in ("Follow us on Telegram", "Related stories", "chicken rice", "Privacy"):
        assert furniture not in page.text
    assert page.text == "\n\n".join(page.paragraphs)


def test_page_with_meta_tags_only() -> None:
    page = extract(META_ONLY.read_bytes(), url="https://islandgazette.example/news/ferry")
    assert page.title == "Ferry timetable changes from April"
    # article:author is a profile URL, not a name: the plain author tag is used.
    assert page.author == "Priya Raman"
    # A relative image resolves against <base href>, itself relative to the page URL.
    assert page.image == "https://islandgazette.example/news/img/ferry-terminal.jpg"
    assert page.paragraphs[0].startswith("The operator of the ferries to the southern islands")
    assert page.paragraphs[-1].startswith("Fares are unchanged.")
    assert "Share this article" not in page.text


def test_naive_time_needs_a_zone_and_relative_image_needs_a_url() -> None:
    html = META_ONLY.read_bytes()
    assert extract(html).published is None
    assert extract(html).image is None
    zoned = extract(html, timezone=ZoneInfo("Asia/Singapore"))
    assert zoned.published == datetime(2024, 3, 20, 7, 15, tzinfo=SGT)


def test_str_and_bytes_give_the_same_article() -> None:
    assert extract(WORDPRESS.read_text(encoding="utf-8")) == extract(WORDPRESS.read_bytes())


def test_text_input_is_not_decoded_again_by_its_meta_charset() -> None:
    html = WORDPRESS.read_text(encoding="utf-8").replace(
        '<meta charset="utf-8">', '<meta charset="iso-8859-1">'
    )
    html = html.replace("Madam Lim", "Madam Lîm Ĉ")
    assert "Madam Lîm Ĉ, who has sold fishball noodles" in extract(html).text


def test_extraction_never_opens_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction tried to reach the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # A short body sends extraction down trafilatura's fallback path as well.
    short = b"<html><body><p>Short note.</p><img src='/a.jpg'></body></html>"
    assert extract(short, url="https://example.com/short").paragraphs == ("Short note.",)
    assert extract(WORDPRESS.read_bytes(), url="https://example.com/a").paragraphs


EMPTY = Extracted(title=None, author=None, published=None, image=None, paragraphs=())


@pytest.mark.parametrize(
    "html",
    [b"", "", b"  \n\t ", b"\x00" * 4096, os.urandom(200_000), b"\x89PNG\r\n\x1a\n" + bytes(5000)],
    ids=["empty", "empty-str", "blank", "nul", "random", "png"],
)
def test_empty_or_binary_input_gives_an_empty_article(html: bytes | str) -> None:
    assert extract(html) == EMPTY


def test_ten_megabyte_page_is_cut_to_the_cap() -> None:
    html = b"<html><body><article><p>" + b"word " * 2_000_000 + b"</p></article></body></html>"
    page = extract(html)
    assert page.paragraphs
    assert len(page.text) <= MAX_HTML_BYTES


def test_page_with_too_many_elements_keeps_its_beginning() -> None:
    rows = b"".join(b"<p>Paragraph number %d of a very long page.</p>" % i for i in range(100_000))
    page = extract(b"<html><body><article>" + rows + b"</article></body></html>")
    assert page.paragraphs[0] == "Paragraph number 0 of a very long page."
    assert len(page.paragraphs) <= MAX_ELEMENTS


@pytest.mark.parametrize("tag", [b"div", b"b", b"table"])
def test_deeply_nested_tags_finish_with_a_result(tag: bytes) -> None:
    depth = 100_000
    html = b"<html><body>" + b"<%s>" % tag * depth + b"<p>Deep text.</p>" + b"</%s>" % tag * depth
    page = extract(html)
    assert isinstance(page, Extracted)
    assert page.title is None


def test_hostile_json_ld_is_ignored() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    html = (
        b'<html><head><script type="application/ld+json">' + deep + b"</script>"
        b'<script type="application/ld+json">{"@type": "NewsArticle", "author": 5,'
        b' "image": [null, {"url": 3}], "datePublished": "yesterday"}</script>'
        b"</head><body><h1>Hello</h1></body></html>"
    )
    page = extract(html)
    assert (page.title, page.author, page.published, page.image) == ("Hello", None, None, None)


def parse(*argv: str) -> argparse.Namespace:
    return parse_command(extract_cli.add_parser, "extract", *argv)


def test_cli_file_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert extract_cli.run(parse(str(WORDPRESS), "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"url", "title", "author", "published", "image", "text"}
    assert data["url"] is None
    assert data["author"] == "Nur Aisyah, Daniel Tan"
    assert data["published"] == "2024-03-14T09:30:00+08:00"
    paragraphs = data["text"].split("\n\n")
    assert len(paragraphs) == 6 and paragraphs[0].startswith("The hawker centre")


def test_cli_file_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert extract_cli.run(parse(str(META_ONLY))) == 0
    out = capsys.readouterr().out
    assert out.startswith("Ferry timetable changes from April\nauthor: Priya Raman\n")
    assert out.rstrip().endswith("until the end of April.")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("missing.html", None, "no such file"), ("photo.html", bytes(3000), "no article text found")],
)
def test_cli_failure_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert extract_cli.run(parse(str(path))) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err.lower()


async def test_cli_url_is_fetched_and_private_addresses_need_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def article(request: web.Request) -> web.Response:
        return web.Response(body=WORDPRESS.read_bytes(), content_type="text/html")

    app = web.Application()
    app.router.add_get("/news/hawker", article)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/news/hawker"))
        # run() owns its event loop, as it does from the command line.
        refused = await asyncio.to_thread(extract_cli.run, parse(url, "--json"))
        assert refused == 1
        assert "private" in capsys.readouterr().err
        code = await asyncio.to_thread(extract_cli.run, parse(url, "--json", "--allow-private"))
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["url"] == url
    assert data["title"] == "Hawker centre in Tampines to reopen after six-month renovation"
