"""Rendering: HTML that the sandbox's TDLib-port parser accepts, within Telegram's limits."""

from __future__ import annotations

import gettext
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup

from bot import callbacks, commands, rendering
from bot.sandbox import TelegramHTMLError, parse_html
from content.models import (
    Article,
    Block,
    BlockKind,
    SearchHit,
    Subscription,
    SubscriptionKind,
    TopicCount,
)
from tests.support.articles import HOSTILE, LONG_ID, SGT, hostile_article, rich_article

COMMANDS = commands.reader_commands()


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parsed(html_text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse like Telegram would; a TelegramHTMLError fails the test with its description."""
    return parse_html(html_text)


def entity_text(text: str, entity: dict[str, Any]) -> str:
    """The text an entity covers (offsets are UTF-16 units)."""
    units = text.encode("utf-16-le")
    start, length = entity["offset"] * 2, entity["length"] * 2
    return units[start : start + length].decode("utf-16-le")


def buttons(markup: InlineKeyboardMarkup | None) -> list[Any]:
    return [b for row in (markup.inline_keyboard if markup else ()) for b in row]


# -- escaping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "a < b",
        "a > b",
        "Fish & chips",
        "&amp; already escaped",
        "&lt;b&gt;",
        "\"double\" and 'single'",
        "🇸🇬 hawker 🍜 👨‍👩‍👧",
        "مرحبا بالعالم",
        "עברית \u202ertl override\u202c",
        "<b>bold?</b>",
        HOSTILE,
    ],
)
def test_escape_round_trips_through_telegram_parser(raw: str) -> None:
    text, entities = parsed(rendering.escape(raw))
    assert text == raw
    assert entities == []


def test_unescaped_text_would_be_refused() -> None:
    # The parser under the tests is strict: if escaping were skipped, these would fail.
    with pytest.raises(TelegramHTMLError):
        parse_html("a < b")
    with pytest.raises(TelegramHTMLError):
        parse_html("<p>para</p>")


def test_escape_attr_quotes() -> None:
    out = rendering.escape_attr('say "hi" & <go>')
    assert '"' not in out
    assert "&quot;" in out and "&amp;" in out and "&lt;" in out


def test_article_text_with_literal_tags_comes_out_escaped() -> None:
    story = rich_article(
        title="Why <b> matters",
        summary="Editors write <b>bold</b> and <i>italics</i> & more.",
        blocks=(Block(BlockKind.PARAGRAPH, "Use <b>tags</b> & <a href='x'>links</a> freely."),),
    )
    card_text, card_entities = parsed(rendering.article_card(story, zone=SGT).html)
    assert "Editors write <b>bold</b> and <i>italics</i> & more." in card_text
    # Only the renderer's own markup becomes entities: bold title, italic byline.
    covered = {entity_text(card_text, e) for e in card_entities}
    assert "bold" not in covered and "italics" not in covered
    assert "Why <b> matters" in covered

    page_text, page_entities = parsed(rendering.article_pages(story, zone=SGT)[0])
    assert "Use <b>tags</b> & <a href='x'>links</a> freely." in page_text
    assert all(e["type"] != "text_link" for e in page_entities)
    assert "tags" not in {entity_text(page_text, e) for e in page_entities}


# -- every builder produces valid Telegram HTML ----------------------------------


def all_rendered() -> list[tuple[str, rendering.Rendered]]:
    story = hostile_article()
    bare = hostile_article(url=None, author=None, published=None, topics=(), summary="")
    hits = [SearchHit(story, 1.0), SearchHit(bare, 0.5)]
    subs = [
        Subscription(1, SubscriptionKind.TOPIC, "bishan-park"),
        Subscription(1, SubscriptionKind.KEYWORD, HOSTILE.lower()),
    ]
    return [
        ("welcome", rendering.welcome(first_name=HOSTILE, article_count=3, commands=COMMANDS)),
        ("welcome-anon", rendering.welcome(first_name=None, article_count=0, commands=COMMANDS)),
        ("help", rendering.help_message(COMMANDS)),
        ("hint", rendering.hint()),
        ("hint-unknown", rendering.hint("/<frob>&")),
        ("notice", rendering.notice(HOSTILE)),
        ("card", rendering.article_card(story, zone=SGT)),
        ("card-bare", rendering.article_card(bare, zone=SGT)),
        ("alert", rendering.reader_alert(story, zone=SGT, reason=HOSTILE)),
        ("alert-noreason", rendering.reader_alert(bare, zone=SGT, reason=None)),
        ("channel", rendering.channel_post(story, bot_username="newswire_bot")),
        ("channel-bare", rendering.channel_post(bare, bot_username="newswire_bot")),
        ("latest", rendering.latest([story, bare], zone=SGT)),
        ("latest-empty", rendering.latest([], zone=SGT)),
        ("search", rendering.search_results(HOSTILE, hits, zone=SGT)),
        ("search-empty", rendering.search_results(HOSTILE, [], zone=SGT)),
        ("topics", rendering.topics([TopicCount("food", 3), TopicCount("bishan-park", 1)])),
        ("topics-empty", rendering.topics([])),
        ("subs", rendering.subscription_list(subs)),
        ("subs-empty", rendering.subscription_list([])),
        ("subscribed-topic", rendering.subscribed(SubscriptionKind.TOPIC, "food", created=True)),
        ("subscribed-kw", rendering.subscribed(SubscriptionKind.KEYWORD, HOSTILE, created=True)),
        (
            "subscribed-again",
            rendering.subscribed(SubscriptionKind.KEYWORD, HOSTILE, created=False),
        ),
        ("unsubscribed", rendering.unsubscribed(HOSTILE, removed=True)),
        ("not-subscribed", rendering.unsubscribed(HOSTILE, removed=False)),
    ]


@pytest.mark.parametrize(
    ("name", "message"), all_rendered(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_builder_yields_valid_html(name: str, message: rendering.Rendered) -> None:
    text, _ = parsed(message.html)
    assert text.strip(), f"{name} renders an empty message"
    assert utf16(text) <= rendering.MESSAGE_LIMIT


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (n, m)
        for n, m in all_rendered()
        if n
        in {
            "notice",
            "card",
            "alert",
            "channel",
            "latest",
            "search",
            "not-subscribed",
            "subscribed-kw",
        }
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_user_text_appears_verbatim(name: str, message: rendering.Rendered) -> None:
    text, _ = parsed(message.html)
    # The hostile text (or its shortened head) is shown as the reader typed it.
    assert HOSTILE[:20] in text or HOSTILE.lower()[:20] in text


def test_article_pages_and_page_keyboards_are_valid() -> None:
    story = hostile_article()
    pages = rendering.article_pages(story, zone=SGT)
    for page in pages:
        text, _ = parsed(page)
        assert HOSTILE in text
    for number in range(3):
        markup = rendering.page_keyboard(story, number, 3)
        assert markup is not None
        for button in buttons(markup):
            assert button.callback_data or button.url


def test_plain_text_fallback_matches_what_telegram_shows() -> None:
    message = rendering.article_card(hostile_article(), zone=SGT).html
    assert rendering.plain_text(message) == parsed(message)[0]


# -- splitting ------------------------------------------------------------------


def long_article() -> Article:
    """~30,000+ characters: emoji-laden paragraphs, a heading, and two 10,000-character blocks."""
    paragraphs: list[Block] = []
    n = 0
    for p in range(60):
        words = []
        for _ in range(40 + (p * 7) % 50):
            words.append(f"w{n}🎉" if n % 4 == 0 else f"word{n}")
            n += 1
        text = " ".join(words) + "."
        paragraphs.append(Block(BlockKind.PARAGRAPH, text))
        if p == 10:
            paragraphs.append(Block(BlockKind.HEADING, "A heading & <more>"))
    # One paragraph of 10,000 characters with no paragraph break (and no sentence end).
    single: list[str] = []
    while len(" ".join(single)) < 10_000:
        single.append(f"s{len(single)}🚀" if len(single) % 3 == 0 else f"long{len(single)}")
    paragraphs.append(Block(BlockKind.PARAGRAPH, " ".join(single)))
    return rich_article(title="A very long story 📰", blocks=tuple(paragraphs), summary="Long.")


def test_long_article_fixture_is_what_the_test_claims() -> None:
    story = long_article()
    assert len(story.body_text) >= 30_000
    assert utf16(story.body_text) > len(story.body_text)  # emoji: UTF-16 length differs
    assert max(len(b.text) for b in story.blocks) >= 10_000


def page_body(page_text: str) -> str:
    """A page's text without its title line."""
    return page_text.split("\n\n", 1)[1]


def test_long_article_pages_fit_and_lose_nothing() -> None:
    story = long_article()
    pages = rendering.article_pages(story, zone=SGT)
    assert len(pages) >= 8
    texts = [parsed(page)[0] for page in pages]
    for number, text in enumerate(texts, start=1):
        assert utf16(text) <= rendering.MESSAGE_LIMIT, f"page {number} is {utf16(text)} units"
        assert text.startswith(f"A very long story 📰 ({number}/{len(pages)})")
    shown_words = " ".join(page_body(t) for t in texts).split()
    expected = [w for b in story.blocks for w in b.text.split()]
    # Every word, whole and in order (standfirst and byline come first).
    start = shown_words.index(expected[0])
    assert shown_words[start:] == expected


def test_a_block_without_any_space_is_cut_but_kept_whole() -> None:
    blob = "".join(chr(0x4E00 + i % 500) + ("😀" if i % 7 == 0 else "") for i in range(10_000))
    story = rich_article(
        title="Blob",
        standfirst=None,
        author=None,
        published=None,
        blocks=(Block(BlockKind.PARAGRAPH, blob),),
    )
    pages = rendering.article_pages(story, zone=SGT)
    texts = [parsed(page)[0] for page in pages]
    assert len(texts) >= 3
    assert all(utf16(t) <= rendering.MESSAGE_LIMIT for t in texts)
    assert "".join(page_body(t) for t in texts) == blob


@pytest.mark.parametrize("limit", [200, 500, 1000])
def test_smaller_limits_are_honoured(limit: int) -> None:
    story = long_article()
    pages = rendering.article_pages(story, zone=SGT, limit=limit)
    assert all(utf16(parsed(p)[0]) <= limit for p in pages)


def test_escaping_heavy_article_counts_parsed_length_not_html_length() -> None:
    story = rich_article(blocks=(Block(BlockKind.PARAGRAPH, "& < > " * 3000),))
    pages = rendering.article_pages(story, zone=SGT)
    texts = [parsed(p)[0] for p in pages]
    assert all(utf16(t) <= rendering.MESSAGE_LIMIT for t in texts)
    assert all(len(p.encode()) <= 32768 for p in pages)  # Telegram's raw-text byte cap
    assert "".join(page_body(t) for t in texts).count("&") >= 3000


def test_short_article_is_one_page_without_numbering() -> None:
    pages = rendering.article_pages(rich_article(), zone=SGT)
    assert len(pages) == 1
    text, entities = parsed(pages[0])
    assert text.startswith("Otters & <friends> at Bishan\n\n")
    assert "(1/1)" not in text
    bold = {entity_text(text, e) for e in entities if e["type"] == "bold"}
    assert {"Otters & <friends> at Bishan", "What the experts say"} <= bold


def test_long_standfirst_still_fits() -> None:
    story = rich_article(standfirst="word " * 1000)
    pages = rendering.article_pages(story, zone=SGT)
    assert all(utf16(parsed(p)[0]) <= rendering.MESSAGE_LIMIT for p in pages)


# -- callback data --------------------------------------------------------------


def keyboard_of_everything(article_id: str) -> list[InlineKeyboardMarkup | None]:
    story = rich_article(id=article_id)
    long_topic = "t" * 70
    subs = [
        Subscription(1, SubscriptionKind.TOPIC, "bishan-park"),
        Subscription(1, SubscriptionKind.KEYWORD, "k" * 128),
        Subscription(1, SubscriptionKind.KEYWORD, "é" * 40),
    ]
    return [
        rendering.article_card(story, zone=SGT).keyboard,
        rendering.reader_alert(story, zone=SGT, reason="food").keyboard,
        rendering.channel_post(story, bot_username="newswire_bot").keyboard,
        rendering.latest([story] * 20, zone=SGT).keyboard,
        rendering.search_results("q", [SearchHit(story, 1.0)], zone=SGT).keyboard,
        rendering.topics([TopicCount("food", 1), TopicCount(long_topic, 2)]).keyboard,
        rendering.subscription_list(subs).keyboard,
        *(rendering.page_keyboard(story, p, 120) for p in (0, 1, 99, 119)),
    ]


@pytest.mark.parametrize("article_id", ["a", "017573997759", LONG_ID])
def test_every_callback_data_fits_64_bytes(article_id: str) -> None:
    seen = 0
    for markup in keyboard_of_everything(article_id):
        for button in buttons(markup):
            if button.callback_data is not None:
                seen += 1
                assert 1 <= len(button.callback_data.encode("utf-8")) <= 64, button
                # Built by its typed class: exactly one kind (and so one handler) reads it back.
                kinds = [k for k in callbacks.ALL_BUTTONS if k.matches(button.callback_data)]
                assert len(kinds) == 1, button
    assert seen >= 30


def test_page_keyboard_navigates() -> None:
    story = rich_article(id=LONG_ID)
    first = [b.callback_data for b in buttons(rendering.page_keyboard(story, 0, 3))]
    assert f"p:{LONG_ID}:1" in first and f"p:{LONG_ID}:-1" not in first
    middle = [b.callback_data for b in buttons(rendering.page_keyboard(story, 1, 3))]
    assert f"p:{LONG_ID}:0" in middle and f"p:{LONG_ID}:2" in middle
    last = [b.callback_data for b in buttons(rendering.page_keyboard(story, 2, 3))]
    assert f"p:{LONG_ID}:3" not in last and f"r:{LONG_ID}" in last


# -- small formatters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("food", "#food"),
        ("bishan-park", "#bishan_park"),
        ("war-conflict", "#war_conflict"),
        ("hawker centres", "#hawker_centres"),
        ("-edge-", "#edge"),
        ("covid19", "#covid19"),
    ],
)
def test_hashtag(topic: str, expected: str) -> None:
    assert rendering.hashtag(topic) == expected


def test_hashtag_is_one_telegram_hashtag() -> None:
    for topic in ("a-b-c", "x--y", "mrt line", "c++ code"):
        assert re.fullmatch(r"#\w+", rendering.hashtag(topic)), topic


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2022, 3, 3, 18, 3, tzinfo=UTC), "4 Mar 2022, 2:03 AM"),
        (datetime(2022, 3, 3, 16, 5, tzinfo=UTC), "4 Mar 2022, 12:05 AM"),
        (datetime(2022, 3, 4, 4, 0, tzinfo=UTC), "4 Mar 2022, 12:00 PM"),
        (datetime(2026, 7, 2, 15, 15, tzinfo=timezone(timedelta(hours=8))), "2 Jul 2026, 3:15 PM"),
        (
            datetime(2025, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
            "1 Jan 2026, 12:59 PM",
        ),
    ],
)
def test_format_time_in_singapore(moment: datetime, expected: str) -> None:
    assert rendering.format_time(moment, SGT) == expected


def test_format_time_of_nothing_is_empty() -> None:
    assert rendering.format_time(None, SGT) == ""


def test_shorten_cuts_at_a_word() -> None:
    assert rendering.shorten("short", 10) == "short"
    out = rendering.shorten("the quick brown fox jumps", 12)
    assert out == "the quick…"
    assert len(out) <= 12


# -- channel post ---------------------------------------------------------------


def test_channel_post_has_title_summary_hashtags_and_buttons() -> None:
    story = rich_article()
    post = rendering.channel_post(story, bot_username="newswire_bot")
    text, entities = parsed(post.html)
    lines = text.split("\n")
    assert lines[0] == "Otters & <friends> at Bishan"
    bold = [entity_text(text, e) for e in entities if e["type"] == "bold"]
    assert bold == ["Otters & <friends> at Bishan"]
    assert "Otters were seen at Bishan. Experts say: keep away." in text
    assert lines[-1] == "#wildlife #bishan_park"
    row = buttons(post.keyboard)
    assert [b.url for b in row] == [
        "https://t.me/newswire_bot?start=a_abc123",
        "https://example.com/otters",
    ]


def test_channel_post_without_url_has_only_the_deep_link() -> None:
    post = rendering.channel_post(rich_article(url=None), bot_username="newswire_bot")
    row = buttons(post.keyboard)
    assert len(row) == 1
    assert row[0].url == "https://t.me/newswire_bot?start=a_abc123"


def test_channel_post_deep_link_payload_is_valid_for_the_longest_id() -> None:
    post = rendering.channel_post(rich_article(id=LONG_ID), bot_username="newswire_bot")
    url = buttons(post.keyboard)[0].url
    payload = url.split("?start=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)


def test_channel_post_falls_back_to_standfirst_and_omits_empty_hashtags() -> None:
    post = rendering.channel_post(rich_article(summary="", topics=()), bot_username="b0t_name")
    text, _ = parsed(post.html)
    assert "Keep your distance & do not feed them." in text
    assert "#" not in text


@pytest.mark.parametrize(
    ("image", "summary", "photo"),
    [
        ("https://example.com/otters.jpg", "Short.", "https://example.com/otters.jpg"),
        ("images/otters.jpg", "Short.", None),  # a local path Telegram cannot fetch
        ("javascript:alert(1)", "Short.", None),
        ("https://example.com/otters.jpg", "Word " * 250, None),  # too long for a caption
        (None, "Short.", None),
    ],
)
def test_channel_post_carries_the_photo_when_the_caption_fits(
    image: str | None, summary: str, photo: str | None
) -> None:
    post = rendering.channel_post(
        rich_article(image=image, summary=summary.strip()), bot_username="newswire_bot"
    )
    assert post.photo == photo
    if photo:
        assert rendering.utf16_len(rendering.plain_text(post.html)) <= rendering.CAPTION_LIMIT


# -- golden output: English byte for byte -----------------------------------------

GOLDEN = Path(__file__).parent / "fixtures" / "rendering_golden.json"


def _dump(message: rendering.Rendered | str | InlineKeyboardMarkup | None) -> Any:
    if isinstance(message, str) or message is None:
        return message
    if isinstance(message, InlineKeyboardMarkup):
        return message.to_dict()
    return {
        "html": message.html,
        "keyboard": message.keyboard.to_dict() if message.keyboard else None,
        "photo": message.photo,
    }


def golden_cases() -> dict[str, Any]:
    """Every renderer's exact output for fixed inputs (English)."""
    from content.models import Delivery, DeliveryKind, DeliveryState
    from content.storage import OutboxCounts

    cases: dict[str, Any] = {name: _dump(message) for name, message in all_rendered()}
    plain = rich_article()
    story = hostile_article()
    cases["card-plain"] = _dump(rendering.article_card(plain, zone=SGT))
    cases["alert-plain"] = _dump(rendering.reader_alert(plain, zone=SGT, reason="food"))
    cases["channel-photo"] = _dump(
        rendering.channel_post(
            rich_article(image="https://example.com/o.jpg"), bot_username="newswire_bot"
        )
    )
    cases["pages-plain"] = rendering.article_pages(plain, zone=SGT)
    cases["pages-hostile"] = rendering.article_pages(story, zone=SGT)
    cases["pages-long"] = rendering.article_pages(long_article(), zone=SGT)
    cases["pages-small"] = rendering.article_pages(long_article(), zone=SGT, limit=500)
    for page, total in ((0, 1), (0, 3), (1, 3), (2, 3)):
        cases[f"page-keyboard-{page}-{total}"] = _dump(rendering.page_keyboard(plain, page, total))
    cases["page-keyboard-nourl"] = _dump(rendering.page_keyboard(rich_article(url=None), 1, 2))
    cases["topics-one"] = _dump(rendering.topics([TopicCount("food", 1), TopicCount("t" * 70, 2)]))
    when = datetime(2026, 7, 3, 1, 30, tzinfo=UTC)
    dead = [
        Delivery(
            7,
            "abc123",
            "3500",
            DeliveryKind.READER,
            1,
            DeliveryState.DEAD,
            3,
            when,
            when,
            last_error="Bad Request: chat not found <x>",
        ),
        Delivery(8, LONG_ID, "@chan", DeliveryKind.CHANNEL, 0, DeliveryState.DEAD, 1, when, when),
    ]
    counts = OutboxCounts({DeliveryState.PENDING: 4, DeliveryState.DEAD: 2}, 9, 1)
    cases["stats"] = _dump(rendering.stats(counts, subscribers=12, dead=dead))
    cases["stats-empty"] = _dump(rendering.stats(OutboxCounts({}, 0, 0), subscribers=0, dead=[]))
    cases["retried-0"] = _dump(rendering.retried("abc<1>", 0))
    cases["retried-3"] = _dump(rendering.retried("abc123", 3))
    cases["plain-text"] = rendering.plain_text(rendering.article_card(story, zone=SGT).html)
    cases.update(handler_replies())
    return cases


def handler_replies() -> dict[str, Any]:
    """The short replies and button answers the handlers send."""
    return {
        "usage-latest": _dump(rendering.usage_latest(20)),
        "usage-read": _dump(rendering.usage_read()),
        "not-found": _dump(rendering.not_found(HOSTILE)),
        "usage-search": _dump(rendering.usage_search()),
        "usage-subscribe": _dump(rendering.usage_subscribe()),
        "bad-keyword": _dump(rendering.bad_keyword(48)),
        "usage-unsubscribe": _dump(rendering.usage_unsubscribe()),
        "usage-retry": _dump(rendering.usage_retry()),
        "answer-gone": rendering.answer_gone(),
        "answer-subscribed": rendering.answer_subscribed("food", created=True),
        "answer-already": rendering.answer_subscribed("food", created=False),
        "answer-stopped": rendering.answer_unsubscribed(HOSTILE, removed=True),
        "answer-already-stopped": rendering.answer_unsubscribed(HOSTILE, removed=False),
        "answer-expired": rendering.answer_expired(),
        "went-wrong": rendering.went_wrong(),
    }


def test_english_output_is_byte_for_byte_the_golden_output() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(golden_cases(), ensure_ascii=False))
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        assert actual[name] == value, name


class _Pseudo(gettext.NullTranslations):
    """A pseudo-language that brackets every catalog string: untranslated text stands out."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"«{msgid1 if n == 1 else msgid2}»"


def test_every_fixed_string_goes_through_the_catalog() -> None:
    with rendering.using(_Pseudo()):
        texts = [
            rendering.help_message(COMMANDS).html,
            rendering.welcome(first_name=None, article_count=2, commands=COMMANDS).html,
            rendering.hint().html,
            rendering.latest([], zone=SGT).html,
            rendering.topics([]).html,
            rendering.topics([TopicCount("food", 2)]).html,
            rendering.subscription_list([]).html,
            rendering.usage_latest(20).html,
            rendering.usage_read().html,
            rendering.usage_search().html,
            rendering.usage_subscribe().html,
            rendering.usage_unsubscribe().html,
            rendering.usage_retry().html,
            rendering.too_many_subscriptions(50).html,
            rendering.answer_gone(),
            rendering.answer_expired(),
            rendering.slow_down(),
            rendering.went_wrong(),
            *(b.text for b in buttons(rendering.article_card(rich_article(), zone=SGT).keyboard)),
            *(b.text for b in buttons(rendering.page_keyboard(rich_article(), 1, 3))),
        ]
    for text in texts:
        outside = re.sub(r"«[^»]*»", "", rendering.plain_text(text))
        outside = re.sub(r"/[a-z]+|#food", "", outside)  # command names and hashtags stay
        assert not re.search(r"[A-Za-z]{2,}", outside), text
