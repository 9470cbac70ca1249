"""Inline mode in tests: stories written into a content folder, queries typed as a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.sandbox import READER
from tests.support.waiting import wait_for


def write_story(
    folder: Path,
    story_id: str,
    *,
    title: str,
    published: str,
    body: str,
    publish_at: str | None = None,
    image: str | None = None,
    url: str | None = None,
    tags: tuple[str, ...] = (),
) -> None:
    """A Markdown story file (front matter as the README documents it)."""
    lines = ["---", f"id: {story_id}", f"title: {title}", f"published: {published}"]
    if publish_at:
        lines.append(f"publish_at: {publish_at}")
    if image:
        lines.append(f"image: {image}")
    if url:
        lines.append(f"url: {url}")
    if tags:
        lines.append(f"tags: [{', '.join(tags)}]")
    lines += ["---", "", body, ""]
    (folder / f"{story_id}.md").write_text("\n".join(lines), encoding="utf-8")


async def ask_inline(
    stack: Any, query: str, *, offset: str = "", user: int = READER, chat_id: int | None = None
) -> tuple[str, dict[str, Any]]:
    """Type `@bot query` as the user; return the query id and the bot's answer."""
    query_id = stack.sandbox.inline_query(user, query, offset=offset, chat_id=chat_id)
    answer = await wait_for(
        lambda: stack.sandbox.inline_answer(query_id), what=f"the answer to @bot {query!r}"
    )
    return query_id, answer
