"""Telegram's HTML parse mode: a byte-for-byte port of TDLib's parse_html with its error texts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ERROR_PREFIX = "Bad Request: can't parse entities: "

# Tags TDLib accepts in parse_mode=HTML; anything else is refused, never ignored.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

# TDLib sorts entities by offset, longer first, then by this priority (lower first).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 10,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

_USER_LINK = re.compile(r"^tg://user\?id=(\d{1,19})$", re.IGNORECASE)
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton"})


class TelegramHTMLError(ValueError):
    """Telegram refused the markup; `description` is the full Bot API error text."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def _fail(message: str) -> TelegramHTMLError:
    return TelegramHTMLError(ERROR_PREFIX + message)


def _is_space(c: int) -> bool:
    # TDLib's is_space counts NUL as space; the parser relies on it to stop at the end.
    return c in (0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x00)


def _is_alpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _is_digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _is_hex(c: int) -> bool:
    return _is_digit(c) or 0x41 <= c <= 0x46 or 0x61 <= c <= 0x66


class _Bytes:
    """UTF-8 bytes that read as NUL past the end, like TDLib's NUL-terminated CSlice."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def __getitem__(self, i: int) -> int:
        return self.data[i] if i < self.size else 0


def _decode_entity(text: _Bytes, pos: int) -> tuple[int, int]:
    """Decode a character reference at `pos` (an '&'): (code point or 0, position after it)."""
    end = pos + 1
    code = 0
    if text[pos + 1] == ord("#"):
        end += 1
        if text[pos + 2] == ord("x"):
            end += 1
            while _is_hex(text[end]):
                code = code * 16 + int(chr(text[end]), 16)
                end += 1
        else:
            while _is_digit(text[end]):
                code = code * 10 + text[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(text[end]):
            end += 1
        name = text.data[pos + 1 : end]
        # Only these four names exist for Telegram; "&nbsp;" and friends stay literal text.
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}.get(name)
        if named is None:
            return 0, pos
        code = ord(named)
    if text[end] == ord(";"):
        end += 1
    return code, end


def _check_link(url: str) -> str:
    """Normalise a link like TDLib's LinkManager::get_checked_link; '' means it is dropped."""
    url = url.strip()
    if not url:
        return ""
    if "://" not in url and not url.lower().startswith(("tg:", "ton:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _LINK_SCHEMES:
        return ""
    if scheme in ("http", "https"):
        host = parts.hostname or ""
        if not host or any(c.isspace() for c in url) or ("." not in host and host != "localhost"):
            return ""
        return urlunsplit((scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
    return url


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram entity offsets."""
    return _utf16_len(text)


def _sort_key(entity: dict[str, Any]) -> tuple[int, int, int]:
    return (entity["offset"], -entity["length"], _PRIORITY.get(entity["type"], 50))


def _tidy(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply Telegram's nesting rules: nothing inside pre/code, no blockquote in a blockquote."""
    entities.sort(key=_sort_key)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        dropped = False
        for outer in kept:
            o_start, o_end = outer["offset"], outer["offset"] + outer["length"]
            if not (o_start <= start and end <= o_end):
                continue
            quotes = ("blockquote", "expandable_blockquote")
            if outer["type"] in ("pre", "code") or (
                outer["type"] in quotes and entity["type"] in quotes
            ):
                dropped = True
        if not dropped:
            kept.append(entity)
    return kept


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and Bot API entities, or raise TelegramHTMLError."""
    if "\0" in text:
        raise _fail("Text must not contain null bytes")
    raw = text.encode("utf-8", "surrogatepass")
    src = _Bytes(raw)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    # Each open tag: (name, argument, utf16 offset where it starts, byte offset in `out`).
    stack: list[tuple[str, str, int, int]] = []
    utf16 = 0
    recheck_utf8 = False
    i = 0
    n = src.size
    while i < n:
        c = src[i]
        if c == ord("&"):
            code, after = _decode_entity(src, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                if 0xD800 <= code <= 0xDFFF:
                    recheck_utf8 = True
                out += chr(code).encode("utf-8", "surrogatepass")
                i = after
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if src[i] != ord("/"):
            while not _is_space(src[i]) and src[i] != ord(">"):
                i += 1
            if src[i] == 0 and i >= n:
                raise _fail(f"Unclosed start tag at byte offset {begin}")
            tag = raw[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in ALLOWED_TAGS:
                raise _fail(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while src[i] != ord(">"):
                while i < n and _is_space(src[i]):
                    i += 1
                if src[i] == ord(">"):
                    break
                name_begin = i
                while not _is_space(src[i]) and src[i] not in b"=>/\"'":
                    i += 1
                attr_name = raw[name_begin:i]
                if not attr_name:
                    raise _fail(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while i < n and _is_space(src[i]):
                    i += 1
                if src[i] != ord("="):
                    if i >= n:
                        raise _fail(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    # A bare attribute; only <blockquote expandable> gives it meaning.
                    if tag == "blockquote" and attr_name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and _is_space(src[i]):
                    i += 1
                if i >= n:
                    raise _fail(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if src[i] not in (ord("'"), ord('"')):
                    token_begin = i
                    while src[i] and ((chr(src[i]).isalnum() and src[i] < 0x80) or src[i] in b".-"):
                        i += 1
                    value += raw[token_begin:i].lower()
                    if not _is_space(src[i]) and src[i] != ord(">"):
                        raise _fail(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = src[i]
                    i += 1
                    while i < n and src[i] != quote:
                        if src[i] == ord("&"):
                            code, after = _decode_entity(src, i)
                            if code:
                                value += chr(code).encode("utf-8", "surrogatepass")
                                i = after
                                continue
                        value.append(src[i])
                        i += 1
                    if src[i] == quote and i < n:
                        i += 1
                if i >= n:
                    raise _fail(f"Unclosed start tag at byte offset {begin}")
                argument = _attribute_argument(
                    tag, attr_name, value.decode("utf-8", "replace"), argument
                )
            if tag == "span" and argument != "spoiler":
                raise _fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append((tag, argument, utf16, len(out)))
            i += 1
            continue

        # An end tag.
        if not stack:
            raise _fail(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(src[i]) and src[i] != ord(">"):
            i += 1
        end_name = raw[begin + 2 : i].decode("utf-8", "replace").lower()
        while i < n and _is_space(src[i]):
            i += 1
        if src[i] != ord(">"):
            raise _fail(f"Unclosed end tag at byte offset {begin}")
        i += 1
        tag, argument, start, out_start = stack.pop()
        if end_name and end_name != tag:
            raise _fail(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_name}>"'
            )
        if utf16 > start:
            entity = _make_entity(tag, argument, start, utf16 - start, bytes(out[out_start:]))
            if entity is not None:
                _merge_pre_code(entities, entity, argument)
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    try:
        plain = bytes(out).decode("utf-8")
    except UnicodeDecodeError:
        if not recheck_utf8:
            raise
        raise _fail(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return plain, _tidy(entities)


def _attribute_argument(tag: str, name: bytes, value: str, current: str) -> str:
    """The tag's argument after reading one attribute; unknown attributes are ignored."""
    if tag == "a" and name == b"href":
        return value
    if tag == "code" and name == b"class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and name == b"class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and name == b"emoji-id":
        return value
    if tag == "blockquote" and name == b"expandable":
        return "1"
    return current


def _make_entity(
    tag: str, argument: str, offset: int, length: int, inner: bytes
) -> dict[str, Any] | None:
    """Build the Bot API entity for a closed tag, or None when Telegram would drop it."""
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if tag in _SIMPLE_TYPES:
        entity["type"] = _SIMPLE_TYPES[tag]
    elif tag == "tg-emoji":
        if not re.fullmatch(r"[0-9]{1,19}", argument) or not 0 < int(argument) < 2**63:
            raise _fail("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=argument)
    elif tag == "a":
        url = argument or inner.decode("utf-8", "replace")
        user = _USER_LINK.match(url)
        if user:
            entity.update(
                type="text_mention",
                user={"id": int(user.group(1)), "is_bot": False, "first_name": ""},
            )
        else:
            url = _check_link(url)
            if not url:
                return None
            entity.update(type="text_link", url=url)
    elif tag == "pre":
        entity["type"] = "pre"
    elif tag == "code":
        entity["type"] = "code"
        if argument:
            entity["language"] = argument
    else:  # blockquote
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    return entity


def _merge_pre_code(entities: list[dict[str, Any]], entity: dict[str, Any], argument: str) -> None:
    """<pre><code class="language-x"> (either order) becomes one pre entity with a language."""
    last = entities[-1] if entities else None
    same_span = (
        last is not None
        and last["offset"] == entity["offset"]
        and last["length"] == entity["length"]
    )
    if same_span and last is not None:
        if entity["type"] == "pre" and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return
        if entity["type"] == "code" and last["type"] == "pre" and argument:
            last["language"] = argument
            return
    entities.append(entity)


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim leading/trailing whitespace like Telegram does, keeping entity offsets right."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def escape(text: str) -> str:
    """Escape plain text for Telegram HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
