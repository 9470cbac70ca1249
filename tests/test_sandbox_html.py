"""Telegram HTML parse mode as the sandbox enforces it (texts from TDLib's parse_html)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.html import ERROR_PREFIX, TelegramHTMLError, escape, parse_html, strip_text


def _error(text: str) -> str:
    with pytest.raises(TelegramHTMLError) as caught:
        parse_html(text)
    assert caught.value.description.startswith(ERROR_PREFIX)
    return caught.value.description[len(ERROR_PREFIX) :]


def _render(text: str, entities: list[dict[str, Any]]) -> str:
    """Turn plain text + entities back into HTML (tests the offsets end to end)."""
    units = text.encode("utf-16-le")
    tags = {
        "bold": ("<b>", "</b>"),
        "italic": ("<i>", "</i>"),
        "underline": ("<u>", "</u>"),
        "strikethrough": ("<s>", "</s>"),
        "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
        "code": ("<code>", "</code>"),
        "blockquote": ("<blockquote>", "</blockquote>"),
    }
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for e in entities:
        if e["type"] == "text_link":
            start, end = f'<a href="{e["url"]}">', "</a>"
        elif e["type"] == "pre":
            lang = e.get("language")
            start = f'<pre><code class="language-{lang}">' if lang else "<pre>"
            end = "</code></pre>" if lang else "</pre>"
        else:
            start, end = tags[e["type"]]
        opens.setdefault(e["offset"], []).append(start)
        closes.setdefault(e["offset"] + e["length"], []).insert(0, end)
    out: list[str] = []
    size = len(units) // 2
    for unit in range(size + 1):
        out.extend(closes.get(unit, []))
        out.extend(opens.get(unit, []))
        if unit < size:
            char = units[unit * 2 : unit * 2 + 2].decode("utf-16-le", "surrogatepass")
            out.append(escape(char))
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def test_plain_text_passes_through() -> None:
    assert parse_html("Hello, world") == ("Hello, world", [])


def test_all_simple_tags_and_their_aliases() -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">q</span><code>c</code>'
    )
    text, entities = parse_html(html)
    assert text == "bsieunskdpqc"
    assert [e["type"] for e in entities] == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "code",
    ]
    assert [e["offset"] for e in entities] == list(range(12))
    assert all(e["length"] == 1 for e in entities)


def test_nested_markup_round_trips() -> None:
    html = (
        '<b>Breaking: <i>markets &lt;<u>rally</u></i></b> — <a href="https://news.example/a?b=1">'
        "read more</a>\n<blockquote>quoted <s>text</s></blockquote>"
    )
    text, entities = parse_html(html)
    assert text == "Breaking: markets <rally — read more\nquoted text"
    assert entities == [
        {"offset": 0, "length": 24, "type": "bold"},
        {"offset": 10, "length": 14, "type": "italic"},
        {"offset": 19, "length": 5, "type": "underline"},
        {"offset": 27, "length": 9, "type": "text_link", "url": "https://news.example/a?b=1"},
        {"offset": 37, "length": 11, "type": "blockquote"},
        {"offset": 44, "length": 4, "type": "strikethrough"},
    ]
    assert parse_html(_render(text, entities)) == (text, entities)


def test_offsets_count_utf16_units() -> None:
    text, entities = parse_html("😀 <b>é😀</b> x")
    assert text == "😀 é😀 x"
    assert entities == [{"offset": 3, "length": 3, "type": "bold"}]


def test_named_entities_only_four_numeric_all() -> None:
    text, _ = parse_html("&lt;&gt;&amp;&quot; &#65;&#x42; &#128512;")
    assert text == '<>&" AB 😀'
    # Telegram knows no other names: they stay as literal text instead of failing.
    assert parse_html("a&nbsp;b &copy; &foo;")[0] == "a&nbsp;b &copy; &foo;"
    # A bare ampersand is just text, and the semicolon is optional.
    assert parse_html("AT&T &lt3")[0] == "AT&T <3"


def test_entity_in_attribute_value_is_decoded() -> None:
    _, entities = parse_html('<a href="https://x.example/?a=1&amp;b=2">x</a>')
    assert entities[0]["url"] == "https://x.example/?a=1&b=2"


def test_pre_with_language_and_plain_pre() -> None:
    text, entities = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    assert text == "print(1)"
    assert entities == [{"offset": 0, "length": 8, "type": "pre", "language": "python"}]
    assert parse_html("<pre>x</pre>")[1] == [{"offset": 0, "length": 1, "type": "pre"}]
    # A language on a bare <code> is dropped, as Telegram does.
    assert parse_html('<code class="language-go">x</code>')[1] == [
        {"offset": 0, "length": 1, "type": "code"}
    ]


def test_pre_and_code_hold_no_other_entities() -> None:
    _, entities = parse_html("<pre>a<b>b</b></pre> <code><i>c</i></code>")
    assert [e["type"] for e in entities] == ["pre", "code"]


def test_blockquotes_do_not_nest() -> None:
    text, entities = parse_html("<blockquote>a<blockquote>b</blockquote></blockquote>")
    assert text == "ab"
    assert entities == [{"offset": 0, "length": 2, "type": "blockquote"}]


def test_expandable_blockquote() -> None:
    assert parse_html("<blockquote expandable>q</blockquote>")[1] == [
        {"offset": 0, "length": 1, "type": "expandable_blockquote"}
    ]


def test_custom_emoji() -> None:
    _, entities = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    assert entities == [
        {"offset": 0, "length": 2, "type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}
    ]
    assert _error('<tg-emoji emoji-id="x">👍</tg-emoji>') == (
        "Invalid custom emoji identifier specified"
    )


def test_links_are_checked_and_normalised() -> None:
    assert parse_html('<a href="https://Example.COM">x</a>')[1][0]["url"] == "https://example.com/"
    assert parse_html('<a href="example.com/page">x</a>')[1][0]["url"] == "http://example.com/page"
    assert parse_html("<a>https://t.me/x</a>")[1][0]["url"] == "https://t.me/x"
    # Unsafe or meaningless links lose their entity but the text stays.
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ("x", [])
    mention = parse_html('<a href="tg://user?id=42">Ann</a>')[1][0]
    assert mention["type"] == "text_mention"
    assert mention["user"]["id"] == 42


def test_empty_elements_make_no_entity() -> None:
    assert parse_html("a<b></b>b") == ("ab", [])


def test_tags_are_case_insensitive_and_unknown_attributes_ignored() -> None:
    assert parse_html('<B data-x="1">x</B>')[1] == [{"offset": 0, "length": 1, "type": "bold"}]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b ", 'Empty attribute name in the tag "b" at byte offset 0'),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        (
            "&#55357;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_errors_match_telegram(html: str, message: str) -> None:
    assert _error(html) == message


def test_whole_message_fails_on_one_bad_tag() -> None:
    assert _error("<b>fine</b> <div>bad</div>").startswith('Unsupported start tag "div"')


def test_strip_text_keeps_offsets() -> None:
    text, entities = parse_html("  \n<b>x</b> y \n")
    assert strip_text(text, entities) == ("x y", [{"offset": 0, "length": 1, "type": "bold"}])


def test_escape_makes_any_text_safe() -> None:
    nasty = "a < b && c > d <b>"
    assert parse_html(escape(nasty)) == (nasty, [])
