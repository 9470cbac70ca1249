"""Sandbox users have a Telegram app language; menus are kept and picked per language_code."""

from __future__ import annotations

import pytest
from telegram import Bot, BotCommand

from bot.sandbox import Sandbox
from bot.sandbox.client import ControlError, SandboxClient


async def test_a_users_language_code_reaches_the_bot_with_their_updates(
    sandbox: Sandbox, client: SandboxClient, bot: Bot
) -> None:
    made = await client.add_user(6001, "Mei", language_code="zh-hans")
    assert made["language_code"] == "zh-hans"
    await client.send(6001, "/help")
    await client.set_language(6001, "ta-IN")
    await client.send(6001, "/help")
    updates = await bot.get_updates(timeout=0)
    assert [u.effective_user.language_code for u in updates if u.effective_user] == [
        "zh-hans",
        "ta-IN",
    ]
    assert (await client.add_user(6002))["language_code"] == "en"  # as before


@pytest.mark.parametrize("bad", ["", "z", "zh hans", "<script>", "x" * 40])
async def test_a_language_code_that_is_no_language_tag_is_refused(
    client: SandboxClient, bad: str
) -> None:
    with pytest.raises(ControlError, match="language_code"):
        await client.add_user(6003, language_code=bad)


async def test_menus_are_kept_per_language_and_a_user_sees_their_own(
    client: SandboxClient, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand("help", "What I can do")])
    await bot.set_my_commands([BotCommand("help", "我能做什么")], language_code="zh")
    await bot.set_my_commands([BotCommand("help", "我能做什么")], language_code="zh")
    assert [c["description"] for c in await client.commands("zh")] == ["我能做什么"]
    assert [c["description"] for c in await client.commands("ms")] == ["What I can do"]
    assert [c["description"] for c in await client.commands()] == ["What I can do"]
    menus, sets = await client.scoped_commands()
    assert sorted(sets.values()) == [1, 2] and len(menus) == 2
