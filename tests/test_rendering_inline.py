"""Inline results: what a reader sees in the list, and the card a chosen result sends."""

from __future__ import annotations

from bot.rendering.inline import DESCRIPTION_CHARS, inline_result, one_line
from tests.support.articles import HOSTILE, LONG_ID, make_article


def test_the_description_is_the_summarys_first_sentence_on_one_line() -> None:
    article = make_article(summary="A man was fined on Jul. 4 for it.\nHe left. Then more.")
    assert one_line(article) == "A man was fined on Jul. 4 for it."
    long = make_article(summary="word " * 60 + ". Next.")
    assert len(one_line(long)) <= DESCRIPTION_CHARS and one_line(long).endswith("…")
    assert one_line(make_article(standfirst="Only a standfirst. Two.")) == "Only a standfirst."
    assert one_line(make_article()) == ""


def test_a_result_carries_the_channel_card_and_its_buttons() -> None:
    article = make_article(
        LONG_ID,
        title=HOSTILE + "\n line two",
        summary="Otters were seen. More later.",
        url="https://news.example/otters",
        image="https://img.example/o.jpg",
        topics=("Environment",),
    )
    result = inline_result(article, bot_username="newswire_bot").to_dict()
    assert result["id"] == LONG_ID and "\n" not in result["title"]
    assert result["description"] == "Otters were seen."
    assert result["thumbnail_url"] == "https://img.example/o.jpg"
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<b>Tom &amp; Jerry &lt;script&gt;")
    assert "#environment" in content["message_text"].lower()
    urls = [b["url"] for row in result["reply_markup"]["inline_keyboard"] for b in row]
    assert urls == [f"https://t.me/newswire_bot?start=a_{LONG_ID}", "https://news.example/otters"]


def test_no_thumbnail_unless_the_image_is_a_web_address() -> None:
    local = make_article(image="/srv/images/o.jpg", summary="S.")
    result = inline_result(local, bot_username="b").to_dict()
    assert "thumbnail_url" not in result and "description" in result
    bare = inline_result(make_article(), bot_username="b").to_dict()
    assert "description" not in bare  # no summary: no empty line under the title
