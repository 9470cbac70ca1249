"""Publish options: the one resolution rule, front matter and push fields, their serialisation."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.caches import RenderCache, Voice
from bot.delivery.outcomes import Outcomes
from bot.delivery.pacing import ChatPacer, PacerConfig
from bot.delivery.policy import Outcome, Verdict
from bot.delivery.recorder import Recorder
from bot.delivery.transport import Prepared, prepare
from bot.rendering import Rendered
from bot.web.payloads import PayloadError, push_entry
from content.models import (
    Article,
    ArticleParseError,
    ChatId,
    Delivery,
    DeliveryKind,
    DeliveryState,
    LinkPreview,
    PublishOptions,
    Target,
)
from content.parsing import parse_markdown
from content.preferences import QuietHours
from content.routing import ChannelOptions, Effective, publish_options, target_of
from content.storage import Repository
from tests.support.articles import make_article
from tests.support.fakes import RecordingRepo

SGT = ZoneInfo("Asia/Singapore")
NIGHT = datetime(2026, 7, 3, 16, 0, tzinfo=UTC)  # 00:00 in Singapore
DAY = datetime(2026, 7, 3, 4, 0, tzinfo=UTC)  # 12:00 in Singapore
QUIET = QuietHours(time(23, 0), time(7, 0))
URL = "https://example.com/story"


def resolve(
    story: PublishOptions | None = None,
    channel: ChannelOptions | None = None,
    *,
    url: str | None = URL,
    has_photo: bool = False,
    now: datetime = DAY,
    breaking: bool = False,
    pin_breaking: bool = True,
) -> Effective:
    return publish_options(
        story or PublishOptions(),
        channel or ChannelOptions(),
        url=url,
        has_photo=has_photo,
        quiet=QUIET,
        now=now,
        zone=SGT,
        breaking=breaking,
        pin_breaking=pin_breaking,
    )


# ---------------------------------------------------------------- the rule


def test_nothing_asked_is_a_plain_post() -> None:
    assert resolve() == Effective()


def test_the_story_overrides_its_channel_both_ways() -> None:
    loud = ChannelOptions(silent=True, protect_content=True, link_preview=LinkPreview.BELOW)
    asked = PublishOptions(silent=False, protect_content=False, link_preview=LinkPreview.ABOVE)
    assert resolve(asked, loud) == Effective(
        silent=False, protect_content=False, link_preview=LinkPreview.ABOVE, preview_url=URL
    )
    assert resolve(PublishOptions(), loud) == Effective(
        silent=True, protect_content=True, link_preview=LinkPreview.BELOW, preview_url=URL
    )
    quiet_story = PublishOptions(silent=True, link_preview=LinkPreview.OFF)
    assert resolve(quiet_story, ChannelOptions(link_preview=LinkPreview.ABOVE)) == Effective(
        silent=True
    )


def test_quiet_hours_silence_posts_but_never_breaking_ones() -> None:
    assert resolve(now=NIGHT).silent
    assert not resolve(now=DAY).silent
    assert resolve(PublishOptions(silent=False), now=NIGHT).silent  # the hour wins
    assert not resolve(now=NIGHT, breaking=True).silent
    assert not resolve(PublishOptions(silent=True), breaking=True).silent
    assert not resolve(PublishOptions(), ChannelOptions(silent=True), breaking=True).silent


def test_no_quiet_hours_setting_silences_nothing() -> None:
    effective = publish_options(
        PublishOptions(),
        ChannelOptions(),
        url=URL,
        has_photo=False,
        quiet=None,
        now=NIGHT,
        zone=SGT,
        breaking=False,
        pin_breaking=True,
    )
    assert not effective.silent


def test_link_preview_needs_a_text_post_and_a_url() -> None:
    above = PublishOptions(link_preview=LinkPreview.ABOVE)
    assert resolve(above).preview_url == URL
    assert resolve(above, has_photo=True).link_preview is LinkPreview.OFF
    assert resolve(above, url=None) == Effective()


def test_pins_only_breaking_stories_where_allowed() -> None:
    assert resolve(breaking=True).pin
    assert not resolve().pin
    assert not resolve(breaking=True, pin_breaking=False).pin
    assert not resolve(PublishOptions(), ChannelOptions(pin_breaking=False), breaking=True).pin


# ---------------------------------------------------------------- serialisation


def test_prepare_carries_the_options_of_sends_and_edits() -> None:
    options = Effective(
        silent=True, protect_content=True, link_preview=LinkPreview.BELOW, preview_url=URL
    )
    post = prepare("<b>x</b>", parse_mode="HTML", keyboard=None, options=options)
    assert post.params["disable_notification"] is True
    assert post.params["protect_content"] is True
    assert json.loads(post.params["link_preview_options"]) == {
        "url": URL,
        "show_above_text": False,
    }
    # An edit keeps the message's sound and protection (editMessageText takes neither).
    assert set(post.text_edit) == {"text", "link_preview_options", "parse_mode"}
    plain = prepare("x", parse_mode=None, keyboard=None)
    assert json.loads(plain.params["link_preview_options"]) == {"is_disabled": True}
    assert "disable_notification" not in plain.params and "protect_content" not in plain.params
    photo = prepare("x", parse_mode=None, keyboard=None, photo=URL, options=options)
    assert "link_preview_options" not in photo.params
    assert photo.params["protect_content"] is True


async def test_a_plain_text_resend_keeps_the_posts_publish_options() -> None:
    options = Effective(silent=True, link_preview=LinkPreview.ABOVE, preview_url=URL)
    rendered = Rendered("<p>x</p>", None)
    sent: list[Prepared] = []

    async def put(delivery: Delivery, post: Prepared) -> int:
        sent.append(post)
        return 555

    repo = RecordingRepo()
    renders = RenderCache(lambda a, k, z: rendered)
    outcomes = Outcomes(
        repo=cast(Repository, repo),
        clock=lambda: DAY,
        chats=ChatPacer(PacerConfig()),
        recorder=Recorder(cast(Repository, repo), lambda: DAY),
        renders=renders,
        put=put,
        wakeup=asyncio.Event(),
        notify=None,
        max_age=timedelta(hours=24),
    )
    post = Delivery(
        id=1,
        article_id="a1",
        chat_id=ChatId("@news"),
        kind=DeliveryKind.CHANNEL,
        priority=0,
        state=DeliveryState.SENDING,
        attempts=1,
        next_attempt_at=DAY,
        created_at=DAY,
    )
    refused = Outcome(Verdict.BAD_MARKUP, "can't parse entities")
    await outcomes.apply(post, make_article("a1"), rendered, refused, options=options)
    (plain,) = sent
    assert plain == renders.prepare(rendered, as_html=False, options=options)
    assert plain.params["disable_notification"] is True


def test_render_cache_serialises_once_per_distinct_options() -> None:
    renders: list[str] = []

    def render(article: Article, kind: DeliveryKind, zone: object) -> Rendered:
        renders.append(article.id)
        return Rendered(f"<b>{article.title}</b>")

    cache = RenderCache(render)
    story = Article(id="a1", title="Story", blocks=())
    voice = Voice("en", UTC)
    silent = Effective(silent=True)
    _, first = cache.get(story, DeliveryKind.CHANNEL, voice, silent)
    _, again = cache.get(story, DeliveryKind.CHANNEL, voice, silent)
    _, loud = cache.get(story, DeliveryKind.CHANNEL, voice)
    assert first is again and first.params["disable_notification"] is True
    assert "disable_notification" not in loud.params
    assert renders == ["a1"]  # rendered once for both


def test_a_delivery_key_names_its_chat_and_topic() -> None:
    assert target_of("-1001234567890:12") == Target(ChatId("-1001234567890"), 12)
    assert target_of("@newswire_demo") == Target(ChatId("@newswire_demo"))
    assert target_of("42") == Target(ChatId("42"))  # a person's chat, as TELEGRAM_CHANNELS allows


def test_a_forum_topic_is_paced_with_its_group() -> None:
    pacer = ChatPacer(PacerConfig())
    pacer.take("-1001234567890", 100.0)
    assert pacer.ready_at("-1001234567890:12", 100.0) > 100.0
    assert pacer.ready_at("@other:3", 100.0) == 100.0


# ---------------------------------------------------------------- front matter


def story(front: str) -> str:
    return f"---\ntitle: A story\n{front}\n---\n\nA paragraph of the story.\n"


def test_front_matter_fields_become_publish_options() -> None:
    fields = ("breaking: true", "silent: false", "protect_content: yes", "link_preview: above")
    text = story("\n".join((*fields, "status: published")))
    article = parse_markdown(text, default_tz=SGT, source="a.md")
    assert article.options == PublishOptions(
        breaking=True, silent=False, protect_content=True, link_preview=LinkPreview.ABOVE
    )
    assert parse_markdown(story(""), default_tz=SGT).options == PublishOptions()
    # YAML reads a bare `off` as false: it still means off.
    off = parse_markdown(story("link_preview: off"), default_tz=SGT)
    assert off.options.link_preview is LinkPreview.OFF
    withdrawn = parse_markdown(story("status: withdrawn"), default_tz=SGT)
    assert withdrawn.options.withdrawn


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("silent: maybe", "front matter 'silent' must be true or false, not 'maybe'"),
        ("breaking: 3", "front matter 'breaking' must be true or false, not 3"),
        ("link_preview: left", "front matter 'link_preview' must be off, above or below"),
        ("status: draft", "front matter 'status' must be published or withdrawn, not 'draft'"),
        ("protect_content: [a]", "front matter 'protect_content' must be true or false"),
    ],
)
def test_a_bad_front_matter_option_is_the_files_one_line_error(front: str, reason: str) -> None:
    with pytest.raises(ArticleParseError) as error:
        parse_markdown(story(front), default_tz=SGT, source="a.md")
    assert error.value.reason.startswith(reason)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- push fields


def pushed(**fields: object) -> dict[str, object]:
    return {"title": "A story", "body": "A paragraph.", **fields}


def test_push_fields_become_publish_options() -> None:
    fields = pushed(
        breaking=True, silent=True, protect_content=False, link_preview="below", status="withdrawn"
    )
    entry = push_entry(fields, zone=SGT).entry
    assert entry.options == PublishOptions(
        breaking=True,
        silent=True,
        protect_content=False,
        link_preview=LinkPreview.BELOW,
        withdrawn=True,
    )
    assert push_entry(pushed(action="update"), zone=SGT).entry.options == PublishOptions()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"silent": "loud"}, "silent: expected true or false"),
        ({"breaking": 1}, "breaking: expected true or false"),
        ({"link_preview": True}, "link_preview: expected off, above or below"),
        ({"status": "draft"}, "status: expected published or withdrawn"),
    ],
)
def test_a_bad_push_field_is_named(fields: dict[str, object], message: str) -> None:
    with pytest.raises(PayloadError, match=f"^{message}$"):
        push_entry(pushed(**fields), zone=SGT)
