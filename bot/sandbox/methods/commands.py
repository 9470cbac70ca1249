"""The bot's command menu (setMyCommands)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from bot.sandbox.errors import JSON, Params, bad_request

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


def scope_key(p: Params) -> str:
    """Commands are stored per (scope, language), as Telegram keeps them."""
    scope = p.json("scope", error="can't parse BotCommandScope JSON object")
    key = json.dumps(scope if isinstance(scope, dict) else {"type": "default"}, sort_keys=True)
    return f"{key}|{p.text('language_code') or ''}"


def set_my_commands(sb: Sandbox, p: Params) -> bool:
    commands = p.json("commands", error="can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _BOT_COMMAND_NAME.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("command description must be non-empty")
        cleaned.append({"command": command, "description": description})
    key = scope_key(p)
    sb.scoped_commands[key] = cleaned
    sb.command_sets[key] += 1
    sb.commands = list(cleaned)  # the latest menu set, whatever its scope (what the page shows)
    return True


METHODS: dict[str, Method] = {"setMyCommands": set_my_commands}
