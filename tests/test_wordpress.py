"""WordPress REST posts: the URL, parsing recorded-shape pages, and paging over local HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from content.fetching import Fetcher
from content.models import Block, BlockKind
from content.sources.base import Entry
from content.sources.html_text import html_blocks
from content.sources.wordpress import WordPressError, parse_posts, posts_url
from tests.support.http import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
SGT = ZoneInfo("Asia/Singapore")
SITE = "https://wp.example"


def posts(name: str) -> list[Entry]:
    data = (FIXTURES / name).read_bytes()
    return parse_posts(data, site=SITE, default_tz=SGT, source=f"wordpress:{SITE}")


def test_posts_url() -> None:
    url = posts_url("https://wp.example/news/", page=2, per_page=500)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://wp.example/news/wp-json/wp/v2/posts"
    )
    assert parse_qs(parts.query) == {
        "_embed": ["1"],
        "orderby": ["modified"],
        "order": ["desc"],
        "per_page": ["100"],
        "page": ["2"],
    }
    after = datetime(2026, 7, 2, 15, 0, 30, 123, tzinfo=timezone(timedelta(hours=8)))
    query = parse_qs(urlsplit(posts_url(SITE, page=1, modified_after=after)).query)
    assert query["modified_after"] == ["2026-07-02T07:00:30+00:00"]
    with pytest.raises(WordPressError):
        posts_url("wp.example", page=1)


def test_parse_a_page_of_posts() -> None:
    mrt, hawker = posts("posts_page1.json")
    assert mrt.key == "101"
    assert mrt.source == "wordpress:https://wp.example"
    assert mrt.title == "MRT delay on East–West Line & what to do"  # entities decoded
    assert mrt.url == "https://wp.example/2026/07/mrt-delay/"
    assert mrt.published == datetime(2026, 7, 2, 7, 15, tzinfo=UTC)  # date_gmt
    assert mrt.updated == datetime(2026, 7, 2, 7, 20, tzinfo=UTC)  # modified_gmt
    assert mrt.author == "Jane Doe"
    # Categories then tags, names decoded, WordPress's "Uncategorized" left out.
    assert mrt.tags == ("News & Politics", "Singapore", "MRT")
    assert mrt.image == "https://wp.example/wp-content/uploads/2026/07/cover.jpg"
    assert not mrt.withdrawn
    assert mrt.has_full_text and mrt.body_html is not None
    assert html_blocks(mrt.body_html) == (
        Block(
            BlockKind.PARAGRAPH,
            "Trains on the East-West Line were delayed for 40 minutes on Thursday.",
        ),
        Block(BlockKind.HEADING, "What happened"),
        Block(
            BlockKind.PARAGRAPH,
            "A signalling fault at Tanah Merah station caused the delay, the operator said.",
        ),
    )
    assert mrt.summary_html is not None and "40 minutes" in mrt.summary_html
    assert hawker.author == "Wei Ming Tan"
    assert hawker.tags == ("News & Politics",)
    assert hawker.image is None  # no featured media, no image in the body


def test_featured_media_error_object_falls_back_to_the_body_image() -> None:
    [older] = posts("posts_page2.json")
    # WordPress embeds {"code": "rest_forbidden", ...} for media it will not show.
    assert older.image is None
    assert older.key == "99"


def test_changed_status_withdraws_and_modified_gmt_marks_the_correction() -> None:
    before = {e.key: e for e in posts("posts_page1.json")}
    after = {e.key: e for e in posts("posts_after_changes.json")}
    assert after["101"].withdrawn and not before["101"].withdrawn
    assert after["102"].title == "Hawker prices rise 6% in a year"
    assert after["102"].updated == datetime(2026, 7, 2, 9, tzinfo=UTC)
    assert before["102"].updated is not None
    assert after["102"].updated > before["102"].updated
    assert after["102"].article_id == before["102"].article_id  # same story, corrected


def test_post_without_gmt_dates_uses_the_site_zone() -> None:
    post = {
        "id": 5,
        "date": "2026-07-02T15:00:00",
        "link": "/2026/07/x/",
        "title": {"rendered": "X"},
    }
    [entry] = parse_posts(json.dumps([post]).encode(), site=SITE, default_tz=SGT, source="wp")
    assert entry.published == datetime(2026, 7, 2, 15, tzinfo=SGT)
    assert entry.url == "https://wp.example/2026/07/x/"


def test_password_protected_content_is_not_taken() -> None:
    post = {
        "id": 6,
        "title": {"rendered": "Members only"},
        "content": {"rendered": "", "protected": True},
        "excerpt": {"rendered": "<p>There is an excerpt.</p>", "protected": True},
    }
    [entry] = parse_posts(json.dumps([post]).encode(), site=SITE, default_tz=SGT, source="wp")
    assert entry.body_html is None and entry.summary_html is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>not json</html>", "not WordPress posts"),
        (b'{"posts": []}', "not a list"),
        (
            b'{"code":"rest_post_invalid_page_number","message":"The page number requested is'
            b' larger than the number of pages available.","data":{"status":400}}',
            "WordPress answered rest_post_invalid_page_number",
        ),
    ],
)
def test_not_posts(body: bytes, reason: str) -> None:
    with pytest.raises(WordPressError, match=reason):
        parse_posts(body, site=SITE, default_tz=SGT, source="wp")


# Over HTTP, against a server that pages like WordPress.


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


def serve_wordpress(server: LocalServer, pages: list[str]) -> None:
    async def posts_route(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        headers = {"X-WP-Total": "3", "X-WP-TotalPages": str(len(pages))}
        if page > len(pages):
            body = {"code": "rest_post_invalid_page_number", "message": "Too far.", "data": {}}
            return web.json_response(body, status=400, headers=headers)
        data = (FIXTURES / pages[page - 1]).read_bytes()
        return web.Response(body=data, content_type="application/json", headers=headers)

    server.handle("/wp-json/wp/v2/posts", posts_route)


async def test_paging_through_a_site_over_http(server: LocalServer) -> None:
    serve_wordpress(server, ["posts_page1.json", "posts_page2.json"])
    site = server.url("/")
    fetcher = Fetcher(allow_private=True, user_agent="Newswire/test")
    entries: list[Entry] = []
    try:
        page = 1
        while True:
            got = await fetcher.fetch(posts_url(site, page=page), accept="application/json")
            entries += parse_posts(got.body, site=site, default_tz=SGT, source=f"wordpress:{site}")
            if page >= int(got.headers["x-wp-totalpages"]):
                break
            page += 1
        serve_wordpress(server, ["posts_after_changes.json"])
        got = await fetcher.fetch(posts_url(site, page=1), accept="application/json")
        changed = parse_posts(got.body, site=site, default_tz=SGT, source=f"wordpress:{site}")
    finally:
        await fetcher.close()
    assert [e.key for e in entries] == ["101", "102", "99"]
    assert [(e.key, e.withdrawn) for e in changed] == [("101", True), ("102", False)]
    sent = server.hits("/wp-json/wp/v2/posts")
    assert [parse_qs(s.query)["page"] for s in sent] == [["1"], ["2"], ["1"]]
    assert all(parse_qs(s.query)["_embed"] == ["1"] for s in sent)
