"""Optional abstractive summaries from an OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import aiohttp

from content.summarizing.base import Summarizer
from content.summarizing.sentences import split_sentences

log = logging.getLogger(__name__)

_MAX_ARTICLE_CHARS = 12_000  # keeps the prompt (and the bill) bounded for very long articles
_PREAMBLE = re.compile(r"(?i)(?:sure[,!.]?\s*)?(?:here(?:'s| is)|below is)\b[^.!?]{0,80}:")
_LABEL = re.compile(r"(?i)^(?:tl;?dr|summary|short summary|article summary)\s*[:\-–—]\s*")
_SYSTEM_PROMPT = (
    "You are a news editor. Summarize the article for a Telegram news channel in at most {n} "
    "short, factual sentences. Use only facts from the article. No headings, no bullet points, "
    "no quotes that are not closed, no emoji, no hashtags. Reply with the summary only."
)


class SummaryServiceError(Exception):
    """The endpoint answered, but not with a usable summary."""


class OpenAISummarizer:
    """Abstractive summaries via chat completions; falls back to `fallback` on any failure."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None,
        timeout: float = 20.0,
        *,
        fallback: Summarizer,
    ) -> None:
        # `url` may be the API base (".../v1") or the full chat-completions endpoint.
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self.fallback = fallback

    def __repr__(self) -> str:
        # Never show the key, even in a debugger or a log of the object.
        return f"OpenAISummarizer(url={self.url!r}, model={self.model!r})"

    def summarize(
        self, paragraphs: Sequence[str], *, title: str | None = None, max_sentences: int = 3
    ) -> list[str]:
        """Synchronous callers get the offline fallback (the remote call needs an event loop)."""
        return self.fallback.summarize(paragraphs, title=title, max_sentences=max_sentences)

    async def summarize_async(
        self, paragraphs: Sequence[str], *, title: str | None = None, max_sentences: int = 3
    ) -> list[str]:
        """Ask the endpoint for a summary; on any error log a warning and use the fallback."""
        try:
            text = await self._complete(paragraphs, title=title, max_sentences=max_sentences)
            sentences = split_sentences(text)
            if not sentences:
                raise SummaryServiceError("empty summary")
            return sentences[:max_sentences]
        except (aiohttp.ClientError, TimeoutError, SummaryServiceError, ValueError) as exc:
            # ValueError covers bad JSON; the message names the failure, never the key.
            log.warning(
                "summarizer %s at %s failed (%s: %s); using the extractive summary",
                self.model,
                self.url,
                type(exc).__name__,
                _redact(str(exc), self._api_key),
            )
        return self.fallback.summarize(paragraphs, title=title, max_sentences=max_sentences)

    async def _complete(
        self, paragraphs: Sequence[str], *, title: str | None, max_sentences: int
    ) -> str:
        """One chat-completions request; returns the assistant's text or raises."""
        article = "\n\n".join(p.strip() for p in paragraphs if p.strip())[:_MAX_ARTICLE_CHARS]
        if not article:
            raise SummaryServiceError("nothing to summarize")
        user = f"Title: {title}\n\n{article}" if title else article
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": _SYSTEM_PROMPT.format(n=max_sentences)},
                {"role": "user", "content": user},
            ],
            "temperature": 0.2,
        }
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            asyncio.timeout(self.timeout),
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, json=payload, headers=headers) as resp,
        ):
            body = await resp.text()
            if resp.status != 200:
                raise SummaryServiceError(f"HTTP {resp.status}")
        return _answer_text(body)


def _answer_text(body: str) -> str:
    """The first choice's message content from a chat-completions response body."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise SummaryServiceError(f"unexpected response ({type(exc).__name__})") from None
    if not isinstance(content, str) or not content.strip():
        raise SummaryServiceError("empty answer")
    # Models sometimes answer with bullets or one sentence a line: make it plain prose.
    lines = [ln.strip().lstrip("-•*#").strip() for ln in content.strip().splitlines()]
    lines = [ln.replace("**", "") for ln in lines if ln]
    # ... or announce it ("Here is a summary:", "Summary: ..."): a reader sees only the summary.
    if lines and _PREAMBLE.fullmatch(lines[0]):
        lines = lines[1:]
    if lines:
        lines[0] = _LABEL.sub("", lines[0], count=1)
    text = "\n".join(ln for ln in lines if ln)
    if not text:
        raise SummaryServiceError("no summary in the answer")
    return text


def _redact(text: str, secret: str | None) -> str:
    """Remove the secret from text that is about to be logged."""
    return text.replace(secret, "***") if secret else text
