"""End to end: a new article file becomes a channel post and subscriber messages, once."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from content.models import DeliveryState
from tests.support.articles import FIXTURES, NEW_ARTICLE, write
from tests.support.outbox import channel_posts
from tests.support.reader import READER, say
from tests.support.stack import ADMIN, CHANNEL, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


async def test_archive_is_not_posted_at_first_start(stack: Stack) -> None:
    await stack.scans(2)
    assert channel_posts(stack) == []
    assert await stack.newswire.repo.articles.count() == 3


async def test_new_file_reaches_channel_and_subscriber(stack: Stack, content_dir: Path) -> None:
    await say(stack, "/subscribe bus captain")
    await say(stack, "/subscribe 2", user=2002)  # a keyword that does not match
    write(content_dir, "bus.txt", NEW_ARTICLE)

    posts = await wait_for(lambda: channel_posts(stack), what="the channel post")
    post = posts[0]
    assert post["text"].startswith("Bus captain praised for returning lost wallet in Bedok")
    assert {
        "type": "bold",
        "offset": 0,
        "length": len("Bus captain praised for returning lost wallet in Bedok"),
    }.items() <= post["entities"][0].items()
    assert "Follow us" not in post["text"] and "podcast" not in post["text"]
    assert "#transport" in post["text"]
    link = post["reply_markup"]["inline_keyboard"][0][0]
    assert link["url"].startswith("https://t.me/") and "?start=a_" in link["url"]

    alert = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]],
        what="the subscriber's message",
    )
    assert "Bus captain praised" in alert[0]["text"]
    assert not [m for m in stack.sandbox.bot_messages(2002) if "New story" in m["text"]]


async def test_restart_never_posts_twice(stack: Stack, content_dir: Path) -> None:
    await say(stack, "/subscribe wallet")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]],
        what="the subscriber's message",
    )
    await stack.restart()
    # Touch the file too: same content, new mtime, must not count as new.
    (content_dir / "bus.txt").touch()
    await stack.scans(3)
    assert len(channel_posts(stack)) == 1
    assert len([m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]]) == 1
    repo = stack.newswire.repo
    (story,) = await repo.articles.latest(limit=1, now=stack.newswire.services.clock())
    deliveries = await deliveries_of(repo, story.id)
    assert {d.state for d in deliveries} == {DeliveryState.SENT}
    assert all(d.message_id for d in deliveries)


async def test_stop_during_a_slow_commit_still_records_the_sends(
    stack: Stack, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop that lands while sent results are being committed must not lose them.

    Regression: the flusher used to be cancelled at stop; a cancel inside its commit
    dropped the batch, and the next run sent the channel post a second time.
    """
    repo = stack.newswire.repo
    real = repo.outbox.mark_sent_many
    committing = asyncio.Event()

    async def slow_commit(batch: Any) -> None:
        committing.set()
        await asyncio.sleep(0.3)  # a slow database at the worst moment
        await real(batch)

    monkeypatch.setattr(repo.outbox, "mark_sent_many", slow_commit)
    await say(stack, "/subscribe wallet")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    await wait_for(committing.is_set, what="a commit in progress")
    await stack.restart()
    await stack.scans(3)
    await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]],
        what="the subscriber's message",
    )
    await stack.scans(2)
    assert len(channel_posts(stack)) == 1
    assert len([m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]]) == 1


async def test_a_failed_commit_of_sent_results_is_retried(
    stack: Stack,
    content_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database hiccup while recording sends keeps the results and records them later."""
    repo = stack.newswire.repo
    real = repo.outbox.mark_sent_many
    failures = [ConnectionError("database went away")]

    async def flaky_commit(batch: Any) -> None:
        if failures:
            raise failures.pop()
        await real(batch)

    monkeypatch.setattr(repo.outbox, "mark_sent_many", flaky_commit)
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    article = (await repo.articles.latest(limit=1, now=stack.newswire.services.clock()))[0]

    async def all_sent() -> bool:
        states = {d.state for d in await deliveries_of(repo, article.id)}
        return states == {DeliveryState.SENT}

    await wait_for(all_sent, what="the delivery recorded as sent")
    assert not failures
    assert "could not record sent deliveries" in caplog.text
    await stack.restart()
    await stack.scans(3)
    assert len(channel_posts(stack)) == 1


async def test_changed_file_updates_not_duplicates(stack: Stack, content_dir: Path) -> None:
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    count = await stack.newswire.repo.articles.count()
    write(content_dir, "bus.txt", NEW_ARTICLE.replace("S$800", "S$900"))
    await wait_for(lambda: _search_has(stack, "900"), what="the edited article to be stored")
    assert await stack.newswire.repo.articles.count() == count
    await stack.scans(2)
    assert len(channel_posts(stack)) == 1


async def test_corrected_headline_edits_the_channel_post_in_place(
    stack: Stack, content_dir: Path
) -> None:
    """An editor fixes a typo in the headline: the post is edited, nobody is sent it twice."""
    typo = NEW_ARTICLE.replace("Bus captain praised", "Bus captian praised")
    await say(stack, "/subscribe wallet")
    write(content_dir, "bus.txt", typo)
    await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]],
        what="the subscriber's message",
    )
    post = channel_posts(stack)[0]
    assert "captian" in post["text"] and not post["edited"]
    count = await stack.newswire.repo.articles.count()
    write(content_dir, "bus.txt", NEW_ARTICLE)

    def edited() -> list[dict[str, Any]]:
        return [m for m in channel_posts(stack) if m["edited"] and "Bus captain" in m["text"]]

    await wait_for(edited, what="the channel post edited")
    await stack.scans(2)
    posts = channel_posts(stack)
    assert len(posts) == 1 and posts[0]["message_id"] == post["message_id"]
    assert "captian" not in posts[0]["text"]
    assert posts[0]["reply_markup"] == post["reply_markup"]  # same story, same buttons
    assert await stack.newswire.repo.articles.count() == count  # the same article, updated
    alerts = [m for m in stack.sandbox.bot_messages(READER) if "New story" in m["text"]]
    assert len(alerts) == 1


async def test_new_story_in_an_old_file_is_a_new_post(stack: Stack, content_dir: Path) -> None:
    """A new headline *and* a new time in the same file: a new story, posted as such."""
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the first post")
    other = NEW_ARTICLE.replace("Bus captain praised", "Cabby praised").replace(
        "09:30 AM", "11:45 AM"
    )
    write(content_dir, "bus.txt", other)
    await wait_for(lambda: len(channel_posts(stack)) == 2, what="the second post")
    first, second = channel_posts(stack)
    assert "Bus captain" in first["text"] and not first["edited"]
    assert "Cabby" in second["text"]


async def test_edit_of_a_deleted_channel_post_gives_up_and_tells_the_editor(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    post = channel_posts(stack)[0]
    stack.sandbox.delete_message(post["chat_id"], post["message_id"])  # an admin removes it
    write(content_dir, "bus.txt", NEW_ARTICLE.replace("Bus captain praised", "Bus driver praised"))

    def told() -> list[dict[str, Any]]:
        return [
            m
            for m in stack.sandbox.bot_messages(ADMIN)
            if "Could not update the post" in m["text"] and "to edit not found" in m["text"]
        ]

    await wait_for(told, what="the editor's notice")
    assert channel_posts(stack) == []  # not posted again
    article = (
        await stack.newswire.repo.articles.latest(limit=1, now=stack.newswire.services.clock())
    )[0]
    [channel] = [
        d for d in await deliveries_of(stack.newswire.repo, article.id) if d.chat_id == CHANNEL
    ]
    assert channel.state is DeliveryState.DEAD
    assert "message to edit not found" in (channel.last_error or "").lower()


async def _search_has(stack: Stack, word: str) -> bool:
    hits = await stack.newswire.repo.articles.search(
        word, limit=5, now=stack.newswire.services.clock()
    )
    return bool(hits)


async def test_broken_file_is_reported_and_others_still_post(
    stack: Stack, content_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    (content_dir / "broken.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (content_dir / "empty.txt").write_text("   \n", encoding="utf-8")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the good article's post")
    notices = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if "broken.txt" in m["text"]],
        what="an admin notice about broken.txt",
    )
    assert "not a text file" in notices[0]["text"]
    assert any("empty.txt" in r.getMessage() and "empty" in r.getMessage() for r in caplog.records)
    await stack.scans(3)
    # Reported once per version of the file, not at every scan.
    assert len([m for m in stack.sandbox.bot_messages(ADMIN) if "broken.txt" in m["text"]]) == 1
    # Fixed: picked up and published.
    write(content_dir, "broken.txt", NEW_ARTICLE.replace("Bus captain", "Train driver"))
    await wait_for(lambda: len(channel_posts(stack)) == 2, what="the fixed file's post")


async def test_files_that_used_to_stop_every_scan_are_one_bad_file_each(
    stack: Stack, content_dir: Path, tmp_path: Path
) -> None:
    await stack.scans(1)  # the archive
    nested = "---\ntitle: Nested\ntags: " + "[" * 1000 + "]" * 1000 + "\n---\n\nBody.\n"
    write(content_dir, "nested.md", nested)
    far = "---\ntitle: Far\npublish_at: 9999-12-31T23:59:59-10:00\n---\n\nBody.\n"
    write(content_dir, "far.md", far)
    (tmp_path / "notes.txt").write_text(NEW_ARTICLE.replace("Bus captain", "Secret"), "utf-8")
    (content_dir / "memo.txt").symlink_to(tmp_path / "notes.txt")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the good article's post")

    def notices() -> list[str]:
        return [m["text"] for m in stack.sandbox.bot_messages(ADMIN) if "Skipped" in m["text"]]

    await wait_for(lambda: len(notices()) == 3, what="one notice per bad file")
    await stack.scans(3)
    assert len(notices()) == 3  # once per version, not at every scan
    assert [p["text"] for p in channel_posts(stack) if "Secret" in p["text"]] == []
    assert len(channel_posts(stack)) == 1


async def test_blocked_reader_is_unsubscribed(stack: Stack, content_dir: Path) -> None:
    await say(stack, "/subscribe wallet")
    stack.sandbox.block_bot(READER)
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    repo = stack.newswire.repo
    await wait_for(lambda: _no_subscriptions(stack), what="the reader to be unsubscribed")
    article = (await repo.articles.latest(limit=1, now=stack.newswire.services.clock()))[0]

    async def settled() -> dict[str, Any] | None:
        states = {d.chat_id: d for d in await deliveries_of(repo, article.id)}
        return states if states[CHANNEL].state is DeliveryState.SENT else None

    states = await wait_for(settled, what="the channel delivery recorded as sent")
    assert states[str(READER)].state is DeliveryState.DEAD
    assert "blocked" in (states[str(READER)].last_error or "")


async def _no_subscriptions(stack: Stack) -> bool:
    return await stack.newswire.repo.readers.subscriptions_of(READER) == []


async def test_markdown_article_with_tags_and_url(stack: Stack, content_dir: Path) -> None:
    await say(stack, "/subscribe wildlife")
    shutil.copy(FIXTURES / "m01.md", content_dir / "m01.md")
    post = (await wait_for(lambda: channel_posts(stack), what="the markdown post"))[0]
    buttons = [b for row in post["reply_markup"]["inline_keyboard"] for b in row]
    assert any(b.get("url") == "https://example.com/otters-bishan" for b in buttons)
    assert "#wildlife" in post["text"]
    # The story's image goes with the channel post, the text as its caption.
    assert post["photo"] == "https://example.com/img/otters.jpg"
    assert post["caption"].startswith("Otters spotted at Bishan park")
    alert = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(READER) if "Otters" in m["text"]],
        what="the wildlife subscriber's message",
    )
    assert "New story" in alert[0]["text"] and alert[0]["photo"] is None


async def test_photo_telegram_cannot_fetch_still_posts_the_story_as_text(
    stack: Stack, content_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (FIXTURES / "m01.md").read_text(encoding="utf-8")
    write(content_dir, "m01.md", text.replace("example.com/img", "images.example.invalid/img"))
    post = (await wait_for(lambda: channel_posts(stack), what="the post"))[0]
    assert post["photo"] is None and post["text"].startswith("Otters spotted")
    assert "posting it as text" in caplog.text


async def test_corrected_photo_post_has_its_caption_edited(stack: Stack, content_dir: Path) -> None:
    text = (FIXTURES / "m01.md").read_text(encoding="utf-8")
    write(content_dir, "m01.md", text)
    post = (await wait_for(lambda: channel_posts(stack), what="the photo post"))[0]
    assert post["photo"]
    write(content_dir, "m01.md", text.replace("Otters spotted", "Smooth-coated otters spotted"))
    edited = await wait_for(
        lambda: [m for m in channel_posts(stack) if m["edited"]], what="the caption edited"
    )
    assert edited[0]["message_id"] == post["message_id"]
    assert edited[0]["caption"].startswith("Smooth-coated otters spotted")
    assert edited[0]["photo"] == post["photo"] and len(channel_posts(stack)) == 1


async def test_story_that_gains_an_image_after_posting_has_its_text_edited(
    stack: Stack, content_dir: Path
) -> None:
    """The sent post is a text message: the edit changes its text (a photo cannot be added)."""
    text = (FIXTURES / "m01.md").read_text(encoding="utf-8")
    no_image = "\n".join(ln for ln in text.splitlines() if not ln.startswith("image:")) + "\n"
    write(content_dir, "m01.md", no_image)
    post = (await wait_for(lambda: channel_posts(stack), what="the text post"))[0]
    assert post["photo"] is None
    write(content_dir, "m01.md", text.replace("Otters spotted", "Smooth-coated otters spotted"))
    edited = await wait_for(
        lambda: [m for m in channel_posts(stack) if m["edited"]], what="the text edited"
    )
    assert edited[0]["text"].startswith("Smooth-coated otters spotted")
    assert edited[0]["photo"] is None and len(channel_posts(stack)) == 1
