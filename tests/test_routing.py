"""CHANNEL_ROUTES and CHANNEL_OPTIONS: parsing, targets per story, options per target."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings
from content.models import ChatId, LinkPreview, Target
from content.routing import (
    ChannelOptions,
    RouteError,
    options_for,
    parse_channel_options,
    parse_routes,
    targets_for,
)


def test_routes_parse_channels_ids_and_forum_topics() -> None:
    routes = parse_routes("transport=@sgtransport; world,War Conflict=-1001234567890:12")
    assert [sorted(r.topics) for r in routes] == [["transport"], ["war-conflict", "world"]]
    assert routes[0].target == Target(ChatId("@sgtransport"))
    assert routes[1].target == Target(ChatId("-1001234567890"), 12)
    assert routes[1].target.key == "-1001234567890:12"


@pytest.mark.parametrize(
    "text",
    [
        "transport",
        "=@chan",
        "transport=",
        "transport=chan",
        "t=@chan:0",
        "t=@chan:x",
        ",=@chan",
        "t=@chan:1",  # General takes no thread id
    ],
)
def test_a_bad_route_is_refused_naming_it(text: str) -> None:
    with pytest.raises(RouteError):
        parse_routes(text)


def test_a_bad_route_stops_start_up_with_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(channel_routes="transport=@sgtransport;oops")
    assert str(caught.value) == "CHANNEL_ROUTES: 'oops' is not topic[,topic...]=target"


def test_a_story_goes_to_every_channel_and_each_matching_route_once() -> None:
    routes = parse_routes("transport=@sgtransport;world=-100123:12;mrt,transport=@sgtransport")
    got = targets_for(("transport", "mrt"), channels=["@news", "@sgtransport"], routes=routes)
    assert [t.key for t in got] == ["@news", "@sgtransport"]
    got = targets_for(("world",), channels=["@news"], routes=routes)
    assert [t.key for t in got] == ["@news", "-100123:12"]
    assert targets_for(("sport",), channels=[], routes=routes) == []


def test_channel_options_fall_back_from_topic_to_chat_to_star() -> None:
    table = parse_channel_options(
        "*=silent; -100123=link_preview:above,nopin; @x_news=protect_content"
    )
    assert options_for(Target(ChatId("@x_news")), table) == ChannelOptions(protect_content=True)
    topic = options_for(Target(ChatId("-100123"), 5), table)
    assert topic.link_preview is LinkPreview.ABOVE and not topic.pin_breaking
    assert options_for(Target(ChatId("@other")), table) == ChannelOptions(silent=True)
    with pytest.raises(RouteError, match="unknown option 'loud'"):
        parse_channel_options("@x_news=loud")
