"""Typed callback data: round trips, strict refusals, and every keyboard built from the classes."""

from __future__ import annotations

import pytest

from bot.callbacks import (
    ALL_BUTTONS,
    ArticlePage,
    BackToCard,
    Button,
    NoOp,
    OnboardingDone,
    OpenArticle,
    SetBreaking,
    SetDigest,
    SetLanguage,
    SetQuiet,
    SubscribeTopic,
    ToggleTopic,
    Unsubscribe,
)
from tests.support.articles import LONG_ID


@pytest.mark.parametrize(
    ("button", "data"),
    [
        (OpenArticle("abc123"), "o:abc123"),
        (ArticlePage("abc123", 0), "p:abc123:0"),
        (ArticlePage(LONG_ID, 9999), f"p:{LONG_ID}:9999"),
        (BackToCard(LONG_ID), f"r:{LONG_ID}"),
        (SubscribeTopic("bishan-park"), "s:bishan-park"),
        (Unsubscribe("void deck: east"), "u:void deck: east"),
        (NoOp(), "noop"),
        (SetDigest("daily", "0730"), "cd:daily:0730"),
        (SetDigest("off"), "cd:off:"),
        (SetQuiet("2200", "0700"), "cq:2200-0700"),
        (SetQuiet(), "cq:off"),
        (SetBreaking(False), "cb:0"),
        (SetLanguage("zh"), "cl:zh"),
        (ToggleTopic("bishan-park"), "ct:bishan-park"),
        (OnboardingDone(), "cx"),
    ],
)
def test_round_trip(button: Button, data: str) -> None:
    assert button.encode() == data
    assert type(button).decode(data) == button
    assert type(button).matches(data)
    # Exactly one kind claims any valid data.
    assert [kind for kind in ALL_BUTTONS if kind.matches(data)] == [type(button)]


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (ArticlePage, "p:abc:²"),  # "²".isdigit() is true
        (ArticlePage, "p:abc:٣"),  # an Arabic-Indic digit: int() accepts it
        (ArticlePage, "p:abc:-1"),
        (ArticlePage, "p:abc:01"),
        (ArticlePage, "p:abc:99999"),
        (ArticlePage, "p:abc"),
        (ArticlePage, "p:abc:1:2"),
        (ArticlePage, "P:abc:1"),
        (ArticlePage, "p:abc:1\n"),
        (OpenArticle, "o:abc:0"),
        (OpenArticle, "o:"),
        (OpenArticle, "o:abc\n"),
        (OpenArticle, "o:<b>"),
        (OpenArticle, "o:" + "a" * 41),
        (OpenArticle, "oo:abc"),
        (OpenArticle, "xo:abc"),
        (BackToCard, "r:ab c"),
        (SubscribeTopic, "s:"),
        (SubscribeTopic, "s:food\n"),
        (SubscribeTopic, "s:" + "t" * 63),  # 65 bytes
        (Unsubscribe, "u:" + "é" * 32),  # 66 bytes: counted in bytes
        (NoOp, "noop:1"),
        (NoOp, "noo"),
    ],
)
def test_decode_refuses_anything_not_exactly_its_shape(kind: type[Button], data: str) -> None:
    assert kind.decode(data) is None
    assert not kind.matches(data)


def test_decode_refuses_non_strings() -> None:
    assert OpenArticle.decode(None) is None
    assert OpenArticle.decode(b"o:abc") is None


@pytest.mark.parametrize(
    "button",
    [
        OpenArticle("bad id"),
        ArticlePage("abc", -1),
        ArticlePage("abc", 10_000),
        SubscribeTopic("t" * 63),
        Unsubscribe("line\nbreak"),
    ],
)
def test_encode_refuses_what_would_not_decode(button: Button) -> None:
    with pytest.raises(ValueError, match="not valid"):
        button.encode()
    assert not button.fits()


def test_64_bytes_fit_and_65_do_not() -> None:
    assert SubscribeTopic("t" * 62).fits()
    assert len(SubscribeTopic("t" * 62).encode().encode()) == 64
    assert not SubscribeTopic("t" * 63).fits()
