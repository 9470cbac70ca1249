"""Sentence splitting, cleaning, the extractive summarizers, fit_summary and the OpenAI client."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from content.summarizing import (
    ExtractiveSummarizer,
    LeadSummarizer,
    OpenAISummarizer,
    fit_summary,
    split_sentences,
)
from content.summarizing.sentences import quote_balance
from tests.support.articles import SAMPLE, SGT

# --- sentence splitter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentences",
    [
        [
            "A 34-year-old man was fined S$3,000 on Jul. 2 after he kicked an e-scooter.",
            "Repairs cost about S$450.",
        ],
        ["Mr. Smith flew to the U.S. on Monday.", "He said the trip cost $2.5 million."],
        ["The firm employs 1,200 people in the U.S.", "The company said it would appeal."],
        ['"We are waiting for you in Kyiv!" the ministry said.', "It gave no details."],
        ["Dr. Jane Doe of Acme Inc. said sales rose 3.5 per cent.", "Shares fell."],
        ["The incident took place at about 10pm on Mar. 14, 2026.", "Nobody was hurt."],
        ["He joined No. 10 in 2019.", "'I am proud,' he said.", "'It is an honour.'"],
        ["Gen. Mark Milley met Sen. John McCain at 3 p.m. on Friday.", "They spoke."],
        ["J. K. Rowling lives in Edinburgh.", "She was born in 1965."],
        ["Is it over?", "Not yet, officials said."],
    ],
)
def test_split_sentences_on_tricky_news_text(sentences: list[str]) -> None:
    assert split_sentences(" ".join(sentences)) == sentences


def test_split_sentences_breaks_glued_sentences_and_newlines() -> None:
    text = "Macedonia has been in turmoil since 2015.In a televised address he spoke.\nNext line"
    assert split_sentences(text) == [
        "Macedonia has been in turmoil since 2015.",
        "In a televised address he spoke.",
        "Next line",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Roads shut at 03:00 GMT.The A36 reopened.",
            ["Roads shut at 03:00 GMT.", "The A36 reopened."],
        ),
        ("Money went to the NHS.It has grown.", ["Money went to the NHS.", "It has grown."]),
        ("He visited St.Mary church.", ["He visited St.Mary church."]),  # an abbreviation
        ("Mr.Smith said so.", ["Mr.Smith said so."]),
        ("See Mothership.sg for more.", ["See Mothership.sg for more."]),
    ],
)
def test_split_sentences_breaks_glued_sentences_after_acronyms(
    text: str, expected: list[str]
) -> None:
    assert split_sentences(text) == expected


def test_quote_balance_tells_apostrophes_from_quotes() -> None:
    assert quote_balance("She said the students' rent didn't fall.") == 0
    assert quote_balance("'I started working after my first year.") == 1
    assert quote_balance("None paid enough,' she said.") == -1
    assert quote_balance('He said: "We are waiting.') == 1
    assert quote_balance("“It is over,” he said, in the ’90s style.") == 0


# --- extractive summaries ---------------------------------------------------------------------

CRUFT_ARTICLE = [
    "Belmont Lay | March 04, 2022, 02:03 AM",
    "Follow us on Telegram for the latest updates: https://t.me/mothershipsg",
    "(CNN) -- The city council voted on Tuesday to close the old harbour bridge to cars from"
    " next year. Scroll down for video The vote was 7 to 2 after a debate that lasted four hours.",
    "Engineers found cracks in three of the bridge's support beams during an inspection in May.",
    "'We cannot take the risk any more. The beams are older than anyone in this room.",
    "Nobody wants to close a bridge,' the mayor said.",
    "What happens next",
    "Pedestrians and cyclists will still be able to cross the bridge while repairs are planned.",
    "Top image via Google Maps",
    "Follow and listen to our podcast here",
]


def test_summary_never_contains_boilerplate_bylines_or_half_quotes() -> None:
    summary = ExtractiveSummarizer().summarize(CRUFT_ARTICLE, max_sentences=3)
    assert 1 <= len(summary) <= 3
    text = " ".join(summary)
    for cruft in ("Belmont", "Follow", "t.me", "(CNN)", "Scroll down", "Top image", "podcast"):
        assert cruft not in text
    assert "What happens next" not in text
    assert all(quote_balance(s) == 0 for s in summary)
    assert not any(s.startswith(("'We cannot", "The beams", "Nobody wants")) for s in summary)
    assert summary[0].startswith("The city council voted on Tuesday")


def test_summary_sentences_are_whole_and_in_article_order() -> None:
    paragraphs = CRUFT_ARTICLE
    summary = ExtractiveSummarizer().summarize(paragraphs, max_sentences=3)
    body = " ".join(split_sentences(" ".join(paragraphs)))
    positions = [body.find(s) for s in summary]
    assert all(p >= 0 for p in positions), "every sentence is verbatim from the article"
    assert positions == sorted(positions)
    assert all(s.rstrip("\"'”’").endswith((".", "!", "?")) for s in summary)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_summary_length_respects_max_sentences(n: int) -> None:
    summary = ExtractiveSummarizer().summarize(CRUFT_ARTICLE, max_sentences=n)
    assert 1 <= len(summary) <= n


def test_summary_of_empty_or_all_quote_articles() -> None:
    assert ExtractiveSummarizer().summarize([]) == []
    assert ExtractiveSummarizer().summarize(["", "   "]) == []
    only_quotes = ["'We will fight on. We will never give up.", "We are ready,' he said."]
    summary = ExtractiveSummarizer().summarize(only_quotes, max_sentences=2)
    assert len(summary) >= 1  # a fallback, never nothing when there is text


def test_lead_summarizer_is_pure_lead() -> None:
    paragraphs = ["(CNN) -- First one here. Second one here.", "Third one here. Fourth one."]
    assert LeadSummarizer().summarize(paragraphs, max_sentences=3) == [
        "(CNN) -- First one here.",
        "Second one here.",
        "Third one here.",
    ]


def _sample_article() -> tuple[str, list[str]]:
    """Title and paragraphs of the sample, through content.parsing when it is there."""
    try:
        from content.parsing import parse_file
    except ImportError:
        blocks = [b.strip() for b in SAMPLE.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        return blocks[0], blocks[1:]
    article = parse_file(SAMPLE, default_tz=SGT)
    return article.title, list(article.paragraphs)


def test_sample_article_summary_reads_like_an_editors() -> None:
    title, paragraphs = _sample_article()
    summary = ExtractiveSummarizer().summarize(paragraphs, title=title, max_sentences=3)
    assert 2 <= len(summary) <= 3
    assert any("mothers of captured Russian troops" in s for s in summary)
    text = " ".join(summary)
    for cruft in ("Belmont Lay", "Follow us", "t.me", "podcast", "What online flyer said"):
        assert cruft not in text
    assert all(quote_balance(s) == 0 for s in summary)
    assert len(fit_summary(summary, max_chars=600)) >= 2
    assert len(title) + 2 + len(" ".join(fit_summary(summary))) <= 1024  # photo caption limit


# --- fit_summary ------------------------------------------------------------------------------


def test_fit_summary_drops_trailing_sentences() -> None:
    sentences = ["a" * 300 + ".", "b" * 250 + ".", "c" * 100 + "."]
    fitted = fit_summary(sentences, max_chars=600)
    assert fitted == sentences[:2]
    assert len(" ".join(fitted)) <= 600
    assert fit_summary(sentences, max_chars=1000) == sentences


def test_fit_summary_keeps_first_sentence_that_fits_exactly() -> None:
    first = "x" * 599 + "."
    assert fit_summary([first, "More."], max_chars=600) == [first]


def test_fit_summary_cuts_an_overlong_first_sentence_at_a_word() -> None:
    first = " ".join(["word"] * 200) + "."
    (cut,) = fit_summary([first, "Short."], max_chars=100)
    assert cut.endswith("…")
    assert len(cut) <= 100
    assert cut[:-1].split() == ["word"] * len(cut[:-1].split())
    assert fit_summary([], max_chars=100) == []


# --- OpenAI-compatible endpoint ---------------------------------------------------------------

API_KEY = "sk-test-very-secret-key"
ARTICLE = ["The council closed the bridge on Tuesday.", "Repairs will take a year."]


class Fallback:
    """A summarizer that records it was used."""

    def __init__(self) -> None:
        self.calls = 0

    def summarize(
        self, paragraphs: object, *, title: str | None = None, max_sentences: int = 3
    ) -> list[str]:
        self.calls += 1
        return ["Fallback summary."]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def endpoint() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a fake chat-completions server on 127.0.0.1:0 with a given handler; yields its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_openai_success_sends_bearer_key_and_returns_sentences(
    endpoint: Callable[[Handler], Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["auth"] = request.headers.get("Authorization")
        seen["body"] = await request.json()
        answer = "The council closed the bridge. Repairs take a year. Cars must detour."
        return web.json_response({"choices": [{"message": {"content": answer}}]})

    url = await endpoint(handler)
    fallback = Fallback()
    summarizer = OpenAISummarizer(url, "test-model", API_KEY, fallback=fallback)
    with caplog.at_level(logging.DEBUG):
        summary = await summarizer.summarize_async(ARTICLE, title="Bridge", max_sentences=2)
    assert summary == ["The council closed the bridge.", "Repairs take a year."]
    assert seen["auth"] == f"Bearer {API_KEY}"
    body = seen["body"]
    assert isinstance(body, dict) and body["model"] == "test-model"
    assert "Repairs will take a year." in json.dumps(body)
    assert fallback.calls == 0
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(summarizer)


@pytest.mark.parametrize("kind", ["500", "garbage", "empty", "no-choices"])
async def test_openai_errors_fall_back_without_logging_the_key(
    kind: str, endpoint: Callable[[Handler], Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: web.Request) -> web.Response:
        if kind == "500":
            return web.Response(status=500, text=f"oops {API_KEY}")
        if kind == "garbage":
            return web.Response(text="{not json", content_type="application/json")
        if kind == "empty":
            return web.json_response({"choices": [{"message": {"content": "  "}}]})
        return web.json_response({"choices": []})

    fallback = Fallback()
    summarizer = OpenAISummarizer(await endpoint(handler), "m", API_KEY, fallback=fallback)
    with caplog.at_level(logging.WARNING):
        assert await summarizer.summarize_async(ARTICLE) == ["Fallback summary."]
    assert fallback.calls == 1
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    assert API_KEY not in caplog.text


async def test_openai_timeout_falls_back(
    endpoint: Callable[[Handler], Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()  # never answers in time; released at the end of the test
        return web.json_response({"choices": [{"message": {"content": "Late."}}]})

    fallback = Fallback()
    summarizer = OpenAISummarizer(
        await endpoint(handler), "m", API_KEY, timeout=0.2, fallback=fallback
    )
    with caplog.at_level(logging.WARNING):
        assert await summarizer.summarize_async(ARTICLE) == ["Fallback summary."]
    release.set()
    assert fallback.calls == 1
    assert "Timeout" in caplog.text
    assert API_KEY not in caplog.text


async def test_openai_unreachable_endpoint_falls_back() -> None:
    fallback = Fallback()
    summarizer = OpenAISummarizer("http://127.0.0.1:9/v1", "m", None, timeout=2, fallback=fallback)
    assert await summarizer.summarize_async(ARTICLE) == ["Fallback summary."]


@pytest.mark.parametrize(
    "answer",
    [
        "Summary: The council closed the bridge. Repairs take a year.",
        "Here is a summary of the article:\n\nThe council closed the bridge. Repairs take a year.",
        "**Summary:** The council closed the bridge.\n- Repairs take a year.",
        "TL;DR - The council closed the bridge. Repairs take a year.",
    ],
)
async def test_openai_answer_loses_its_label_and_preamble(
    answer: str, endpoint: Callable[[Handler], Awaitable[str]]
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"choices": [{"message": {"content": answer}}]})

    fallback = Fallback()
    summarizer = OpenAISummarizer(await endpoint(handler), "m", None, fallback=fallback)
    summary = await summarizer.summarize_async(ARTICLE, max_sentences=3)
    assert summary == ["The council closed the bridge.", "Repairs take a year."]
    assert fallback.calls == 0


async def test_openai_answer_that_is_only_a_preamble_falls_back(
    endpoint: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(request: web.Request) -> web.Response:
        content = "Here is a summary of the article:"
        return web.json_response({"choices": [{"message": {"content": content}}]})

    fallback = Fallback()
    summarizer = OpenAISummarizer(await endpoint(handler), "m", None, fallback=fallback)
    assert await summarizer.summarize_async(ARTICLE) == ["Fallback summary."]


def test_glued_caption_is_split_but_a_police_force_name_is_not() -> None:
    from content.summarizing.cleaning import split_glued

    glued = "The court heard he denied four counts A senior doctor said the unit was short-staffed."
    assert split_glued(glued) == [
        "The court heard he denied four counts",
        "A senior doctor said the unit was short-staffed.",
    ]
    whole = "The case was dropped by Wiltshire Police when a person involved made claims."
    assert split_glued(whole) == [whole]
    caption = "Officers arrived at the scene Police said the road would stay closed."
    assert split_glued(caption) == [
        "Officers arrived at the scene",
        "Police said the road would stay closed.",
    ]
