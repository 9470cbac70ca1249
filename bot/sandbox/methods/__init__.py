"""Bot API methods, one module per area; each module registers its methods in `METHODS`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import Params

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox

Method = Callable[["Sandbox", Params], Any]


def table() -> dict[str, Method]:
    """Every method the sandbox answers, by its Bot API name."""
    from bot.sandbox.methods import bot, callbacks, chats, commands, editing, inline, messages

    merged: dict[str, Method] = {}
    for module in (bot, messages, editing, chats, callbacks, commands, inline):
        overlap = merged.keys() & module.METHODS.keys()
        if overlap:
            raise RuntimeError(f"methods registered twice: {sorted(overlap)}")
        merged.update(module.METHODS)
    return merged
