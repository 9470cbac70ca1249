"""One typed client for the sandbox's control API (tests, benchmarks, scripts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]


class ControlError(Exception):
    """The control API refused a call: HTTP status and its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class SandboxClient:
    """Async client for /control/...: `async with SandboxClient(url) as sandbox: ...`."""

    def __init__(self, url: str, session: aiohttp.ClientSession | None = None) -> None:
        # `url` is the sandbox's root (SandboxServer.url, or what `python -m bot.sandbox` prints).
        self.url = url if url.endswith("/") else url + "/"
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session this client opened (a given session is left open)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self._http().request(
            method, f"{self.url}control/{path}", json=body, params=query
        ) as response:
            if response.content_type == "application/json":
                data = await response.json()
            else:
                data = await response.read()
            if response.status >= 400:
                reason = data.get("error") if isinstance(data, dict) else None
                raise ControlError(response.status, str(reason or response.reason))
            return data

    async def _get(self, path: str, **params: Any) -> Any:
        return await self._call("GET", path, params=params)

    async def _post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return await self._call("POST", path, body=dict(body or {}))

    # ------------------------------------------------------------------ people

    async def state(self) -> JSON:
        """Bot, users, chats, commands and the change sequence number."""
        result: JSON = await self._get("state")
        return result

    async def add_user(
        self,
        user_id: int,
        first_name: str = "Reader",
        username: str | None = None,
        *,
        language_code: str = "en",
    ) -> JSON:
        """A user who has started the bot (app language `language_code`); the Bot API User."""
        body = {
            "id": user_id,
            "first_name": first_name,
            "username": username,
            "language_code": language_code,
        }
        result: JSON = await self._post("users", body)
        return result

    async def set_language(self, user_id: int, language_code: str) -> JSON:
        """The user switches their Telegram app language; returns the Bot API User."""
        body = {"user_id": user_id, "language_code": language_code}
        result: JSON = await self._post("users/language", body)
        return result

    async def commands(self, language_code: str | None = None) -> list[JSON]:
        """The command menu a user with this app language sees (default scope)."""
        params = {"language_code": language_code} if language_code else {}
        result = await self._get("commands", **params)
        return list(result["commands"])

    async def scoped_commands(self) -> tuple[dict[str, list[JSON]], dict[str, int]]:
        """Every menu the bot set and how many times, by "<scope JSON>|<language_code>"."""
        result = await self._get("commands")
        return dict(result["scoped"]), {k: int(v) for k, v in result["sets"].items()}

    async def add_users_bulk(self, first_id: int, count: int) -> JSON:
        """`count` users from `first_id` on (at most 2,000,000), made in O(1)."""
        result: JSON = await self._post("users/bulk", {"first_id": first_id, "count": count})
        return result

    async def add_channel(self, username: str | int, title: str | None = None) -> int:
        """A channel by "@name" or numeric id, with the bot as admin; returns its chat id."""
        result = await self._post("channels", {"username": username, "title": title})
        return int(result["id"])

    async def add_group(self, title: str = "Group") -> int:
        """A basic group with the bot as a member; returns its chat id."""
        return int((await self._post("groups", {"title": title}))["id"])

    async def add_forum(self, title: str = "Forum", username: str | None = None) -> int:
        """A forum supergroup (is_forum) with the bot as admin; returns its chat id."""
        result = await self._post("forums", {"title": title, "username": username})
        return int(result["id"])

    async def add_topic(self, chat_id: int | str, name: str) -> int:
        """A topic in a forum; returns its message_thread_id (General is 1 and takes none)."""
        result = await self._post("topics", {"chat_id": chat_id, "name": name})
        return int(result["message_thread_id"])

    async def set_rights(
        self,
        chat_id: int | str,
        status: str = "administrator",
        *,
        can_post_messages: bool | None = None,
        can_edit_messages: bool | None = None,
        can_delete_messages: bool | None = None,
        can_pin_messages: bool | None = None,
    ) -> JSON:
        """The bot's status ("administrator", "member", "left", "kicked", "creator") and rights.

        A right left as None is True for an administrator; non-admins have none.
        """
        body = {
            "chat_id": chat_id,
            "status": status,
            "can_post_messages": can_post_messages,
            "can_edit_messages": can_edit_messages,
            "can_delete_messages": can_delete_messages,
            "can_pin_messages": can_pin_messages,
        }
        result: JSON = await self._post("rights", body)
        return result

    async def rights(self, chat_id: int | str) -> JSON:
        """The bot's status and its four rights in a chat."""
        result: JSON = await self._get("rights", chat_id=chat_id)
        return result

    async def age_message(self, chat_id: int | str, message_id: int, seconds: int) -> JSON:
        """Move a message's date back by `seconds`; returns the message as messages() shows it."""
        body = {"chat_id": chat_id, "message_id": message_id, "seconds": seconds}
        result: JSON = await self._post("messages/age", body)
        return result

    async def pins(self, chat_id: int | str) -> JSON:
        """{chat_id, pinned_message_id, pinned, log}: log entries are every pin and unpin."""
        result: JSON = await self._get("pins", chat_id=chat_id)
        return result

    async def pinned(self, chat_id: int | str) -> int | None:
        """The chat's pinned message id (the latest pinned), or None."""
        value = (await self.pins(chat_id))["pinned_message_id"]
        return None if value is None else int(value)

    async def webhook_info(self) -> JSON:
        """getWebhookInfo's fields plus `delivered` and `attempts` counts."""
        result: JSON = await self._get("webhook")
        return result

    async def send(self, user_id: int, text: str) -> JSON:
        """The user writes to the bot; returns the message as /control/messages shows it."""
        result: JSON = await self._post("send", {"user_id": user_id, "text": text})
        return result

    async def press(
        self,
        user_id: int,
        chat_id: int | str,
        message_id: int,
        callback_data: str,
        *,
        forge: bool = False,
    ) -> str:
        """The user presses a button (forge: any data, as a hostile client can); query id."""
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "callback_data": callback_data,
            "forge": forge,
        }
        return str((await self._post("press", body))["callback_query_id"])

    async def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_id: int | str | None = None
    ) -> str:
        """The user types `@bot query` (default: in their chat with the bot); the query id."""
        body = {"user_id": user_id, "query": query, "offset": offset, "chat_id": chat_id}
        return str((await self._post("inline", body))["inline_query_id"])

    async def inline_answer(self, query_id: str, *, seconds: float = 10.0) -> JSON:
        """Wait for the bot's answer: {answered, results, next_offset, cache_time, ...}."""
        result: JSON = await self._get("inline/answer", inline_query_id=query_id, timeout=seconds)
        return result

    async def choose_inline_result(self, query_id: str, result_id: str) -> JSON:
        """The user taps a result; returns the message sent into the chat via the bot."""
        body = {"inline_query_id": query_id, "result_id": result_id}
        result: JSON = await self._post("inline/choose", body)
        return result

    async def set_inline_feedback(self, enabled: bool) -> None:
        """BotFather's /setinlinefeedback: whether chosen results reach the bot as updates."""
        await self._post("inline/feedback", {"enabled": enabled})

    async def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot."""
        await self._post("block", {"user_id": user_id, "blocked": blocked})

    async def delete_message(self, chat_id: int | str, message_id: int) -> None:
        """A person deletes a message (e.g. an admin removes a channel post)."""
        await self._post("delete", {"chat_id": chat_id, "message_id": message_id})

    # ------------------------------------------------------------------ reading

    async def messages(self, chat_id: int | str, after: int = 0) -> JSON:
        """{chat_id, version, messages, deleted} for messages newer than `after`."""
        result: JSON = await self._get("messages", chat_id=chat_id, after=after)
        return result

    async def wait(
        self,
        chat_id: int | str,
        *,
        after: int = 0,
        version: int | None = None,
        seconds: float = 25.0,
    ) -> JSON:
        """Long poll a chat until it has a new, edited or deleted message (or `seconds` pass)."""
        result: JSON = await self._get(
            "wait", chat_id=chat_id, after=after, version=version, timeout=seconds
        )
        return result

    async def changes(self, since: int = 0, *, seconds: float = 25.0) -> JSON:
        """Long poll everything that changed after sequence number `since`."""
        result: JSON = await self._get("changes", since=since, timeout=seconds)
        return result

    async def callback_answers(self, user_id: int | None = None, *, since: int = 0) -> list[JSON]:
        """The bot's answers to button presses (the last 50)."""
        result: list[JSON] = await self._get("callback_answers", user_id=user_id, since=since)
        return result

    async def file(self, file_id: str) -> bytes:
        """An uploaded file's bytes."""
        data: bytes = await self._get(f"file/{file_id}")
        return data

    async def counters(self) -> JSON:
        """Request counters, accepted sends, duplicates, refusals, unknown parameters."""
        result: JSON = await self._get("counters")
        return result

    async def reset_counters(self) -> JSON:
        """Zero the counters and the delivery log."""
        result: JSON = await self._post("counters/reset")
        return result

    async def unknown_parameters(self) -> dict[str, int]:
        """Calls that named a parameter their method lacks, by "method.parameter"."""
        result: dict[str, int] = await self._get("unknown_parameters")
        return result

    # ------------------------------------------------------------------ faults and figures

    async def faults(self) -> JSON:
        """The fault settings in force."""
        result: JSON = await self._get("faults")
        return result

    async def set_faults(self, **changes: Any) -> JSON:
        """A partial update: error_rate, slow_rate, slow_seconds, storm_seconds, seed, ..."""
        result: JSON = await self._post("faults", changes)
        return result

    async def reset_faults(self) -> JSON:
        """No more faults (migrations stay)."""
        result: JSON = await self._post("faults/reset")
        return result

    async def block_mid_broadcast(self, user_ids: Iterable[int], *, after_sends: int) -> JSON:
        """These users block the bot after `after_sends` more accepted sends overall."""
        body = {"user_ids": list(user_ids), "after_sends": after_sends}
        result: JSON = await self._post("block_mid_broadcast", body)
        return result

    async def migrate(self, chat_id: int) -> int:
        """A basic group becomes a supergroup; returns the new chat id."""
        return int((await self._post("migrate", {"chat_id": chat_id}))["new_chat_id"])

    async def stats(self, since: float | None = None) -> JSON:
        """Accepted sends since a sandbox-clock time: count, first, last, rate, peak_1s."""
        result: JSON = await self._get("stats", since=since)
        return result

    async def received(self, first_id: int, count: int) -> JSON:
        """For chats first_id..: how many got nothing, and how many got more than one."""
        result: JSON = await self._get("received", first_id=first_id, count=count)
        return result
