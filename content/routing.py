"""Where a story is posted, and how: channels, topic routes, per-channel publish options.

Pure rules over settings and the story; the delivery worker applies them at send time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from content.models import ChatId, LinkPreview, PublishOptions, Target
from content.preferences import QuietHours, in_quiet_hours
from content.topics import normalise_topic

ROUTE_SEPARATOR = ";"
ANY_CHANNEL = "*"  # CHANNEL_OPTIONS key for every channel and route


class RouteError(ValueError):
    """A CHANNEL_ROUTES or CHANNEL_OPTIONS piece that cannot be read; the message names it."""


@dataclass(frozen=True, slots=True)
class Route:
    """Stories with any of `topics` also go to `target`."""

    topics: frozenset[str]
    target: Target


def parse_routes(text: str) -> tuple[Route, ...]:
    """`topic[,topic...]=target` pairs separated by `;` (CHANNEL_ROUTES)."""
    routes: list[Route] = []
    for piece in _pieces(text):
        topics_text, sep, target_text = piece.partition("=")
        if not sep or not topics_text.strip() or not target_text.strip():
            raise RouteError(f"{piece!r} is not topic[,topic...]=target")
        topics = frozenset(normalise_topic(t) for t in topics_text.split(",") if t.strip())
        if not topics or "" in topics:
            raise RouteError(f"{piece!r}: name at least one topic")
        try:
            target = Target.parse(target_text)
        except ValueError as exc:
            raise RouteError(str(exc)) from None
        routes.append(Route(topics, target))
    return tuple(routes)


def targets_for(
    topics: Iterable[str], *, channels: Sequence[str], routes: Sequence[Route]
) -> list[Target]:
    """Every channel, then every route whose topics the story has; each target once."""
    have = frozenset(topics)
    found: dict[ChatId, Target] = {}
    for channel in channels:
        target = Target.parse(channel)
        found.setdefault(target.key, target)
    for route in routes:
        if route.topics & have:
            found.setdefault(route.target.key, route.target)
    return list(found.values())


@dataclass(frozen=True, slots=True)
class ChannelOptions:
    """How posts to one channel or topic go out unless the story asks otherwise."""

    silent: bool = False
    protect_content: bool = False
    link_preview: LinkPreview = LinkPreview.OFF
    pin_breaking: bool = True


def parse_channel_options(text: str) -> dict[str, ChannelOptions]:
    """`target=option[,option...]` pairs separated by `;` (CHANNEL_OPTIONS).

    Options: `silent`, `protect_content`, `link_preview:off|above|below`, `nopin`; the
    target `*` gives every channel and route its defaults.
    """
    found: dict[str, ChannelOptions] = {}
    for piece in _pieces(text):
        target_text, sep, options_text = piece.partition("=")
        if not sep or not target_text.strip():
            raise RouteError(f"{piece!r} is not target=option[,option...]")
        key = target_text.strip()
        if key != ANY_CHANNEL:
            try:
                key = Target.parse(key).key
            except ValueError as exc:
                raise RouteError(str(exc)) from None
        options = ChannelOptions()
        for word in (w.strip().lower() for w in options_text.split(",")):
            if not word:
                continue
            name, _, value = word.partition(":")
            if name == "silent" and not value:
                options = replace(options, silent=True)
            elif name == "protect_content" and not value:
                options = replace(options, protect_content=True)
            elif name == "nopin" and not value:
                options = replace(options, pin_breaking=False)
            elif name == "link_preview" and value in {p.value for p in LinkPreview}:
                options = replace(options, link_preview=LinkPreview(value))
            else:
                raise RouteError(
                    f"{piece!r}: unknown option {word!r} (silent, protect_content, "
                    "link_preview:off|above|below, nopin)"
                )
        found[key] = options
    return found


def target_of(key: str) -> Target:
    """A delivery's chat (a Target key) as a Target; a key without a topic is the chat as stored."""
    return Target.parse(key) if ":" in key else Target(ChatId(key))


def options_for(target: Target, table: Mapping[str, ChannelOptions]) -> ChannelOptions:
    """The options of a topic, else of its chat, else the `*` defaults, else none."""
    for key in (target.key, target.chat, ANY_CHANNEL):
        if key in table:
            return table[key]
    return ChannelOptions()


def _pieces(text: str) -> list[str]:
    return [p.strip() for p in text.split(ROUTE_SEPARATOR) if p.strip()]


@dataclass(frozen=True, slots=True)
class Effective:
    """How one channel post goes out, once the story's, the channel's and the hour's say is in.

    `link_preview` is None for no preview (`is_disabled`), else the url shown and where.
    """

    silent: bool = False
    protect_content: bool = False
    link_preview: LinkPreview = LinkPreview.OFF
    preview_url: str | None = None
    pin: bool = False


def publish_options(
    story: PublishOptions,
    channel: ChannelOptions,
    *,
    url: str | None,
    has_photo: bool,
    quiet: QuietHours | None,
    now: datetime,
    zone: tzinfo,
    breaking: bool,
    pin_breaking: bool,
) -> Effective:
    """The one rule: the story overrides its channel; quiet hours silence; breaking never is.

    A link preview needs a text post (a photo post has its picture) and the article's url.
    """
    silent = channel.silent if story.silent is None else story.silent
    if in_quiet_hours(quiet, now, zone):
        silent = True  # posted, only without a sound: never held
    if breaking:
        silent = False
    protect = channel.protect_content if story.protect_content is None else story.protect_content
    preview = channel.link_preview if story.link_preview is None else story.link_preview
    if has_photo or not url:
        preview = LinkPreview.OFF
    return Effective(
        silent=silent,
        protect_content=protect,
        link_preview=preview,
        preview_url=url if preview is not LinkPreview.OFF else None,
        pin=breaking and pin_breaking and channel.pin_breaking,
    )
