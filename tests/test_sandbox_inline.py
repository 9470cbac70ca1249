"""The sandbox's inline mode: queries typed, answerInlineQuery checked, results chosen."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import Bot, InlineQueryResultArticle, InputTextMessageContent

from bot.sandbox import Sandbox
from bot.sandbox.client import ControlError, SandboxClient
from bot.sandbox.errors import Refused
from tests.support.sandbox import READER


def article(result_id: str = "a1", **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "article",
        "id": result_id,
        "title": "Otters at Bishan",
        "input_message_content": {"message_text": "<b>Otters</b> seen", "parse_mode": "HTML"},
        "reply_markup": {"inline_keyboard": [[{"text": "Site", "url": "https://news.example/o"}]]},
    }
    result.update(overrides)
    return result


def answer(sandbox: Sandbox, query_id: str, results: list[Any], **params: Any) -> tuple[int, Any]:
    status, body = sandbox.call(
        "answerInlineQuery", {"inline_query_id": query_id, "results": json.dumps(results), **params}
    )
    return status, body


def test_typing_queues_an_inline_query_update(sandbox: Sandbox) -> None:
    query_id = sandbox.inline_query(READER, "otters", offset="20")
    (update,) = sandbox.pending_updates()
    assert update["inline_query"] == {
        "id": query_id,
        "from": sandbox.state.users[READER],
        "query": "otters",
        "offset": "20",
        "chat_type": "private",
    }
    group = sandbox.add_group("Family")
    sandbox.inline_query(READER, "", chat_id=group)
    assert sandbox.pending_updates()[-1]["inline_query"]["chat_type"] == "group"


def test_what_a_user_cannot_type(sandbox: Sandbox) -> None:
    with pytest.raises(Refused):
        sandbox.inline_query(READER, "x" * 257)
    with pytest.raises(Refused):
        sandbox.inline_query(READER, "x", chat_id=2)  # another user's private chat
    with pytest.raises(Refused):
        sandbox.inline_query(READER, "x", chat_id=sandbox.add_channel("@wire"))
    with pytest.raises(Refused):
        sandbox.inline_query(READER, "x", chat_id=-42)
    assert sandbox.pending_updates() == []


@pytest.mark.parametrize(
    ("results", "params", "description"),
    [
        ([article(str(n)) for n in range(51)], {}, "Bad Request: RESULTS_TOO_MUCH"),
        ([article("a"), article("a")], {}, "Bad Request: RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], {}, "Bad Request: RESULT_ID_INVALID"),
        ([article(title="")], {}, "Bad Request: RESULT_TITLE_EMPTY"),
        ([article(thumbnail_url="file:///etc/passwd")], {}, "Bad Request: PHOTO_THUMB_URL_INVALID"),
        ([article()], {"next_offset": "9" * 65}, "Bad Request: NEXT_OFFSET_INVALID"),
        (
            [article(input_message_content={"message_text": "x" * 4097})],
            {},
            "Bad Request: MESSAGE_TOO_LONG",
        ),
        (
            [article(reply_markup={"inline_keyboard": [[{"text": "no action"}]]})],
            {},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in "
            "the inline keyboard",
        ),
    ],
)
def test_an_answer_is_checked_like_telegram_checks_it(
    sandbox: Sandbox, results: list[Any], params: dict[str, Any], description: str
) -> None:
    query_id = sandbox.inline_query(READER, "otters")
    status, body = answer(sandbox, query_id, results, **params)
    assert (status, body["description"]) == (400, description)
    assert sandbox.inline_answer(query_id) is None  # a refused answer leaves the query open


def test_an_answer_must_fit_the_spec_and_its_html_must_parse(sandbox: Sandbox) -> None:
    query_id = sandbox.inline_query(READER, "otters")
    status, body = answer(sandbox, query_id, [article(colour="red")])
    assert status == 400 and "has no field 'colour'" in body["description"]
    bad_html = {"message_text": "<b>open", "parse_mode": "HTML"}
    status, body = answer(sandbox, query_id, [article(input_message_content=bad_html)])
    assert status == 400 and "can't parse entities" in body["description"]


def test_a_query_is_answered_once(sandbox: Sandbox) -> None:
    query_id = sandbox.inline_query(READER, "otters")
    assert answer(sandbox, query_id, [article()], cache_time=5) == (
        200,
        {"ok": True, "result": True},
    )
    stored = sandbox.inline_answer(query_id)
    assert stored is not None
    assert (stored["cache_time"], stored["is_personal"], stored["next_offset"]) == (5, False, "")
    status, body = answer(sandbox, query_id, [])
    assert (status, body["description"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert answer(sandbox, "404", [])[0] == 400


def test_a_chosen_result_is_sent_by_the_user_via_the_bot(sandbox: Sandbox) -> None:
    query_id = sandbox.inline_query(READER, "otters")
    answer(sandbox, query_id, [article("a1"), article("a2", title="Other")])
    before = len(sandbox.pending_updates())
    sent = sandbox.choose_inline_result(query_id, "a1")
    assert sent["chat_id"] == READER and sent["from_user_id"] == READER
    assert (sent["text"], sent["via_bot"]) == ("Otters seen", sandbox.bot_username)
    assert sent["reply_markup"] == article()["reply_markup"]
    (update,) = sandbox.pending_updates()[before:]  # no chosen_inline_result: feedback is off
    assert update["message"]["via_bot"] == sandbox.bot_user
    with pytest.raises(Refused):
        sandbox.choose_inline_result(query_id, "a3")


def test_with_inline_feedback_the_bot_also_gets_the_chosen_result(sandbox: Sandbox) -> None:
    sandbox.inline.feedback = True
    query_id = sandbox.inline_query(READER, "otters")
    answer(sandbox, query_id, [article("a1")])
    sandbox.choose_inline_result(query_id, "a1")
    chosen = sandbox.pending_updates()[-1]["chosen_inline_result"]
    assert (chosen["result_id"], chosen["query"]) == ("a1", "otters")
    assert chosen["from"]["id"] == READER and chosen["inline_message_id"]


def test_an_unanswered_query_has_nothing_to_choose(sandbox: Sandbox) -> None:
    query_id = sandbox.inline_query(READER, "otters")
    with pytest.raises(Refused):
        sandbox.choose_inline_result(query_id, "a1")


async def test_ptb_answers_and_the_client_chooses(bot: Bot, client: SandboxClient) -> None:
    query_id = await client.inline_query(READER, "otters")
    (update,) = await bot.get_updates()
    assert update.inline_query is not None and update.inline_query.query == "otters"
    result = InlineQueryResultArticle(
        "a1", "Otters", InputTextMessageContent("<i>Otters</i>", parse_mode="HTML")
    )
    assert await update.inline_query.answer([result], next_offset="20", cache_time=10)
    got = await client.inline_answer(query_id, seconds=1)
    assert got["answered"] and got["next_offset"] == "20" and got["results"][0]["id"] == "a1"
    sent = await client.choose_inline_result(query_id, "a1")
    assert sent["text"] == "Otters" and sent["via_bot"]
    await client.set_inline_feedback(True)
    with pytest.raises(ControlError) as refused:
        await client.choose_inline_result(query_id, "zzz")
    assert refused.value.status == 400


async def test_the_client_waits_for_an_answer_and_refuses_unknown_queries(
    client: SandboxClient,
) -> None:
    query_id = await client.inline_query(READER, "")
    assert (await client.inline_answer(query_id, seconds=0))["answered"] is False
    with pytest.raises(ControlError):
        await client.inline_answer("nope", seconds=0)
    with pytest.raises(ControlError):
        await client.inline_query(READER, "x", chat_id="@nowhere")
